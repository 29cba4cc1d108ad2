//! The sweep, the safety net for what ECS no longer knows: the old non-terminal dispatches
//! listed through the status index, each task placed against the watched clusters and
//! asked of ECS, and a verdict on each (`plan`).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use contract::logs;
use dispatch::dispatch_id::DispatchId;
use dispatch::event::EcsTaskDetail;
use dispatch::task_arn::Placement;
use dispatch_aws::ecs::{describe, detail, BATCH};
use tracing::warn;

use crate::plan::{verdict, Answer, Candidate, Verdict};
use crate::run::{settle, Deps, Mode, Report, RunFailed};

/// What ECS said of one task.
enum Said {
    Found(Box<EcsTaskDetail>),
    Missing,
    /// Nothing usable: why.
    Unanswered(String),
}

/// The oldest non-terminal dispatches past the grace period, status by status, up to the
/// run's bound, leaving out those the run already handled; listing errors go to the
/// report.
pub(crate) async fn list(
    deps: &Deps,
    now: DateTime<Utc>,
    handled: &HashSet<String>,
    report: &mut Report,
) -> Vec<Candidate> {
    let settings = &deps.settings;
    let mut candidates: Vec<Candidate> = Vec::new();
    // A dispatch whose status changed between two statuses' queries is listed twice; it
    // is examined, and counted, once.
    let mut seen = handled.clone();
    for status in &settings.statuses {
        let room = settings.max_records - candidates.len();
        if room == 0 {
            break;
        }
        let listing = deps.index.list(status, now - settings.grace, room).await;
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

/// What ECS said of each candidate's task, by task ARN. Tasks outside the stack or whose
/// ARN cannot be placed are not asked (the candidates' verdicts count them); a batch that
/// fails leaves its tasks unanswered (its error is in the report). When every batch
/// failed, the run checked nothing.
async fn ask_ecs(
    deps: &Deps,
    candidates: &[Candidate],
    report: &mut Report,
) -> Result<BTreeMap<String, Said>, RunFailed> {
    let mut by_cluster: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for arn in candidates.iter().filter_map(|c| c.task_arn.as_deref()) {
        if let Placement::Ask { cluster } = deps.settings.watched.place(arn) {
            by_cluster
                .entry(cluster)
                .or_default()
                .insert(arn.to_owned());
        }
    }
    let mut answers = BTreeMap::new();
    let (mut batches, mut failed) = (0, 0);
    for (cluster, arns) in by_cluster {
        let arns: Vec<String> = arns.into_iter().collect();
        for batch in arns.chunks(BATCH) {
            batches += 1;
            match describe(&deps.ecs, cluster, batch).await {
                Ok(described) => {
                    for task in &described.tasks {
                        let found = Said::Found(Box::new(detail(task)));
                        answers.extend(task.task_arn().map(|arn| (arn.to_owned(), found)));
                    }
                    answers.extend(described.missing.into_iter().map(|a| (a, Said::Missing)));
                    let unanswered = described.unanswered.into_iter();
                    answers.extend(unanswered.map(|(arn, why)| (arn, Said::Unanswered(why))));
                }
                Err(err) => {
                    failed += 1;
                    let why = err.to_string();
                    report.errors.push(why.clone());
                    for arn in batch {
                        answers.insert(arn.clone(), Said::Unanswered(why.clone()));
                    }
                }
            }
        }
    }
    if failed > 0 && failed == batches {
        return Err(RunFailed::NothingChecked(report.errors.clone()));
    }
    Ok(answers)
}

/// Asks ECS about the candidates' tasks, then decides on each and acts on the verdict.
pub(crate) async fn examine_all(
    mode: Mode,
    deps: &Deps,
    candidates: &[Candidate],
    at: (&str, DateTime<Utc>),
    report: &mut Report,
) -> Result<(), RunFailed> {
    let answers = ask_ecs(deps, candidates, report).await?;
    for candidate in candidates {
        examine(mode, deps, candidate, &answers, at, report).await;
    }
    Ok(())
}

/// Decides on one candidate from ECS's answer and acts on the verdict.
async fn examine(
    mode: Mode,
    deps: &Deps,
    candidate: &Candidate,
    answers: &BTreeMap<String, Said>,
    (request_id, now): (&str, DateTime<Utc>),
    report: &mut Report,
) {
    let settings = &deps.settings;
    let answer = match candidate.task_arn.as_deref() {
        None => None,
        Some(arn) => match (settings.watched.place(arn), answers.get(arn)) {
            (Placement::Outside(why), _) => {
                report.outside += 1;
                warn!(dispatch_id = %candidate.dispatch_id, task_arn = %arn, why = %why, "{}", logs::RECONCILER_OUTSIDE_STACK);
                return;
            }
            (Placement::Unreadable(why), _) => return unchecked(candidate, &why, report),
            (Placement::Ask { .. }, Some(Said::Found(task))) => Some(Answer::Found(task)),
            (Placement::Ask { .. }, Some(Said::Missing)) => Some(Answer::Missing),
            (Placement::Ask { .. }, Some(Said::Unanswered(why))) => {
                return unchecked(candidate, why, report)
            }
            (Placement::Ask { .. }, None) => {
                return unchecked(candidate, "ECS was not asked", report)
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
                        report.errors.push(err.to_string());
                        return unchecked(candidate, &err.to_string(), report);
                    }
                };
            settle(mode, deps, &dispatch_id, &task, (request_id, now), report).await;
        }
        Verdict::StillRunning => report.still_running += 1,
        Verdict::MissingTooYoung => {}
        Verdict::NoTask => {
            report.no_task += 1;
            warn!(dispatch_id = %candidate.dispatch_id, created_at = %candidate.created_at, "{}", logs::RECONCILER_NO_TASK);
        }
    }
}

/// Counts and logs a dispatch that could not be checked, with why; the next run tries
/// again.
fn unchecked(candidate: &Candidate, why: &str, report: &mut Report) {
    report.unchecked += 1;
    warn!(dispatch_id = %candidate.dispatch_id, task_arn = candidate.task_arn.as_deref().unwrap_or_default(), why, "{}", logs::RECONCILER_UNCHECKED);
}
