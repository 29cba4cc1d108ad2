//! A mixed run and its invariants: the real function binary, one long-lived process under
//! the local Runtime API, handed the events a fleet sends (every row of the status table,
//! duplicates, RUNNING events after their STOPPED one, index lookups, records already
//! settled or owned by another task, tasks that are no dispatch) in a seeded shuffled
//! order, each invoked asynchronously as EventBridge does (Lambda's retries included),
//! through the fault proxy. Afterwards the table, the function's answers and its EMF
//! metrics are held against what each dispatch should have become.
//!
//! What each dispatch should become is written here from the runbook's status table, not
//! taken from the function, so the run checks the function rather than repeating it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use contract::{metrics, resources, DispatchStatus};
use dispatch::record::{self, DispatchRecord};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde_json::Value;
use DispatchStatus::{Cancelled, Completed, Failed, Timeout};

use crate::events::TaskEvent;
use crate::faults::{Counts, FaultProxy};
use crate::runtime::{Delivery, FunctionProcess, InvocationError, Output, RuntimeApi, Stream};
use crate::table::TestTable;

/// The error types a fault may end an invocation in: AWS's throttling and server errors
/// and the SDK's transport failures, all of which a later delivery can get past. Any
/// other error (a validation error, a dispatch not found, a crash) is a bug here.
pub const TRANSIENT_ERRORS: [&str; 6] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "InternalServerError",
    "TimeoutError",
    "DispatchFailure",
    "ResponseError",
];

/// How big a run is and how it is shuffled.
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    /// At least this many events: dispatch stories are added until there are, each
    /// giving one to four events.
    pub events: usize,
    pub seed: u64,
}

/// What one dispatch record should be after the run.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expect {
    /// Settled by its task's STOPPED event, with this status and exit code.
    Settles {
        status: DispatchStatus,
        exit_code: Option<i64>,
        task_arn: String,
    },
    /// Left exactly as seeded: already terminal, or owned by another task.
    Unchanged,
}

/// The records to seed, the events to send, and what each record should become.
#[derive(Debug, Default)]
pub struct Scenario {
    records: Vec<DispatchRecord>,
    /// Each event, with the dispatch it concerns (if any).
    events: Vec<(Value, Option<String>)>,
    expect: BTreeMap<String, Expect>,
}

impl Scenario {
    /// Stories of the kinds below in turn, with seeded duplicates and RUNNING events,
    /// until there are `mix.events` events, all shuffled.
    pub fn new(mix: Mix) -> Scenario {
        let mut rng = StdRng::seed_from_u64(mix.seed);
        let mut scenario = Scenario::default();
        let mut index = 0;
        while scenario.events.len() < mix.events {
            scenario.story(index, &mut rng);
            index += 1;
        }
        scenario.events.shuffle(&mut rng);
        // The first event settles its dispatch, so a test that scripts faults for the
        // first write knows that write lands.
        let settles = scenario.events.iter().position(|(event, id)| {
            let stopped = event["detail"]["lastStatus"] == contract::ecs::STOPPED;
            let expect = id.as_ref().and_then(|id| scenario.expect.get(id));
            stopped && matches!(expect, Some(Expect::Settles { .. }))
        });
        if let Some(index) = settles {
            scenario.events.swap(0, index);
        }
        scenario
    }

    pub fn events(&self) -> usize {
        self.events.len()
    }

    pub fn records(&self) -> usize {
        self.records.len()
    }

    fn story(&mut self, index: usize, rng: &mut StdRng) {
        let id = format!("mix-{index:05}");
        let task = format!("arn:aws:ecs:us-east-1:123456789012:task/outpost/{index:032x}");
        let Some(story) = Story::of(index, &task) else {
            // Not a dispatch at all: no record, and none may be created.
            self.push_events(TaskEvent::stopped(&task), None, &task, rng);
            return;
        };
        self.records.push(story.record(&id));
        self.expect.insert(id.clone(), story.expect);
        let event = if story.named {
            story.event.dispatch_id(&id)
        } else {
            story.event
        };
        self.push_events(event, Some(id), &task, rng);
    }

    /// The STOPPED event, sometimes delivered twice or three times (EventBridge delivers
    /// at least once), and sometimes a RUNNING event for the same task, which the shuffle
    /// may put after the STOPPED one.
    fn push_events(&mut self, event: TaskEvent, id: Option<String>, task: &str, rng: &mut StdRng) {
        let copies = match rng.random_range(0..10) {
            0 => 3,
            1..=3 => 2,
            _ => 1,
        };
        let event = event.build();
        for _ in 0..copies {
            self.events.push((event.clone(), id.clone()));
        }
        if rng.random_bool(0.3) {
            let running = TaskEvent::stopped(task).last_status("RUNNING").build();
            self.events.push((running, id));
        }
    }
}

