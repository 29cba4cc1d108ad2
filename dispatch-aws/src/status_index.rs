//! Dispatches by status, oldest first: a `Query` of the status index (never a `Scan`),
//! page by page, up to a bound.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use contract::table::attr;
use dispatch::record::DispatchRecord;
use dispatch::timefmt::record_timestamp;

use crate::error::{AwsError, Call};
use crate::item;

/// The status index of the dispatch table.
#[derive(Clone, Debug)]
pub struct StatusIndex {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
    pub index: String,
    /// The most records one `Query` page asks for (DynamoDB also stops a page at 1 MB).
    pub page_size: usize,
}

/// The page size the reconciler and the CLI use: records are small, so a page is one
/// round trip without holding a large response in memory.
pub const PAGE_SIZE: usize = 500;

/// What a listing found, and the error that cut it short, if one did: what was found
/// before the error is still worth examining.
#[derive(Debug, Default)]
pub struct Listing {
    /// Oldest first; each has a readable `createdAt` ([`DispatchRecord::created`]).
    pub records: Vec<DispatchRecord>,
    /// The dispatches listed whose `createdAt` is not RFC 3339: their age cannot be told.
    pub unreadable: Vec<String>,
    pub error: Option<AwsError>,
}

impl StatusIndex {
    /// Up to `limit` dispatches in `status` created before `before`, oldest first.
    pub async fn list(&self, status: &str, before: DateTime<Utc>, limit: usize) -> Listing {
        let mut listing = Listing::default();
        let before = record_timestamp(before);
        let mut start = None;
        while listing.records.len() < limit {
            let call = Call::new("Query", &self.table);
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(&self.index)
                .key_condition_expression("#status = :status AND #createdAt < :before")
                .expression_attribute_names("#status", attr::STATUS)
                .expression_attribute_names("#createdAt", attr::CREATED_AT)
                .expression_attribute_values(":status", AttributeValue::S(status.to_owned()))
                .expression_attribute_values(":before", AttributeValue::S(before.clone()))
                .limit(page_limit(self.page_size, limit - listing.records.len()))
                .set_exclusive_start_key(start.take())
                .customize()
                .interceptor(call.counter())
                .send()
                .await;
            let page = match page {
                Ok(page) => page,
                Err(err) => {
                    listing.error = Some(call.failed(err));
                    break;
                }
            };
            for record in page.items().iter().filter_map(item::record) {
                match record.created() {
                    Some(_) => listing.records.push(record),
                    None => listing.unreadable.push(record.dispatch_id),
                }
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        listing.records.truncate(limit);
        listing
    }
}

fn page_limit(page_size: usize, room: usize) -> i32 {
    i32::try_from(page_size.min(room).max(1)).unwrap_or(i32::MAX)
}
