//! The real `reconciler` binary, under a local Lambda Runtime API, against moto's DynamoDB
//! and ECS, invoked as the schedule invokes it.

use chrono::{Duration, Utc};
use contract::env::reconciler as settings;
use contract::metrics::reconciler as figures;
use contract::{logs, resources};
use dispatch_aws::sdk::{self, Caller};
use dispatch_aws::table::DynamoStore;
use serde_json::{json, Value};
use testkit::ecs::Cluster;
use testkit::runtime::{FunctionProcess, Output, RuntimeApi};
use testkit::table::TestTable;

/// The cluster the stack watches, in moto's account and region.
const WATCHED: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/outpost-dev";

/// ECS's task ARNs in moto's account: a task ECS never heard of.
const GONE: &str = "arn:aws:ecs:us-east-1:123456789012:task/outpost-dev/0000000000000000gone";

struct World {
    table: TestTable,
    cluster: Cluster,
}

async fn world() -> World {
    let table = TestTable::new(sdk::loader(Caller::Lambda)).await;
    let endpoint = table.server.endpoint();
    let cluster = Cluster::new(endpoint, sdk::loader(Caller::Lambda)).await;
    World { table, cluster }
}

impl World {
    /// A RUNNING dispatch created `minutes` ago whose task ran and stopped (exit 0 in
    /// moto), with no event for it; returns the task's ARN.
    async fn stopped_dispatch(&self, dispatch: &str, minutes: i64) -> String {
        let task = self.cluster.run_task(Some(dispatch)).await;
        self.cluster.stop_task(&task, "exited").await;
        let created = minutes_ago(minutes);
        self.table
            .put_dispatch_created(dispatch, "RUNNING", Some(&task), &created)
            .await;
        task
    }
}

/// A run's time limit far enough off never to stop it.
fn later() -> std::time::Instant {
    std::time::Instant::now() + std::time::Duration::from_secs(600)
}

/// The schedule's time of a run now, as EventBridge writes it.
fn now() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn minutes_ago(minutes: i64) -> String {
    dispatch::timefmt::record_timestamp(Utc::now() - Duration::minutes(minutes))
}

/// One scheduled run of the real binary, with `extra` settings; its response and the JSON
/// lines it wrote.
async fn run_once(world: &World, extra: &[(&str, &str)]) -> (Result<Value, String>, Vec<Value>) {
    run_at(world, extra, &now()).await
}