/// One dispatch's story: its record as seeded, the STOPPED event its task sends, and what
/// the record should become.
struct Story {
    event: TaskEvent,
    /// Whether the event names the dispatch; if not, the function finds it by task ARN.
    named: bool,
    /// The record's task ARN.
    owner: Option<String>,
    /// The record's status.
    status: &'static str,
    expect: Expect,
}

impl Story {
    /// The story of the `index`th dispatch, of the twelve kinds in turn; `None` for the
    /// twelfth, a task that is no dispatch at all.
    fn of(index: usize, task: &str) -> Option<Story> {
        let stopped = TaskEvent::stopped(task);
        let story = match index % 12 {
            row @ 0..=5 => {
                let (stop_code, reason, exit_code, status) = STATUS_TABLE[row];
                let event = stopped.stop_code(stop_code).stopped_reason(reason);
                // The event's worker container has exited 0 already.
                let event = match exit_code {
                    Some(0) => event,
                    _ => event.exit_code(exit_code),
                };
                Story::settles(event, task, status, exit_code)
            }
            // Found through the task ARN index: the event names no dispatch.
            6 => Story {
                named: false,
                ..Story::settles(stopped, task, Completed, Some(0))
            },
            7 => Story {
                named: false,
                ..Story::settles(stopped.exit_code(Some(137)), task, Failed, Some(137))
            },
            // The control plane has not written the task ARN yet.
            8 => Story {
                owner: None,
                status: "PENDING",
                ..Story::settles(stopped, task, Completed, Some(0))
            },
            // Already settled: a late or replayed event must change nothing.
            9 => Story {
                status: DispatchStatus::TERMINAL[index / 12 % 4].as_str(),
                ..Story::unchanged(stopped.exit_code(Some(1)), Some(task.to_owned()))
            },
            // The record belongs to another task (the dispatch was relaunched).
            10 => Story::unchanged(stopped, Some(format!("{task}-relaunched"))),
            _ => return None,
        };
        Some(story)
    }

    /// A RUNNING dispatch of `task` that `event` settles with `status` and `exit_code`.
    fn settles(
        event: TaskEvent,
        task: &str,
        status: DispatchStatus,
        exit_code: Option<i64>,
    ) -> Story {
        Story {
            event,
            named: true,
            owner: Some(task.to_owned()),
            status: contract::status::RUNNING,
            expect: Expect::Settles {
                status,
                exit_code,
                task_arn: task.to_owned(),
            },
        }
    }

    /// A RUNNING dispatch owned by `owner` that `event` must leave as it is.
    fn unchanged(event: TaskEvent, owner: Option<String>) -> Story {
        Story {
            event,
            named: true,
            owner,
            status: contract::status::RUNNING,
            expect: Expect::Unchanged,
        }
    }

    /// The record to seed, as the control plane writes it.
    fn record(&self, id: &str) -> DispatchRecord {
        let created_at = "2026-01-15T19:38:40Z";
        crate::table::launched(id, self.status, self.owner.as_deref(), created_at)
    }
}

/// The runbook's status table: how a task stopped (its stop code, its stopped reason, its
/// worker container's exit code, `None` for a container that never ran), and the status
/// its dispatch settles with, with that exit code.
pub(crate) const STATUS_TABLE: [(&str, &str, Option<i64>, DispatchStatus); 6] = [
    (EXITED, EXITED_REASON, Some(0), Completed),
    (EXITED, EXITED_REASON, Some(1), Failed),
    ("TaskFailedToStart", EXITED_REASON, None, Failed),
    ("UserInitiated", TIMED_OUT, Some(143), Timeout),
    ("UserInitiated", "Cancelled by user", Some(143), Cancelled),
    ("SpotInterruption", EXITED_REASON, Some(0), Failed),
];
/// The stop code and stopped reason of a task whose essential container exited.
const EXITED: &str = "EssentialContainerExited";
const EXITED_REASON: &str = "Essential container in task exited";
const TIMED_OUT: &str = "Dispatch timeout exceeded (3600s)";

