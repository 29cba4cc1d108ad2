//! What a system run must end as, held against what ECS really did (the plan's jobs and
//! the status table), never against what the functions wrote; and the run's figures.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::Duration;

use contract::{metrics, status::GUESS_STOP_CODE};
use dispatch::record::DispatchRecord;
use serde_json::Value;

use super::plan::{Delivery, Job, Knobs};
use super::run::{Reconciler, Schedule};
use crate::runtime::{OutputLine, Stream};

/// Which path settled a dispatch for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Path {
    Event,
    LateEvent,
    Reconciler,
    Replay,
}

/// What the run saw as it went.
#[derive(Debug, Default)]
pub struct Seen {
    /// Each dispatch's task ARN.
    pub tasks: HashMap<String, String>,
    /// The minute each dispatch's task stopped.
    pub stopped: HashMap<String, i64>,
    /// Each request the run made of a function, by request ID: when, and by which path
    /// (a record's `updateRequestId` names the request that settled it).
    pub requests: HashMap<String, (i64, Path)>,
    /// The minutes the reconciler ran.
    pub runs: Vec<i64>,
    pub failed_runs: Vec<(i64, String)>,
    pub deliveries: usize,
    /// Deliveries' attempts the callback answered with an error.
    pub failed_attempts: u64,
    pub parked: Vec<String>,
    pub rule_disabled: usize,
    /// The callback's answers: updates, of them corrections of a guess, and skips.
    pub updated: u64,
    pub corrected: u64,
    pub skipped: u64,
    /// Of the reconciler's settlements its runs listed, the guesses.
    pub guesses: u64,
    /// The dispatches the reconciler's runs listed as settled, in order.
    pub settled_by_runs: Vec<String>,
    /// The figures the reconciler's runs answered, summed by the metric that carries each.
    pub run_counts: BTreeMap<&'static str, u64>,
}

impl Seen {
    pub(crate) fn note_answer(&mut self, answer: &Value) {
        match answer["result"].as_str() {
            Some("updated") => {
                self.updated += 1;
                self.corrected += u64::from(answer["corrected"] == true);
            }
            _ => self.skipped += 1,
        }
    }

    pub(crate) fn note_run(&mut self, report: &Value) {
        let settled = report["dispatches"].as_array().into_iter().flatten();
        for dispatch in settled {
            self.guesses += u64::from(dispatch["stopCode"] == GUESS_STOP_CODE);
            let id = dispatch["dispatchId"].as_str().unwrap_or_default();
            self.settled_by_runs.push(id.to_owned());
        }
        for (metric, field) in RUN_FIELDS {
            let value = report[field].as_u64().unwrap_or(0);
            *self.run_counts.entry(metric).or_default() += value;
        }
    }
}

/// The reconciler's counts and the fields of its run's answer that say the same.
const RUN_FIELDS: [(&str, &str); 7] = [
    (metrics::reconciler::EXAMINED, "examined"),
    (metrics::reconciler::STILL_RUNNING, "stillRunning"),
    (metrics::reconciler::TASK_MISSING, "taskMissing"),
    (metrics::reconciler::NO_TASK, "noTask"),
    (
        metrics::reconciler::NO_TASK_PAST_MAX_AGE,
        "noTaskPastMaxAge",
    ),
    (metrics::reconciler::UNCHECKED, "unchecked"),
    (metrics::reconciler::OUTSIDE_STACK, "outside"),
];

/// The functions' output, for their metrics.
pub struct Outputs {
    pub callback: Vec<OutputLine>,
    pub reconciler: Vec<OutputLine>,
}

pub(crate) struct Inputs<'a> {
    pub knobs: &'a Knobs,
    pub jobs: &'a [Job],
    pub schedule: Schedule,
    pub reconciler: Reconciler,
    pub seen: Seen,
    pub records: HashMap<String, DispatchRecord>,
    pub outputs: Outputs,
    pub requests: BTreeMap<String, u64>,
    pub elapsed: Duration,
}

