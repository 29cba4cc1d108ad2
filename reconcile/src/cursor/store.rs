//! The sweep's cursors in the reconciler's own table (`contract::table::sweep`), one item
//! per status. Every write is conditional on the version read, so two runs that overlap
//! (a slow scheduled run and the next, or `outpost-ops reconcile`) never move a place
//! from under each other: the later write is refused and the place stays as the other
//! run left it.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use contract::table::sweep::{attr, KEY};
use dispatch::timefmt::record_timestamp;
use dispatch_aws::error::{AwsError, Call};
use dispatch_aws::item::Item;
use dispatch_aws::status_index::Position;

use super::Cursor;

/// The reconciler's sweep table.
#[derive(Clone, Debug)]
pub struct CursorStore {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
}

/// What became of a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    Moved,
    /// Another run moved the place since this one read it; its place stands.
    Overtaken,
}

impl CursorStore {
    /// The cursor of `status`'s walk, or a fresh one when none is stored. An item this
    /// code cannot read (edited by hand) is started over, at its version if that can be
    /// read, so the next write replaces it.
    pub async fn load(&self, status: &str, now: DateTime<Utc>) -> Result<Cursor, AwsError> {
        let call = Call::new("GetItem", &self.table);
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(status.to_owned()))
            .consistent_read(true)
            .customize()
            .interceptor(call.counter())
            .send()
            .await
            .map_err(|err| call.failed(err))?;
        let fresh = Cursor::fresh(status, now);
        let Some(item) = answer.item else {
            return Ok(fresh);
        };
        Ok(cursor(status, &item).unwrap_or_else(|| {
            tracing::warn!(status, table = %self.table, "the sweep's place is unreadable; starting a new cycle");
            Cursor {
                version: number(&item, attr::VERSION).unwrap_or(0),
                ..fresh
            }
        }))
    }

    /// Writes `cursor` (from [`Cursor::advanced`]) if the stored version is still the one
    /// it advanced from.
    pub async fn save(
        &self,
        cursor: &Cursor,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Saved, AwsError> {
        let read = cursor.version.saturating_sub(1);
        let call = Call::new("PutItem", &self.table);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(cursor, by, now)))
            .expression_attribute_names("#version", attr::VERSION);
        // Version 0 is never written: nothing stored yet, or an item unreadable enough
        // to have no number there.
        let put = if read == 0 {
            put.condition_expression(
                "attribute_not_exists(#version) OR NOT attribute_type(#version, :number)",
            )
            .expression_attribute_values(":number", AttributeValue::S("N".to_owned()))
        } else {
            put.condition_expression("#version = :read")
                .expression_attribute_values(":read", AttributeValue::N(read.to_string()))
        };
        let sent = put.customize().interceptor(call.counter()).send().await;
        match sent {
            Ok(_) => Ok(Saved::Moved),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(Saved::Overtaken)
            }
            Err(err) => Err(call.failed(err)),
        }
    }
}

/// The item of `cursor`, written by `by` at `now`.
fn item(cursor: &Cursor, by: &str, now: DateTime<Utc>) -> Item {
    let text = |value: &str| AttributeValue::S(value.to_owned());
    let number = |value: u64| AttributeValue::N(value.to_string());
    let mut item = Item::from([
        (KEY.to_owned(), text(&cursor.status)),
        (
            attr::CYCLE_STARTED_AT.to_owned(),
            text(&record_timestamp(cursor.cycle_started)),
        ),
        (attr::CYCLE_WALKED.to_owned(), number(cursor.cycle_walked)),
        (attr::VERSION.to_owned(), number(cursor.version)),
        (attr::UPDATED_AT.to_owned(), text(&record_timestamp(now))),
        (attr::UPDATED_BY.to_owned(), text(by)),
    ]);
    if let Some(after) = &cursor.after {
        item.insert(attr::AFTER_CREATED_AT.to_owned(), text(&after.created_at));
        item.insert(attr::AFTER_DISPATCH_ID.to_owned(), text(&after.dispatch_id));
    }
    if let Some(count) = cursor.last_cycle {
        item.insert(attr::LAST_CYCLE.to_owned(), number(count));
    }
    item
}

/// The cursor an item holds; `None` when a field it must have is missing or unreadable.
fn cursor(status: &str, item: &Item) -> Option<Cursor> {
    let after = match (
        text(item, attr::AFTER_CREATED_AT),
        text(item, attr::AFTER_DISPATCH_ID),
    ) {
        (Some(created_at), Some(dispatch_id)) => Some(Position {
            created_at,
            dispatch_id,
        }),
        (None, None) => None,
        _ => return None,
    };
    let started = text(item, attr::CYCLE_STARTED_AT)?;
    Some(Cursor {
        status: status.to_owned(),
        after,
        cycle_started: DateTime::parse_from_rfc3339(&started).ok()?.to_utc(),
        cycle_walked: number(item, attr::CYCLE_WALKED)?,
        last_cycle: match item.get(attr::LAST_CYCLE) {
            None => None,
            Some(_) => Some(number(item, attr::LAST_CYCLE)?),
        },
        version: number(item, attr::VERSION)?,
    })
}

fn text(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(text)) => Some(text.clone()),
        _ => None,
    }
}

fn number(item: &Item, name: &str) -> Option<u64> {
    match item.get(name) {
        Some(AttributeValue::N(number)) => number.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_reads_back_as_the_cursor_written() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .to_utc();
        let cursor = Cursor {
            after: Some(Position {
                created_at: "2026-12-02T09:00:00Z".to_owned(),
                dispatch_id: "d-1".to_owned(),
            }),
            cycle_walked: 500,
            last_cycle: Some(9_000),
            version: 4,
            ..Cursor::fresh("RUNNING", now)
        };
        assert_eq!(
            super::cursor("RUNNING", &item(&cursor, "r-1", now)),
            Some(cursor.clone())
        );
        let start = Cursor::fresh("RUNNING", now).advanced(0, None, now);
        assert_eq!(
            super::cursor("RUNNING", &item(&start, "r-1", now)),
            Some(start)
        );
    }

    #[test]
    fn a_half_written_place_is_unreadable() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .to_utc();
        let mut half = item(
            &Cursor::fresh("RUNNING", now).advanced(1, None, now),
            "r",
            now,
        );
        half.insert(
            attr::AFTER_CREATED_AT.to_owned(),
            AttributeValue::S("2026-12-02T09:00:00Z".to_owned()),
        );
        assert_eq!(super::cursor("RUNNING", &half), None);
        let mut odd = item(
            &Cursor::fresh("RUNNING", now).advanced(1, None, now),
            "r",
            now,
        );
        odd.insert(
            attr::VERSION.to_owned(),
            AttributeValue::S("one".to_owned()),
        );
        assert_eq!(super::cursor("RUNNING", &odd), None);
        assert_eq!(number(&odd, attr::VERSION), None);
    }
}
