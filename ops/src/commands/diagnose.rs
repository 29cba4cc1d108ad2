//! `outpost-ops diagnose DISPATCH_ID`: the runbook's "Dispatch Stuck in RUNNING", steps 1
//! to 3, in one go: the record, its task as ECS reports it, the rule, this dispatch's
//! log lines, any parked event about it; then a verdict in the runbook's words.

use std::time::Duration;

use chrono::Utc;
use clap::Args;
use contract::DispatchStatus;
use dispatch::record::DispatchRecord;
use serde::Serialize;

use super::logs::{render_line, Which};
use crate::context::Context;
use crate::error::Result;
use crate::logs::{fetch, Line, Source};
use crate::output::{self, fields, or_dash, or_none, Report};
use crate::parked::{self, Parked, Queue};
use crate::tasks::{self, TaskState};

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// The dispatch.
    pub dispatch_id: String,
    /// How far back to read the logs (30m, 1h, 2d).
    #[arg(long, default_value = "1h", value_parser = crate::cli::duration)]
    pub since: Duration,
}

/// The most messages looked at in each queue.
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
    /// Closed by the reconciler's guess (ECS had forgotten the task): the task's own
    /// event, if it is parked, brings the true outcome when replayed.
    Provisional,
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
    /// ECS could not be asked about the task, or did not answer, and nothing else
    /// explains the dispatch: its state is not known.
    TaskUnknown,
    /// The task is of a cluster the stack does not watch: its event never reaches the
    /// callback and the reconciler leaves it alone, so only a person settles it.
    OutsideStack,
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
    let progress = ctx.progress;
    progress.step(&format!("step 1: reading {id} from {}", names.table));
    let record = ctx.table().get(id).await?;
    let task_arn = record.as_ref().and_then(|r| r.task()).map(str::to_owned);
    let task = read_task(ctx, task_arn.as_deref()).await;
    progress.step(&format!("step 2: reading rule {}", names.rule));
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);
    let (rule_state, _) = super::rule::describe(&events, &names.rule).await?;
    progress.step("step 3: reading the logs");
    let log_lines = read_logs(ctx, id, args.since).await?;
    progress.step("looking into the failure queue and the dead-letter queue");
    let (parked, warnings) = look_for_parked(ctx, id, task_arn.as_deref()).await?;
    let facts = Facts {
        record: record.as_ref(),
        task: task.as_ref(),
        rule_enabled: rule_state == "ENABLED",
        callback_error: log_lines
            .iter()
            .find(|l| l.source == Source::Callback && l.error),
        parked: &parked,
    };
    let (finding, verdict) = judge(id, &names.table, &facts);
    Ok(DiagnoseReport {
        dispatch_id: id.clone(),
        record,
        task,
        rule: names.rule.clone(),
        rule_state,
        log_lines,
        parked,
        finding,
        verdict,
        warnings,
    })
}

/// The record's task as ECS reports it (or why its state is unknown); `None` when the
/// record names no task.
async fn read_task(ctx: &Context, task_arn: Option<&str>) -> Option<TaskState> {
    let arn = task_arn?;
    ctx.progress.step("step 1: asking ECS about the task");
    let ecs = aws_sdk_ecs::Client::new(&ctx.sdk);
    let mut states = tasks::describe(&ecs, ctx.watched.as_ref(), &[arn.to_owned()]).await;
    states.remove(arn)
}

/// This dispatch's log lines from both functions (metrics lines left out), oldest first.
async fn read_logs(ctx: &Context, id: &str, since: Duration) -> Result<Vec<Line>> {
    let start = crate::cli::before(Utc::now(), since)?.timestamp_millis();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&ctx.sdk);
    let pattern = format!("\"{id}\"");
    let keep = |line: &Line| !line.metrics;
    let mut log_lines = Vec::new();
    for (source, group) in super::logs::groups(ctx, Which::Both) {
        let fetched = fetch(&logs, source, group, Some(&pattern), start, LOG_LINES, keep).await?;
        log_lines.extend(fetched.lines);
    }
    log_lines.sort_by_key(|line| line.timestamp);
    Ok(log_lines)
}