/// What a system run did, and every promise it found broken.
#[derive(Debug, Default)]
pub struct Report {
    pub dispatches: usize,
    /// Each broken promise, one line each: a run of a sound system has none.
    pub violations: Vec<String>,
    /// The knowable exceptions: a stop whose event was dropped (never parked) and that ECS
    /// forgot before any reconciler run could see it; the guess stands, provisional.
    pub exceptions: Vec<String>,
    /// Fleet minutes from a task's stop to its dispatch's settlement, by path.
    pub latencies: BTreeMap<Path, Vec<i64>>,
    pub guesses: u64,
    pub corrected: u64,
    pub parked: usize,
    pub dropped: usize,
    pub rule_disabled: usize,
    pub runs: usize,
    /// Runs that failed (while ECS failed, as they should).
    pub failed_runs: usize,
    pub requests: BTreeMap<String, u64>,
    pub elapsed: Duration,
}

impl Report {
    /// A readable account of the run.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} dispatches in {:.0} s: {} violations, {} knowable exceptions; {} reconciler runs \
             ({} failed), \
             {} events dropped, {} lost to the disabled rule, {} parked; {} guesses, {} corrected\n",
            self.dispatches,
            self.elapsed.as_secs_f64(),
            self.violations.len(),
            self.exceptions.len(),
            self.runs,
            self.failed_runs,
            self.dropped,
            self.rule_disabled,
            self.parked,
            self.guesses,
            self.corrected,
        );
        let _ = writeln!(
            out,
            "| path | settled | p50 | p99 | max (fleet minutes from the stop) |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|");
        for (path, latencies) in &self.latencies {
            let (p50, p99, max) = percentiles(latencies);
            let _ = writeln!(
                out,
                "| {path:?} | {} | {p50} | {p99} | {max} |",
                latencies.len()
            );
        }
        let settled: usize = self.latencies.values().map(Vec::len).sum();
        for (api, count) in &self.requests {
            let per = *count as f64 / settled.max(1) as f64;
            let _ = writeln!(out, "{api}: {count} ({per:.2} per settled dispatch)");
        }
        for line in self.violations.iter().take(20) {
            let _ = writeln!(out, "VIOLATION {line}");
        }
        out
    }
}

fn percentiles(values: &[i64]) -> (i64, i64, i64) {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| {
        let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted.get(index).copied().unwrap_or(0)
    };
    (at(0.5), at(0.99), sorted.last().copied().unwrap_or(0))
}

pub(crate) fn check(inputs: Inputs<'_>) -> Report {
    let Inputs {
        knobs,
        jobs,
        schedule,
        reconciler,
        seen,
        records,
        outputs,
        requests,
        elapsed,
    } = inputs;
    let mut report = Report {
        dispatches: jobs.len(),
        guesses: seen.guesses,
        corrected: seen.corrected,
        parked: seen.parked.len(),
        dropped: jobs
            .iter()
            .filter(|j| j.delivery == Delivery::Dropped)
            .count(),
        rule_disabled: seen.rule_disabled,
        runs: seen.runs.len(),
        requests,
        elapsed,
        ..Report::default()
    };
    // A run fails (and its errors alarm fires) while ECS answers nothing; any other
    // failed run is a broken promise.
    for (minute, why) in &seen.failed_runs {
        report.failed_runs += 1;
        if !knobs
            .ecs_failing
            .is_some_and(|window| window.holds(*minute))
        {
            report.violations.push(format!(
                "the reconciler's run at minute {minute} failed: {why}"
            ));
        }
    }
    for job in jobs {
        check_job(
            &mut report,
            job,
            knobs,
            schedule,
            reconciler,
            &seen,
            &records,
        );
    }
    if records.len() != jobs.len() {
        report.violations.push(format!(
            "{} records for {} dispatches: records were created",
            records.len(),
            jobs.len()
        ));
    }
    let facts = Facts {
        outputs: &outputs,
        unexplained: unexplained(&seen, &records),
        grace: schedule.grace,
    };
    check_metrics(&mut report, jobs, &seen, facts);
    report
}