/// The same, scheduled at `time`.
async fn run_at(
    world: &World,
    extra: &[(&str, &str)],
    time: &str,
) -> (Result<Value, String>, Vec<Value>) {
    let api = RuntimeApi::start(resources::RECONCILER).unwrap();
    let mut env = world.table.server.env();
    env.push((
        settings::WATCHED_CLUSTER.name.to_owned(),
        WATCHED.to_owned(),
    ));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_reconciler"));
    let process = FunctionProcess::spawn(binary, &api, &env, Output::Capture).unwrap();
    let scheduled = json!({"version": "0", "id": "1", "source": "aws.events",
        "detail-type": "Scheduled Event", "time": time, "detail": {}});
    let result = api.invoke(scheduled).await.map_err(|err| err.to_string());
    let (_, output) = process.stop().await;
    let lines = output
        .iter()
        .filter_map(|line| serde_json::from_str(&line.line).ok())
        .collect();
    (result, lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_event_is_settled_and_everything_else_left_as_it_should_be() {
    let world = world().await;
    let table = &world.table;
    // The lost event: the task stopped (exit 0 in moto), no event reached the callback.
    let stopped = world.cluster.run_task(Some("lost")).await;
    world
        .cluster
        .stop_task(&stopped, "Essential container in task exited")
        .await;
    table
        .put_dispatch_created("lost", "RUNNING", Some(&stopped), &minutes_ago(30))
        .await;
    // Still running: left alone.
    let running = world.cluster.run_task(Some("running")).await;
    table
        .put_dispatch_created("running", "RUNNING", Some(&running), &minutes_ago(30))
        .await;
    // Too young to examine, even though its task stopped.
    let young = world.cluster.run_task(Some("young")).await;
    world.cluster.stop_task(&young, "done").await;
    table
        .put_dispatch_created("young", "RUNNING", Some(&young), &minutes_ago(2))
        .await;
    // ECS has forgotten the task: closed past the maximum age, left within it.
    table
        .put_dispatch_created("forgotten", "RUNNING", Some(GONE), &minutes_ago(180))
        .await;
    table
        .put_dispatch_created("forgotten-recent", "RUNNING", Some(GONE), &minutes_ago(60))
        .await;
    // No task: only reported.
    table
        .put_dispatch_created("never-launched", "RUNNING", None, &minutes_ago(600))
        .await;
    // Already settled: never examined.
    table
        .put_dispatch_created("done", "COMPLETED", Some(&stopped), &minutes_ago(30))
        .await;

    let (response, lines) = run_once(&world, &[]).await;
    let report = response.unwrap();
    assert_eq!(report["examined"], 5, "{report}");
    assert_eq!(
        report["settled"],
        json!({"COMPLETED": 1, "FAILED": 1}),
        "{report}"
    );
    assert_eq!(report["stillRunning"], 1, "{report}");
    assert_eq!(report["taskMissing"], 2, "{report}");
    assert_eq!(report["noTask"], 1, "{report}");
    assert_eq!(report["unchecked"], 0, "{report}");

    let lost = table.get("lost").await.unwrap();
    assert_eq!(lost.status.as_deref(), Some("COMPLETED"));
    assert_eq!(lost.exit_code, Some(0));
    assert_eq!(lost.task_arn.as_deref(), Some(stopped.as_str()));
    let ended_at = lost.ended_at.as_deref().unwrap_or_default();
    assert!(
        ended_at.ends_with('Z') && lost.update_request_id.is_some(),
        "{lost:?}"
    );
    let forgotten = table.get("forgotten").await.unwrap();
    assert_eq!(forgotten.status.as_deref(), Some("FAILED"));
    assert_eq!(
        forgotten.stop_code.as_deref(),
        Some(reconcile::plan::TASK_NOT_FOUND)
    );
    let reason = forgotten.stopped_reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("ECS has no record of task"),
        "{forgotten:?}"
    );
    for unchanged in ["running", "young", "forgotten-recent", "never-launched"] {
        assert_eq!(
            table.get(unchanged).await.unwrap().status.as_deref(),
            Some("RUNNING"),
            "{unchanged}"
        );
    }
    assert_eq!(
        table.get("done").await.unwrap().status.as_deref(),
        Some("COMPLETED")
    );
    assert_eq!(
        table.count().await,
        7,
        "the reconciler never creates a record"
    );

    // One line per settled dispatch, and the run's figures as EMF.
    let settled: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == logs::RECONCILER_SETTLED)
        .collect();
    assert_eq!(settled.len(), 2, "{lines:#?}");
    assert!(
        settled
            .iter()
            .any(|l| l["dispatch_id"] == "lost" && l["status"] == "COMPLETED"),
        "{settled:#?}"
    );
    assert!(lines
        .iter()
        .any(|l| l["message"] == logs::RECONCILER_NO_TASK && l["dispatch_id"] == "never-launched"));
    let run = lines
        .iter()
        .find(|l| l.get(figures::EXAMINED).is_some())
        .expect("the run's EMF line");
    assert_eq!(run[figures::SETTLED], 2);
    assert_eq!(
        run["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        contract::metrics::NAMESPACE
    );

    // A second run finds nothing new to settle.
    let (again, _) = run_once(&world, &[]).await;
    let again = again.unwrap();
    assert_eq!(again["settled"], json!({}), "{again}");
    assert_eq!(again["examined"], 3, "{again}");
}

/// The starvation: more dispatches that can never be settled (they name no task)
/// than one run walks, ahead of one whose task ECS has forgotten. Each run resumes where
/// the last stopped, so the sweep reaches it, and the next cycle starts from the oldest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_resumes_where_the_last_run_stopped() {
    let world = world().await;
    let backlog: Vec<_> = (0..1_100)
        .map(|i| testkit::table::launched(&format!("n-{i:04}"), "RUNNING", None, &minutes_ago(600)))
        .collect();
    world.table.put_records(&backlog).await;
    world
        .table
        .put_dispatch_created("forgotten", "RUNNING", Some(GONE), &minutes_ago(180))
        .await;
    // A lost event, newest of all: its task stopped 20 minutes ago, which ECS remembers,
    // so the first run heals it whatever the backlog. (moto stops a task at the moment
    // it is asked to, inside the grace: the ECS stand-in keeps the time of the stop.)
    use testkit::ecs_api::{Fleet, Stop, Task};
    let fleet = Fleet::new(
        testkit::server::REGION,
        testkit::server::ACCOUNT,
        Utc::now() - Duration::minutes(30),
    );
    fleet.create_cluster("outpost-dev");
    let lost = fleet.launch(Task::for_dispatch("outpost-dev", "lost"));
    world
        .table
        .put_dispatch_created("lost", "RUNNING", Some(&lost), &minutes_ago(30))
        .await;
    fleet.advance(Duration::minutes(10));
    fleet.stop(&lost, &Stop::worker_exited(0));
    fleet.advance(Duration::minutes(20));
    let served = fleet.serve().unwrap();
    let ecs = [("AWS_ENDPOINT_URL_ECS", served.endpoint.as_str())];
    // 1,101 dispatches left: the first cycle's count, over 11 runs, is under the least
    // share (500 a run).
    let mut walked = Vec::new();
    for run in 0..3 {
        let (report, _) = run_once(&world, &ecs).await;
        let report = report.unwrap();
        walked.push(report["sweep"][0]["walked"].as_u64().unwrap());
        if run == 0 {
            let lost = world.table.get("lost").await.unwrap();
            assert_eq!(lost.status.as_deref(), Some("COMPLETED"), "{report}");
        }
    }
    assert_eq!(walked, [500, 500, 101]);
    let forgotten = world.table.get("forgotten").await.unwrap();
    assert_eq!(forgotten.status.as_deref(), Some("FAILED"));
    // The cycle ended: the next run starts again from the oldest.
    let (report, _) = run_once(&world, &ecs).await;
    let report = report.unwrap();
    assert_eq!(report["sweep"][0]["walked"], 500, "{report}");
    assert_eq!(report["sweep"][0]["place"], "moved", "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_can_check_nothing_fails_and_writes_nothing() {
    let world = world().await;
    world.stopped_dispatch("d", 30).await;
    // The table does not exist: the listing fails, so the run fails (its errors alarm).
    let (result, _) = run_once(&world, &[("TABLE_NAME", "no-such-table")]).await;
    let err = result.unwrap_err();
    assert!(
        err.contains("NothingChecked") && err.contains("Query on no-such-table"),
        "{err}"
    );
    assert_eq!(
        world.table.get("d").await.unwrap().status.as_deref(),
        Some("RUNNING")
    );
}

/// The callback and the reconciler settle the same dispatches at once: the same condition
/// guards both writes, so each dispatch is settled exactly once, by one or the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_race_between_the_callback_and_the_reconciler_settles_once() {
    use dispatch::outcome::{Outcome, SkipReason};
    use reconcile::run::run;
    use testkit::events::TaskEvent;

    let world = world().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let dispatch = format!("race-{i}");
        let task = world.stopped_dispatch(&dispatch, 30).await;
        tasks.push((dispatch, task));
    }
    let deps = deps(
        &world,
        dispatch_aws::status_index::PAGE_SIZE,
        world.table.server.endpoint(),
    )
    .await;
    let (store, config) = (deps.store.clone(), function::config::Config::defaults());
    let callbacks = async {
        let mut updated = 0;
        for (dispatch, task) in &tasks {
            let event = TaskEvent::stopped(task).dispatch_id(dispatch).build();
            let outcome = function::handler::process(
                event,
                &store,
                &config,
                &testkit::request_id(),
                Utc::now(),
            )
            .await
            .unwrap();
            match outcome {
                Outcome::Updated { .. } => updated += 1,
                Outcome::Skipped { reason, .. } => assert_eq!(reason, SkipReason::AlreadyTerminal),
            }
        }
        updated
    };
    let (by_callback, report) =
        tokio::join!(callbacks, run(&deps, "reconciler-run", Utc::now(), later()));
    let report = report.unwrap();
    let by_reconciler = report.settled_total();
    assert_eq!(by_callback + by_reconciler, tasks.len(), "{report:?}");
    // What the reconciler listed, it either settled or found settled by the callback.
    assert_eq!(
        by_reconciler + report.already_settled,
        report.examined,
        "{report:?}"
    );
    for (dispatch, _) in &tasks {
        let record = world.table.get(dispatch).await.unwrap();
        assert!(record.terminal_status().is_some(), "{record:?}");
    }
}

