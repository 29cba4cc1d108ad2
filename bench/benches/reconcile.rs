//! The reconciler run after run over a fleet of non-terminal dispatches: the requests
//! each run makes, by API, its time and the memory it takes, and the runs until every
//! lost event is healed.
//!
//!   cargo bench --workspace --bench reconcile -- [--dispatches 1000,10000,100000] [--runs R]
//!       [--stops 100000]
//!
//! For each size N, a fresh table in moto's DynamoDB holds N RUNNING dispatches created
//! 90 to 30 minutes before the first run, evenly spread, their index order mixing:
//!
//! - 98% whose tasks run;
//! - 1% whose tasks stopped 20 to 12 minutes before the first run (past the grace
//!   period) without their STOPPED event reaching the callback: the lost events, exit
//!   code 0 and 1 in turn (COMPLETED and FAILED);
//! - 1% that cannot be settled: half name no task (the sweep reports them, never settles
//!   them), half whose task ECS answers with a failure other than `MISSING` (unchecked,
//!   asked again the next cycle).
//!
//! ECS is `testkit::ecs_api`, an ECS API that answers as ECS does (pages of 100, stop
//! times, an hour's memory of stopped tasks, failure reasons), on a clock the benchmark
//! moves: moto's ECS places tasks on container instances with room for a few, keeps no
//! stop times and never forgets a stop, so it cannot hold 100,000 running tasks. The runs
//! are the library's `reconcile::run::run`, in process, with the deployed defaults (every
//! 5 minutes, a 60-minute sweep, a 10-minute grace, the status index read 500 a page),
//! one every 5 minutes of that clock: R runs (default: a sweep period's 12, and 2 more,
//! into the second cycle).
//!
//! With `--stops S`, one more run for each S: S tasks that stopped 59 to 11 minutes
//! before it and whose events all arrived (their dispatches settled), nothing running.
//! ECS lists every one, and every run of the hour reads them all again: the stopped
//! path's cost at S stops.
//!
//! Requests, times and memory are figures to read. What the reconciler promises is
//! checked, and the benchmark fails without it: every lost event healed within two runs,
//! to the status its exit code gives; nothing else settled; and, when R covers a sweep
//! period, every dispatch with a task asked of ECS within every sweep period and every
//! dispatch without one reported within the first; at S stops, nothing settled again.
//! The memory figures are the rise of this process's resident memory (`VmHWM` after
//! `/proc/self/clear_refs`) over a run: the stand-in answers in this process too, moto
//! does not.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::time::{Duration as Elapsed, Instant};

use chrono::{DateTime, Duration, Utc};
use contract::env::reconciler::WATCHED_CLUSTER;
use contract::status::RUNNING;
use dispatch::record::DispatchRecord;
use dispatch::timefmt::record_timestamp;
use dispatch_aws::sdk::{self, Caller};
use dispatch_aws::status_index::PAGE_SIZE;
use dispatch_aws::table::DynamoStore;
use reconcile::config::Settings;
use reconcile::run::{run, Deps, Report};
use testkit::ecs_api::{Fleet, Served, Stop, Task};
use testkit::server::{ACCOUNT, REGION};
use testkit::table::{launched, TestTable};

const CLUSTER: &str = "outpost-dev";
/// The failure ECS answers for the tasks whose dispatches cannot be settled.
const NOT_MISSING: &str = "INTERNAL_ERROR";

fn main() {
    let [sizes, runs, stops] = bench::list_options([
        ("dispatches", &[1_000, 10_000, 100_000]),
        ("runs", &[0]),
        ("stops", &[]),
    ]);
    let runs = runs.first().copied().unwrap_or(0);
    let (measured, stops): (Vec<Measured>, Vec<StopsMeasured>) = bench::block_on(async {
        let mut measured = Vec::new();
        for &size in &sizes {
            let one = measure(size.max(100), runs).await;
            one.print_runs();
            measured.push(one);
        }
        let mut by_stops = Vec::new();
        for &count in stops.iter().filter(|&&count| count > 0) {
            by_stops.push(measure_stops(count).await);
        }
        (measured, by_stops)
    });
    print_summary(&measured);
    print_stops(&stops);
    for one in &measured {
        one.check();
    }
    for one in &stops {
        one.check();
    }
}

/// What a dispatch is, for the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Running,
    /// Its task stopped, its event lost: exit code 0 or 1.
    Lost(i64),
    /// It names no task.
    NoTask,
    /// ECS answers its task with a failure other than `MISSING`.
    EcsFails,
}

