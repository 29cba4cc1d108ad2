//! One reconciler run: first what ECS says stopped (`stopped`), then the sweep of old
//! non-terminal dispatches (`sweep`); both settle through the callback's own path.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use contract::logs;
use dispatch::dispatch_id::DispatchId;
use dispatch::event::StoppedTask;
use dispatch::outcome::Outcome;
use dispatch_aws::status_index::{StatusIndex, PAGE_SIZE};
use dispatch_aws::table::DynamoStore;
use serde::Serialize;
use tracing::{info, warn};

use crate::config::Settings;
use crate::cursor::store::CursorStore;
use crate::{stopped, sweep};

/// What a run needs, built once during init.
#[derive(Clone, Debug)]
pub struct Deps {
    pub index: StatusIndex,
    pub ecs: aws_sdk_ecs::Client,
    pub store: DynamoStore,
    /// Where the sweep keeps its place.
    pub cursors: CursorStore,
    pub settings: Settings,
}

impl Deps {
    /// The run's dependencies on the tables and ECS through these clients, as `settings`
    /// name them.
    pub fn new(
        dynamodb: aws_sdk_dynamodb::Client,
        ecs: aws_sdk_ecs::Client,
        settings: Settings,
    ) -> Deps {
        Deps {
            index: StatusIndex {
                client: dynamodb.clone(),
                table: settings.table_name.clone(),
                index: settings.status_index.clone(),
                page_size: PAGE_SIZE,
            },
            store: DynamoStore::new(
                dynamodb.clone(),
                &settings.table_name,
                &settings.task_arn_index,
            ),
            cursors: CursorStore {
                client: dynamodb,
                table: settings.sweep_table.clone(),
            },
            ecs,
            settings,
        }
    }
}

/// What one run did; also the invocation's response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Stopped tasks ECS listed in the watched clusters (it keeps them about an hour).
    pub stopped_tasks: usize,
    /// Of those, tasks that belong to no dispatch of the table (another workload's).
    pub not_dispatches: usize,
    /// Dispatches the sweep examined.
    pub examined: usize,
    /// How far the sweep went, status by status.
    pub sweep: Vec<sweep::Progress>,
    /// By the status written.
    pub settled: BTreeMap<String, usize>,
    pub still_running: usize,
    /// Dispatches whose task stopped within the grace period: left to their event.
    #[serde(skip_serializing_if = "is_zero")]
    pub stopped_within_grace: usize,
    /// ECS no longer knows the task (those past the maximum age are also settled).
    pub task_missing: usize,
    pub no_task: usize,
    /// Of those, older than the maximum age: a person closes them (the alarm says so).
    pub no_task_past_max_age: usize,
    /// Nothing to write: settled by someone else between the listing and the write (the
    /// callback, most likely; the same condition guards both, so the dispatch was settled
    /// once), or, for a stop ECS listed, read as settled already or as another task's (a
    /// relaunched dispatch).
    pub already_settled: usize,
    /// Dispatches whose task is of another region, account or cluster than the stack
    /// watches: never asked of this region, never closed.
    pub outside: usize,
    /// Could not be checked or settled this run (among them the unreadable ones and the
    /// failed writes); the next run tries again.
    pub unchecked: usize,
    /// Settles that failed (also counted unchecked): a run in which every one failed
    /// fails, so the errors alarm sees it.
    #[serde(skip_serializing_if = "is_zero")]
    pub failed_writes: usize,
    /// Dispatches the index listed whose `createdAt` is not RFC 3339 (also counted
    /// unchecked): no age can be told, so they are never settled by a guess.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
    /// What went wrong, one line each.
    pub errors: Vec<String>,
    /// Each dispatch settled (or, in a dry run, that would be), in the order examined.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dispatches: Vec<Settled>,
    /// Nothing was written: `settled` and `dispatches` say what a run would settle.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

/// One dispatch a run settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settled {
    pub dispatch_id: String,
    pub task_arn: String,
    pub status: String,
    pub stop_code: Option<String>,
}

/// Whether a run writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Settle what it finds (the scheduled run).
    Settle,
    /// Decide as a run would, write nothing (`outpost-ops reconcile --dry-run`).
    DryRun,
}

impl Report {
    pub fn settled_total(&self) -> usize {
        self.settled.values().sum()
    }

