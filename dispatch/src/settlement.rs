//! What settling a dispatch writes, and why a refused write was refused.
//!
//! A settle is one conditional write: never over a terminal status, never creating a
//! record, never another task's dispatch. [`for_stopped_task`] turns what ECS reported into
//! that write through the status table; [`by_hand`] is an operator's settle;
//! [`explain_conflict`] reads the record DynamoDB returned with a refusal (`ALL_OLD`), so
//! no second read is needed to tell a duplicate from a foreign task or a missing record.

use chrono::{DateTime, Utc};
use contract::status::GUESS_STOP_CODE;

use crate::dispatch_id::DispatchId;
use crate::event::StoppedTask;
use crate::record::DispatchRecord;
use crate::status::{decide, Decision, DispatchStatus};
use crate::timefmt::record_timestamp;

/// The longest `stoppedReason` (or operator's text) written; ECS reasons can carry whole
/// error dumps.
pub const MAX_REASON_CHARS: usize = 1024;

/// Everything written when a dispatch is settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settlement {
    pub dispatch_id: String,
    /// The task that stopped. `None` only for a settle by hand of a dispatch that names no
    /// task: then the record must name none either.
    pub task_arn: Option<String>,
    pub status: DispatchStatus,
    pub ended_at: String,
    pub exit_code: Option<i64>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub ecs_version: Option<u64>,
    pub updated_at: String,
    /// The Lambda request ID of this invocation (or a settle by hand's own ID).
    pub request_id: String,
    /// Who settled the dispatch by hand, and why; `None` for the callback and reconciler.
    pub audit: Option<Audit>,
    /// The reconciler's guess (`GUESS_STOP_CODE`): written as provisional, so the task's
    /// own event may still replace it.
    pub provisional: bool,
}

impl Settlement {
    /// Whether this write may replace the reconciler's guess of the same task: only what
    /// ECS reported of the task itself (its event, or its description) may, never another
    /// guess and never a settle by hand.
    pub fn corrects_a_guess(&self) -> bool {
        !self.provisional && self.audit.is_none() && self.task_arn.is_some()
    }
}

/// The record of a settle by hand (`outpost-ops settle`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    /// The caller's ARN, as STS reports it.
    pub settled_by: String,
    /// Why, in the operator's words.
    pub reason: String,
}

/// How a settle attempt ended, told apart from the record DynamoDB returned when the
/// condition failed, so no second read is needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettleOutcome {
    /// The record was RUNNING (or any other non-terminal status) and is now settled.
    Updated,
    /// The record held the reconciler's guess of this task (`guessed`), and now holds the
    /// task's true outcome.
    Corrected { guessed: String },
    /// There is no record with this dispatch ID. Nothing was created.
    NotFound,
    /// The record is already settled: a duplicate or a late event.
    AlreadyTerminal { status: String },
    /// The record belongs to another task ARN.
    OwnedByOtherTask { owner: String },
    /// The condition failed, yet the record as returned passes it (an attribute of an
    /// unexpected type, say). Reported as an error so a person looks at the record.
    Unexplained { record: String },
}

/// The settlement of `dispatch_id` with what `task` says, through the status table (the
/// decision is returned too, to be logged). `request_id` tells this write, retried by the
/// SDK, from another's; `now` stamps `updatedAt`.
pub fn for_stopped_task(
    task: &StoppedTask,
    dispatch_id: &DispatchId,
    worker_container: &str,
    request_id: &str,
    now: DateTime<Utc>,
) -> (Settlement, Decision) {
    let decision = decide(&task.detail, worker_container);
    let settlement = Settlement {
        dispatch_id: dispatch_id.as_str().to_owned(),
        task_arn: Some(task.task_arn.clone()),
        status: decision.status,
        ended_at: record_timestamp(task.stopped_at),
        exit_code: decision.exit_code,
        stop_code: task.detail.stop_code.clone(),
        stopped_reason: task.detail.stopped_reason.as_deref().map(truncate_reason),
        ecs_version: task.detail.version,
        updated_at: record_timestamp(now),
        request_id: request_id.to_owned(),
        audit: None,
        provisional: task.detail.stop_code.as_deref() == Some(GUESS_STOP_CODE),
    };
    (settlement, decision)
}

