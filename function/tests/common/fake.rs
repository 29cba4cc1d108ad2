//! An in-memory dispatch table with the same conditional semantics as the real write,
//! for unit-level tests that exercise the handler without a server.

use std::collections::HashMap;
use std::sync::Mutex;

use function::status::DispatchStatus;
use function::store::{DispatchStore, SettleOutcome, Settlement, StoreError};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FakeRecord {
    pub status: String,
    pub task_arn: Option<String>,
}

#[derive(Debug, Default)]
pub struct FakeStore {
    pub records: Mutex<HashMap<String, FakeRecord>>,
    pub writes: Mutex<Vec<Settlement>>,
}

impl FakeStore {
    pub fn with(dispatch_id: &str, status: &str, task_arn: Option<&str>) -> FakeStore {
        let store = FakeStore::default();
        store.records.lock().unwrap().insert(
            dispatch_id.to_owned(),
            FakeRecord {
                status: status.to_owned(),
                task_arn: task_arn.map(str::to_owned),
            },
        );
        store
    }
}

impl DispatchStore for FakeStore {
    async fn dispatch_ids_for_task(&self, task_arn: &str) -> Result<Vec<String>, StoreError> {
        let records = self.records.lock().unwrap();
        let mut ids: Vec<String> = records
            .iter()
            .filter(|(_, record)| record.task_arn.as_deref() == Some(task_arn))
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids.truncate(2);
        Ok(ids)
    }

    async fn settle(&self, settlement: &Settlement) -> Result<SettleOutcome, StoreError> {
        let mut records = self.records.lock().unwrap();
        let Some(record) = records.get_mut(&settlement.dispatch_id) else {
            return Ok(SettleOutcome::NotFound);
        };
        if DispatchStatus::is_terminal(&record.status) {
            return Ok(SettleOutcome::AlreadyTerminal {
                status: record.status.clone(),
            });
        }
        if let Some(owner) = record
            .task_arn
            .as_ref()
            .filter(|owner| **owner != settlement.task_arn)
        {
            return Ok(SettleOutcome::OwnedByOtherTask {
                owner: owner.clone(),
            });
        }
        record.status = settlement.status.as_str().to_owned();
        record.task_arn = Some(settlement.task_arn.clone());
        self.writes.lock().unwrap().push(settlement.clone());
        Ok(SettleOutcome::Updated)
    }
}
