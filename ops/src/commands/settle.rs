//! `outpost-ops settle`: the runbook's last resort (4, step 4), made safe. The same
//! conditional write as the callback: never over a terminal status, never creating a
//! record, never a record that changed task since it was read; `endedAt` stamped, and
//! who did it (STS) and why recorded on the record.

use chrono::Utc;
use clap::Args;
use contract::DispatchStatus;
use dispatch::record::DispatchRecord;
use dispatch::settlement::{by_hand, Audit, ByHand, SettleOutcome};
use dispatch_aws::table::{DispatchStore, DynamoStore};
use dispatch_aws::AwsError;
use serde::Serialize;

use crate::confirm::{self, Answer};
use crate::context::Context;
use crate::error::{aws, OpsError, Result};
use crate::output::{self, Report};
use crate::records;
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
    ctx.progress
        .step(&format!("reading {} from {table}", args.dispatch_id));
    let before = records::get(&ctx.dynamodb(), table, &args.dispatch_id).await?;
    let record = match refuse_settled(&args, table, before) {
        Ok(record) => record,
        Err(refused) => return Ok(*refused),
    };
    if let Some(refused) = refuse_running_task(ctx, &args, &record).await? {
        return Ok(refused);
    }
    if let Some(refused) = confirm_settle(ctx, &args, &record, &reason)? {
        return Ok(refused);
    }
    let settled_by = caller(ctx).await?;
    let order = ByHand {
        dispatch_id: args.dispatch_id.clone(),
        task_arn: record.task().map(str::to_owned),
        status: args.status,
        audit: Audit {
            settled_by: settled_by.clone(),
            reason,
        },
    };
    let (result, message) = write(ctx, &order).await?;
    let (after, warnings) = read_back(ctx, &args.dispatch_id, result).await;
    Ok(SettleReport {
        dispatch_id: args.dispatch_id,
        result,
        message,
        before: Some(record),
        after,
        settled_by: Some(settled_by),
        warnings,
    })
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

/// The record to settle; a refusal when there is none (settle never creates one) or it
/// is settled already (a terminal status is never overwritten).
fn refuse_settled(
    args: &SettleArgs,
    table: &str,
    before: Option<DispatchRecord>,
) -> Result<DispatchRecord, Box<SettleReport>> {
    let Some(record) = before else {
        return Err(Box::new(refused(
            args,
            SettleResult::NotFound,
            format!(
                "no record {} in {table}: nothing was written (settle never creates a record)",
                args.dispatch_id
            ),
            None,
        )));
    };
    let current = record.status.clone().unwrap_or_default();
    if DispatchStatus::is_terminal(&current) {
        return Err(Box::new(refused(
            args,
            SettleResult::AlreadyTerminal,
            format!(
                "already {current}: a terminal status is never overwritten; nothing was written"
            ),
            Some(record),
        )));
    }
    Ok(record)
}

/// A refusal when ECS still runs the record's task (and no `--force`). That task will
/// report its own outcome: settling its dispatch by hand now would turn that report into
/// a skipped duplicate, and the true outcome would be lost.
async fn refuse_running_task(
    ctx: &Context,
    args: &SettleArgs,
    record: &DispatchRecord,
) -> Result<Option<SettleReport>> {
    let Some(arn) = record.task().filter(|_| !args.force) else {
        return Ok(None);
    };
    ctx.progress.step("asking ECS about the task");
    let arns = [arn.to_owned()];
    let states = tasks::describe(&ctx.ecs(), &arns).await?;
    let Some(task) = states.get(arn).filter(|t| !t.missing && !t.stopped()) else {
        return Ok(None);
    };
    Ok(Some(refused(
        args,
        SettleResult::TaskStillRunning,
        format!(
            "task {} is still {}: its own event will settle the dispatch; nothing was written (--force settles it anyway)",
            tasks::short(arn),
            task.summary()
        ),
        Some(record.clone()),
    )))
}

/// Asks the person to type the dispatch ID (unless `--yes`); a refusal when they do not,
/// or when there is no terminal to ask on.
fn confirm_settle(
    ctx: &Context,
    args: &SettleArgs,
    record: &DispatchRecord,
    reason: &str,
) -> Result<Option<SettleReport>> {
    ctx.progress.done();
    let question = format!(
        "Settle {} ({}, task {}) as {}, because {reason:?}?",
        args.dispatch_id,
        record.status.as_deref().unwrap_or_default(),
        record.task_arn.as_deref().unwrap_or("none"),
        args.status
    );
    let answer = confirm::ask(&question, &args.dispatch_id, args.yes)?;
    if let Some(refusal) = answer.refusal() {
        return Ok(Some(refused(
            args,
            SettleResult::NotConfirmed,
            refusal.to_owned(),
            Some(record.clone()),
        )));
    }
    debug_assert_eq!(answer, Answer::Yes);
    Ok(None)
}

/// Who is settling, as STS says: recorded on the record, so it must be known.
async fn caller(ctx: &Context) -> Result<String> {
    ctx.progress.step("asking STS who is calling");
    let caller = ctx
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(aws("GetCallerIdentity", "sts"))?;
    let arn = caller.arn().filter(|arn| !arn.is_empty()).ok_or_else(|| {
        AwsError::unusable(
            "GetCallerIdentity",
            "sts",
            "no caller ARN in the answer: who settles must be recorded",
        )
    })?;
    Ok(arn.to_owned())
}

/// The callback's own conditional write, by hand; how it ended, in words.
async fn write(ctx: &Context, order: &ByHand) -> Result<(SettleResult, String)> {
    let table = &ctx.names.table;
    let now = Utc::now();
    // Unique per settle, so a write the SDK retries after a lost answer is known as ours.
    let request_id = format!(
        "outpost-ops-{}-{}",
        now.timestamp_nanos_opt().unwrap_or_default(),
        std::process::id()
    );
    let settlement = by_hand(order, &request_id, now);
    let store = DynamoStore::new(ctx.dynamodb(), table, contract::table::TASK_ARN_INDEX.name);
    ctx.progress
        .step(&format!("settling {}", order.dispatch_id));
    let id = &order.dispatch_id;
    Ok(match store.settle(&settlement).await? {
        SettleOutcome::Updated => (SettleResult::Settled, format!("settled {id} as {}", order.status)),
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
            return Err(AwsError::unusable(
                "UpdateItem",
                table,
                &format!("the condition failed on a record that passes it: {record}"),
            )
            .into())
        }
    })
}

/// The record after a settle that wrote, and a warning if it could not be read: the
/// write is done, so a failed read-back is not a failure.
async fn read_back(
    ctx: &Context,
    id: &str,
    result: SettleResult,
) -> (Option<DispatchRecord>, Vec<String>) {
    if result != SettleResult::Settled {
        return (None, Vec::new());
    }
    match records::get(&ctx.dynamodb(), &ctx.names.table, id).await {
        Ok(after) => (after, Vec::new()),
        Err(err) => (
            None,
            vec![format!(
                "settled, but the record could not be read back: {err}"
            )],
        ),
    }
}

impl Report for SettleReport {
    fn render(&self) -> String {
        let mut text = String::new();
        let show =
            |title: &str, record: &DispatchRecord| format!("{title}:\n{}", output::record(record));
        if let Some(before) = &self.before {
            text.push_str(&show("Before", before));
        }
        if let Some(after) = &self.after {
            text.push_str(&show("After", after));
        }
        text.push_str(&output::warnings(&self.warnings));
        text + &output::verdict(self.found_problem(), &self.message)
    }

    fn found_problem(&self) -> bool {
        self.result != SettleResult::Settled
    }
}