/// What an operator asks for when settling a dispatch by hand (`outpost-ops settle`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByHand {
    pub dispatch_id: String,
    /// The record's task, as read before asking: the write is conditional on it, so a
    /// record that changed owner in between is not settled.
    pub task_arn: Option<String>,
    pub status: DispatchStatus,
    pub audit: Audit,
}

/// The settlement of a dispatch by hand: the same conditional write as the callback's
/// (never over a terminal status, never creating a record, never another task's), ended
/// and stamped `now`, with who did it and why. `request_id` identifies this settle, so a
/// write retried by the SDK after a lost response is recognised as its own.
pub fn by_hand(order: &ByHand, request_id: &str, now: DateTime<Utc>) -> Settlement {
    let now = record_timestamp(now);
    Settlement {
        dispatch_id: order.dispatch_id.clone(),
        task_arn: order.task_arn.clone(),
        status: order.status,
        ended_at: now.clone(),
        exit_code: None,
        stop_code: None,
        stopped_reason: None,
        ecs_version: None,
        updated_at: now,
        request_id: request_id.to_owned(),
        audit: Some(Audit {
            settled_by: truncate_reason(&order.audit.settled_by),
            reason: truncate_reason(&order.audit.reason),
        }),
        provisional: false,
    }
}

/// Tells why the condition failed from the record as it was (`ALL_OLD`), or `None` when
/// there was no record.
pub fn explain_conflict(record: Option<&DispatchRecord>, settlement: &Settlement) -> SettleOutcome {
    let Some(record) = record else {
        return SettleOutcome::NotFound;
    };
    if record.update_request_id.as_deref() == Some(settlement.request_id.as_str()) {
        // Our own write landed, but its response was lost and the SDK retried it.
        return SettleOutcome::Updated;
    }
    if let Some(status) = record.terminal_status() {
        return SettleOutcome::AlreadyTerminal {
            status: status.as_str().to_owned(),
        };
    }
    match &record.task_arn {
        Some(owner) if Some(owner) != settlement.task_arn.as_ref() => {
            SettleOutcome::OwnedByOtherTask {
                owner: owner.clone(),
            }
        }
        _ => SettleOutcome::Unexplained {
            record: format!("{:?}", record.to_text()),
        },
    }
}

