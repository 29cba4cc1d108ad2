//! Dispatch records as the tool reads them.

use aws_sdk_dynamodb::types::AttributeValue;
use contract::table::attr;
use dispatch::record::DispatchRecord;
use dispatch_aws::item;

use crate::error::{aws, Result};

/// The record of `dispatch_id`, read strongly consistent: what the operator sees is what
/// the table holds now. Every attribute is kept, those this system does not write too.
pub async fn get(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    dispatch_id: &str,
) -> Result<Option<DispatchRecord>> {
    let output = client
        .get_item()
        .table_name(table)
        .key(attr::DISPATCH_ID, AttributeValue::S(dispatch_id.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .map_err(aws("GetItem", table))?;
    Ok(output.item.as_ref().and_then(item::record))
}