/// What a mixed run did, and every invariant it broke (none, if the function is right).
#[derive(Debug, Default)]
pub struct Report {
    pub events: usize,
    /// Deliveries, Lambda's retries included.
    pub invocations: usize,
    /// Events whose last delivery failed: they would rest in the on-failure queue.
    pub parked: usize,
    /// Of those, the events whose write had landed anyway (a replay would skip them).
    pub parked_after_write: usize,
    /// Failed deliveries, by error type.
    pub errors: BTreeMap<String, u64>,
    pub faults: Counts,
    /// Dispatches whose STOPPED event was acknowledged, left in a non-terminal status.
    pub lost: Vec<String>,
    /// Records with a status or exit code other than the status table's, or changed
    /// although already terminal or owned by another task.
    pub wrong: Vec<String>,
    /// Records the run created.
    pub stray: Vec<String>,
    /// Dispatches whose `DispatchUpdatesSuccessful` is not exactly one per settle.
    pub miscount: Vec<String>,
    /// Errors no later delivery could get past.
    pub not_transient: Vec<String>,
    pub settled: usize,
    /// The function's resident memory after warm-up, at the end, and at its peak, in KiB.
    pub rss_kib: Option<(u64, u64, u64)>,
    pub elapsed: Duration,
}

impl Report {
    /// Each invariant, by name, with the lines that break it.
    fn invariants(&self) -> [(&str, &Vec<String>); 5] {
        [
            ("lost", &self.lost),
            ("wrong", &self.wrong),
            ("stray", &self.stray),
            ("miscount", &self.miscount),
            ("not transient", &self.not_transient),
        ]
    }

    /// Every broken invariant, one line each.
    pub fn violations(&self) -> Vec<String> {
        self.invariants()
            .into_iter()
            .flat_map(|(name, list)| list.iter().map(move |line| format!("{name}: {line}")))
            .collect()
    }

    /// A readable account of the run, for a test's failure message and the benchmarks.
    pub fn summary(&self) -> String {
        let (faults, requests) = (self.faults.total_faults(), self.faults.total_requests());
        let (events, parked, landed) = (self.events, self.parked, self.parked_after_write);
        let mut out = format!(
            "{events} events, {} deliveries, {} dispatches settled in {:.1} s\n\
             faults: {faults} of {requests} DynamoDB requests ({:.1} %)\n",
            self.invocations,
            self.settled,
            self.elapsed.as_secs_f64(),
            100.0 * faults as f64 / requests.max(1) as f64
        );
        for ((operation, kind), count) in &self.faults.faults {
            let _ = writeln!(out, "  {operation} {kind}: {count}");
        }
        let share = 100.0 * parked as f64 / events.max(1) as f64;
        let _ = writeln!(
            out,
            "parked: {parked} of {events} events ({share:.2} %), {landed} of them after their write landed"
        );
        for (error, count) in &self.errors {
            let _ = writeln!(out, "  failed delivery {error}: {count}");
        }
        let counts = self.invariants();
        let counts = counts.map(|(name, list)| format!("{name} {}", list.len()));
        let _ = writeln!(out, "{}", counts.join(" / "));
        if let Some((start, end, peak)) = self.rss_kib {
            let _ = writeln!(
                out,
                "RSS: {start} KiB after warm-up, {end} KiB at the end, peak {peak} KiB"
            );
        }
        out
    }
}

/// Seeds `scenario` into `table`, starts `binary` against it through `proxy`, sends every
/// event asynchronously, and checks the invariants. `proxy` decides the faults.
pub async fn run(
    binary: &Path,
    table: &TestTable,
    proxy: &FaultProxy,
    scenario: &Scenario,
) -> Report {
    table.put_records(&scenario.records).await;
    let api = RuntimeApi::start(resources::FUNCTION).expect("start the Runtime API");
    let env: Vec<(String, String)> = crate::template::function_environment()
        .into_iter()
        .chain(proxy.env(&table.server))
        // Warnings and errors only, as a busy fleet would log; the metrics are EMF lines.
        .chain([("AWS_LAMBDA_LOG_LEVEL".to_owned(), "WARN".to_owned())])
        .collect();
    let function = FunctionProcess::spawn(binary, &api, &env, Output::Capture)
        .expect("start the function binary");
    let retries = crate::template::async_retry_attempts(resources::FUNCTION);

    // The function's resident memory now (`VmRSS:`), or at its peak so far (`VmHWM:`).
    let memory = |field| proc_status_kib(function.pid()?, field);
    let started = Instant::now();
    let warm = scenario.events.len().min(100);
    let mut rss_start = None;
    let mut deliveries = Vec::with_capacity(scenario.events.len());
    for (index, (event, id)) in scenario.events.iter().enumerate() {
        if index == warm {
            rss_start = memory("VmRSS:");
        }
        let delivery = api.invoke_async(event.clone(), retries).await;
        deliveries.push((delivery, event, id.clone()));
    }
    let (rss_end, peak) = (memory("VmRSS:"), memory("VmHWM:"));
    let elapsed = started.elapsed();
    proxy.quiet().await;
    let (_, output) = function.stop().await;

    let mut report = Report {
        events: scenario.events.len(),
        invocations: deliveries.iter().map(|(d, _, _)| d.attempts.len()).sum(),
        faults: proxy.counts(),
        elapsed,
        rss_kib: match (rss_start.or(rss_end), rss_end, peak) {
            (Some(start), Some(end), Some(peak)) => Some((start, end, peak)),
            _ => None,
        },
        ..Report::default()
    };
    let successes = successes_by_dispatch(&output);
    check(
        &mut report,
        scenario,
        &deliveries,
        &successes,
        table.records().await,
    );
    report
}

