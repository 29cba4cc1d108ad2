//! The test dispatch that `make adopt` settles through the deployed function once the stack
//! is in place: the record it puts in the table (a RUNNING dispatch, as the control plane
//! writes one), its key (to read and delete it), and the verdict on the record the function
//! left. Every attribute name and status comes from the contract, so the check follows a
//! rename instead of testing a record the function would never find.
//!
//! The event sent for it is `examples/adopt/stopped-event.json`: its worker exits 0, so
//! the record must end COMPLETED (`function/tests/fixtures.rs` checks that event).

use std::path::Path;

use contract::status::{DispatchStatus, RUNNING};
use contract::table::attr;
use serde_json::{json, Map, Value};

use crate::SynthError;

/// The status the test event settles its dispatch with.
pub const SETTLED: DispatchStatus = DispatchStatus::Completed;

/// The test dispatch: its ID, the task the event names, and when it was "launched"
/// (`YYYY-MM-DDTHH:MM:SSZ`, as the control plane writes `createdAt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestDispatch {
    pub dispatch_id: String,
    pub task_arn: String,
    pub created_at: String,
}

fn string(value: &str) -> Value {
    json!({ "S": value })
}

/// The record's key, as `aws dynamodb get-item --key` and `delete-item --key` take it.
pub fn key(dispatch_id: &str) -> Value {
    json!({ attr::DISPATCH_ID: string(dispatch_id) })
}

/// The record, as `aws dynamodb put-item --item` takes it: a RUNNING dispatch of the task.
pub fn item(dispatch: &TestDispatch) -> Value {
    let attributes = [
        (attr::DISPATCH_ID, dispatch.dispatch_id.as_str()),
        (attr::STATUS, RUNNING),
        (attr::TASK_ARN, dispatch.task_arn.as_str()),
        (attr::CREATED_AT, dispatch.created_at.as_str()),
    ];
    let item: Map<String, Value> = attributes
        .into_iter()
        .map(|(name, value)| (name.to_owned(), string(value)))
        .collect();
    Value::Object(item)
}

/// Why the test dispatch is not settled as it should be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotSettled {
    #[error("the test dispatch is not in the table any more")]
    Missing,
    #[error("the test dispatch {dispatch_id} ended {status}, not {SETTLED}")]
    Status { dispatch_id: String, status: String },
}

/// The verdict on `aws dynamodb get-item --output json`'s answer for the test dispatch:
/// its ID when the function settled it as the test event says.
pub fn settled(answer: &Value) -> Result<String, NotSettled> {
    let item = answer.get("Item").ok_or(NotSettled::Missing)?;
    let text = |name: &str| item[name]["S"].as_str().unwrap_or("(none)").to_owned();
    let (dispatch_id, status) = (text(attr::DISPATCH_ID), text(attr::STATUS));
    if status == SETTLED.as_str() {
        Ok(dispatch_id)
    } else {
        Err(NotSettled::Status {
            dispatch_id,
            status,
        })
    }
}

/// `synth adopt test-settled --item FILE`: says whether the record in FILE (get-item's
/// answer) is settled; false when it is not, with why on standard error.
pub fn show_settled(file: &Path) -> Result<bool, SynthError> {
    let answer = super::read_json(file)?;
    match settled(&answer) {
        Ok(dispatch_id) => {
            println!("  ok: {dispatch_id} settled {SETTLED} by the deployed function");
            Ok(true)
        }
        Err(why) => {
            eprintln!("adopt: {why}");
            Ok(false)
        }
    }
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