/// The run's dependencies, in process, against this world; `ecs_endpoint` may point ECS
/// elsewhere (at nothing, to see ECS fail).
async fn deps(world: &World, page_size: usize, ecs_endpoint: &str) -> reconcile::run::Deps {
    let settings = reconcile::config::Settings::from_lookup(|name| {
        (name == settings::WATCHED_CLUSTER.name).then(|| WATCHED.to_owned())
    })
    .unwrap();
    let loader = testkit::server::point_at(sdk::loader(Caller::Lambda), ecs_endpoint);
    let ecs = aws_sdk_ecs::Client::new(&loader.load().await);
    let mut deps = reconcile::run::Deps::new(world.table.client.clone(), ecs, settings);
    deps.index.page_size = page_size;
    deps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_is_read_page_by_page_never_scanned() {
    let world = world().await;
    for i in 0..7 {
        world.stopped_dispatch(&format!("p-{i}"), 30).await;
    }
    let deps = deps(&world, 2, world.table.server.endpoint()).await;
    world.table.server.request_counts(true);
    let report = reconcile::run::run(&deps, "run-1", Utc::now(), later())
        .await
        .unwrap();
    let counts = world.table.server.request_counts(true);
    assert_eq!(report.examined, 7, "{report:?}");
    assert_eq!(report.settled_total(), 7, "{report:?}");
    // A count of the index (the sweep's first cycle has no size yet), then four pages of
    // two, each page's tasks asked of ECS, one write each, the sweep's place read and
    // moved; no Scan. (The run's first path lists the same stops and describes them once
    // more, but leaves them to the sweep: they stopped within the grace period.)
    assert_eq!(counts["Query"], 1 + 4, "{counts}");
    assert_eq!(counts["ListTasks"], 1, "{counts}");
    assert_eq!(counts["DescribeTasks"], 1 + 4, "{counts}");
    assert_eq!(counts["UpdateItem"], 7, "{counts}");
    assert_eq!(
        (&counts["GetItem"], &counts["PutItem"]),
        (&json!(1), &json!(1)),
        "{counts}"
    );
    assert!(counts.get("Scan").is_none(), "{counts}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_ecs_cannot_be_asked_the_run_fails_and_writes_nothing() {
    let world = world().await;
    world.stopped_dispatch("d", 30).await;
    // A port nothing listens on: every DescribeTasks fails after the SDK's retries.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let deps = deps(
        &world,
        dispatch_aws::status_index::PAGE_SIZE,
        &format!("http://{closed}"),
    )
    .await;
    let err = reconcile::run::run(&deps, "run-1", Utc::now(), later())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("DescribeTasks on outpost-dev failed after 3 attempts"),
        "{err}"
    );
    assert_eq!(
        world.table.get("d").await.unwrap().status.as_deref(),
        Some("RUNNING")
    );
}

