//! The sweep, the safety net for what ECS no longer knows: a walk of the status index's
//! non-terminal dispatches past the grace period that resumes where the last run stopped
//! (`cursor`), each run taking its share, so that every one is examined once a sweep
//! period however many cannot be settled. Each page's tasks are placed against the
//! watched clusters and asked of ECS, and a verdict on each (`plan`) is acted on.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Instant;

use chrono::{DateTime, Utc};
use contract::logs;
use dispatch::dispatch_id::DispatchId;
use dispatch::event::EcsTaskDetail;
use dispatch::task_arn::Placement;
use dispatch_aws::ecs::{describe, detail, BATCH};
use dispatch_aws::status_index::Page;
use serde::Serialize;
use tracing::warn;

use crate::cursor::store::Saved;
use crate::cursor::{Cursor, Pace};
use crate::plan::{verdict, Ages, Answer, Candidate, Verdict};
use crate::run::{settle, Deps, Mode, Report};

/// What ECS said of one task.
enum Said {
    Found(Box<EcsTaskDetail>),
    Missing,
    /// Nothing usable: why.
    Unanswered(String),
}

/// How far one status's sweep went in a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub status: String,
    /// The most dispatches this run was to walk ([`Cursor::share`]).
    pub share: usize,
    /// The dispatches it walked (listed, examined or not).
    pub walked: usize,
    /// Whether it reached the newest dispatch past the grace period: the next run
    /// starts a new cycle from the oldest.
    pub cycle_ended: bool,
    /// What became of the place it keeps.
    pub place: Place,
}

/// What became of a status's place in a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Place {
    /// Moved past what this run walked.
    Moved,
    /// Left where it was: the run walked nothing, or it was a dry run.
    #[default]
    Kept,
    /// Another run moved it meanwhile; this run's move was dropped (what it walked was
    /// examined all the same).
    Overtaken,
    /// It could not be read or written (the error is in the report).
    Failed,
}

/// Sweeps each configured status in turn, each with an equal part of the time left before
/// `stop_by`, leaving out the dispatches in `handled` (the run's stopped path read them).
/// Returns whether anything was listed.
pub(crate) async fn sweep(
    mode: Mode,
    deps: &Deps,
    handled: &HashSet<String>,
    at: (&str, DateTime<Utc>),
    stop_by: Instant,
    report: &mut Report,
) -> bool {
    // A dispatch whose status changed between two statuses' walks is listed twice; it is
    // examined, and counted, once.
    let mut seen = handled.clone();
    let statuses = &deps.settings.statuses;
    let mut walked_any = false;
    for (done, status) in statuses.iter().enumerate() {
        let time_left = stop_by.saturating_duration_since(Instant::now());
        let parts = u32::try_from(statuses.len() - done).unwrap_or(1);
        let status_stop = Instant::now() + time_left / parts;
        let progress = sweep_status(mode, deps, status, &mut seen, at, status_stop, report).await;
        walked_any |= progress.walked > 0;
        report.sweep.push(progress);
    }
    walked_any
}

/// Walks one status's share from its place, page by page, until the share is walked, the
/// newest dispatch past the grace period is reached, or `stop_by`; then moves the place
/// (never in a dry run). A page ECS answered nothing of is left for the next run.
async fn sweep_status(
    mode: Mode,
    deps: &Deps,
    status: &str,
    seen: &mut HashSet<String>,
    at: (&str, DateTime<Utc>),
    stop_by: Instant,
    report: &mut Report,
) -> Progress {
    let (request_id, now) = at;
    let settings = &deps.settings;
    let before = now - settings.grace;
    let mut progress = Progress {
        status: status.to_owned(),
        ..Progress::default()
    };
    let Some((cursor, size)) = place_and_size(deps, status, at, report).await else {
        progress.place = Place::Failed;
        return progress;
    };
    let pace = Pace {
        sweep: settings.sweep,
        every: settings.every,
    };
    progress.share = cursor.share(size, now, pace);
    let mut after = cursor.after.clone();
    while progress.walked < progress.share && Instant::now() < stop_by {
        let room = progress.share - progress.walked;
        let page = match deps.index.page(status, before, after.as_ref(), room).await {
            Ok(page) => page,
            Err(err) => {
                report.errors.push(err.to_string());
                break;
            }
        };
        let candidates = candidates(&page, status, seen, report);
        if !examine_all(mode, deps, &candidates, at, report).await {
            for candidate in &candidates {
                unchecked(
                    candidate,
                    "ECS answered nothing; the page is walked again",
                    report,
                );
            }
            break;
        }
        report.examined += candidates.len();
        progress.walked += page.listed();
        match page.next {
            Some(next) => after = Some(next),
            None => {
                progress.cycle_ended = true;
                break;
            }
        }
    }
    if progress.walked == 0 && !progress.cycle_ended || mode == Mode::DryRun {
        return progress;
    }
    let next = (!progress.cycle_ended).then_some(after).flatten();
    let moved = cursor.advanced(progress.walked as u64, next, now);
    progress.place = match deps.cursors.save(&moved, request_id, now).await {
        Ok(Saved::Moved) => Place::Moved,
        Ok(Saved::Overtaken) => {
            warn!(status, "{}", logs::RECONCILER_SWEEP_OVERTAKEN);
            Place::Overtaken
        }
        Err(err) => {
            report.errors.push(err.to_string());
            Place::Failed
        }
    };
    progress
}