/// The kind of the `i`-th dispatch, oldest first: one in a hundred lost, one in a
/// hundred that cannot be settled (no task and ECS failing in turn), the rest running.
fn kind(i: usize) -> Kind {
    match (i % 100, (i / 100) % 2) {
        (0, code) => Kind::Lost(code as i64),
        (50, 0) => Kind::NoTask,
        (50, _) => Kind::EcsFails,
        _ => Kind::Running,
    }
}

/// One run's figures.
struct RunFigures {
    /// Minutes after the first run.
    at: i64,
    report: Report,
    dynamodb: BTreeMap<String, u64>,
    ecs: BTreeMap<String, u64>,
    time: Elapsed,
    /// The most the process's resident memory rose above where it stood before the run.
    rss_rise_kib: Option<u64>,
}

/// When a task was asked of ECS, by run.
#[derive(Clone, Copy, Debug, Default)]
struct Asked {
    first: usize,
    last: usize,
    /// The most runs in a row it went unasked, between two asks.
    gap: usize,
}

/// One size's figures and what its checks found.
struct Measured {
    size: usize,
    counts: BTreeMap<&'static str, usize>,
    seeding: Elapsed,
    runs_per_period: usize,
    runs: Vec<RunFigures>,
    /// The run that settled the last lost event.
    healed_in: Option<usize>,
    /// Lost events settled to another status than their exit code gives, or never.
    wrong: Vec<String>,
    /// Dispatches settled that had not lost their event.
    stray: Vec<String>,
    /// The most runs in a row some dispatch's task went unasked (from the start, between
    /// asks, to the end), and how many were never asked.
    longest_unasked: usize,
    never_asked: usize,
    /// `no_task` reported over the first sweep period.
    no_task_reported: usize,
    rss_before_kib: Option<u64>,
    /// Left behind: RUNNING dispatches, and the sweep's place.
    left_running: u64,
    place: String,
    /// The stored lost dispatches, read back after the runs: their statuses.
    lost_statuses: BTreeMap<String, usize>,
}

/// The fleet and the table a size's runs start from.
struct Seeded {
    table: TestTable,
    fleet: Fleet,
    /// The fleet's ECS API, served while the runs ask it.
    served: Served,
    counts: BTreeMap<&'static str, usize>,
    seeding: Elapsed,
    /// The lost dispatches, each with the status its exit code gives.
    expected: HashMap<String, &'static str>,
    /// The tasks the runs must ask ECS about: every one a dispatch names but the lost.
    watched_tasks: Vec<String>,
}

/// Seeds `size` dispatches created 90 to 30 minutes before `first_run`, evenly spread,
/// their kinds mixed ([`kind`]), and stops the lost ones' tasks 20 to 12 minutes before
/// it; the fleet's clock is then at `first_run`.
async fn seed(size: usize, first_run: DateTime<Utc>) -> Seeded {
    // moto answers a `Query` over 100,000 items in about a second, a Lambda call's budget
    // (3 s an attempt) would still hold; DynamoDB itself answers in milliseconds. The
    // person's budget keeps moto's pace from failing a run.
    let table = TestTable::new(sdk::loader(Caller::Person)).await;
    let fleet = Fleet::new(REGION, ACCOUNT, first_run - Duration::minutes(90));
    fleet.create_cluster(CLUSTER);
    let served = fleet.serve().expect("the ECS stand-in");

    let seeding = Instant::now();
    let step = Duration::microseconds(3_600_000_000 / size as i64);
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut expected = HashMap::new();
    let mut lost_arns = Vec::new();
    let mut watched_tasks = Vec::new();
    let mut records = Batches::new(&table);
    for i in 0..size {
        fleet.advance(step);
        let dispatch = format!("bench-{i:06}");
        let created = record_timestamp(fleet.now());
        let kind = kind(i);
        let arn =
            (kind != Kind::NoTask).then(|| fleet.launch(Task::for_dispatch(CLUSTER, &dispatch)));
        let counted = match (kind, &arn) {
            (Kind::Lost(code), Some(arn)) => {
                let status = if code == 0 { "COMPLETED" } else { "FAILED" };
                expected.insert(dispatch.clone(), status);
                lost_arns.push((arn.clone(), code));
                "lost"
            }
            (Kind::EcsFails, Some(arn)) => {
                fleet.fail(arn, NOT_MISSING);
                watched_tasks.push(arn.clone());
                "ecs fails"
            }
            (Kind::Running, Some(arn)) => {
                watched_tasks.push(arn.clone());
                "running"
            }
            _ => "no task",
        };
        *counts.entry(counted).or_default() += 1;
        records
            .push(launched(&dispatch, RUNNING, arn.as_deref(), &created))
            .await;
    }
    records.flush().await;
    fleet.advance(first_run - Duration::minutes(20) - fleet.now());
    let stop_step = Duration::minutes(8) / (lost_arns.len().max(1) as i32);
    for (arn, code) in &lost_arns {
        fleet.advance(stop_step);
        fleet.stop(arn, &Stop::worker_exited(*code));
    }
    fleet.advance(first_run - fleet.now());
    let seeding = seeding.elapsed();
    eprintln!(
        "reconcile bench: {} dispatches seeded in {:.1} s",
        thousands(size),
        seeding.as_secs_f64()
    );
    Seeded {
        table,
        fleet,
        served,
        counts,
        seeding,
        expected,
        watched_tasks,
    }
}

