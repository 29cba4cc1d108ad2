//! ECS task state change events: the AWS-shaped fixtures, and a builder for the small
//! events that unit tests need.

use contract::{dispatch_id, ecs};
use serde_json::{json, Value};

/// The container whose exit code decides, as deployed.
const WORKER: &str = contract::env::WORKER_CONTAINER.default;

/// The dispatch ID the fixtures carry.
pub const DISPATCH_ID: &str = "5f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";
/// The task ARN the fixtures carry.
pub const TASK_ARN: &str =
    "arn:aws:ecs:us-east-1:311493921645:task/outpost-dev/0f9b6d3b4c8a4e6f9d2a1b3c4d5e6f70";

/// The text of the fixture `name` (for example `exit-0.json`), in `function/tests/fixtures`.
pub fn fixture_text(name: &str) -> String {
    let path = crate::repo_root()
        .join("function/tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The fixture `name`, parsed.
pub fn fixture(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

/// `event` with its `DISPATCH_ID` override replaced by `dispatch_id` wherever it has one.
pub fn with_dispatch_id(mut event: Value, dispatch_id: &str) -> Value {
    let overrides = event.pointer_mut("/detail/overrides/containerOverrides");
    let containers = overrides
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten();
    let environments = containers.filter_map(|container| container.get_mut("environment"));
    let pairs = environments.filter_map(Value::as_array_mut).flatten();
    for pair in pairs.filter(|pair| pair["name"] == dispatch_id::ENV_NAME) {
        pair["value"] = dispatch_id.into();
    }
    event
}

/// `event` for another task.
pub fn with_task_arn(mut event: Value, task_arn: &str) -> Value {
    event["detail"]["taskArn"] = task_arn.into();
    event
}

/// A minimal ECS task state change, built field by field. It starts as a task that
/// stopped at `2026-01-15T19:39:31Z` with its worker container exited 0 and no dispatch
/// ID anywhere; each method sets one fact.
#[derive(Clone, Debug)]
pub struct TaskEvent(Value);

impl TaskEvent {
    pub fn stopped(task_arn: &str) -> Self {
        TaskEvent(json!({
            "version": "0",
            "id": "00000000-0000-4000-8000-000000000000",
            "source": ecs::SOURCE,
            "detail-type": ecs::TASK_STATE_CHANGE,
            "time": "2026-01-15T19:39:32Z",
            "detail": {
                "taskArn": task_arn,
                "lastStatus": ecs::STOPPED,
                "stopCode": "EssentialContainerExited",
                "stoppedReason": "Essential container in task exited",
                "stoppedAt": "2026-01-15T19:39:31Z",
                "version": 3,
                "containers": [{"name": WORKER, "exitCode": 0, "lastStatus": ecs::STOPPED}],
            },
        }))
    }

    /// `DISPATCH_ID` in the worker container's override environment.
    pub fn dispatch_id(self, id: &str) -> Self {
        self.set(
            "overrides",
            json!({"containerOverrides": [{"name": WORKER, "environment": [
                {"name": dispatch_id::ENV_NAME, "value": id}
            ]}]}),
        )
    }

    pub fn last_status(self, status: &str) -> Self {
        self.set("lastStatus", json!(status))
    }

    pub fn stop_code(self, code: &str) -> Self {
        self.set("stopCode", json!(code))
    }

    pub fn stopped_reason(self, reason: &str) -> Self {
        self.set("stoppedReason", json!(reason))
    }

    /// The worker container's exit code; `None` for a container that never ran.
    pub fn exit_code(self, code: Option<i64>) -> Self {
        let container = match code {
            Some(code) => json!({"name": WORKER, "exitCode": code}),
            None => json!({"name": WORKER}),
        };
        self.set("containers", json!([container]))
    }

    /// Sets any detail field.
    pub fn set(mut self, field: &str, value: Value) -> Self {
        self.0["detail"][field] = value;
        self
    }

    pub fn build(self) -> Value {
        self.0
    }
}
