//! The dispatches to examine: a `Query` of the status index (never a `Scan`), oldest
//! first, page by page, up to the run's bound.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use contract::table::attr;
use function::store::{Attempts, Call, StoreError};

use crate::plan::Candidate;

/// The status index of the dispatch table.
#[derive(Clone, Debug)]
pub struct StatusIndex {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
    pub index: String,
    /// The most records one `Query` page asks for (DynamoDB also stops a page at 1 MB).
    pub page_size: usize,
}

/// The page size the reconciler uses: records are small, so a page is one round trip
/// without holding a large response in memory.
pub const PAGE_SIZE: usize = 500;

/// What a listing found, and the error that cut it short, if one did: what was found
/// before the error is still worth examining.
#[derive(Debug, Default)]
pub struct Listing {
    pub candidates: Vec<Candidate>,
    pub error: Option<StoreError>,
}

impl StatusIndex {
    /// Up to `limit` dispatches in `status` created before `before`, oldest first.
    pub async fn list(&self, status: &str, before: DateTime<Utc>, limit: usize) -> Listing {
        let mut listing = Listing::default();
        let before = function::timefmt::record_timestamp(before);
        let mut start = None;
        while listing.candidates.len() < limit {
            let attempts = Attempts::default();
            let call = Call {
                operation: "Query",
                resource: &self.table,
                attempts: &attempts,
            };
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
                .limit(page_limit(self.page_size, limit - listing.candidates.len()))
                .set_exclusive_start_key(start.take())
                .customize()
                .interceptor(attempts.clone())
                .send()
                .await;
            let page = match page {
                Ok(page) => page,
                Err(err) => {
                    listing.error = Some(call.failed(err));
                    break;
                }
            };
            listing
                .candidates
                .extend(page.items().iter().filter_map(candidate));
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        listing.candidates.truncate(limit);
        listing
    }
}

fn page_limit(page_size: usize, room: usize) -> i32 {
    i32::try_from(page_size.min(room).max(1)).unwrap_or(i32::MAX)
}

/// A record as a candidate; one without a dispatch ID or a readable `createdAt` is not
/// one the control plane wrote, and is left alone.
fn candidate(item: &std::collections::HashMap<String, AttributeValue>) -> Option<Candidate> {
    let text = |name: &str| item.get(name).and_then(|value| value.as_s().ok());
    let created_at = DateTime::parse_from_rfc3339(text(attr::CREATED_AT)?).ok()?;
    Some(Candidate {
        dispatch_id: text(attr::DISPATCH_ID)?.clone(),
        task_arn: text(attr::TASK_ARN).filter(|arn| !arn.is_empty()).cloned(),
        created_at: created_at.with_timezone(&Utc),
    })
}
