//! Dispatches by status, oldest first: a `Query` of the status index (never a `Scan`),
//! page by page, up to a bound.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Select};
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

/// Where a walk of one status's dispatches stands: the index key of the last dispatch
/// listed. A walk resumes after it, whether or not that dispatch is still in the status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub created_at: String,
    pub dispatch_id: String,
}

/// One `Query` page of a walk.
#[derive(Debug, Default)]
pub struct Page {
    /// As [`Listing::records`].
    pub records: Vec<DispatchRecord>,
    /// As [`Listing::unreadable`].
    pub unreadable: Vec<String>,
    /// Where the next page starts; `None` when the walk reached the end of the status.
    pub next: Option<Position>,
}

impl Page {
    /// Dispatches the page listed, readable or not.
    pub fn listed(&self) -> usize {
        self.records.len() + self.unreadable.len()
    }
}

impl StatusIndex {
    /// Up to `limit` dispatches in `status` created before `before`, oldest first.
    pub async fn list(&self, status: &str, before: DateTime<Utc>, limit: usize) -> Listing {
        let mut listing = Listing::default();
        let mut after = None;
        while listing.records.len() < limit {
            let room = limit - listing.records.len();
            let page = match self.page(status, before, after.as_ref(), room).await {
                Ok(page) => page,
                Err(err) => {
                    listing.error = Some(err);
                    break;
                }
            };
            listing.records.extend(page.records);
            listing.unreadable.extend(page.unreadable);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        listing.records.truncate(limit);
        listing
    }

    /// One page of up to `limit` (and [`StatusIndex::page_size`]) dispatches in `status`
    /// created before `before`, oldest first, starting after `after` (from the oldest when
    /// `None`).
    pub async fn page(
        &self,
        status: &str,
        before: DateTime<Utc>,
        after: Option<&Position>,
        limit: usize,
    ) -> Result<Page, AwsError> {
        let call = Call::new("Query", &self.table);
        let page = self
            .query(status, before)
            .limit(page_limit(self.page_size, limit))
            .set_exclusive_start_key(after.map(|after| start_key(status, after)))
            .customize()
            .interceptor(call.counter())
            .send()
            .await
            .map_err(|err| call.failed(err))?;
        let mut listed = Page {
            next: page.last_evaluated_key.as_ref().and_then(position),
            ..Page::default()
        };
        for record in page.items().iter().filter_map(item::record) {
            match record.created() {
                Some(_) => listed.records.push(record),
                None => listed.unreadable.push(record.dispatch_id),
            }
        }
        Ok(listed)
    }

    /// How many dispatches are in `status`, created before `before`: a `Query` that
    /// returns counts only (DynamoDB still reads every item, up to 1 MB a page).
    pub async fn count(&self, status: &str, before: DateTime<Utc>) -> Result<u64, AwsError> {
        let mut total = 0;
        let mut start = None;
        loop {
            let call = Call::new("Query", &self.table);
            let page = self
                .query(status, before)
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .customize()
                .interceptor(call.counter())
                .send()
                .await
                .map_err(|err| call.failed(err))?;
            total += u64::try_from(page.count).unwrap_or_default();
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(total),
            }
        }
    }

    /// The index's dispatches in `status` created before `before`, oldest first.
    fn query(&self, status: &str, before: DateTime<Utc>) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(&self.index)
            .key_condition_expression("#status = :status AND #createdAt < :before")
            .expression_attribute_names("#status", attr::STATUS)
            .expression_attribute_names("#createdAt", attr::CREATED_AT)
            .expression_attribute_values(":status", AttributeValue::S(status.to_owned()))
            .expression_attribute_values(":before", AttributeValue::S(record_timestamp(before)))
    }
}

/// The `ExclusiveStartKey` of a page after `after`: the index's key and the table's.
fn start_key(status: &str, after: &Position) -> item::Item {
    item::Item::from([
        (
            attr::STATUS.to_owned(),
            AttributeValue::S(status.to_owned()),
        ),
        (
            attr::CREATED_AT.to_owned(),
            AttributeValue::S(after.created_at.clone()),
        ),
        (
            attr::DISPATCH_ID.to_owned(),
            AttributeValue::S(after.dispatch_id.clone()),
        ),
    ])
}

/// A `LastEvaluatedKey` as a position; `None` when it is empty (the end) or not one of
/// this index's keys.
fn position(key: &item::Item) -> Option<Position> {
    let text = |name: &str| match key.get(name) {
        Some(AttributeValue::S(text)) => Some(text.clone()),
        _ => None,
    };
    Some(Position {
        created_at: text(attr::CREATED_AT)?,
        dispatch_id: text(attr::DISPATCH_ID)?,
    })
}

fn page_limit(page_size: usize, room: usize) -> i32 {
    i32::try_from(page_size.min(room).max(1)).unwrap_or(i32::MAX)
}
