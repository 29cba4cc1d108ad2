//! `outpost-ops diagnose DISPATCH_ID`: the runbook's "Dispatch Stuck in RUNNING", steps 1
//! to 3, in one go: the record, its task as ECS reports it, the rule, this dispatch's
//! log lines, any parked event about it; then a verdict in the runbook's words.

use std::time::Duration;

use chrono::Utc;
use clap::Args;
use contract::DispatchStatus;
use dispatch::record::DispatchRecord;
use serde::Serialize;

use crate::context::Context;
use crate::error::Result;
use crate::logs::{fetch, Line, Source};
use crate::output::{self, fields, or_dash, Report};
use crate::parked::{self, Parked, Queue};
use crate::records;
use crate::tasks::{self, TaskState};

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// The dispatch.
    pub dispatch_id: String,
    /// How far back to read the logs (30m, 1h, 2d).
    #[arg(long, default_value = "1h", value_parser = crate::cli::duration)]
    pub since: Duration,
}

/// The most messages read from each queue.
const PARKED_READ: usize = 1000;

/// The most log lines shown per function: the newest.
const LOG_LINES: usize = 200;

/// The verdict, one per situation of the runbook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Finding {
    /// No record with this ID.
    NoRecord,
    /// Settled: nothing to do.
    Settled,
    /// The task still runs: wait.
    TaskRunning,
    /// The event is in the function's failure queue.
    ParkedInFailureQueue,
    /// The event is in the rule's dead-letter queue.
    ParkedInDeadLetterQueue,
    /// The rule is disabled: events are not sent.
    RuleDisabled,
    /// The callback logged an error about this dispatch.
    CallbackFailed,
    /// The dispatch names no task.
    NoTask,
    /// The task stopped (or ECS forgot it) and no trace of its event: lost upstream.
    EventLost,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnoseReport {
    pub dispatch_id: String,
    pub record: Option<DispatchRecord>,
    pub task: Option<TaskState>,
    pub rule: String,
    pub rule_state: String,
    pub log_lines: Vec<Line>,
    pub parked: Vec<Parked>,
    pub finding: Finding,
    /// What to do, in the runbook's words.
    pub verdict: String,
    /// What went wrong without changing the verdict.
    pub warnings: Vec<String>,
}

pub async fn exec(ctx: &Context, args: DiagnoseArgs) -> Result<DiagnoseReport> {
    let id = &args.dispatch_id;
    let names = &ctx.names;
    ctx.progress
        .step(&format!("step 1: reading {id} from {}", names.table));
    let record = records::get(&ctx.dynamodb(), &names.table, id).await?;
    let task_arn = record.as_ref().and_then(|r| r.task()).map(str::to_owned);
    let task = match &task_arn {
        Some(arn) => {
            ctx.progress.step("step 1: asking ECS about the task");
            let mut states = tasks::describe(&ctx.ecs(), std::slice::from_ref(arn)).await?;
            states.remove(arn)
        }
        None => None,
    };
    ctx.progress
        .step(&format!("step 2: reading rule {}", names.rule));
    let rule_state = super::rule::state(&ctx.events(), &names.rule).await?;

    ctx.progress.step("step 3: reading the logs");
    let start = crate::cli::before(Utc::now(), args.since)?.timestamp_millis();
    let logs = ctx.logs();
    let pattern = format!("\"{id}\"");
    let mut log_lines = Vec::new();
    for (source, group) in [
        (Source::Callback, &names.log_group),
        (Source::Reconciler, &names.reconciler_log_group),
    ] {
        let fetched = fetch(
            &logs,
            source,
            group,
            Some(&pattern),
            start,
            LOG_LINES,
            |line| !line.metrics,
        )
        .await?;
        log_lines.extend(fetched.lines);
    }
    log_lines.sort_by_key(|line| line.timestamp);

    ctx.progress
        .step("reading the failure queue and the dead-letter queue");
    let mut parked_events = Vec::new();
    let mut warnings = Vec::new();
    let sqs = ctx.sqs();
    for (queue, url) in [
        (Queue::Failures, &names.failure_queue_url),
        (Queue::Dlq, &names.dead_letter_queue_url),
    ] {
        let messages =
            parked::receive(&sqs, url, PARKED_READ, parked::PEEK_VISIBILITY_SECONDS).await?;
        let handles: Vec<&str> = messages.iter().filter_map(|m| m.receipt_handle()).collect();
        // Reading hides a message; it is made visible again at once, so a `replay` right
        // after sees it. Should that fail, it shows again after the short peek timeout.
        if let Err(err) = parked::release(&sqs, url, &handles).await {
            warnings.push(format!(
                "{err}; the messages read show again within {} s",
                parked::PEEK_VISIBILITY_SECONDS
            ));
        }
        parked_events.extend(
            messages
                .iter()
                .map(|m| parked::parse(queue, m))
                .filter(|p| {
                    p.dispatch_id.as_deref() == Some(id.as_str())
                        || (p.task_arn.is_some() && p.task_arn == task_arn)
                }),
        );
    }

    let facts = Facts {
        record: record.as_ref(),
        task: task.as_ref(),
        rule_enabled: rule_state == "ENABLED",
        callback_error: log_lines
            .iter()
            .find(|l| l.source == Source::Callback && l.error),
        parked: &parked_events,
    };
    let (finding, verdict) = judge(id, &names.table, &facts);
    Ok(DiagnoseReport {
        dispatch_id: id.clone(),
        record,
        task,
        rule: names.rule.clone(),
        rule_state,
        log_lines,
        parked: parked_events,
        finding,
        verdict,
        warnings,
    })
}