/// How long ECS remembers a stopped task, in minutes.
const ECS_MEMORY: i64 = 60;

/// Holds one dispatch's record against the truth, and its settlement against the
/// promised times.
fn check_job(
    report: &mut Report,
    job: &Job,
    knobs: &Knobs,
    schedule: Schedule,
    reconciler: Reconciler,
    seen: &Seen,
    records: &HashMap<String, DispatchRecord>,
) {
    let id = &job.dispatch_id;
    let Some(record) = records.get(id) else {
        return report.violations.push(format!("{id}: no record"));
    };
    let stop = seen.stopped[id];
    let arn = &seen.tasks[id];
    if record.terminal_status().is_none() {
        let status = record.status.as_deref().unwrap_or("-");
        return report.violations.push(format!(
            "{id}: still {status}, its task stopped at minute {stop}"
        ));
    }
    // The first run that could read the stop from ECS (past the grace, within its memory).
    let first_run = |from: i64| seen.runs.iter().copied().find(|&run| run >= from);
    let read_by = first_run(stop + schedule.grace).filter(|&run| run < stop + ECS_MEMORY);
    let delivered = job.delivery != Delivery::Dropped
        && !knobs.rule_disabled.is_some_and(|window| window.holds(stop));
    // The knowable exception: no event ever reached the callback or a queue, and ECS
    // forgot the task before any run could read it. The guess stands, provisional.
    let exception = !delivered && !seen.parked.contains(id) && read_by.is_none();
    if exception {
        return check_exception(report, job, record, stop);
    }
    if let Some(wrong) = wrong_outcome(job, record, arn, seen) {
        return report.violations.push(wrong);
    }
    // When, and by which path, it was settled for good: the request its record names.
    let request = record.update_request_id.as_deref();
    let Some(&(minute, path)) = request.and_then(|request| seen.requests.get(request)) else {
        return report.violations.push(format!(
            "{id}: settled by no request of the run ({request:?})"
        ));
    };
    report
        .latencies
        .entry(path)
        .or_default()
        .push(minute - stop);
    if reconciler == Reconciler::Never || path == Path::Replay {
        // A replayed event corrects what was terminal already (a guess), or settles
        // what only a person's replay could.
        return;
    }
    let deadline = deadline(job, stop, read_by.is_some(), knobs, schedule, seen);
    if minute > deadline {
        report.violations.push(format!(
            "{id}: settled at minute {minute} by {path:?}, due by {deadline} (stopped at {stop})"
        ));
    }
}

/// A knowable exception: its record is the truth, or the guess, provisional.
fn check_exception(report: &mut Report, job: &Job, record: &DispatchRecord, stop: i64) {
    let id = &job.dispatch_id;
    let status = job.truth().0.as_str();
    let guessed =
        record.stop_code.as_deref() == Some(GUESS_STOP_CODE) && record.provisional == Some(true);
    if guessed || record.status.as_deref() == Some(status) {
        report.exceptions.push(format!(
            "{id}: event dropped, task forgotten at minute {} before any run read it",
            stop + ECS_MEMORY
        ));
    } else {
        report.violations.push(format!(
            "{id}: {:?}, neither the truth ({status}) nor the guess",
            record.status
        ));
    }
}

