//! The test dispatch `make adopt` settles through the deployed function: its record (a
//! RUNNING dispatch, as the control plane writes one), its key, and the verdict on how it
//! ended, under the contract's names. Its event (`examples/adopt/stopped-event.json`) has
//! the worker exit 0, so it must end COMPLETED.

use std::path::Path;

use contract::status::{DispatchStatus, RUNNING};
use contract::table::attr;
use serde_json::{json, Value};

use crate::SynthError;

/// The status the test event settles its dispatch with.
pub const SETTLED: DispatchStatus = DispatchStatus::Completed;

/// The test dispatch: its ID, the task its event names, and `createdAt` (`YYYY-MM-DDTHH:MM:SSZ`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestDispatch {
    pub dispatch_id: String,
    pub task_arn: String,
    pub created_at: String,
}

/// The record's key, as `aws dynamodb get-item --key` and `delete-item --key` take it.
pub fn key(dispatch_id: &str) -> Value {
    json!({ attr::DISPATCH_ID: {"S": dispatch_id} })
}

/// The record, as `aws dynamodb put-item --item` takes it: a RUNNING dispatch of the task.
pub fn item(dispatch: &TestDispatch) -> Value {
    json!({
        attr::DISPATCH_ID: {"S": dispatch.dispatch_id}, attr::STATUS: {"S": RUNNING},
        attr::TASK_ARN: {"S": dispatch.task_arn}, attr::CREATED_AT: {"S": dispatch.created_at},
    })
}

/// Why the test dispatch is not settled as it should be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotSettled {
    #[error("the test dispatch is not in the table any more")]
    Missing,
    #[error("the test dispatch {dispatch_id} ended {status}, not {SETTLED}")]
    Status { dispatch_id: String, status: String },
}

/// The verdict on get-item's answer: the ID of a dispatch settled as the test event says.
pub fn settled(answer: &Value) -> Result<String, NotSettled> {
    let item = answer.get("Item").ok_or(NotSettled::Missing)?;
    let text = |name: &str| item[name]["S"].as_str().unwrap_or("(none)").to_owned();
    let (dispatch_id, status) = (text(attr::DISPATCH_ID), text(attr::STATUS));
    if status == SETTLED.as_str() {
        return Ok(dispatch_id);
    }
    Err(NotSettled::Status {
        dispatch_id,
        status,
    })
}

/// `synth adopt test-settled --item FILE`: says whether the record in FILE (get-item's
/// answer) is settled; false when it is not, with why on standard error.
pub fn show_settled(file: &Path) -> Result<bool, SynthError> {
    let verdict = settled(&super::read_json(file)?);
    match &verdict {
        Ok(id) => println!("  ok: {id} settled {SETTLED} by the deployed function"),
        Err(why) => eprintln!("adopt: {why}"),
    }
    Ok(verdict.is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dispatch() -> TestDispatch {
        TestDispatch {
            dispatch_id: "adopt-check-20260115193931".to_owned(),
            task_arn:
                "arn:aws:ecs:us-east-1:000000000000:task/adopt-check/adopt-check-20260115193931"
                    .to_owned(),
            created_at: "2026-01-15T19:39:31Z".to_owned(),
        }
    }

    #[test]
    fn the_record_is_a_running_dispatch_of_the_task_under_the_contracts_names() {
        assert_eq!(
            item(&dispatch()).to_string(),
            r#"{"createdAt":{"S":"2026-01-15T19:39:31Z"},"dispatchId":{"S":"adopt-check-20260115193931"},"status":{"S":"RUNNING"},"taskArn":{"S":"arn:aws:ecs:us-east-1:000000000000:task/adopt-check/adopt-check-20260115193931"}}"#
        );
        assert_eq!(
            key("adopt-check-20260115193931").to_string(),
            r#"{"dispatchId":{"S":"adopt-check-20260115193931"}}"#
        );
    }

    fn check(answer: Value, expected: Result<&str, NotSettled>) {
        assert_eq!(settled(&answer), expected.map(str::to_owned));
    }

    #[test]
    fn only_a_record_settled_as_the_event_says_passes() {
        let mut record = item(&dispatch());
        record[attr::STATUS] = json!({"S": "COMPLETED"});
        check(json!({"Item": record}), Ok("adopt-check-20260115193931"));
        check(
            json!({"Item": item(&dispatch())}),
            Err(NotSettled::Status {
                dispatch_id: "adopt-check-20260115193931".to_owned(),
                status: "RUNNING".to_owned(),
            }),
        );
        record[attr::STATUS] = json!({"S": "FAILED"});
        check(
            json!({"Item": record}),
            Err(NotSettled::Status {
                dispatch_id: "adopt-check-20260115193931".to_owned(),
                status: "FAILED".to_owned(),
            }),
        );
        check(json!({}), Err(NotSettled::Missing));
    }

    #[test]
    fn the_message_names_the_dispatch_and_both_statuses() {
        let why = settled(&json!({"Item": item(&dispatch())})).unwrap_err();
        assert_eq!(
            why.to_string(),
            "the test dispatch adopt-check-20260115193931 ended RUNNING, not COMPLETED"
        );
    }
}