/// The status's place, and the size of its cycle: the last whole cycle's, or, before
/// the first ends, a count of the index (once, a `Query` that returns counts only). `None` when either cannot be read (the error is in the report).
async fn place_and_size(
    deps: &Deps,
    status: &str,
    (_, now): (&str, DateTime<Utc>),
    report: &mut Report,
) -> Option<(Cursor, u64)> {
    let mut cursor = deps
        .cursors
        .load(status, now)
        .await
        .inspect_err(|err| report.errors.push(err.to_string()))
        .ok()?;
    let size = match cursor.last_cycle {
        Some(size) => size,
        None => {
            let counted = deps.index.count(status, now - deps.settings.grace).await;
            let counted = counted
                .inspect_err(|err| report.errors.push(err.to_string()))
                .ok()?;
            // Kept with the place until the first cycle ends and gives the true size,
            // so the index is counted once, not on every run of the first cycle.
            cursor.last_cycle = Some(counted);
            counted
        }
    };
    Some((cursor, size))
}

/// A page's dispatches not yet seen this run, as candidates; those with an unreadable
/// `createdAt` are counted and logged instead.
fn candidates(
    page: &Page,
    status: &str,
    seen: &mut HashSet<String>,
    report: &mut Report,
) -> Vec<Candidate> {
    for dispatch_id in &page.unreadable {
        if seen.insert(dispatch_id.clone()) {
            warn!(dispatch_id = %dispatch_id, status = %status, "{}", logs::UNREADABLE_CREATED_AT);
            report.unchecked += 1;
            report.unreadable.push(dispatch_id.clone());
        }
    }
    let fresh = page
        .records
        .iter()
        .filter(|record| seen.insert(record.dispatch_id.clone()));
    fresh.filter_map(Candidate::of).collect()
}

/// What ECS said of each candidate's task, by task ARN. Tasks outside the stack or whose
/// ARN cannot be placed are not asked (the candidates' verdicts count them); a batch that
/// fails leaves its tasks unanswered (its error is in the report). `None` when every
/// batch failed: ECS answered nothing.
async fn ask_ecs(
    deps: &Deps,
    candidates: &[Candidate],
    report: &mut Report,
) -> Option<BTreeMap<String, Said>> {
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
    (failed == 0 || failed < batches).then_some(answers)
}

/// Asks ECS about the candidates' tasks, then decides on each and acts on the verdict.
/// Returns whether ECS answered (false when every question failed: nothing was decided).
async fn examine_all(
    mode: Mode,
    deps: &Deps,
    candidates: &[Candidate],
    at: (&str, DateTime<Utc>),
    report: &mut Report,
) -> bool {
    let Some(answers) = ask_ecs(deps, candidates, report).await else {
        return false;
    };
    for candidate in candidates {
        examine(mode, deps, candidate, &answers, at, report).await;
    }
    true
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
    let ages = Ages {
        grace: settings.grace,
        max_age: settings.max_age,
    };
    match verdict(candidate, answer, now, ages) {
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
        Verdict::StoppedWithinGrace => report.stopped_within_grace += 1,
        Verdict::MissingTooYoung => {}
        Verdict::NoTask => {
            report.no_task += 1;
            let past_max_age = now - candidate.created_at > settings.max_age;
            report.no_task_past_max_age += usize::from(past_max_age);
            warn!(dispatch_id = %candidate.dispatch_id, created_at = %candidate.created_at, past_max_age, "{}", logs::RECONCILER_NO_TASK);
        }
    }
}

/// Counts and logs a dispatch that could not be checked, with why; the next run tries
/// again.
fn unchecked(candidate: &Candidate, why: &str, report: &mut Report) {
    report.unchecked += 1;
    warn!(dispatch_id = %candidate.dispatch_id, task_arn = candidate.task_arn.as_deref().unwrap_or_default(), why, "{}", logs::RECONCILER_UNCHECKED);
}