/// The parked events about this dispatch (by its ID, or by its task) in either queue, and
/// what the looks could not see. A look hides nothing and holds nothing
/// ([`parked::peek`]): a `replay` at the same moment sees every message.
async fn look_for_parked(
    ctx: &Context,
    id: &str,
    task_arn: Option<&str>,
) -> Result<(Vec<Parked>, Vec<String>)> {
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);
    let about = |p: &Parked| {
        p.dispatch_id.as_deref() == Some(id)
            || (p.task_arn.is_some() && p.task_arn.as_deref() == task_arn)
    };
    let (mut found, mut warnings) = (Vec::new(), Vec::new());
    for queue in Queue::ALL {
        let url = queue.url(&ctx.names);
        let peek = parked::peek(&sqs, url, PARKED_READ).await?;
        warnings.extend(unseen(queue, url, id, &peek));
        let parsed = peek.messages.iter().map(|m| parked::parse(queue, m));
        found.extend(parsed.filter(about));
    }
    Ok((found, warnings))
}

/// What a look at `queue` could not see, said so the verdict is not taken for more than
/// it is: messages past the bound, and messages another reader held. Pure.
pub fn unseen(queue: Queue, url: &str, id: &str, peek: &parked::Peek) -> Vec<String> {
    let name = parked::queue_name(url);
    let from = queue.option();
    let mut warnings = Vec::new();
    if peek.partial() {
        warnings.push(format!(
            "looked at {} of the {} messages in {name}: an event about {id} may be among the others \
             (`outpost-ops replay{from} --dry-run --dispatch {id}` reads them all)",
            peek.messages.len(),
            peek.waiting
        ));
    }
    if peek.in_flight > 0 {
        warnings.push(format!(
            "{} message(s) in {name} were held by another reader (a replay?) and could not be looked at",
            peek.in_flight
        ));
    }
    warnings
}

/// What `judge` weighs.
pub struct Facts<'a> {
    pub record: Option<&'a DispatchRecord>,
    pub task: Option<&'a TaskState>,
    pub rule_enabled: bool,
    pub callback_error: Option<&'a Line>,
    pub parked: &'a [Parked],
}

/// The verdict on a settled record: done, or the reconciler's provisional guess.
fn settled(id: &str, record: &DispatchRecord, parked: &[Parked]) -> Option<(Finding, String)> {
    let status = record.status.as_deref().unwrap_or_default();
    let ended = record.ended_at.as_deref().unwrap_or("?");
    if record.is_guess() {
        let next = if parked.iter().any(|p| p.queue == Queue::Failures) {
            format!("its event is parked in the failure queue: `outpost-ops replay --dispatch {id}` replaces the guess with the true outcome")
        } else {
            "if the task's own event turns up (late, or replayed from the failure queue), it replaces the guess with the true outcome".to_owned()
        };
        return Some((
            Finding::Provisional,
            format!("closed {status} at {ended} by the reconciler's guess (ECS no longer knew the task): provisional; {next}"),
        ));
    }
    let corrected = match &record.corrected_guess {
        Some(guessed) => {
            format!(" (the task's own event corrected the reconciler's guess, {guessed})")
        }
        None => String::new(),
    };
    DispatchStatus::is_terminal(status).then(|| {
        let verdict = format!("settled {status} at {ended}{corrected}: nothing to do");
        (Finding::Settled, verdict)
    })
}