/// Records written 25 to a `BatchWriteItem`, as the seeding makes them.
struct Batches<'a> {
    table: &'a TestTable,
    chunk: Vec<DispatchRecord>,
}

impl<'a> Batches<'a> {
    fn new(table: &'a TestTable) -> Self {
        Batches {
            table,
            chunk: Vec::with_capacity(25),
        }
    }

    async fn push(&mut self, record: DispatchRecord) {
        self.chunk.push(record);
        if self.chunk.len() == 25 {
            self.flush().await;
        }
    }

    async fn flush(&mut self) {
        if !self.chunk.is_empty() {
            self.table.put_records(&self.chunk).await;
            self.chunk.clear();
        }
    }
}

/// The reconciler's settings as deployed, watching the fleet's cluster.
fn settings_for(fleet: &Fleet) -> Settings {
    let watched = fleet.cluster_arn(CLUSTER);
    Settings::from_lookup(|name| (name == WATCHED_CLUSTER.name).then(|| watched.clone()))
        .expect("the reconciler's settings")
}

/// The run's dependencies: the table's client and the fleet's ECS API.
async fn deps_for(table: &TestTable, fleet: &Fleet, served: &Served) -> Deps {
    let ecs = testkit::ecs_api::client(sdk::loader(Caller::Lambda), served).await;
    Deps::new(table.client.clone(), ecs, settings_for(fleet))
}

/// One run of the reconciler at the fleet's time, with its time and how far it raised
/// this process's resident memory.
async fn timed_run(deps: &Deps, name: &str, fleet: &Fleet) -> (Report, Elapsed, Option<u64>) {
    reset_peak_rss();
    let rss_at_start = proc_status_kib("VmRSS");
    let started = Instant::now();
    let far = Instant::now() + Elapsed::from_secs(3_600);
    let report = run(deps, name, fleet.now(), far)
        .await
        .unwrap_or_else(|err| panic!("{name}: {err}"));
    let time = started.elapsed();
    let rise = proc_status_kib("VmHWM")
        .zip(rss_at_start)
        .map(|(peak, start)| peak.saturating_sub(start));
    (report, time, rise)
}

