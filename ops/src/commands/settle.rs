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
    let dynamodb = ctx.dynamodb();
    let table = &ctx.names.table;
    ctx.progress
        .step(&format!("reading {} from {table}", args.dispatch_id));
    let before = records::get(&dynamodb, table, &args.dispatch_id).await?;
    let report = |result, message: String, before: Option<DispatchRecord>| SettleReport {
        dispatch_id: args.dispatch_id.clone(),
        result,
        message,
        before,
        after: None,
        settled_by: None,
        warnings: Vec::new(),
    };
    let Some(record) = before else {
        return Ok(report(
            SettleResult::NotFound,
            format!(
                "no record {} in {table}: nothing was written (settle never creates a record)",
                args.dispatch_id
            ),
            None,
        ));
    };
    let current = record.status.clone().unwrap_or_default();
    if DispatchStatus::is_terminal(&current) {
        return Ok(report(
            SettleResult::AlreadyTerminal,
            format!(
                "already {current}: a terminal status is never overwritten; nothing was written"
            ),
            Some(record),
        ));
    }

    // A task ECS still runs will report its own outcome: settling its dispatch by hand now
    // would turn that report into a skipped duplicate, and the true outcome would be lost.
    let task_arn = record.task().map(str::to_owned);
    if let (Some(arn), false) = (&task_arn, args.force) {
        ctx.progress.step("asking ECS about the task");
        let states = tasks::describe(&ctx.ecs(), std::slice::from_ref(arn)).await?;
        if let Some(task) = states.get(arn).filter(|t| !t.missing && !t.stopped()) {
            return Ok(report(
                SettleResult::TaskStillRunning,
                format!(
                    "task {} is still {}: its own event will settle the dispatch; nothing was written (--force settles it anyway)",
                    tasks::short(arn),
                    task.summary()
                ),
                Some(record),
            ));
        }
    }

    ctx.progress.done();
    let question = format!(
        "Settle {} ({current}, task {}) as {}, because {reason:?}?",
        args.dispatch_id,
        record.task_arn.as_deref().unwrap_or("none"),
        args.status
    );
    let answer = confirm::ask(&question, &args.dispatch_id, args.yes)?;
    if let Some(refusal) = answer.refusal() {
        return Ok(report(
            SettleResult::NotConfirmed,
            refusal.to_owned(),
            Some(record),
        ));
    }
    debug_assert_eq!(answer, Answer::Yes);

    ctx.progress.step("asking STS who is calling");
    let caller = ctx
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(aws("GetCallerIdentity", "sts"))?;
    let settled_by = caller
        .arn()
        .filter(|arn| !arn.is_empty())
        .ok_or_else(|| {
            AwsError::unusable(
                "GetCallerIdentity",
                "sts",
                "no caller ARN in the answer: who settles must be recorded",
            )
        })?
        .to_owned();
    let now = Utc::now();
    let order = ByHand {
        dispatch_id: args.dispatch_id.clone(),
        task_arn: record.task().map(str::to_owned),
        status: args.status,
        audit: Audit {
            settled_by: settled_by.clone(),
            reason,
        },
    };
    // Unique per settle, so a write the SDK retries after a lost answer is known as ours.
    let request_id = format!(
        "outpost-ops-{}-{}",
        now.timestamp_nanos_opt().unwrap_or_default(),
        std::process::id()
    );
    let settlement = by_hand(&order, &request_id, now);
    let store = DynamoStore::new(
        dynamodb.clone(),
        table,
        contract::table::TASK_ARN_INDEX.name,
    );
    ctx.progress.step(&format!("settling {}", args.dispatch_id));
    let outcome = store.settle(&settlement).await?;
    let (result, message) = match outcome {
        SettleOutcome::Updated => (SettleResult::Settled, format!("settled {} as {}", args.dispatch_id, args.status)),
        SettleOutcome::NotFound => (SettleResult::NotFound, "the record was deleted meanwhile: nothing was written".to_owned()),
        SettleOutcome::AlreadyTerminal { status } => (
            SettleResult::AlreadyTerminal,
            format!("settled {status} by someone else meanwhile: nothing was written"),
        ),
        SettleOutcome::OwnedByOtherTask { owner } => (
            SettleResult::OwnedByOtherTask,
            format!("the record now names task {owner}: nothing was written; look again with `outpost-ops diagnose {}`", args.dispatch_id),
        ),
        SettleOutcome::Unexplained { record } => {
            return Err(AwsError::unusable(
                "UpdateItem",
                table,
                &format!("the condition failed on a record that passes it: {record}"),
            )
            .into())
        }
    };
    // The write is done: a failed read-back is a warning, not a failure.
    let mut warnings = Vec::new();
    let after = match result {
        SettleResult::Settled => records::get(&dynamodb, table, &args.dispatch_id)
            .await
            .unwrap_or_else(|err| {
                warnings.push(format!(
                    "settled, but the record could not be read back: {err}"
                ));
                None
            }),
        _ => None,
    };
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