    /// Counts one settled dispatch, and lists it.
    fn record(&mut self, dispatch_id: &DispatchId, task: &StoppedTask, status: &str) {
        *self.settled.entry(status.to_owned()).or_default() += 1;
        self.dispatches.push(Settled {
            dispatch_id: dispatch_id.as_str().to_owned(),
            task_arn: task.task_arn.clone(),
            status: status.to_owned(),
            stop_code: task.detail.stop_code.clone(),
        });
    }
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// A run that did nothing it set out to, each with what went wrong.
#[derive(Debug, thiserror::Error)]
pub enum RunFailed {
    /// The listing, or every `DescribeTasks`, failed.
    #[error("the reconciler could check nothing: {}", .0.join("; "))]
    NothingChecked(Vec<String>),
    /// It had dispatches to settle and every write failed.
    #[error("the reconciler settled nothing: every write failed: {}", .0.join("; "))]
    EveryWriteFailed(Vec<String>),
}

impl RunFailed {
    /// The `errorType` Lambda reports.
    pub fn error_type(&self) -> &'static str {
        match self {
            RunFailed::NothingChecked(_) => "NothingChecked",
            RunFailed::EveryWriteFailed(_) => "EveryWriteFailed",
        }
    }
}

/// Runs once, the sweep walking until `stop_by` at the latest (what is left is the next
/// run's). Partial failures are reported (and counted as unchecked); a run that could
/// check nothing fails, so the reconciler's errors alarm sees it.
pub async fn run(
    deps: &Deps,
    request_id: &str,
    now: DateTime<Utc>,
    stop_by: Instant,
) -> Result<Report, RunFailed> {
    run_in(Mode::Settle, deps, request_id, now, stop_by).await
}

/// [`run`], or its dry run: the same listings, questions and decisions, without a write
/// (the sweep's place included).
pub async fn run_in(
    mode: Mode,
    deps: &Deps,
    request_id: &str,
    now: DateTime<Utc>,
    stop_by: Instant,
) -> Result<Report, RunFailed> {
    let mut report = Report {
        dry_run: mode == Mode::DryRun,
        ..Report::default()
    };
    let at = (request_id, now);
    // The stops ECS lists take at most half the run's time; the sweep gets the rest.
    let half = Instant::now() + stop_by.saturating_duration_since(Instant::now()) / 2;
    let read = stopped::settle_stopped(mode, deps, at, half, &mut report).await;
    let swept = sweep::sweep(mode, deps, &read.handled, at, stop_by, &mut report).await;
    if !read.answered && !swept && !report.errors.is_empty() {
        return Err(RunFailed::NothingChecked(report.errors));
    }
    if report.failed_writes > 0 && report.settled_total() + report.already_settled == 0 {
        return Err(RunFailed::EveryWriteFailed(report.errors));
    }
    info!(
        stopped_tasks = report.stopped_tasks,
        examined = report.examined,
        settled = report.settled_total(),
        still_running = report.still_running,
        task_missing = report.task_missing,
        no_task = report.no_task,
        outside = report.outside,
        unchecked = report.unchecked,
        "{}",
        logs::RECONCILER_RUN_DONE
    );
    Ok(report)
}

/// Settles one dispatch through the callback's own decision and conditional write; in a
/// dry run, only decides and counts.
pub(crate) async fn settle(
    mode: Mode,
    deps: &Deps,
    dispatch_id: &DispatchId,
    task: &StoppedTask,
    (request_id, now): (&str, DateTime<Utc>),
    report: &mut Report,
) {
    let worker = &deps.settings.worker_container;
    if mode == Mode::DryRun {
        let decision = dispatch::status::decide(&task.detail, worker);
        return report.record(dispatch_id, task, decision.status.as_str());
    }
    let settled =
        dispatch_aws::settle::settle(task, dispatch_id, &deps.store, worker, request_id, now).await;
    match settled {
        Ok(Outcome::Updated { status, .. }) => {
            report.record(dispatch_id, task, status.as_str());
            info!(
                dispatch_id = %dispatch_id.as_str(),
                task_arn = %task.task_arn,
                status = %status,
                stop_code = task.detail.stop_code.as_deref().unwrap_or_default(),
                stopped_reason = task.detail.stopped_reason.as_deref().unwrap_or_default(),
                "{}",
                logs::RECONCILER_SETTLED
            );
        }
        Ok(Outcome::Skipped { .. }) => report.already_settled += 1,
        Err(err) => {
            report.unchecked += 1;
            report.failed_writes += 1;
            warn!(dispatch_id = %dispatch_id.as_str(), error = %err, "the reconciler could not settle a dispatch; the next run tries again");
            report.errors.push(err.to_string());
        }
    }
}