/// The ECS requests by API since `before`, the fleet's counts then; non-zero only.
fn calls_since(fleet: &Fleet, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    fleet
        .calls()
        .into_iter()
        .map(|(api, n)| {
            let since = n - before.get(&api).copied().unwrap_or(0);
            (api, since)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// What the runs have done so far, against what they promise.
struct Tally {
    /// When each watched task was asked of ECS.
    asked: HashMap<String, Asked>,
    /// The lost dispatches not settled yet.
    lost: BTreeSet<String>,
    /// Lost events settled to another status than their exit code gives, or never.
    wrong: Vec<String>,
    /// Dispatches settled that had not lost their event.
    stray: Vec<String>,
    /// The run that settled the last lost event.
    healed_in: Option<usize>,
}

impl Tally {
    fn new(seeded: &Seeded) -> Tally {
        Tally {
            asked: seeded
                .watched_tasks
                .iter()
                .map(|arn| (arn.clone(), Asked::default()))
                .collect(),
            lost: seeded.expected.keys().cloned().collect(),
            wrong: Vec::new(),
            stray: Vec::new(),
            healed_in: None,
        }
    }

    /// Run `number` asked ECS about `described`, and settled what `report` lists.
    fn note(
        &mut self,
        number: usize,
        described: impl IntoIterator<Item = String>,
        report: &Report,
        expected: &HashMap<String, &'static str>,
    ) {
        for arn in described {
            if let Some(seen) = self.asked.get_mut(&arn) {
                let since = if seen.first == 0 { 0 } else { seen.last };
                seen.gap = seen.gap.max(number - since - 1);
                seen.first = if seen.first == 0 { number } else { seen.first };
                seen.last = number;
            }
        }
        for settled in &report.dispatches {
            match expected.get(settled.dispatch_id.as_str()) {
                Some(status) if self.lost.remove(&settled.dispatch_id) => {
                    if settled.status != *status {
                        self.wrong
                            .push(format!("{} {}", settled.dispatch_id, settled.status));
                    }
                }
                _ => self.stray.push(settled.dispatch_id.clone()),
            }
        }
        if self.lost.is_empty() && self.healed_in.is_none() {
            self.healed_in = Some(number);
        }
    }

    /// The most runs in a row some watched task went unasked (from the start, between
    /// asks, to the end) over `runs` runs, and how many were never asked.
    fn unasked(&self, runs: usize) -> (usize, usize) {
        let longest = self
            .asked
            .values()
            .map(|seen| match seen.first {
                0 => runs,
                first => (first - 1).max(seen.gap).max(runs - seen.last),
            })
            .max()
            .unwrap_or(0);
        let never = self.asked.values().filter(|seen| seen.first == 0).count();
        (longest, never)
    }
}

/// What the runs leave behind: the dispatches still RUNNING, the sweep's place, and the
/// lost dispatches' stored statuses (each one that is not its expected status, or cannot
/// be read, is added to `wrong`).
struct LeftBehind {
    left_running: u64,
    place: String,
    lost_statuses: BTreeMap<String, usize>,
}

async fn left_behind(
    deps: &Deps,
    seeded: &Seeded,
    first_run: DateTime<Utc>,
    wrong: &mut Vec<String>,
) -> LeftBehind {
    let now = seeded.fleet.now();
    let left_running = deps
        .index
        .count(RUNNING, now + Duration::days(1))
        .await
        .expect("a count of the RUNNING dispatches");
    let cursor = deps
        .cursors
        .load(RUNNING, now)
        .await
        .expect("the sweep's place");
    let place = format!(
        "{} walked of this cycle (begun {} min after the first run), the last whole cycle {}, version {}",
        thousands(cursor.cycle_walked as usize),
        (cursor.cycle_started - first_run).num_minutes(),
        cursor
            .last_cycle
            .map_or("not yet".to_owned(), |n| thousands(n as usize)),
        cursor.version
    );
    let store = DynamoStore::new(
        seeded.table.client.clone(),
        &deps.settings.table_name,
        &deps.settings.task_arn_index,
    );
    let ids: Vec<String> = seeded.expected.keys().cloned().collect();
    let mut lost_statuses = BTreeMap::new();
    let read = store.get_many(&ids).await;
    for record in &read.records {
        let status = record.status.clone().unwrap_or_default();
        if Some(status.as_str()) != seeded.expected.get(record.dispatch_id.as_str()).copied() {
            wrong.push(format!("{} stored as {status}", record.dispatch_id));
        }
        *lost_statuses.entry(status).or_default() += 1;
    }
    if read.records.len() != ids.len() {
        wrong.push(format!(
            "{} of the lost dispatches could not be read back",
            ids.len() - read.records.len()
        ));
    }
    LeftBehind {
        left_running,
        place,
        lost_statuses,
    }
}

/// Seeds `size` dispatches and runs the reconciler `runs` times (0: a sweep period and
/// two more), one every `every` minutes of the fleet's clock.
async fn measure(size: usize, runs: usize) -> Measured {
    let first_run: DateTime<Utc> = "2026-01-15T12:00:00Z".parse().expect("a time");
    let seeded = seed(size, first_run).await;
    let (table, fleet) = (&seeded.table, &seeded.fleet);
    let deps = deps_for(table, fleet, &seeded.served).await;
    let every = deps.settings.every;
    let runs_per_period =
        usize::try_from(deps.settings.sweep.num_minutes() / every.num_minutes()).unwrap_or(1);
    let runs = if runs == 0 { runs_per_period + 2 } else { runs };

    let mut tally = Tally::new(&seeded);
    let mut figures = Vec::new();
    fleet.record_described();
    table.server.request_counts(true);
    let rss_before_kib = proc_status_kib("VmRSS");
    for number in 1..=runs {
        let ecs_before = fleet.calls();
        let name = format!("bench-run-{number}");
        let (report, time, rss_rise_kib) = timed_run(&deps, &name, fleet).await;
        eprintln!(
            "reconcile bench: {} dispatches, run {number} of {runs}: {:.1} s",
            thousands(size),
            time.as_secs_f64()
        );
        tally.note(
            number,
            fleet.take_described().into_keys(),
            &report,
            &seeded.expected,
        );
        figures.push(RunFigures {
            at: (number as i64 - 1) * every.num_minutes(),
            report,
            dynamodb: moto_counts(&table.server.request_counts(true)),
            ecs: calls_since(fleet, &ecs_before),
            time,
            rss_rise_kib,
        });
        fleet.advance(every);
    }
    let never_settled = tally.lost.iter().map(|id| format!("{id} never settled"));
    tally.wrong.extend(never_settled.collect::<Vec<_>>());
    let (longest_unasked, never_asked) = tally.unasked(runs);
    let no_task_reported = figures
        .iter()
        .take(runs_per_period)
        .map(|run| run.report.no_task)
        .sum();
    let left = left_behind(&deps, &seeded, first_run, &mut tally.wrong).await;

    Measured {
        size,
        counts: seeded.counts,
        seeding: seeded.seeding,
        runs_per_period,
        runs: figures,
        healed_in: tally.healed_in,
        wrong: tally.wrong,
        stray: tally.stray,
        longest_unasked,
        never_asked,
        no_task_reported,
        rss_before_kib,
        left_running: left.left_running,
        place: left.place,
        lost_statuses: left.lost_statuses,
    }
}

impl Measured {
    fn count(&self, kind: &str) -> usize {
        self.counts.get(kind).copied().unwrap_or(0)
    }

    /// The dispatches the sweep has to examine each cycle: all but the lost, once healed.
    fn remaining(&self) -> usize {
        self.size - self.count("lost")
    }

    /// The reconciler's promises; panics (the benchmark fails) on a broken one.
    fn check(&self) {
        let size = thousands(self.size);
        assert!(
            self.healed_in.is_some_and(|run| run <= 2),
            "at {size}: lost events not healed within two runs (healed in run {:?})",
            self.healed_in
        );
        assert!(
            self.wrong.is_empty(),
            "at {size}: lost events settled wrong: {:?}",
            self.wrong
        );
        assert!(
            self.stray.is_empty(),
            "at {size}: dispatches settled that had lost no event: {:?}",
            self.stray
        );
        if self.runs.len() >= self.runs_per_period {
            assert!(
                self.never_asked == 0 && self.longest_unasked < self.runs_per_period,
                "at {size}: a dispatch's task went {} runs in a row unasked ({} never asked); \
                 a sweep period is {} runs",
                self.longest_unasked,
                self.never_asked,
                self.runs_per_period
            );
            assert!(
                self.no_task_reported >= self.count("no task"),
                "at {size}: {} dispatches name no task, {} reported over a sweep period",
                self.count("no task"),
                self.no_task_reported
            );
        }
    }

    /// The run that ended the sweep's first cycle.
    fn first_cycle_ends(&self) -> Option<usize> {
        let ended = |run: &RunFigures| run.report.sweep.iter().any(|s| s.cycle_ended);
        self.runs.iter().position(ended).map(|index| index + 1)
    }

    /// Every API any run called, DynamoDB's then ECS's.
    fn apis(&self) -> (BTreeSet<String>, BTreeSet<String>) {
        let dynamodb = self
            .runs
            .iter()
            .flat_map(|run| run.dynamodb.keys().cloned());
        let ecs = self.runs.iter().flat_map(|run| run.ecs.keys().cloned());
        (dynamodb.collect(), ecs.collect())
    }

    /// Every run, as a Markdown table.
    fn print_runs(&self) {
        let (dynamodb, ecs) = self.apis();
        println!(
            "\n### {} dispatches: {} running, {} lost events, {} that cannot be settled \
             ({} with no task, {} that ECS answers {NOT_MISSING})\n",
            thousands(self.size),
            thousands(self.count("running")),
            thousands(self.count("lost")),
            thousands(self.count("no task") + self.count("ecs fails")),
            thousands(self.count("no task")),
            thousands(self.count("ecs fails")),
        );
        println!(
            "Seeded in {:.1} s (moto `BatchWriteItem`, 25 a call). The sweep's share is at \
             least ⌈{} / {}⌉ = {} a run.\n",
            self.seeding.as_secs_f64(),
            thousands(self.remaining()),
            self.runs_per_period - 1,
            thousands(self.remaining().div_ceil(self.runs_per_period - 1).max(500)),
        );
        let mut head =
            String::from("| run | min | stops listed | settled | share | walked | cycle |");
        for api in dynamodb.iter().chain(&ecs) {
            let _ = write!(head, " {api} |");
        }
        head.push_str(
            " Query beyond ⌈walked/500⌉ | ⌈stops/100⌉ + ⌈walked/100⌉ | still running | \
             unchecked | no task | errors | time | RSS rise |",
        );
        println!("{head}");
        println!("|{}", "---|".repeat(head.matches(" |").count()));
        for (index, run) in self.runs.iter().enumerate() {
            let report = &run.report;
            let sweep = report.sweep.first().cloned().unwrap_or_default();
            let mut row = format!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                index + 1,
                run.at,
                thousands(report.stopped_tasks),
                thousands(report.settled_total()),
                thousands(sweep.share),
                thousands(sweep.walked),
                if sweep.cycle_ended { "ended" } else { "" },
            );
            for api in &dynamodb {
                let _ = write!(row, " {} |", thousands(count(&run.dynamodb, api)));
            }
            for api in &ecs {
                let _ = write!(row, " {} |", thousands(count(&run.ecs, api)));
            }
            let sweep_pages = sweep.walked.div_ceil(PAGE_SIZE).max(1);
            let _ = write!(
                row,
                " {} | {} | {} | {} | {} | {} | {:.2} s | {} |",
                thousands(count(&run.dynamodb, "Query").saturating_sub(sweep_pages)),
                thousands(report.stopped_tasks.div_ceil(100) + sweep.walked.div_ceil(100)),
                thousands(report.still_running),
                thousands(report.unchecked),
                thousands(report.no_task),
                report.errors.len(),
                run.time.as_secs_f64(),
                mib(run.rss_rise_kib),
            );
            println!("{row}");
        }
        let errors: BTreeSet<&String> = self.runs.iter().flat_map(|r| &r.report.errors).collect();
        for error in errors.iter().take(5) {
            println!("\nerror: {error}");
        }
    }
}

/// One run with `count` tasks stopped in the last hour, whose events all arrived.
struct StopsMeasured {
    count: usize,
    seeding: Elapsed,
    report: Report,
    dynamodb: BTreeMap<String, u64>,
    ecs: BTreeMap<String, u64>,
    time: Elapsed,
    rss_before_kib: Option<u64>,
    rss_rise_kib: Option<u64>,
    /// What answering one `ListTasks` page raises the stand-in's memory by.
    stand_in_page_kib: Option<u64>,
}

impl StopsMeasured {
    fn check(&self) {
        let report = &self.report;
        assert!(
            report.settled_total() == 0 && report.already_settled == self.count,
            "{} stops already settled: the run settled {} and read {} as settled",
            thousands(self.count),
            report.settled_total(),
            report.already_settled
        );
    }
}

/// The stopped path at `count` stops: `count` dispatches settled by their own events,
/// their tasks stopped 59 to 11 minutes before the run (ECS lists every one), and nothing
/// running. Every run of the hour reads them all again.
async fn measure_stops(count: usize) -> StopsMeasured {
    let table = TestTable::new(sdk::loader(Caller::Person)).await;
    let run_at: DateTime<Utc> = "2026-01-15T12:00:00Z".parse().expect("a time");
    let fleet = Fleet::new(REGION, ACCOUNT, run_at - Duration::minutes(59));
    fleet.create_cluster(CLUSTER);
    let served = fleet.serve().expect("the ECS stand-in");
    let seeding = Instant::now();
    let step = Duration::microseconds(48 * 60_000_000 / count as i64);
    let mut records = Batches::new(&table);
    for i in 0..count {
        let dispatch = format!("stopped-{i:06}");
        let created = record_timestamp(fleet.now() - Duration::minutes(30));
        let arn = fleet.launch(Task::for_dispatch(CLUSTER, &dispatch));
        fleet.stop(&arn, &Stop::worker_exited(0));
        records
            .push(launched(&dispatch, "COMPLETED", Some(&arn), &created))
            .await;
        fleet.advance(step);
    }
    records.flush().await;
    fleet.advance(run_at - fleet.now());
    let seeding = seeding.elapsed();
    eprintln!(
        "reconcile bench: {} stopped tasks seeded in {:.1} s",
        thousands(count),
        seeding.as_secs_f64()
    );
    let deps = deps_for(&table, &fleet, &served).await;
    // The stand-in answers in this process: what one `ListTasks` page costs it (it lists
    // every task to cut a page) is part of the run's rise below.
    reset_peak_rss();
    let before_page = proc_status_kib("VmRSS");
    let listing = serde_json::json!({"cluster": CLUSTER, "desiredStatus": "STOPPED"});
    drop(fleet.answer("ListTasks", &listing));
    let stand_in_page_kib = proc_status_kib("VmHWM")
        .zip(before_page)
        .map(|(peak, start)| peak.saturating_sub(start));
    table.server.request_counts(true);
    let calls_before = fleet.calls();
    let rss_before_kib = proc_status_kib("VmRSS");
    let (report, time, rss_rise_kib) = timed_run(&deps, "bench-stops", &fleet).await;
    eprintln!(
        "reconcile bench: {} stopped tasks, the run: {:.1} s",
        thousands(count),
        time.as_secs_f64()
    );
    StopsMeasured {
        count,
        seeding,
        report,
        dynamodb: moto_counts(&table.server.request_counts(true)),
        ecs: calls_since(&fleet, &calls_before),
        time,
        rss_before_kib,
        rss_rise_kib,
        stand_in_page_kib,
    }
}

/// The stopped path's runs, as a Markdown table.
fn print_stops(measured: &[StopsMeasured]) {
    if measured.is_empty() {
        return;
    }
    println!("\n### Stops in the last hour, their events delivered\n");
    let table = Columns::print(measured, |m| format!("{} stops", thousands(m.count)));
    table.row("seeding (moto, the stand-in)", |m| {
        format!("{:.1} s", m.seeding.as_secs_f64())
    });
    table.row("stops read · already settled · settled", |m| {
        format!(
            "{} · {} · {}",
            thousands(m.report.stopped_tasks),
            thousands(m.report.already_settled),
            thousands(m.report.settled_total())
        )
    });
    table.row("DynamoDB requests", |m| by_api(Some(&m.dynamodb)));
    table.row("ECS requests", |m| by_api(Some(&m.ecs)));
    table.row("run time", |m| format!("{:.2} s", m.time.as_secs_f64()));
    table.row("process RSS before the run; what the run added", |m| {
        format!("{}; {}", mib(m.rss_before_kib), mib(m.rss_rise_kib))
    });
    table.row("of which one stand-in `ListTasks` page, at most", |m| {
        mib(m.stand_in_page_kib)
    });
}

/// A Markdown table with one column for each of `measured`, headed by `head`; `row`
/// prints a line of it, `cell` giving each column's text.
struct Columns<'a, T> {
    measured: &'a [T],
}

impl<'a, T> Columns<'a, T> {
    fn print(measured: &'a [T], head: impl Fn(&T) -> String) -> Self {
        let heads: Vec<String> = measured.iter().map(head).collect();
        println!("| | {} |", heads.join(" | "));
        println!("|---|{}", "---|".repeat(measured.len()));
        Columns { measured }
    }

    fn row(&self, name: &str, cell: impl Fn(&T) -> String) {
        let cells: Vec<String> = self.measured.iter().map(cell).collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
}

/// The sizes side by side, as a Markdown table: what the runs promised, then what they
/// cost and left.
fn print_summary(measured: &[Measured]) {
    let Some(first) = measured.first() else {
        return;
    };
    println!("\n### Summary\n");
    let table = Columns::print(measured, |m| thousands(m.size));
    summary_outcomes(&table, first.runs_per_period);
    summary_costs(&table);
}

/// The summary's rows on the reconciler's promises: healing, the sweep's reach.
fn summary_outcomes(table: &Columns<'_, Measured>, runs_per_period: usize) {
    table.row("running · lost · cannot be settled", |m| {
        format!(
            "{} · {} · {}",
            thousands(m.count("running")),
            thousands(m.count("lost")),
            thousands(m.count("no task") + m.count("ecs fails"))
        )
    });
    table.row("seeding (moto, the stand-in)", |m| {
        format!("{:.1} s", m.seeding.as_secs_f64())
    });
    table.row("runs until every lost event is healed", |m| {
        m.healed_in
            .map_or("never".to_owned(), |run| run.to_string())
    });
    table.row("lost events' statuses, read back", |m| {
        let statuses: Vec<String> = m
            .lost_statuses
            .iter()
            .map(|(status, n)| format!("{status} {}", thousands(*n)))
            .collect();
        statuses.join(", ")
    });
    table.row("settled without a lost event", |m| thousands(m.stray.len()));
    table.row("sweep share a run (runs 1, last)", |m| {
        let share = |run: Option<&RunFigures>| {
            run.and_then(|r| r.report.sweep.first())
                .map_or(0, |s| s.share)
        };
        format!(
            "{}, {}",
            thousands(share(m.runs.first())),
            thousands(share(m.runs.last()))
        )
    });
    table.row("runs until the sweep's first cycle ends", |m| {
        m.first_cycle_ends()
            .map_or("not within the runs".to_owned(), |run| run.to_string())
    });
    let unasked =
        format!("most runs in a row a task went unasked (a period: {runs_per_period} runs)");
    table.row(&unasked, |m| match m.never_asked {
        0 => m.longest_unasked.to_string(),
        never => format!("{} ({} never asked)", m.longest_unasked, thousands(never)),
    });
    table.row("no-task dispatches reported in the first period", |m| {
        format!(
            "{} of {}",
            thousands(m.no_task_reported),
            thousands(m.count("no task"))
        )
    });
}

/// The summary's rows on the runs' cost: requests, time, memory, and what they leave.
fn summary_costs(table: &Columns<'_, Measured>) {
    let later = |m: &Measured| 1.min(m.runs.len());
    table.row("DynamoDB requests, run 1", |m| {
        by_api(m.runs.first().map(|r| &r.dynamodb))
    });
    table.row("ECS requests, run 1", |m| {
        by_api(m.runs.first().map(|r| &r.ecs))
    });
    table.row("DynamoDB requests, later runs: most (median)", |m| {
        most_and_median(&m.runs[later(m)..], |r| &r.dynamodb)
    });
    table.row("ECS requests, later runs: most (median)", |m| {
        most_and_median(&m.runs[later(m)..], |r| &r.ecs)
    });
    table.row("DynamoDB requests, last run", |m| {
        by_api(m.runs.last().map(|r| &r.dynamodb))
    });
    table.row("ECS requests, last run", |m| {
        by_api(m.runs.last().map(|r| &r.ecs))
    });
    table.row("run time: run 1, median, most", |m| {
        let mut times: Vec<f64> = m.runs.iter().map(|r| r.time.as_secs_f64()).collect();
        let first = times.first().copied().unwrap_or_default();
        times.sort_by(f64::total_cmp);
        let median = times.get(times.len() / 2).copied().unwrap_or_default();
        let most = times.last().copied().unwrap_or_default();
        format!("{first:.2} s, {median:.2} s, {most:.2} s")
    });
    table.row("process RSS before the runs; most a run added", |m| {
        let most = m.runs.iter().filter_map(|r| r.rss_rise_kib).max();
        format!("{}; {}", mib(m.rss_before_kib), mib(most))
    });
    table.row("left RUNNING after the runs", |m| {
        thousands(m.left_running as usize)
    });
    table.row("the sweep's place after the runs", |m| m.place.clone());
}

fn count(counts: &BTreeMap<String, u64>, api: &str) -> usize {
    counts.get(api).copied().unwrap_or(0) as usize
}

/// `Query 20 · GetItem 1 ...`, or `none`.
fn by_api(counts: Option<&BTreeMap<String, u64>>) -> String {
    let parts: Vec<String> = counts
        .into_iter()
        .flatten()
        .map(|(api, n)| format!("{api} {}", thousands(*n as usize)))
        .collect();
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(" · ")
    }
}

/// Each API's most requests in one of `runs`, and its median over them (0 where a run
/// did not call it).
fn most_and_median(
    runs: &[RunFigures],
    counts: impl Fn(&RunFigures) -> &BTreeMap<String, u64>,
) -> String {
    let apis: BTreeSet<&String> = runs.iter().flat_map(|run| counts(run).keys()).collect();
    let parts: Vec<String> = apis
        .into_iter()
        .map(|api| {
            let mut each: Vec<usize> = runs.iter().map(|run| count(counts(run), api)).collect();
            each.sort_unstable();
            let most = each.last().copied().unwrap_or(0);
            let median = each.get(each.len() / 2).copied().unwrap_or(0);
            format!("{api} {} ({})", thousands(most), thousands(median))
        })
        .collect();
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(" · ")
    }
}

/// moto's request counts (`{"Query": 3, ...}`) by API.
fn moto_counts(counts: &serde_json::Value) -> BTreeMap<String, u64> {
    let counts = counts.as_object().into_iter().flatten();
    counts
        .filter_map(|(api, n)| Some((api.clone(), n.as_u64()?)))
        .collect()
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`); `None` without `/proc`.
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the process's peak resident memory (`VmHWM`) to what it holds now, so the next
/// reading is the peak since.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".to_owned(), |kib| {
        format!("{:.1} MiB", kib as f64 / 1024.0)
    })
}

/// `100000` as `100,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