/// What the function answered, over every delivery.
#[derive(Default)]
struct Answers<'a> {
    /// The request IDs of the deliveries it acknowledged.
    acknowledged: HashSet<&'a str>,
    /// The request IDs of the deliveries whose last attempt failed.
    parked: HashSet<&'a str>,
    /// How many times it answered "updated", by dispatch ID.
    updates: HashMap<&'a str, u64>,
    /// The dispatches whose STOPPED event it acknowledged.
    stopped_acknowledged: HashSet<&'a str>,
}

/// Holds the table, the answers and the metrics against the scenario.
fn check(
    report: &mut Report,
    scenario: &Scenario,
    deliveries: &[(Delivery, &Value, Option<String>)],
    successes: &HashMap<String, u64>,
    after: HashMap<String, DispatchRecord>,
) {
    let answers = answers(report, deliveries);
    let seeded: HashMap<&str, &DispatchRecord> = scenario
        .records
        .iter()
        .map(|record| (record.dispatch_id.as_str(), record))
        .collect();
    for id in after.keys() {
        if !seeded.contains_key(id.as_str()) {
            report.stray.push(id.clone());
        }
    }
    for (id, expect) in &scenario.expect {
        let Some(record) = after.get(id) else {
            report.wrong.push(format!("{id}: the record is gone"));
            continue;
        };
        let counted = successes.get(id).copied().unwrap_or(0);
        let answered = answers.updates.get(id.as_str()).copied().unwrap_or(0);
        if counted != answered {
            report.miscount.push(format!(
                "{id}: {counted} DispatchUpdatesSuccessful for {answered} updates answered"
            ));
        }
        match expect {
            // Already terminal or another task's: exactly as seeded, never counted.
            Expect::Unchanged => {
                let before = seeded[id.as_str()];
                if record != before {
                    let changed = changes(before, record);
                    report.wrong.push(format!("{id}: changed {changed}"));
                }
                if counted != 0 {
                    let wrong = format!("{id}: counted {counted} updates, expected none");
                    report.miscount.push(wrong);
                }
            }
            Expect::Settles {
                status,
                exit_code,
                task_arn,
            } => {
                let settle = (*status, *exit_code, task_arn.as_str());
                check_settled(report, id, settle, record, counted, &answers);
            }
        }
    }
}

/// Tallies the answers, and counts each failed delivery's error in `report`: by type, and
/// as not transient when no later delivery could get past it.
fn answers<'a>(
    report: &mut Report,
    deliveries: &'a [(Delivery, &Value, Option<String>)],
) -> Answers<'a> {
    let mut answers = Answers::default();
    for (delivery, event, id) in deliveries {
        for error in delivery.errors() {
            let kind = match error {
                InvocationError::Function { error_type, .. } => error_type.clone(),
                other => format!("{other}"),
            };
            *report.errors.entry(kind.clone()).or_default() += 1;
            if !TRANSIENT_ERRORS.contains(&kind.as_str()) {
                report
                    .not_transient
                    .push(format!("{}: {error}", delivery.request_id));
            }
        }
        let Some(response) = delivery.response() else {
            answers.parked.insert(&delivery.request_id);
            report.parked += 1;
            continue;
        };
        answers.acknowledged.insert(&delivery.request_id);
        if response["result"] == "updated" {
            let id = response["dispatchId"].as_str().unwrap_or_default();
            *answers.updates.entry(id).or_default() += 1;
        }
        let stopped = event["detail"]["lastStatus"] == contract::ecs::STOPPED;
        if let (true, Some(id)) = (stopped, id) {
            answers.stopped_acknowledged.insert(id);
        }
    }
    answers
}