/// A run whose every write fails is a failed run (the errors alarm sees it), not a
/// success that settled nothing; a record whose `createdAt` cannot be read is counted and
/// named, never silently dropped; a dispatch listed under two statuses counts once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_fails_quietly() {
    let world = world().await;
    world.stopped_dispatch("d", 30).await;
    let mut deps = deps(
        &world,
        dispatch_aws::status_index::PAGE_SIZE,
        world.table.server.endpoint(),
    )
    .await;
    let listing_only = deps.store.clone();
    // Writes go to a table that does not exist; the listing still works.
    deps.store = DynamoStore::new(
        world.table.client.clone(),
        "no-such-table",
        contract::table::TASK_ARN_INDEX.name,
    );
    let err = reconcile::run::run(&deps, "run-1", Utc::now(), later())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "EveryWriteFailed", "{err}");
    assert!(
        err.to_string().contains("UpdateItem on no-such-table"),
        "{err}"
    );
    assert_eq!(
        world.table.get("d").await.unwrap().status.as_deref(),
        Some("RUNNING")
    );

    deps.store = listing_only;
    world
        .table
        .put_dispatch_created("odd", "RUNNING", None, "15/01/2026 09:00")
        .await;
    // The same dispatch under two configured statuses is examined and settled once.
    deps.settings.statuses = vec!["RUNNING".into(), "RUNNING".into()];
    let report = reconcile::run::run(&deps, "run-2", Utc::now(), later())
        .await
        .unwrap();
    assert_eq!(report.examined, 1, "{report:?}");
    assert_eq!(report.settled_total(), 1, "{report:?}");
    assert_eq!(report.unreadable, ["odd"], "{report:?}");
    assert_eq!(report.unchecked, 1, "{report:?}");
}