/// What is wrong with a record against its job's truth (status, exit code, task, no
/// guess left), if anything.
fn wrong_outcome(job: &Job, record: &DispatchRecord, arn: &str, seen: &Seen) -> Option<String> {
    let id = &job.dispatch_id;
    let (status, exit_code) = job.truth();
    let status = status.as_str();
    let right = record.status.as_deref() == Some(status)
        && record.exit_code == exit_code
        && record.task_arn.as_deref() == Some(arn)
        && record.provisional.is_none();
    let parked = seen.parked.contains(id);
    if right {
        None
    } else if record.stop_code.as_deref() == Some(GUESS_STOP_CODE) {
        Some(format!(
            "{id}: true outcome {status} buried under the reconciler's guess {:?} \
             (event {:?}, parked {parked})",
            record.status, job.delivery
        ))
    } else {
        Some(format!(
            "{id}: {:?} exit {:?} task {:?} provisional {:?}; truth {status} exit {exit_code:?} \
             (event {:?}, parked {parked})",
            record.status, record.exit_code, record.task_arn, record.provisional, job.delivery
        ))
    }
}

/// The minute by which a stop must be settled. Read from ECS by a run: within two
/// schedule periods of its grace (of the end of the outage or of ECS's failure, when its
/// grace ended in one: no run could read it then). Forgotten first: closed by the sweep
/// within a period of the first run past the maximum age.
fn deadline(
    job: &Job,
    stop: i64,
    read: bool,
    knobs: &Knobs,
    schedule: Schedule,
    seen: &Seen,
) -> i64 {
    if read {
        let mut start = stop + schedule.grace;
        for window in [knobs.outage, knobs.ecs_failing].into_iter().flatten() {
            if window.holds(start) {
                start = window.end();
            }
        }
        return start + 2 * schedule.every;
    }
    let from = job.launch_at + schedule.max_age;
    let past_max_age = seen.runs.iter().copied().find(|&run| run >= from);
    past_max_age
        .unwrap_or(i64::MAX)
        .saturating_add(schedule.sweep + schedule.every)
}

/// Every count in the metrics equals what happened: the callback's against its answers;
/// what the reconciler settled against its runs' lists, each listed dispatch held against
/// the records (the reconciler's write, or a later write of the run's over a guess: the
/// record's `correctedGuess` is best-effort, a second write faults can drop), and the
/// stops ECS remembered at each run against the fleet;
/// the rest of its counts against what its runs answered, and those that must be nothing
/// in this fleet (no dispatch outside the stack, none unnamed past its maximum age).
fn check_metrics(report: &mut Report, jobs: &[Job], seen: &Seen, facts: Facts) {
    // What the runs said they settled, one by one in their answers (the metric is the
    // same count through another channel), each held against the records below.
    let reconciler_writes = seen.settled_by_runs.len() as u64;
    let mut counts = vec![
        (
            Whose::Callback,
            metrics::UPDATES_SUCCESSFUL,
            seen.updated,
            "the callback answered updated",
        ),
        (
            Whose::Callback,
            metrics::UPDATES_SKIPPED,
            seen.skipped,
            "the callback answered skipped",
        ),
        (
            Whose::Callback,
            metrics::UPDATES_FAILED,
            seen.failed_attempts,
            "the callback answered an error",
        ),
        (
            Whose::Callback,
            metrics::GUESSES_CORRECTED,
            seen.corrected,
            "the callback corrected",
        ),
        (
            Whose::Reconciler,
            metrics::reconciler::SETTLED,
            reconciler_writes,
            "dispatches the runs' answers list as settled",
        ),
        (
            Whose::Reconciler,
            metrics::reconciler::STOPPED_TASKS,
            stops_remembered(jobs, seen, facts.grace),
            "stops ECS remembered at the runs' times",
        ),
    ];
    for (metric, field) in RUN_FIELDS {
        let answered = seen.run_counts.get(metric).copied().unwrap_or(0);
        counts.push((Whose::Reconciler, metric, answered, field));
    }
    for (whose, metric, happened, what) in counts {
        let output = match whose {
            Whose::Callback => &facts.outputs.callback,
            Whose::Reconciler => &facts.outputs.reconciler,
        };
        let counted = metric_sum(output, metric);
        if counted != happened {
            report
                .violations
                .push(format!("metrics: {metric} {counted}, {what} {happened}"));
        }
    }
    // Each listed settlement is the record's last write, or was replaced by a later
    // write of the run's (the truth over a guess); each record a run wrote last, a run
    // listed.
    for line in facts.unexplained.iter().take(10) {
        report.violations.push(format!("reconciler: {line}"));
    }
    for metric in [
        metrics::reconciler::OUTSIDE_STACK,
        metrics::reconciler::NO_TASK_PAST_MAX_AGE,
    ] {
        let counted = metric_sum(&facts.outputs.reconciler, metric);
        if counted != 0 {
            report.violations.push(format!(
                "metrics: {metric} {counted}, where every task is the stack's and named within minutes"
            ));
        }
    }
}