/// A record its task's STOPPED event settles: settled if that event was acknowledged,
/// with the status table's status and exit code, by a known delivery, counted once.
fn check_settled(
    report: &mut Report,
    id: &str,
    (expected, exit_code, task_arn): (DispatchStatus, Option<i64>, &str),
    record: &DispatchRecord,
    counted: u64,
    answers: &Answers,
) {
    let status = record.status.as_deref().unwrap_or("");
    if !DispatchStatus::is_terminal(status) {
        if answers.stopped_acknowledged.contains(id) {
            report.lost.push(format!("{id}: still {status}"));
        }
        if counted != 0 {
            let never = format!("{id}: counted {counted}, never settled");
            report.miscount.push(never);
        }
        return;
    }
    report.settled += 1;
    let exit = record.exit_code;
    let owner = record.task_arn.as_deref();
    if status != expected.as_str() || exit != exit_code || owner != Some(task_arn) {
        report.wrong.push(format!(
            "{id}: {status} exit {exit:?} task {owner:?}, expected {expected} exit {exit_code:?}"
        ));
    }
    // The write that settled it carries its delivery's request ID: an acknowledged
    // delivery's write is counted once, a parked one's never (its process failed after it).
    let writer = record.update_request_id.as_deref().unwrap_or_default();
    let (expected_count, delivery) = if answers.acknowledged.contains(writer) {
        (1, "acknowledged")
    } else if answers.parked.contains(writer) {
        report.parked_after_write += 1;
        (0, "parked")
    } else {
        let unknown = format!("{id}: written by unknown request {writer:?}");
        report.wrong.push(unknown);
        return;
    };
    if counted != expected_count {
        report.miscount.push(format!(
            "{id}: {counted} DispatchUpdatesSuccessful, expected {expected_count} \
             (write by {writer}, {delivery})"
        ));
    }
}

/// The attributes that differ between two versions of a record, in name order, each
/// shown as its text.
fn changes(before: &DispatchRecord, after: &DispatchRecord) -> String {
    let (before, after) = (before.attributes(), after.attributes());
    let names: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let changed = names
        .into_iter()
        .filter(|name| before.get(*name) != after.get(*name));
    let described = changed.map(|name| {
        let value = |attributes: &BTreeMap<String, record::Value>| {
            attributes
                .get(name)
                .map_or("-".to_owned(), |v| format!("{:?}", v.to_text()))
        };
        format!("{name}: {} -> {}", value(&before), value(&after))
    });
    described.collect::<Vec<_>>().join(", ")
}

/// `DispatchUpdatesSuccessful` by dispatch ID, from the function's EMF lines.
fn successes_by_dispatch(output: &[crate::runtime::OutputLine]) -> HashMap<String, u64> {
    let stdout = output.iter().filter(|line| line.stream == Stream::Stdout);
    let documents = stdout.filter_map(|line| serde_json::from_str::<Value>(&line.line).ok());
    let mut successes = HashMap::new();
    for document in documents.filter(|document| document.get("_aws").is_some()) {
        let count = document[metrics::UPDATES_SUCCESSFUL].as_u64().unwrap_or(0);
        if let (Some(id), true) = (document["dispatchId"].as_str(), count > 0) {
            *successes.entry(id.to_owned()).or_default() += count;
        }
    }
    successes
}

/// A memory `field` of a process's status in `/proc` (Linux), in KiB.
fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_is_the_same_for_the_same_seed_and_covers_every_story() {
        let mix = Mix {
            events: 100,
            seed: 7,
        };
        let (one, two) = (Scenario::new(mix), Scenario::new(mix));
        assert_eq!(one.events, two.events);
        assert!((100..104).contains(&one.events()), "{}", one.events());
        // 11 of every 12 stories have a record.
        assert!(one.records() > 40);
        let statuses: HashSet<_> = one
            .expect
            .values()
            .filter_map(|expect| match expect {
                Expect::Settles { status, .. } => Some(*status),
                Expect::Unchanged => None,
            })
            .collect();
        assert_eq!(statuses.len(), 4, "every terminal status is reached");
        let running = one
            .events
            .iter()
            .filter(|(event, _)| event["detail"]["lastStatus"] == "RUNNING");
        assert!(running.count() > 0);
        let (first, id) = &one.events[0];
        assert_eq!(first["detail"]["lastStatus"], "STOPPED");
        let expect = &one.expect[id.as_ref().unwrap()];
        assert!(matches!(expect, Expect::Settles { .. }));
    }
}