/// The real binary, its ECS an ECS stand-in that answers as ECS does (moto cannot answer
/// a deleted cluster, a failure reason other than MISSING, or an old-format ARN as ECS
/// does), watching every cluster of the account: a deleted cluster's task is missing and
/// its dispatch closed past the maximum age; a task of another region, one ECS gives
/// another failure reason for, and an old-format ARN (no cluster, which cannot be placed
/// when every cluster is watched) are left alone, each counted and logged by dispatch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reads_ecs_as_it_answers() {
    use testkit::ecs_api::{Fleet, Task};
    use testkit::server::{ACCOUNT, REGION};
    let world = world().await;
    let fleet = Fleet::new(REGION, ACCOUNT, Utc::now());
    let launch = |cluster: &str, id: &str| {
        fleet.launch(Task {
            cluster: cluster.to_owned(),
            id: id.to_owned(),
            ..Task::default()
        })
    };
    let gone = launch("retired", "t-gone");
    fleet.delete_cluster("retired");
    let failing = launch("outpost-dev", "t-failing");
    fleet.fail(&failing, "INTERNAL_ERROR");
    let served = fleet.serve().unwrap();
    let cases = [
        ("deleted-cluster", gone),
        ("failure-reason", failing),
        (
            "other-region",
            format!("arn:aws:ecs:eu-west-1:{ACCOUNT}:task/outpost-dev/t-far"),
        ),
        (
            "old-format",
            format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task/0123456789abcdef"),
        ),
    ];
    for (dispatch, task) in &cases {
        world
            .table
            .put_dispatch_created(dispatch, "RUNNING", Some(task), &minutes_ago(180))
            .await;
    }
    let every_cluster = format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/*");
    let env = [
        ("AWS_ENDPOINT_URL_ECS", served.endpoint.as_str()),
        (settings::WATCHED_CLUSTER.name, every_cluster.as_str()),
    ];
    let (report, lines) = run_once(&world, &env).await;
    let report = report.unwrap();
    assert_eq!(report["settled"], json!({"FAILED": 1}), "{report}");
    assert_eq!(report["outside"], 1, "{report}");
    assert_eq!(report["unchecked"], 2, "{report}");
    let closed = world.table.get("deleted-cluster").await.unwrap();
    assert_eq!(
        closed.stop_code.as_deref(),
        Some(reconcile::plan::TASK_NOT_FOUND)
    );
    for (dispatch, _) in &cases[1..] {
        let record = world.table.get(dispatch).await.unwrap();
        assert_eq!(record.status.as_deref(), Some("RUNNING"), "{dispatch}");
    }
    let logged = |phrase: &str| -> Vec<String> {
        let lines = lines.iter().filter(|line| line["message"] == phrase);
        let ids = lines.map(|line| line["dispatch_id"].as_str().unwrap_or_default().to_owned());
        ids.collect()
    };
    assert_eq!(logged(logs::RECONCILER_OUTSIDE_STACK), ["other-region"]);
    let mut unchecked = logged(logs::RECONCILER_UNCHECKED);
    unchecked.sort();
    assert_eq!(unchecked, ["failure-reason", "old-format"]);
    let calls = fleet.calls();
    assert!(calls["ListClusters"] >= 1, "{calls:?}");
}

/// Settings that could hide a loss stop the binary at init, before any event, naming both
/// values.
#[test]
fn the_binary_refuses_settings_that_could_hide_a_loss() {
    let binary = env!("CARGO_BIN_EXE_reconciler");
    let refused = [
        ("GRACE_MINUTES", "55", "RECONCILE_EVERY_MINUTES=5"),
        ("MAX_AGE_MINUTES", "60", "SWEEP_MINUTES=60"),
        ("SWEEP_MINUTES", "1", "RECONCILE_EVERY_MINUTES=5"),
    ];
    for (name, value, other) in refused {
        let output = std::process::Command::new(binary)
            .env_clear()
            .env(settings::WATCHED_CLUSTER.name, WATCHED)
            .env(name, value)
            .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name}={value}: {said}");
        assert!(
            said.contains(name) && said.contains(other) && said.contains("cannot start"),
            "{name}={value}: {said}"
        );
    }
}

/// A run's "now" is the time its schedule fired, not the clock: a dispatch an hour old
/// whose task ECS has forgotten is left alone by a run now, and closed by a run scheduled
/// two hours on (past its maximum age).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_is_at_the_time_its_schedule_fired() {
    let world = world().await;
    world
        .table
        .put_dispatch_created("forgotten", "RUNNING", Some(GONE), &minutes_ago(60))
        .await;
    let (report, _) = run_once(&world, &[]).await;
    assert_eq!(report.unwrap()["taskMissing"], 1);
    let status = || async { world.table.get("forgotten").await.unwrap().status };
    assert_eq!(status().await.as_deref(), Some("RUNNING"));
    let later = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let (report, _) = run_at(&world, &[], &later).await;
    assert_eq!(report.unwrap()["settled"], json!({"FAILED": 1}));
    assert_eq!(status().await.as_deref(), Some("FAILED"));
}