/// The verdict, first match wins, in the runbook's order. Pure.
pub fn judge(id: &str, table: &str, facts: &Facts<'_>) -> (Finding, String) {
    let Some(record) = facts.record else {
        return (Finding::NoRecord, format!(
            "no record {id} in {table}: the control plane never wrote it, or the ID is wrong; \
             an event for it is parked until retries end (`outpost-ops replay` once the record exists)"
        ));
    };
    if let Some(settled) = settled(id, record, facts.parked) {
        return settled;
    }
    if let Some((task, why)) = facts
        .task
        .and_then(|task| Some((task, task.outside_stack.as_deref()?)))
    {
        return (Finding::OutsideStack, format!(
            "task {} is {} in a cluster the stack does not watch ({why}): no event of it reaches the callback \
             and the reconciler leaves it alone. Once it has stopped, `outpost-ops settle {id} --status S --reason \"...\"`",
            task.task_arn,
            task.summary(),
        ));
    }
    if let Some(task) = facts.task.filter(|task| task.running()) {
        return (
            Finding::TaskRunning,
            format!(
                "task still running ({}): wait. The issue is with the task, not the callback",
                task.summary()
            ),
        );
    }
    let parked = |queue: Queue| facts.parked.iter().find(|p| p.queue == queue);
    if let Some(p) = parked(Queue::Failures) {
        return (Finding::ParkedInFailureQueue, format!(
            "event parked in the failure queue with error {}: fix the cause, then `outpost-ops replay --dispatch {id}`",
            p.error
        ));
    }
    if let Some(p) = parked(Queue::Dlq) {
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
        Some(TaskState {
            task_arn,
            unknown: Some(why),
            ..
        }) => (Finding::TaskUnknown, format!(
            "the state of task {task_arn} is unknown ({why}), and nothing else explains the dispatch: \
             run this again if a call failed, else look at the task where it runs; once it has stopped, \
             `outpost-ops settle {id} --status S --reason \"...\" --force` (settle cannot ask ECS about it either)"
        )),
        Some(task) => (Finding::EventLost, format!(
            "task {} but no event reached the callback: the event was lost upstream. \
             `outpost-ops reconcile` settles it (the scheduled reconciler would, too)",
            if task.missing { "is unknown to ECS (stopped over an hour ago, or its cluster is gone)".to_owned() } else { format!("stopped ({})", task.summary()) }
        )),
    }
}

impl Report for DiagnoseReport {
    fn render(&self) -> String {
        let record = self.record.as_ref().map(output::record);
        let task = self.task.as_ref().map(|task| {
            fields(&[
                ("taskArn", task.task_arn.clone()),
                ("state", task.summary()),
                ("desiredStatus", or_dash(task.desired_status.as_deref())),
                ("stoppedReason", or_dash(task.stopped_reason.as_deref())),
                ("stoppedAt", or_dash(task.stopped_at.as_deref())),
                ("outsideStack", or_dash(task.outside_stack.as_deref())),
            ])
        });
        let log_lines = self.log_lines.iter();
        let log_lines = log_lines.map(|line| format!("  {}\n", render_line(line)));
        let parked = self.parked.iter().map(|p| {
            let queue = p.queue.describe();
            format!("  {queue}: message {}: {}\n", p.message_id, p.error)
        });
        format!(
            "Dispatch {}\n\n1. Record\n{}\n   Task\n{}\n2. Rule {}: {}\n\n3. Log lines\n{}\n   Parked events\n{}{}{}",
            self.dispatch_id,
            or_none(record.unwrap_or_default()),
            or_none(task.unwrap_or_default()),
            self.rule,
            self.rule_state,
            or_none(log_lines.collect()),
            or_none(parked.collect()),
            output::warnings(&self.warnings),
            output::verdict(self.found_problem(), &self.verdict)
        )
    }

