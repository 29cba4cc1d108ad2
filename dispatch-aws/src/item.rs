//! Dispatch records to and from DynamoDB's attribute values.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch::record::{DispatchRecord, Value};

/// A record as DynamoDB returns it.
pub type Item = HashMap<String, AttributeValue>;

/// An item as a dispatch record; `None` for an empty item or one without a text
/// `dispatchId`. A kind this system never writes is kept in DynamoDB's own notation, to be
/// shown.
pub fn record(item: &Item) -> Option<DispatchRecord> {
    DispatchRecord::from_attributes(item.iter().map(|(name, attribute)| {
        let value = match attribute {
            AttributeValue::S(text) => Value::Text(text.clone()),
            AttributeValue::N(number) => Value::Number(number.clone()),
            AttributeValue::Bool(flag) => Value::Bool(*flag),
            other => Value::Other(format!("{other:?}")),
        };
        (name.clone(), value)
    }))
}

/// A record as an item to write: every attribute it holds, except those of a kind this
/// system never writes ([`Value::Other`]), which a record read from the table keeps only
/// to show.
pub fn item(record: &DispatchRecord) -> Item {
    record
        .attributes()
        .into_iter()
        .filter_map(|(name, value)| {
            let attribute = match value {
                Value::Text(text) => AttributeValue::S(text),
                Value::Number(number) => AttributeValue::N(number),
                Value::Bool(flag) => AttributeValue::Bool(flag),
                Value::Other(_) => return None,
            };
            Some((name, attribute))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_reads_as_a_record_and_writes_back_the_same() {
        let item = Item::from([
            ("dispatchId".to_owned(), AttributeValue::S("d-1".into())),
            ("status".to_owned(), AttributeValue::S("RUNNING".into())),
            ("exitCode".to_owned(), AttributeValue::N("2".into())),
            ("team".to_owned(), AttributeValue::S("a".into())),
            ("retried".to_owned(), AttributeValue::Bool(false)),
        ]);
        let record = record(&item).unwrap();
        assert_eq!(record.exit_code, Some(2));
        assert_eq!(super::item(&record), item);
        let listed = Item::from([
            ("dispatchId".to_owned(), AttributeValue::S("d-1".into())),
            ("tags".to_owned(), AttributeValue::Ss(vec!["a".into()])),
        ]);
        let shown = super::record(&listed).unwrap().to_text();
        assert!(shown["tags"].contains("Ss"), "{shown:?}");
    }
}