/// Cuts a reason to [`MAX_REASON_CHARS`] characters, never inside a character.
fn truncate_reason(reason: &str) -> String {
    match reason.char_indices().nth(MAX_REASON_CHARS) {
        Some((end, _)) => reason[..end].to_owned(),
        None => reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::record::Value;

    use super::*;

    fn record(pairs: &[(&str, &str)]) -> DispatchRecord {
        let attributes = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::Text(v.to_string())));
        DispatchRecord::from_attributes(
            attributes.chain([("dispatchId".to_owned(), Value::Text("d".to_owned()))]),
        )
        .unwrap()
    }

    fn settlement() -> Settlement {
        Settlement {
            dispatch_id: "d".into(),
            task_arn: Some("arn".into()),
            status: DispatchStatus::Failed,
            ended_at: "2020-01-01T00:00:00Z".into(),
            exit_code: None,
            stop_code: Some("TaskFailedToStart".into()),
            stopped_reason: None,
            ecs_version: Some(3),
            updated_at: "2020-01-01T00:00:01Z".into(),
            request_id: "req-1".into(),
            audit: None,
            provisional: false,
        }
    }

    #[test]
    fn explains_each_condition_failure() {
        use SettleOutcome::*;
        let ours = settlement();
        let explain = |pairs: &[(&str, &str)]| explain_conflict(Some(&record(pairs)), &ours);
        let terminal = |status: &str| AlreadyTerminal {
            status: status.into(),
        };
        assert_eq!(explain_conflict(None, &ours), NotFound);
        assert_eq!(
            explain(&[("status", "COMPLETED"), ("taskArn", "arn")]),
            terminal("COMPLETED")
        );
        assert_eq!(
            explain(&[("status", "RUNNING"), ("taskArn", "other")]),
            OwnedByOtherTask {
                owner: "other".into()
            }
        );
        // Terminal wins over a foreign owner: the dispatch is done either way.
        assert_eq!(
            explain(&[("status", "FAILED"), ("taskArn", "other")]),
            terminal("FAILED")
        );
        // Our own earlier attempt of this very write, retried by the SDK.
        let ours_again = [
            ("status", "FAILED"),
            ("taskArn", "arn"),
            ("updateRequestId", "req-1"),
        ];
        assert_eq!(explain(&ours_again), Updated);
        // Another invocation's identical write is a duplicate, not ours.
        let theirs = [
            ("status", "FAILED"),
            ("taskArn", "arn"),
            ("updateRequestId", "req-2"),
        ];
        assert_eq!(explain(&theirs), terminal("FAILED"));
        assert!(matches!(
            explain(&[("status", "RUNNING")]),
            Unexplained { .. }
        ));
    }

    #[test]
    fn a_settle_by_hand_names_no_task_it_does_not_know() {
        let by_hand = Settlement {
            task_arn: None,
            ..settlement()
        };
        // A record that names a task is not this settlement's.
        let owned = record(&[("status", "RUNNING"), ("taskArn", "arn")]);
        assert_eq!(
            explain_conflict(Some(&owned), &by_hand),
            SettleOutcome::OwnedByOtherTask {
                owner: "arn".into()
            }
        );
    }

    #[test]
    fn only_what_ecs_reported_of_the_task_may_replace_a_guess() {
        use crate::event::EcsTaskDetail;
        let stopped = |stop_code: &str| {
            let detail = EcsTaskDetail {
                task_arn: Some("arn".into()),
                last_status: Some("STOPPED".into()),
                stop_code: Some(stop_code.into()),
                ..EcsTaskDetail::default()
            };
            let at = "2020-01-01T00:00:00Z".parse().unwrap();
            let task = StoppedTask::from_detail(detail, at).unwrap();
            let id = DispatchId::parse("d", "a test").unwrap();
            for_stopped_task(&task, &id, "worker", "req-1", at).0
        };
        let truth = stopped("EssentialContainerExited");
        assert!(!truth.provisional && truth.corrects_a_guess());
        let guess = stopped(GUESS_STOP_CODE);
        assert!(guess.provisional && !guess.corrects_a_guess());
        let order = ByHand {
            dispatch_id: "d".into(),
            task_arn: Some("arn".into()),
            status: DispatchStatus::Failed,
            audit: Audit {
                settled_by: "ana".into(),
                reason: "lost".into(),
            },
        };
        let by_hand = by_hand(&order, "req-2", Utc::now());
        assert!(!by_hand.provisional && !by_hand.corrects_a_guess());
    }

    #[test]
    fn a_guess_is_a_terminal_record_with_the_guess_stop_code() {
        let guess = record(&[("status", "FAILED"), ("stopCode", GUESS_STOP_CODE)]);
        assert!(guess.is_guess());
        assert!(!record(&[("status", "RUNNING"), ("stopCode", GUESS_STOP_CODE)]).is_guess());
        assert!(!record(&[("status", "FAILED"), ("stopCode", "UserInitiated")]).is_guess());
    }

    #[test]
    fn reasons_are_cut_on_a_character_boundary() {
        assert_eq!(truncate_reason("short"), "short");
        let long = "é".repeat(MAX_REASON_CHARS + 10);
        let cut = truncate_reason(&long);
        assert_eq!(cut.chars().count(), MAX_REASON_CHARS);
    }
}