    fn found_problem(&self) -> bool {
        !matches!(self.finding, Finding::Settled | Finding::TaskRunning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::types::Message;

    #[test]
    fn what_a_look_could_not_see_is_said() {
        let url = "https://sqs.us-east-1.amazonaws.com/1/outpost-dispatch-completion-dlq";
        let seen = parked::Peek {
            messages: vec![Message::builder().message_id("m-1").build()],
            waiting: 1,
            in_flight: 0,
        };
        assert!(unseen(Queue::Dlq, url, "d-1", &seen).is_empty());
        let partial = parked::Peek {
            waiting: 1500,
            in_flight: 2,
            ..seen
        };
        let warnings = unseen(Queue::Dlq, url, "d-1", &partial);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0]
                .starts_with("looked at 1 of the 1500 messages in outpost-dispatch-completion-dlq")
                && warnings[0].contains("`outpost-ops replay --from dlq --dry-run --dispatch d-1`"),
            "{warnings:?}"
        );
        assert!(warnings[1].starts_with("2 message(s)"), "{warnings:?}");
    }

    #[test]
    fn a_guess_is_provisional_until_the_tasks_own_event_corrects_it() {
        let guess = DispatchRecord {
            dispatch_id: "d-1".into(),
            status: Some("FAILED".into()),
            ended_at: Some("2026-01-15T20:00:00Z".into()),
            stop_code: Some(contract::status::GUESS_STOP_CODE.into()),
            provisional: Some(true),
            ..DispatchRecord::default()
        };
        let facts = |record, parked| Facts {
            record: Some(record),
            task: None,
            rule_enabled: true,
            callback_error: None,
            parked,
        };
        let (finding, verdict) = judge("d-1", "t", &facts(&guess, &[]));
        assert_eq!(finding, Finding::Provisional);
        assert!(verdict.contains("reconciler's guess"), "{verdict}");
        let event = Parked {
            queue: Queue::Failures,
            message_id: "m-1".into(),
            dispatch_id: Some("d-1".into()),
            task_arn: None,
            function: None,
            error: "TimeoutError".into(),
            attempts: Some(3),
            event: None,
            receipt_handle: "r-1".into(),
        };
        let (_, verdict) = judge("d-1", "t", &facts(&guess, std::slice::from_ref(&event)));
        assert!(
            verdict.contains("`outpost-ops replay --dispatch d-1`"),
            "{verdict}"
        );

        let corrected = DispatchRecord {
            status: Some("COMPLETED".into()),
            stop_code: Some("EssentialContainerExited".into()),
            provisional: None,
            corrected_guess: Some("FAILED".into()),
            ..guess.clone()
        };
        let (finding, verdict) = judge("d-1", "t", &facts(&corrected, &[]));
        assert_eq!(finding, Finding::Settled);
        assert!(
            verdict.contains("corrected the reconciler's guess, FAILED"),
            "{verdict}"
        );
    }

    #[test]
    fn a_task_whose_state_is_unknown_is_never_taken_for_running_or_lost() {
        let record = DispatchRecord {
            dispatch_id: "d-1".into(),
            status: Some("RUNNING".into()),
            task_arn: Some("task-0042".into()),
            ..DispatchRecord::default()
        };
        let judged = |task: &TaskState| {
            let facts = Facts {
                record: Some(&record),
                task: Some(task),
                rule_enabled: true,
                callback_error: None,
                parked: &[],
            };
            judge("d-1", "t", &facts)
        };
        let unknown = TaskState::unknown("task-0042", "\"task-0042\" is not an ECS task ARN");
        let (finding, verdict) = judged(&unknown);
        assert_eq!(finding, Finding::TaskUnknown);
        assert!(verdict.contains("is not an ECS task ARN"), "{verdict}");

        let outside = TaskState {
            last_status: Some("RUNNING".into()),
            outside_stack: Some("its cluster is other, the stack watches outpost-dev".into()),
            ..TaskState::default()
        };
        let (finding, verdict) = judged(&outside);
        assert_eq!(
            finding,
            Finding::OutsideStack,
            "running, but never settled for us"
        );
        assert!(
            verdict.contains("the stack watches outpost-dev"),
            "{verdict}"
        );
    }
}
