//! Settling a stopped task's dispatch: the status table's decision, then one conditional
//! write. The callback settles what an event reports; anything else that learns of a
//! stopped task (a reconciler, an operator) settles it through this same path, so no two
//! of them can disagree, and a race between them settles the dispatch once.

use chrono::{DateTime, Utc};
use contract::logs;
use tracing::{info, warn};

use crate::config::Config;
use crate::dispatch_id::DispatchId;
use crate::error::CallbackError;
use crate::event::StoppedTask;
use crate::outcome::{Outcome, SkipReason};
use crate::status::{decide, DispatchStatus};
use crate::store::{Audit, DispatchStore, SettleOutcome, Settlement};
use crate::timefmt::record_timestamp;

/// The longest `stoppedReason` written; ECS reasons can carry whole error dumps.
pub const MAX_REASON_CHARS: usize = 1024;

/// Settles `dispatch_id` with what `task` says: at most one write, never over a terminal
/// status, never creating a record. `request_id` is written with the update (it tells
/// this write, retried by the SDK, from another's); `now` stamps `updatedAt`.
pub async fn settle<S: DispatchStore>(
    task: &StoppedTask,
    dispatch_id: &DispatchId,
    store: &S,
    config: &Config,
    request_id: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, CallbackError> {
    let decision = decide(&task.detail, &config.worker_container);
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
    };

    let skipped = |reason| Outcome::Skipped {
        reason,
        dispatch_id: Some(settlement.dispatch_id.clone()),
        task_arn: Some(task.task_arn.clone()),
    };
    match store.settle(&settlement).await? {
        SettleOutcome::Updated => {
            info!(
                status = %decision.status,
                exit_code = decision.exit_code,
                rule = ?decision.rule,
                "{}",
                logs::DISPATCH_SETTLED
            );
            Ok(Outcome::Updated {
                dispatch_id: settlement.dispatch_id,
                task_arn: task.task_arn.clone(),
                status: decision.status,
                exit_code: decision.exit_code,
                stopped_at: task.stopped_at,
            })
        }
        SettleOutcome::AlreadyTerminal { status } => {
            info!(
                current_status = %status,
                "dispatch already in terminal state; duplicate or late event skipped"
            );
            Ok(skipped(SkipReason::AlreadyTerminal))
        }
        SettleOutcome::OwnedByOtherTask { owner } => {
            warn!(
                owner_task_arn = %owner,
                "dispatch belongs to another task; event skipped"
            );
            Ok(skipped(SkipReason::OwnedByOtherTask))
        }
        SettleOutcome::NotFound => Err(CallbackError::DispatchNotFound {
            dispatch_id: settlement.dispatch_id,
            task_arn: task.task_arn.clone(),
        }),
        SettleOutcome::Unexplained { record } => Err(CallbackError::UnexplainedConflict {
            dispatch_id: settlement.dispatch_id,
            record,
        }),
    }
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
    use super::*;

    #[test]
    fn reasons_are_cut_on_a_character_boundary() {
        assert_eq!(truncate_reason("short"), "short");
        let long = "é".repeat(MAX_REASON_CHARS + 10);
        let cut = truncate_reason(&long);
        assert_eq!(cut.chars().count(), MAX_REASON_CHARS);
    }
}
