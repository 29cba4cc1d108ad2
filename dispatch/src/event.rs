//! The ECS "Task State Change" event as EventBridge delivers it.
//!
//! `aws_lambda_events` owns the EventBridge envelope; the ECS detail is ours, because the
//! crate has no type for it. Only the fields we read are declared: ECS adds fields over
//! time, so unknown fields are ignored (never `deny_unknown_fields`), and everything AWS
//! documents as optional is an `Option`.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use contract::ecs::{SOURCE, STOPPED, TASK_STATE_CHANGE};

use crate::error::Invalid;

/// The `detail` of an ECS task state change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsTaskDetail {
    pub cluster_arn: Option<String>,
    pub task_arn: Option<String>,
    pub last_status: Option<String>,
    pub desired_status: Option<String>,
    /// `dispatch:<id>` when the dispatcher launched the task in a dispatch group.
    pub group: Option<String>,
    /// An open set (EssentialContainerExited, TaskFailedToStart, UserInitiated,
    /// SpotInterruption, ...), so it stays a string.
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// Increases with every change of the task; lets a reader order deliveries.
    pub version: Option<u64>,
    /// May be empty, for example on TaskFailedToStart.
    pub containers: Option<Vec<Container>>,
    pub overrides: Option<Overrides>,
    /// Task tags are not part of ECS events today; read them if they ever are. Since no
    /// shape is documented, one we cannot read counts as no tags rather than as bad input.
    #[serde(default, deserialize_with = "lenient")]
    pub tags: Option<Vec<Tag>>,
}

/// One container of the task.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: Option<String>,
    /// Absent for a container that never ran.
    pub exit_code: Option<i64>,
    pub last_status: Option<String>,
    pub reason: Option<String>,
}

/// The run-time overrides the task was launched with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overrides {
    pub container_overrides: Option<Vec<ContainerOverride>>,
}

/// One container's overrides; the dispatcher puts `DISPATCH_ID` in its environment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerOverride {
    pub name: Option<String>,
    pub environment: Option<Vec<KeyValuePair>>,
}

/// An environment variable as ECS writes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValuePair {
    pub name: Option<String>,
    pub value: Option<String>,
}

/// A task tag as the ECS API writes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// Reads an optional field, treating a value of an unexpected shape as absent.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

impl EcsTaskDetail {
    /// The containers, empty when the event has none.
    pub fn containers(&self) -> &[Container] {
        self.containers.as_deref().unwrap_or_default()
    }

    /// Every container override, empty when the event has none.
    pub fn container_overrides(&self) -> &[ContainerOverride] {
        self.overrides
            .as_ref()
            .and_then(|overrides| overrides.container_overrides.as_deref())
            .unwrap_or_default()
    }
}

/// What an incoming event turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Classified {
    /// Not ours to act on: acknowledged and counted as skipped.
    Ignored(Ignored),
    /// A stopped task: its dispatch gets settled. Boxed, as it is far larger than the
    /// other variant and is moved through the handler.
    Stopped(Box<StoppedTask>),
}

/// Why an event is not acted on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// Another source or detail type (the rule should never send these).
    NotTaskStateChange { source: String, detail_type: String },
    /// A task state change for a task that has not stopped yet.
    NotStopped {
        task_arn: Option<String>,
        last_status: String,
    },
}

/// A stopped task, with what every later step needs already checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoppedTask {
    /// Never empty.
    pub task_arn: String,
    /// When the task stopped: `detail.stoppedAt`, else the event's own time.
    pub stopped_at: DateTime<Utc>,
    pub detail: EcsTaskDetail,
}

impl StoppedTask {
    /// A task as ECS reports it (`DescribeTasks`, read into the event's shape), as the
    /// callback would read it from its STOPPED event; `None` when the task has not stopped
    /// or has no ARN (which ECS never answers). `now`, the moment ECS was asked, stands in
    /// for `stoppedAt` when ECS has none, as an event's own time would.
    pub fn from_detail(detail: EcsTaskDetail, now: DateTime<Utc>) -> Option<StoppedTask> {
        if detail.last_status.as_deref() != Some(STOPPED) {
            return None;
        }
        let task_arn = detail
            .task_arn
            .as_deref()
            .filter(|arn| !arn.trim().is_empty())?
            .to_owned();
        Some(StoppedTask {
            task_arn,
            stopped_at: detail.stopped_at.unwrap_or(now),
            detail,
        })
    }
}

