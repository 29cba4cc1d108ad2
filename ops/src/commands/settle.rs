//! `outpost-ops settle`: the runbook's last resort (4, step 4), made safe. The same
//! conditional write as the callback: never over a terminal status, never creating a
//! record, never a record that changed task since it was read; `endedAt` stamped, and
//! who did it (STS) and why recorded on the record.

use chrono::Utc;
use clap::Args;
use contract::DispatchStatus;
use dispatch::record::DispatchRecord;
use dispatch::settlement::{by_hand, Audit, ByHand, SettleOutcome};
use dispatch_aws::table::DispatchStore;
use dispatch_aws::AwsError;
use serde::Serialize;

use crate::confirm;
use crate::context::Context;
use crate::error::{aws, OpsError, Result};
use crate::output::{self, Report};
use crate::tasks;

#[derive(Debug, Args)]
pub struct SettleArgs {
    /// The dispatch to settle.
    pub dispatch_id: String,
    /// Its final status: COMPLETED, FAILED, TIMEOUT or CANCELLED.
    #[arg(long, value_parser = status)]
    pub status: DispatchStatus,
    /// Why, for whoever reads the record later (stored as `settleReason`).
    #[arg(long)]
    pub reason: String,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Settle even though ECS still runs the record's task.
    #[arg(long)]
    pub force: bool,
}

fn status(text: &str) -> Result<DispatchStatus, String> {
    DispatchStatus::parse(&text.to_uppercase()).ok_or_else(|| {
        format!("{text:?} is not a terminal status: use COMPLETED, FAILED, TIMEOUT or CANCELLED")
    })
}

/// How a settle ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SettleResult {
    Settled,
    /// No record: nothing is ever created.
    NotFound,
    /// Already settled: a terminal status is never overwritten.
    AlreadyTerminal,
    /// The record's task changed after it was read.
    OwnedByOtherTask,
    /// The person did not confirm.
    NotConfirmed,
    /// ECS still runs the record's task (and no `--force`).
    TaskStillRunning,
    /// Whether ECS still runs the record's task cannot be told (and no `--force`).
    TaskUnknown,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleReport {
    pub dispatch_id: String,
    pub result: SettleResult,
    pub message: String,
    /// The record before, as read.
    pub before: Option<DispatchRecord>,
    /// The record after the write (only when settled).
    pub after: Option<DispatchRecord>,
    pub settled_by: Option<String>,
    pub warnings: Vec<String>,
}

pub async fn exec(ctx: &Context, args: SettleArgs) -> Result<SettleReport> {
    let reason = args.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(OpsError::Usage(
            "--reason must say why (it is stored on the record)".into(),
        ));
    }
    let table = &ctx.names.table;
    let id = &args.dispatch_id;
    ctx.progress.step(&format!("reading {id} from {table}"));
    let Some(record) = ctx.table().get(id).await? else {
        let message = format!(
            "no record {id} in {table}: nothing was written (settle never creates a record)"
        );
        return Ok(refused(&args, SettleResult::NotFound, message, None));
    };
    let current = record.status.clone().unwrap_or_default();
    let refusal = if DispatchStatus::is_terminal(&current) {
        let message = format!(
            "already {current}: a terminal status is never overwritten; nothing was written"
        );
        Some((SettleResult::AlreadyTerminal, message))
    } else if let Some(refusal) = running_task(ctx, &args, &record).await {
        Some(refusal)
    } else {
        not_confirmed(ctx, &args, &record, &reason)?.map(|m| (SettleResult::NotConfirmed, m))
    };
    if let Some((result, message)) = refusal {
        return Ok(refused(&args, result, message, Some(record)));
    }
    let settled_by = caller(ctx).await?;
    let order = ByHand {
        dispatch_id: id.clone(),
        task_arn: record.task().map(str::to_owned),
        status: args.status,
        audit: Audit {
            settled_by: settled_by.clone(),
            reason,
        },
    };
    let (result, message) = write(ctx, &order).await?;
    let mut report = SettleReport {
        settled_by: Some(settled_by),
        ..refused(&args, result, message, Some(record))
    };
    // The write is done: a record that cannot be read back is a warning, not a failure.
    if result == SettleResult::Settled {
        match ctx.table().get(id).await {
            Ok(after) => report.after = after,
            Err(err) => report.warnings.push(format!(
                "settled, but the record could not be read back: {err}"
            )),
        }
    }
    Ok(report)
}

/// A report of a settle refused before anything was written.
fn refused(
    args: &SettleArgs,
    result: SettleResult,
    message: String,
    before: Option<DispatchRecord>,
) -> SettleReport {
    SettleReport {
        dispatch_id: args.dispatch_id.clone(),
        result,
        message,
        before,
        after: None,
        settled_by: None,
        warnings: Vec::new(),
    }
}

