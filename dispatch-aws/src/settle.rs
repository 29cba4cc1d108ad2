//! Settling a stopped task's dispatch: the status table's decision, then one conditional
//! write. The callback settles what an event reports; anything else that learns of a
//! stopped task (the reconciler) settles it through this same path, so no two of them can
//! disagree, and a race between them settles the dispatch once.

use chrono::{DateTime, Utc};
use contract::logs;
use dispatch::dispatch_id::{self, DispatchId, Source};
use dispatch::event::StoppedTask;
use dispatch::outcome::{Outcome, SkipReason};
use dispatch::settlement::{for_stopped_task, SettleOutcome};
use dispatch::Invalid;
use tracing::{info, warn};

use crate::error::AwsError;
use crate::table::DispatchStore;

/// Why a settle did not end in an outcome.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// The task names a dispatch that has no record. The control plane may not have
    /// written it yet, so this is retried; a record is never created here.
    #[error("dispatch {dispatch_id} not found in the table (task {task_arn})")]
    DispatchNotFound {
        dispatch_id: String,
        task_arn: String,
    },
    /// The write's condition failed, yet the record as DynamoDB returned it passes the
    /// condition (an attribute of an unexpected type, say). A person must look at it.
    #[error("dispatch {dispatch_id}: the update's condition failed on a record that looks settleable: {record}")]
    UnexplainedConflict { dispatch_id: String, record: String },
    /// DynamoDB refused or failed the request after the SDK's retries.
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// Why a stopped task's dispatch could not be found.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    /// The task names a dispatch ID that is not one (empty, too long, two that disagree).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// More than one dispatch record claims the task in the `task_arn-index` GSI, so
    /// which one to settle cannot be told.
    #[error("task {task_arn} is claimed by more than one dispatch: {dispatch_ids:?}")]
    Ambiguous {
        task_arn: String,
        dispatch_ids: Vec<String>,
    },
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// The dispatch `task` belongs to: the ID it carries itself (environment override, task
/// group, tags), else the one record the `task_arn-index` GSI finds for it; `None` when
/// neither names one. The callback and the reconciler both find dispatches this way.
pub async fn find_dispatch<S: DispatchStore>(
    task: &StoppedTask,
    store: &S,
) -> Result<Option<(DispatchId, Source)>, FindError> {
    if let Some(found) = dispatch_id::from_event(&task.detail)? {
        return Ok(Some(found));
    }
    // The runbook greps for this phrase to confirm the GSI, not a scan, is used.
    info!("{}", logs::QUERYING_BY_TASK_ARN);
    let mut ids = store.dispatch_ids_for_task(&task.task_arn).await?;
    match ids.len() {
        0 => Ok(None),
        1 => {
            let id = DispatchId::parse(&ids.remove(0), Source::TaskArnIndex)?;
            Ok(Some((id, Source::TaskArnIndex)))
        }
        _ => Err(FindError::Ambiguous {
            task_arn: task.task_arn.clone(),
            dispatch_ids: ids,
        }),
    }
}

/// Settles `dispatch_id` with what `task` says: at most one write, never over a terminal
/// status, never creating a record. `worker_container` is the container whose exit code
/// decides; `request_id` is written with the update (it tells this write, retried by the
/// SDK, from another's); `now` stamps `updatedAt`.
pub async fn settle<S: DispatchStore>(
    task: &StoppedTask,
    dispatch_id: &DispatchId,
    store: &S,
    worker_container: &str,
    request_id: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, SettleError> {
    let (settlement, decision) =
        for_stopped_task(task, dispatch_id, worker_container, request_id, now);
    let skipped = |reason| Outcome::Skipped {
        reason,
        dispatch_id: Some(settlement.dispatch_id.clone()),
        task_arn: Some(task.task_arn.clone()),
    };
    let updated = |corrected| Outcome::Updated {
        dispatch_id: settlement.dispatch_id.clone(),
        task_arn: task.task_arn.clone(),
        status: decision.status,
        exit_code: decision.exit_code,
        stopped_at: task.stopped_at,
        corrected,
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
            Ok(updated(false))
        }
        SettleOutcome::Corrected { guessed } => {
            warn!(
                status = %decision.status,
                exit_code = decision.exit_code,
                rule = ?decision.rule,
                guessed_status = %guessed,
                "{}",
                logs::GUESS_CORRECTED
            );
            Ok(updated(true))
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
        SettleOutcome::NotFound => Err(SettleError::DispatchNotFound {
            dispatch_id: settlement.dispatch_id,
            task_arn: task.task_arn.clone(),
        }),
        SettleOutcome::Unexplained { record } => Err(SettleError::UnexplainedConflict {
            dispatch_id: settlement.dispatch_id,
            record,
        }),
    }
}
