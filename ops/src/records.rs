//! Dispatch records as the tool shows them.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use contract::table::attr;

use crate::error::{aws, Result};

/// A record: attribute name to its text (numbers as their text).
pub type Record = BTreeMap<String, String>;

/// The record of `dispatch_id`, read strongly consistent: what the operator sees is what
/// the table holds now.
pub async fn get(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    dispatch_id: &str,
) -> Result<Option<Record>> {
    let output = client
        .get_item()
        .table_name(table)
        .key(attr::DISPATCH_ID, AttributeValue::S(dispatch_id.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .map_err(aws("GetItem", table))?;
    Ok(output
        .item
        .filter(|item| !item.is_empty())
        .map(|item| record(&item)))
}

/// An item's attributes as text (strings and numbers as they are, others in their
/// DynamoDB form).
pub fn record(item: &HashMap<String, AttributeValue>) -> Record {
    item.iter()
        .map(|(name, value)| {
            let text = match value {
                AttributeValue::S(text) | AttributeValue::N(text) => text.clone(),
                AttributeValue::Bool(flag) => flag.to_string(),
                // Not written by this system, still shown: nothing on a record is hidden.
                other => format!("{other:?}"),
            };
            (name.clone(), text)
        })
        .collect()
}