#[derive(Clone, Copy)]
enum Whose {
    Callback,
    Reconciler,
}

/// What the metrics are held against beyond what the run saw.
struct Facts<'a> {
    outputs: &'a Outputs,
    /// What the runs' lists and the records disagree on, one line each.
    unexplained: Vec<String>,
    /// The reconciler's grace, in minutes.
    grace: i64,
}

/// Where the runs' lists of what they settled and the records disagree: a listed
/// dispatch whose record no request of the run wrote last, and a record a run wrote last
/// that no run listed.
fn unexplained(seen: &Seen, records: &HashMap<String, DispatchRecord>) -> Vec<String> {
    let last_writer = |record: &DispatchRecord| {
        let request = record.update_request_id.as_deref().unwrap_or_default();
        seen.requests.get(request).map(|(_, path)| *path)
    };
    let listed: std::collections::HashSet<&str> =
        seen.settled_by_runs.iter().map(String::as_str).collect();
    let mut lines = Vec::new();
    for id in &listed {
        match records.get(*id).map(last_writer) {
            Some(Some(_)) => {}
            other => lines.push(format!(
                "{id}: a run listed it settled, but its record is {other:?}, no write of the run's"
            )),
        }
    }
    for (id, record) in records {
        if last_writer(record) == Some(Path::Reconciler) && !listed.contains(id.as_str()) {
            lines.push(format!("{id}: a run wrote it last, but no run listed it"));
        }
    }
    lines.sort();
    lines
}

/// The stopped tasks ECS listed to the runs that did not fail and that each run counted:
/// those past their grace (the rest are left to their events) and less than an hour ago
/// (ECS forgets a task an hour after it stopped).
fn stops_remembered(jobs: &[Job], seen: &Seen, grace: i64) -> u64 {
    let mut stops: Vec<i64> = jobs
        .iter()
        .map(|job| seen.stopped[&job.dispatch_id])
        .collect();
    stops.sort_unstable();
    let failed: Vec<i64> = seen.failed_runs.iter().map(|(minute, _)| *minute).collect();
    let runs = seen.runs.iter().filter(|run| !failed.contains(run));
    // Stops in (run - memory, run - grace]: two binary searches a run.
    let remembered = |run: i64| {
        let from = stops.partition_point(|&stop| stop <= run - ECS_MEMORY);
        let to = stops.partition_point(|&stop| stop <= run - grace);
        (to - from) as u64
    };
    runs.map(|&run| remembered(run)).sum()
}

/// The sum of `metric` over the EMF documents of `output`, leaving out the reconciler's
/// documents by `Status`, which repeat its run's `ReconcilerSettled` (each figure counted
/// once; a callback's skip carries its reason in its one document).
fn metric_sum(output: &[OutputLine], metric: &str) -> u64 {
    let stdout = output.iter().filter(|line| line.stream == Stream::Stdout);
    let documents = stdout.filter_map(|line| serde_json::from_str::<Value>(&line.line).ok());
    documents
        .filter(|document| document.get("_aws").is_some())
        .filter(|document| {
            document
                .get(metrics::reconciler::STATUS_DIMENSION)
                .is_none()
        })
        .filter_map(|document| document[metric].as_u64())
        .sum()
}
