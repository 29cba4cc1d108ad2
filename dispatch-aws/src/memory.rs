//! An in-memory dispatch table for the handler's unit tests.
//!
//! It evaluates the settle condition itself, then explains a failed condition with the
//! domain's real `explain_conflict` and writes the real `settle_expression`'s attributes,
//! so the handler sees what DynamoDB would give it without a server. Built only with the
//! `memory` feature, which only unit tests turn on.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_dynamodb::types::AttributeValue;
use contract::table::attr;

use dispatch::settlement::{explain_conflict, SettleOutcome, Settlement};
use dispatch::status::DispatchStatus;

use crate::error::AwsError;
use crate::item::{self, Item};
use crate::table::{settle_expression, DispatchStore};

#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<String, Item>>,
    /// Every settlement that changed a record.
    writes: Mutex<Vec<Settlement>>,
    /// The AWS error code the next call fails with, as DynamoDB would after the retries.
    failure: Mutex<Option<&'static str>>,
}

impl MemoryStore {
    /// A table holding one record per `(dispatch ID, status, task ARN)`.
    pub fn with(records: &[(&str, &str, Option<&str>)]) -> MemoryStore {
        let store = MemoryStore::default();
        for (dispatch_id, status, task_arn) in records {
            let mut item = Item::from([
                (attr::DISPATCH_ID.to_owned(), text(dispatch_id)),
                (attr::STATUS.to_owned(), text(status)),
            ]);
            if let Some(arn) = task_arn {
                item.insert(attr::TASK_ARN.to_owned(), text(arn));
            }
            store.put(item);
        }
        store
    }

    /// Stores `item` as it is, for records no launch would write (a wrong attribute type).
    pub fn put(&self, item: Item) {
        let id = item[attr::DISPATCH_ID].as_s().unwrap().clone();
        self.records.lock().unwrap().insert(id, item);
    }

    /// The record's string, number and boolean attributes, as text.
    pub fn record(&self, dispatch_id: &str) -> Option<HashMap<String, String>> {
        let records = self.records.lock().unwrap();
        records.get(dispatch_id).map(|item| {
            item.iter()
                .filter_map(|(name, value)| {
                    let text = match value {
                        AttributeValue::Bool(flag) => flag.to_string(),
                        other => other.as_s().or_else(|_| other.as_n()).ok()?.clone(),
                    };
                    Some((name.clone(), text))
                })
                .collect()
        })
    }

    pub fn writes(&self) -> Vec<Settlement> {
        self.writes.lock().unwrap().clone()
    }

    /// Makes the next call fail with the AWS error `code`.
    pub fn fail_next(&self, code: &'static str) {
        *self.failure.lock().unwrap() = Some(code);
    }

    fn injected_failure(&self, operation: &'static str) -> Result<(), AwsError> {
        match self.failure.lock().unwrap().take() {
            Some(code) => Err(AwsError {
                operation,
                resource: "memory".to_owned(),
                attempts: 3,
                code: code.to_owned(),
                message: format!("injected {code}"),
                request_id: None,
            }),
            None => Ok(()),
        }
    }
}

fn text(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

impl DispatchStore for MemoryStore {
    async fn dispatch_ids_for_task(&self, task_arn: &str) -> Result<Vec<String>, AwsError> {
        self.injected_failure("Query")?;
        let records = self.records.lock().unwrap();
        let mut ids: Vec<String> = records
            .iter()
            .filter(|(_, item)| item.get(attr::TASK_ARN) == Some(&text(task_arn)))
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids.truncate(2);
        Ok(ids)
    }

    async fn settle(&self, settlement: &Settlement) -> Result<SettleOutcome, AwsError> {
        self.injected_failure("UpdateItem")?;
        let mut records = self.records.lock().unwrap();
        let Some(item) = records.get_mut(&settlement.dispatch_id) else {
            return Ok(explain_conflict(None, settlement));
        };
        // The condition of the real write: not terminal (or, for the task's own outcome,
        // the reconciler's guess of this task), and no task ARN or this one.
        let old = item::record(item);
        let terminal = item
            .get(attr::STATUS)
            .and_then(|status| status.as_s().ok())
            .is_some_and(|status| DispatchStatus::is_terminal(status));
        let ours = match (item.get(attr::TASK_ARN), &settlement.task_arn) {
            (None, _) => true,
            (Some(owner), Some(arn)) => *owner == text(arn),
            (Some(_), None) => false,
        };
        let guess = old.as_ref().filter(|old| old.is_guess());
        let correctable = guess.is_some() && settlement.corrects_a_guess();
        if (terminal && !correctable) || !ours {
            return Ok(explain_conflict(old.as_ref(), settlement));
        }
        let expression = settle_expression(settlement);
        for (placeholder, value) in expression.values {
            if let Some(name) = expression.names.get(&placeholder.replacen(':', "#", 1)) {
                item.insert(name.clone(), value);
            }
        }
        for name in expression.removed {
            item.remove(name);
        }
        self.writes.lock().unwrap().push(settlement.clone());
        Ok(match guess.and_then(|guess| guess.status.clone()) {
            Some(guessed) => {
                item.insert(attr::CORRECTED_GUESS.to_owned(), text(&guessed));
                SettleOutcome::Corrected { guessed }
            }
            None => SettleOutcome::Updated,
        })
    }
}