/// What `judge` weighs.
pub struct Facts<'a> {
    pub record: Option<&'a DispatchRecord>,
    pub task: Option<&'a TaskState>,
    pub rule_enabled: bool,
    pub callback_error: Option<&'a Line>,
    pub parked: &'a [Parked],
}

/// The verdict, first match wins, in the runbook's order. Pure.
pub fn judge(id: &str, table: &str, facts: &Facts<'_>) -> (Finding, String) {
    let Some(record) = facts.record else {
        return (Finding::NoRecord, format!(
            "no record {id} in {table}: the control plane never wrote it, or the ID is wrong; \
             an event for it is parked until retries end (`outpost-ops replay` once the record exists)"
        ));
    };
    let status = record.status.as_deref().unwrap_or_default();
    if DispatchStatus::is_terminal(status) {
        let ended = record.ended_at.as_deref().unwrap_or("?");
        return (
            Finding::Settled,
            format!("settled {status} at {ended}: nothing to do"),
        );
    }
    if let Some(task) = facts.task {
        if !task.missing && !task.stopped() {
            return (
                Finding::TaskRunning,
                format!(
                    "task still running ({}): wait. The issue is with the task, not the callback",
                    task.summary()
                ),
            );
        }
    }
    if let Some(p) = facts.parked.iter().find(|p| p.queue == Queue::Failures) {
        return (Finding::ParkedInFailureQueue, format!(
            "event parked in the failure queue with error {}: fix the cause, then `outpost-ops replay --dispatch {id}`",
            p.error
        ));
    }
    if let Some(p) = facts.parked.iter().find(|p| p.queue == Queue::Dlq) {
        return (Finding::ParkedInDeadLetterQueue, format!(
            "event in the rule's dead-letter queue ({}): EventBridge could not invoke the function; \
             fix that, then `outpost-ops replay --from dlq --dispatch {id}`",
            p.error
        ));
    }
    if !facts.rule_enabled {
        return (
            Finding::RuleDisabled,
            "rule disabled: run `outpost-ops rule enable`, then `outpost-ops reconcile`".to_owned(),
        );
    }
    if let Some(line) = facts.callback_error {
        return (Finding::CallbackFailed, format!(
            "the callback failed on this dispatch ({}): see `outpost-ops logs --dispatch {id} --errors`; \
             Lambda retries, then parks the event in the failure queue",
            line.message
        ));
    }
    match facts.task {
        None => (Finding::NoTask, format!(
            "the dispatch names no task: the control plane may never have launched it. If it never will, \
             `outpost-ops settle {id} --status CANCELLED --reason \"...\"`"
        )),
        Some(task) => (Finding::EventLost, format!(
            "task {} but no event reached the callback: the event was lost upstream. \
             `outpost-ops reconcile` settles it (the scheduled reconciler would, too)",
            if task.missing { "is unknown to ECS (stopped over an hour ago)".to_owned() } else { format!("stopped ({})", task.summary()) }
        )),
    }
}

impl Report for DiagnoseReport {
    fn render(&self) -> String {
        let mut text = format!("Dispatch {}\n", self.dispatch_id);
        text.push_str("\n1. Record\n");
        match &self.record {
            None => text.push_str("  none\n"),
            Some(record) => text.push_str(&output::record(record)),
        }
        text.push_str("\n   Task\n");
        match &self.task {
            None => text.push_str("  none\n"),
            Some(task) => text.push_str(&fields(&[
                ("taskArn", task.task_arn.clone()),
                ("state", task.summary()),
                ("desiredStatus", or_dash(task.desired_status.as_deref())),
                ("stoppedReason", or_dash(task.stopped_reason.as_deref())),
                ("stoppedAt", or_dash(task.stopped_at.as_deref())),
            ])),
        }
        text.push_str(&format!("\n2. Rule {}: {}\n", self.rule, self.rule_state));
        text.push_str("\n3. Log lines\n");
        if self.log_lines.is_empty() {
            text.push_str("  none\n");
        }
        for line in &self.log_lines {
            text.push_str(&format!("  {}\n", super::logs::render_line(line)));
        }
        text.push_str("\n   Parked events\n");
        if self.parked.is_empty() {
            text.push_str("  none\n");
        }
        for p in &self.parked {
            text.push_str(&format!(
                "  {}: message {}: {}\n",
                p.queue.describe(),
                p.message_id,
                p.error
            ));
        }
        text.push_str(&output::warnings(&self.warnings));
        text + &output::verdict(self.found_problem(), &self.verdict)
    }

    fn found_problem(&self) -> bool {
        !matches!(self.finding, Finding::Settled | Finding::TaskRunning)
    }
}
