//! One reconciler run: list the old non-terminal dispatches, ask ECS about their tasks,
//! and settle the stopped ones through the callback's own path.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use contract::logs;
use function::config::Config;
use function::dispatch_id::{DispatchId, Source};
use function::outcome::Outcome;
use function::store::DynamoStore;
use serde::Serialize;
use tracing::{info, warn};

use crate::config::Settings;
use crate::ecs::{batches, describe};
use crate::index::StatusIndex;
use crate::plan::{verdict, Answer, Candidate, Verdict};

/// What a run needs, built once during init.
#[derive(Clone, Debug)]
pub struct Deps {
    pub index: StatusIndex,
    pub ecs: aws_sdk_ecs::Client,
    pub store: DynamoStore,
    /// The callback's own configuration: the same worker container decides.
    pub config: Config,
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
    /// Could not be checked or settled this run; the next run tries again.
    pub unchecked: usize,
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
    fn record(&mut self, candidate: &Candidate, task: &function::event::StoppedTask, status: &str) {
        *self.settled.entry(status.to_owned()).or_default() += 1;
        self.dispatches.push(Settled {
            dispatch_id: candidate.dispatch_id.clone(),
            task_arn: task.task_arn.clone(),
            status: status.to_owned(),
            stop_code: task.detail.stop_code.clone(),
        });
    }
}

/// A run that could do nothing at all: the listing or every `DescribeTasks` failed.
#[derive(Debug, thiserror::Error)]
#[error("the reconciler could check nothing: {}", .0.join("; "))]
pub struct NothingChecked(pub Vec<String>);

impl From<NothingChecked> for lambda_runtime::Diagnostic {
    fn from(err: NothingChecked) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "NothingChecked".to_owned(),
            error_message: err.to_string(),
        }
    }
}

/// Runs once. Partial failures are reported (and counted as unchecked); a run that could
/// check nothing fails, so the reconciler's errors alarm sees it.
pub async fn run(
    deps: &Deps,
    request_id: &str,
    now: DateTime<Utc>,
) -> Result<Report, NothingChecked> {
    run_in(Mode::Settle, deps, request_id, now).await
}

/// [`run`], or its dry run: the same listing, questions and decisions, without a write.
pub async fn run_in(
    mode: Mode,
    deps: &Deps,
    request_id: &str,
    now: DateTime<Utc>,
) -> Result<Report, NothingChecked> {
    let settings = &deps.settings;
    let mut report = Report {
        dry_run: mode == Mode::DryRun,
        ..Report::default()
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    for status in &settings.statuses {
        let room = settings.max_records - candidates.len();
        if room == 0 {
            break;
        }
        let listing = deps.index.list(status, now - settings.grace, room).await;
        candidates.extend(listing.candidates);
        report
            .errors
            .extend(listing.error.map(|err| err.to_string()));
    }
    report.examined = candidates.len();
    if candidates.is_empty() && !report.errors.is_empty() {
        return Err(NothingChecked(report.errors));
    }

    let task_arns: Vec<String> = candidates
        .iter()
        .filter_map(|c| c.task_arn.clone())
        .collect();
    let mut answers: BTreeMap<String, Option<aws_sdk_ecs::types::Task>> = BTreeMap::new();
    let mut failed_batches = 0;
    let batches = batches(&task_arns);
    for (cluster, arns) in &batches {
        match describe(&deps.ecs, cluster, arns).await {
            Ok(described) => {
                for task in described.tasks {
                    if let Some(arn) = task.task_arn().map(str::to_owned) {
                        answers.insert(arn, Some(task));
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
    if failed_batches > 0 && failed_batches == batches.len() && report.examined > 0 {
        return Err(NothingChecked(report.errors));
    }

    for candidate in &candidates {
        let answer = match &candidate.task_arn {
            None => None,
            Some(arn) => match answers.get(arn) {
                Some(Some(task)) => Some(Answer::Found(task)),
                Some(None) => Some(Answer::Missing),
                // Its batch failed: nothing is known, nothing is written.
                None => {
                    report.unchecked += 1;
                    continue;
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
                    match DispatchId::parse(&candidate.dispatch_id, Source::StatusIndex) {
                        Ok(id) => id,
                        Err(err) => {
                            report.unchecked += 1;
                            report.errors.push(err.to_string());
                            continue;
                        }
                    };
                if mode == Mode::DryRun {
                    let decision =
                        function::status::decide(&task.detail, &deps.config.worker_container);
                    report.record(candidate, &task, decision.status.as_str());
                } else {
                    settle(
                        deps,
                        candidate,
                        &dispatch_id,
                        &task,
                        request_id,
                        now,
                        &mut report,
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

/// Settles one dispatch through the callback's own decision and conditional write.
async fn settle(
    deps: &Deps,
    candidate: &Candidate,
    dispatch_id: &DispatchId,
    task: &function::event::StoppedTask,
    request_id: &str,
    now: DateTime<Utc>,
    report: &mut Report,
) {
    let settled = function::settle::settle(
        task,
        dispatch_id,
        &deps.store,
        &deps.config,
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
            report.errors.push(err.to_string());
        }
    }
}
