//! One reconciler run: list the old non-terminal dispatches, ask ECS about their tasks,
//! and settle the stopped ones through the callback's own path.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use contract::logs;
use dispatch::dispatch_id::DispatchId;
use dispatch::event::{EcsTaskDetail, StoppedTask};
use dispatch::outcome::Outcome;
use dispatch_aws::ecs::{batches, describe, detail};
use dispatch_aws::status_index::StatusIndex;
use dispatch_aws::table::DynamoStore;
use serde::Serialize;
use tracing::{info, warn};

use crate::config::Settings;
use crate::plan::{verdict, Answer, Candidate, Verdict};

/// What a run needs, built once during init.
#[derive(Clone, Debug)]
pub struct Deps {
    pub index: StatusIndex,
    pub ecs: aws_sdk_ecs::Client,
    pub store: DynamoStore,
    pub settings: Settings,
}

/// What one run did; also the invocation's response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub examined: usize,
    /// By the status written.
    pub settled: BTreeMap<String, usize>,
    pub still_running: usize,
    /// ECS no longer knows the task (those past the maximum age are also settled).
    pub task_missing: usize,
    pub no_task: usize,
    /// Settled by someone else between the listing and the write (the callback, most
    /// likely): the same condition guards both, so the dispatch was settled once.
    pub already_settled: usize,
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
    fn record(&mut self, candidate: &Candidate, task: &StoppedTask, status: &str) {
        *self.settled.entry(status.to_owned()).or_default() += 1;
        self.dispatches.push(Settled {
            dispatch_id: candidate.dispatch_id.clone(),
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

/// Runs once. Partial failures are reported (and counted as unchecked); a run that could
/// check nothing fails, so the reconciler's errors alarm sees it.
pub async fn run(deps: &Deps, request_id: &str, now: DateTime<Utc>) -> Result<Report, RunFailed> {
    run_in(Mode::Settle, deps, request_id, now).await
}

/// [`run`], or its dry run: the same listing, questions and decisions, without a write.
pub async fn run_in(
    mode: Mode,
    deps: &Deps,
    request_id: &str,
    now: DateTime<Utc>,
) -> Result<Report, RunFailed> {
    let mut report = Report {
        dry_run: mode == Mode::DryRun,
        ..Report::default()
    };
    let candidates = list(deps, now, &mut report).await;
    report.examined = candidates.len();
    if candidates.is_empty() && !report.errors.is_empty() {
        return Err(RunFailed::NothingChecked(report.errors));
    }
    let answers = ask_ecs(deps, &candidates, &mut report).await?;
    for candidate in &candidates {
        examine(
            mode,
            deps,
            candidate,
            &answers,
            (request_id, now),
            &mut report,
        )
        .await;
    }
    if report.failed_writes > 0 && report.settled_total() + report.already_settled == 0 {
        return Err(RunFailed::EveryWriteFailed(report.errors));
    }
    info!(
        examined = report.examined,
        settled = report.settled_total(),
        still_running = report.still_running,
        task_missing = report.task_missing,
        no_task = report.no_task,
        unchecked = report.unchecked,
        "{}",
        logs::RECONCILER_RUN_DONE
    );
    Ok(report)
}

/// The oldest non-terminal dispatches past the grace period, status by status, up to the
/// run's bound; listing errors go to the report.
async fn list(deps: &Deps, now: DateTime<Utc>, report: &mut Report) -> Vec<Candidate> {
    let settings = &deps.settings;
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut seen = HashSet::new();
    for status in &settings.statuses {
        let room = settings.max_records - candidates.len();
        if room == 0 {
            break;
        }
        let listing = deps.index.list(status, now - settings.grace, room).await;
        // A dispatch whose status changed between two statuses' queries is listed twice;
        // it is examined, and counted, once.
        let fresh = listing
            .records
            .iter()
            .filter(|r| seen.insert(r.dispatch_id.clone()));
        candidates.extend(fresh.filter_map(Candidate::of).collect::<Vec<_>>());
        for dispatch_id in listing.unreadable {
            if !seen.insert(dispatch_id.clone()) {
                continue;
            }
            warn!(dispatch_id = %dispatch_id, status = %status, "{}", logs::UNREADABLE_CREATED_AT);
            report.unchecked += 1;
            report.unreadable.push(dispatch_id);
        }
        report
            .errors
            .extend(listing.error.map(|err| err.to_string()));
    }
    candidates
}

/// What ECS said of each candidate's task: the task, or `None` when ECS does not know it.
/// A task whose batch failed is absent (its error is in the report); when every batch
/// failed, the run checked nothing.
async fn ask_ecs(
    deps: &Deps,
    candidates: &[Candidate],
    report: &mut Report,
) -> Result<BTreeMap<String, Option<EcsTaskDetail>>, RunFailed> {
    let task_arns: Vec<String> = candidates
        .iter()
        .filter_map(|c| c.task_arn.clone())
        .collect();
    let mut answers = BTreeMap::new();
    let mut failed_batches = 0;
    let batches = batches(&task_arns);
    for (cluster, arns) in &batches {
        match describe(&deps.ecs, cluster, arns).await {
            Ok(described) => {
                for task in described.tasks {
                    if let Some(arn) = task.task_arn().map(str::to_owned) {
                        answers.insert(arn, Some(detail(&task)));
                    }
                }
                answers.extend(described.missing.into_iter().map(|arn| (arn, None)));
            }
            Err(err) => {
                failed_batches += 1;
                report.errors.push(err.to_string());
            }
        }
    }
    if failed_batches > 0 && failed_batches == batches.len() && !candidates.is_empty() {
        return Err(RunFailed::NothingChecked(report.errors.clone()));
    }
    Ok(answers)
}

/// Decides on one candidate from ECS's answer and acts on the verdict.
async fn examine(
    mode: Mode,
    deps: &Deps,
    candidate: &Candidate,
    answers: &BTreeMap<String, Option<EcsTaskDetail>>,
    (request_id, now): (&str, DateTime<Utc>),
    report: &mut Report,
) {
    let settings = &deps.settings;
    let answer = match &candidate.task_arn {
        None => None,
        Some(arn) => match answers.get(arn) {
            Some(Some(task)) => Some(Answer::Found(task)),
            Some(None) => Some(Answer::Missing),
            // Its batch failed: nothing is known, nothing is written.
            None => {
                report.unchecked += 1;
                return;
            }
        },
    };
    if matches!(answer, Some(Answer::Missing)) {
        report.task_missing += 1;
    }
    match verdict(candidate, answer, now, settings.max_age) {
        Verdict::Settle(task) => {
            // The write's own check of the ID comes first, in a dry run too.
            let dispatch_id =
                match DispatchId::parse(&candidate.dispatch_id, &settings.status_index) {
                    Ok(id) => id,
                    Err(err) => {
                        report.unchecked += 1;
                        report.errors.push(err.to_string());
                        return;
                    }
                };
            if mode == Mode::DryRun {
                let decision = dispatch::status::decide(&task.detail, &settings.worker_container);
                report.record(candidate, &task, decision.status.as_str());
            } else {
                settle(
                    deps,
                    candidate,
                    &dispatch_id,
                    &task,
                    request_id,
                    now,
                    report,
                )
                .await;
            }
        }
        Verdict::StillRunning => report.still_running += 1,
        Verdict::MissingTooYoung => {}
        Verdict::NoTask => {
            report.no_task += 1;
            warn!(dispatch_id = %candidate.dispatch_id, created_at = %candidate.created_at, "{}", logs::RECONCILER_NO_TASK);
        }
    }
}

/// Settles one dispatch through the callback's own decision and conditional write.
async fn settle(
    deps: &Deps,
    candidate: &Candidate,
    dispatch_id: &DispatchId,
    task: &StoppedTask,
    request_id: &str,
    now: DateTime<Utc>,
    report: &mut Report,
) {
    let settled = dispatch_aws::settle::settle(
        task,
        dispatch_id,
        &deps.store,
        &deps.settings.worker_container,
        request_id,
        now,
    )
    .await;
    match settled {
        Ok(Outcome::Updated { status, .. }) => {
            report.record(candidate, task, status.as_str());
            info!(
                dispatch_id = %candidate.dispatch_id,
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
            warn!(dispatch_id = %candidate.dispatch_id, error = %err, "the reconciler could not settle a dispatch; the next run tries again");
            report.errors.push(err.to_string());
        }
    }
}