/// Why not to settle while ECS still runs the record's task, or may (and no `--force`):
/// that task will report its own outcome, and settling its dispatch by hand now would
/// turn that report into a skipped duplicate, losing the true outcome. A task whose state
/// cannot be told is not taken for stopped.
async fn running_task(
    ctx: &Context,
    args: &SettleArgs,
    record: &DispatchRecord,
) -> Option<(SettleResult, String)> {
    let arn = record.task().filter(|_| !args.force)?;
    ctx.progress.step("asking ECS about the task");
    let ecs = aws_sdk_ecs::Client::new(&ctx.sdk);
    let states = tasks::describe(&ecs, ctx.watched.as_ref(), &[arn.to_owned()]).await;
    let task = states.get(arn)?;
    let short = tasks::short(arn);
    let (result, state) = match &task.unknown {
        Some(why) => (
            SettleResult::TaskUnknown,
            format!("task {short}'s state is unknown ({why}): if it still runs,"),
        ),
        None if task.running() => (
            SettleResult::TaskStillRunning,
            format!("task {short} is still {}:", task.summary()),
        ),
        None => return None,
    };
    let message = format!(
        "{state} its own event will settle the dispatch; nothing was written (--force settles it anyway)"
    );
    Some((result, message))
}

/// Asks the person to type the dispatch ID (unless `--yes`); why nothing is done when
/// they do not, or when there is no terminal to ask on.
fn not_confirmed(
    ctx: &Context,
    args: &SettleArgs,
    record: &DispatchRecord,
    reason: &str,
) -> Result<Option<String>> {
    ctx.progress.done();
    let id = &args.dispatch_id;
    let status = args.status;
    let current = record.status.as_deref().unwrap_or_default();
    let task = record.task_arn.as_deref().unwrap_or("none");
    let question = format!("Settle {id} ({current}, task {task}) as {status}, because {reason:?}?");
    let refusal = confirm::refusal(&question, id, args.yes)?;
    Ok(refusal.map(str::to_owned))
}

/// Who is settling, as STS says: recorded on the record, so it must be known.
async fn caller(ctx: &Context) -> Result<String> {
    ctx.progress.step("asking STS who is calling");
    let caller = aws_sdk_sts::Client::new(&ctx.sdk)
        .get_caller_identity()
        .send()
        .await
        .map_err(aws("GetCallerIdentity", "sts"))?;
    let why = "no caller ARN in the answer: who settles must be recorded";
    let arn = caller.arn().filter(|arn| !arn.is_empty());
    let arn = arn.ok_or_else(|| AwsError::unusable("GetCallerIdentity", "sts", why))?;
    Ok(arn.to_owned())
}

/// The callback's own conditional write, by hand; how it ended, in words.
async fn write(ctx: &Context, order: &ByHand) -> Result<(SettleResult, String)> {
    let now = Utc::now();
    // Unique per settle, so a write the SDK retries after a lost answer is known as ours.
    let nanos = now.timestamp_nanos_opt().unwrap_or_default();
    let request_id = format!("outpost-ops-{nanos}-{}", std::process::id());
    let id = &order.dispatch_id;
    ctx.progress.step(&format!("settling {id}"));
    Ok(match ctx.table().settle(&by_hand(order, &request_id, now)).await? {
        // A settle by hand never replaces a guess: its condition does not admit one.
        SettleOutcome::Updated | SettleOutcome::Corrected { .. } => (SettleResult::Settled, format!("settled {id} as {}", order.status)),
        SettleOutcome::NotFound => (SettleResult::NotFound, "the record was deleted meanwhile: nothing was written".to_owned()),
        SettleOutcome::AlreadyTerminal { status } => (
            SettleResult::AlreadyTerminal,
            format!("settled {status} by someone else meanwhile: nothing was written"),
        ),
        SettleOutcome::OwnedByOtherTask { owner } => (
            SettleResult::OwnedByOtherTask,
            format!("the record now names task {owner}: nothing was written; look again with `outpost-ops diagnose {id}`"),
        ),
        SettleOutcome::Unexplained { record } => {
            let why = format!("the condition failed on a record that passes it: {record}");
            return Err(AwsError::unusable("UpdateItem", &ctx.names.table, &why).into());
        }
    })
}

impl Report for SettleReport {
    fn render(&self) -> String {
        let mut text = String::new();
        for (title, record) in [("Before", &self.before), ("After", &self.after)] {
            if let Some(record) = record {
                text.push_str(&format!("{title}:\n{}", output::record(record)));
            }
        }
        text.push_str(&output::warnings(&self.warnings));
        text + &output::verdict(self.found_problem(), &self.message)
    }

    fn found_problem(&self) -> bool {
        self.result != SettleResult::Settled
    }
}