/// Reads a raw invocation payload. Errors are `ValidationException`s: the payload is not
/// an EventBridge event, or is an ECS task state change we cannot read.
pub fn classify(payload: serde_json::Value) -> Result<Classified, Invalid> {
    let envelope: EventBridgeEvent<serde_json::Value> = serde_json::from_value(payload)
        .map_err(|err| Invalid(format!("not an EventBridge event: {err}")))?;

    if envelope.source != SOURCE || envelope.detail_type != TASK_STATE_CHANGE {
        return Ok(Classified::Ignored(Ignored::NotTaskStateChange {
            source: envelope.source,
            detail_type: envelope.detail_type,
        }));
    }

    // An event that says it is a task state change must carry a task: anything else is a
    // malformed event to keep for a person, not a task that "has not stopped".
    let malformed = |why: String| Invalid(format!("{TASK_STATE_CHANGE}: {why}"));
    let Some(task) = envelope.detail.as_object() else {
        return Err(malformed(format!(
            "detail is not an object: {}",
            envelope.detail
        )));
    };
    let last_status = match task.get("lastStatus") {
        Some(serde_json::Value::String(status)) => status.as_str(),
        Some(other) => {
            return Err(malformed(format!(
                "detail.lastStatus is not a string: {other}"
            )))
        }
        None => return Err(malformed("detail has no lastStatus".to_owned())),
    };
    // A task that has not stopped is skipped before the rest of its detail is read, so an
    // odd field in an event we ignore anyway can never fail an invocation.
    if last_status != STOPPED {
        let task_arn = task.get("taskArn").and_then(|arn| arn.as_str());
        return Ok(Classified::Ignored(Ignored::NotStopped {
            task_arn: task_arn.map(str::to_owned),
            last_status: last_status.to_owned(),
        }));
    }

    let detail: EcsTaskDetail = serde_json::from_value(envelope.detail)
        .map_err(|err| Invalid(format!("unreadable ECS task state change detail: {err}")))?;

    let task_arn = match detail.task_arn.as_deref().map(str::trim) {
        Some(arn) if !arn.is_empty() => arn.to_owned(),
        _ => return Err(Invalid("Missing task_arn".to_owned())),
    };
    let stopped_at = detail.stopped_at.or(envelope.time).ok_or_else(|| {
        Invalid(format!(
            "task {task_arn}: neither detail.stoppedAt nor the event time is set"
        ))
    })?;

    Ok(Classified::Stopped(Box::new(StoppedTask {
        task_arn,
        stopped_at,
        detail,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(detail: serde_json::Value) -> serde_json::Value {
        json!({"source": "aws.ecs", "detail-type": "ECS Task State Change",
               "time": "2026-01-15T19:39:32Z", "detail": detail})
    }

    #[test]
    fn an_odd_field_in_a_task_that_has_not_stopped_is_no_error() {
        let classified = classify(event(json!({
            "lastStatus": "RUNNING", "taskArn": "arn:t", "version": "three", "containers": 7
        })))
        .unwrap();
        assert_eq!(
            classified,
            Classified::Ignored(Ignored::NotStopped {
                task_arn: Some("arn:t".into()),
                last_status: "RUNNING".into()
            })
        );
    }

    #[test]
    fn a_task_state_change_without_a_task_is_malformed_not_skipped() {
        let error = |detail| classify(event(detail)).unwrap_err().to_string();
        assert!(error(json!("STOPPED")).contains("detail is not an object"));
        assert!(error(json!([])).contains("detail is not an object"));
        assert!(error(json!({"taskArn": "arn:t"})).contains("detail has no lastStatus"));
        assert!(error(json!({"lastStatus": 3})).contains("detail.lastStatus is not a string"));
        assert!(error(json!({"lastStatus": null})).contains("not a string"));
        // Another source's detail is none of our business.
        let other = json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": []});
        assert!(matches!(
            classify(other),
            Ok(Classified::Ignored(Ignored::NotTaskStateChange { .. }))
        ));
    }

    #[test]
    fn tags_of_an_unknown_shape_count_as_none() {
        let classified = classify(event(json!({
            "lastStatus": "STOPPED", "taskArn": "arn:t", "tags": {"dispatch_id": "d"}
        })))
        .unwrap();
        match classified {
            Classified::Stopped(task) => assert_eq!(task.detail.tags, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_stopped_task_needs_a_task_arn_and_readable_fields() {
        let error = |detail| classify(event(detail)).unwrap_err().to_string();
        assert_eq!(
            error(json!({"lastStatus": "STOPPED", "taskArn": "  "})),
            "ValidationException: Missing task_arn"
        );
        assert!(
            error(json!({"lastStatus": "STOPPED", "taskArn": "a", "containers": 7}))
                .contains("unreadable ECS task state change detail"),
        );
    }
}
