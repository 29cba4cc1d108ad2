//! The reconciler's run against moto's DynamoDB and an ECS that answers as ECS does
//! (`testkit::ecs_api`): stop codes, timestamps, an hour's memory of stopped tasks,
//! pages of 100, failure reasons, deleted clusters. moto's ECS can show none of these.

use chrono::Duration;
use contract::dispatch_id::{ENV_NAME, GROUP_PREFIX, TAG_KEY};
use contract::env::reconciler::{STATUSES, WATCHED_CLUSTER};
use dispatch_aws::sdk::{self, Caller};
use reconcile::run::{run, run_in, Deps, Mode, Report};
use reconcile::sweep::Place;
use testkit::ecs_api::{Fleet, Stop, Task};
use testkit::table::TestTable;

use testkit::server::{ACCOUNT, REGION};
const CLUSTER: &str = "outpost-dev";

struct World {
    table: TestTable,
    fleet: Fleet,
    served: testkit::ecs_api::Served,
}

async fn world() -> World {
    let table = TestTable::new(sdk::loader(Caller::Lambda)).await;
    let fleet = Fleet::new(REGION, ACCOUNT, "2026-01-15T12:00:00Z".parse().unwrap());
    fleet.create_cluster(CLUSTER);
    let served = fleet.serve().unwrap();
    World {
        table,
        fleet,
        served,
    }
}

/// How a task names its dispatch.
enum Named {
    Environment,
    Group,
    Tag,
    /// Only the record names the task (the task index finds it).
    IndexOnly,
}

impl World {
    fn watched(&self, cluster: &str) -> String {
        format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}")
    }

    /// Launches a task for `dispatch` and writes its RUNNING record, created now.
    async fn launch(&self, dispatch: &str, named: Named) -> String {
        let mut task = Task::unnamed(CLUSTER, dispatch);
        let id = dispatch.to_owned();
        match named {
            Named::Environment => task.environment = vec![(ENV_NAME.to_owned(), id)],
            Named::Group => task.group = Some(format!("{GROUP_PREFIX}{id}")),
            Named::Tag => task.tags = vec![(TAG_KEY.to_owned(), id)],
            Named::IndexOnly => {}
        }
        let arn = self.fleet.launch(task);
        let created = dispatch::timefmt::record_timestamp(self.fleet.now());
        self.table
            .put_dispatch_created(dispatch, "RUNNING", Some(&arn), &created)
            .await;
        arn
    }

    fn stop(&self, arn: &str, exit_code: i64) {
        self.fleet.stop(arn, &Stop::worker_exited(exit_code));
    }

    /// The run's dependencies, watching `watched`, against this world.
    async fn deps(&self, watched: &str) -> Deps {
        self.deps_with(watched, &[]).await
    }

    /// The same, with other settings.
    async fn deps_with(&self, watched: &str, settings: &[(&str, &str)]) -> Deps {
        let settings = reconcile::config::Settings::from_lookup(|name| {
            let given = settings.iter().find(|(key, _)| *key == name);
            let given = given.map(|(_, value)| value.to_string());
            given.or_else(|| (name == WATCHED_CLUSTER.name).then(|| watched.to_owned()))
        })
        .unwrap();
        let ecs = testkit::server::point_at(sdk::loader(Caller::Lambda), &self.served.endpoint);
        let ecs = aws_sdk_ecs::Client::new(&ecs.load().await);
        let mut deps = Deps::new(self.table.client.clone(), ecs, settings);
        deps.index.page_size = 100;
        deps
    }

    /// Launches `count` tasks, `{prefix}-NNNN`, named by their environment, and writes
    /// their RUNNING records in batches; returns their task ARNs.
    async fn launch_many(&self, prefix: &str, count: usize) -> Vec<String> {
        let created = dispatch::timefmt::record_timestamp(self.fleet.now());
        let mut arns = Vec::with_capacity(count);
        let mut records = Vec::with_capacity(count);
        for i in 0..count {
            let dispatch = format!("{prefix}-{i:04}");
            let arn = self.fleet.launch(Task::for_dispatch(CLUSTER, &dispatch));
            records.push(testkit::table::launched(
                &dispatch,
                "RUNNING",
                Some(&arn),
                &created,
            ));
            arns.push(arn);
        }
        self.table.put_records(&records).await;
        arns
    }

    async fn run(&self, watched: &str) -> Report {
        let deps = self.deps(watched).await;
        run(&deps, "run", self.fleet.now(), later()).await.unwrap()
    }

    async fn status(&self, dispatch: &str) -> String {
        let record = self.table.get(dispatch).await.unwrap();
        record.status.unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_ecs_lists_as_stopped_is_settled_however_the_task_names_its_dispatch() {
    let world = world().await;
    let watched = world.watched(CLUSTER);
    let env = world.launch("by-env", Named::Environment).await;
    let group = world.launch("by-group", Named::Group).await;
    let tag = world.launch("by-tag", Named::Tag).await;
    let index = world.launch("by-index", Named::IndexOnly).await;
    let running = world.launch("running", Named::Environment).await;
    // Another workload's task on the same cluster: no dispatch, never written.
    let foreign = world.fleet.launch(Task {
        cluster: CLUSTER.to_owned(),
        id: "other-workload".to_owned(),
        ..Task::default()
    });
    let stopping = world.launch("stopping", Named::Environment).await;
    world.fleet.advance(Duration::minutes(5));
    for (arn, code) in [
        (&env, 0),
        (&group, 1),
        (&tag, 137),
        (&index, 0),
        (&foreign, 0),
    ] {
        world.stop(arn, code);
    }
    world.fleet.begin_stopping(&stopping);

    // Within the grace period an event may still be on its way: nothing is settled.
    let early = world.run(&watched).await;
    assert_eq!(early.settled_total(), 0, "{early:?}");

    world.fleet.advance(Duration::minutes(11));
    let report = world.run(&watched).await;
    assert_eq!(report.stopped_tasks, 5, "{report:?}");
    assert_eq!(report.not_dispatches, 1, "{report:?}");
    assert_eq!(report.settled_total(), 4, "{report:?}");
    for (dispatch, status) in [
        ("by-env", "COMPLETED"),
        ("by-group", "FAILED"),
        ("by-tag", "FAILED"),
        ("by-index", "COMPLETED"),
        ("running", "RUNNING"),
        ("stopping", "RUNNING"),
    ] {
        assert_eq!(world.status(dispatch).await, status, "{dispatch}");
    }
    let _ = running;

    // ECS lists the same stops for the rest of the hour: each costs a read, not a write.
    world.table.server.request_counts(true);
    let again = world.run(&watched).await;
    let counts = world.table.server.request_counts(true);
    assert_eq!(again.settled_total(), 0, "{again:?}");
    assert_eq!(again.already_settled, 4, "{again:?}");
    assert_eq!(counts["BatchGetItem"], 1, "{counts}");
    assert!(counts.get("UpdateItem").is_none(), "{counts}");
    assert_eq!(world.table.count().await, 6, "no record is created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stops_are_read_from_ecs_page_by_page() {
    let world = world().await;
    let watched = world.watched(CLUSTER);
    let mut stopped = Vec::new();
    for i in 0..1_000 {
        let arn = world.launch(&format!("d-{i:04}"), Named::Environment).await;
        if i % 4 == 0 {
            stopped.push(arn);
        }
    }
    world.fleet.advance(Duration::minutes(1));
    for arn in &stopped {
        world.stop(arn, 0);
    }
    world.fleet.advance(Duration::minutes(10));
    let report = world.run(&watched).await;
    let calls = world.fleet.calls();
    assert_eq!(report.settled_total(), 250);
    assert_eq!(report.stopped_tasks, 250);
    // The sweep examines its share of the rest, which still run: 750 over the 11 runs of
    // a cycle, but never less than 500 a run.
    assert_eq!((report.examined, report.still_running), (500, 500));
    // 250 stops: three pages of ListTasks and three DescribeTasks, then the sweep's five.
    assert_eq!(calls["ListTasks"], 3, "{calls:?}");
    assert_eq!(calls["DescribeTasks"], 3 + 5, "{calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_missing_means_missing_and_a_task_outside_the_stack_is_left_alone() {
    let world = world().await;
    let watched = world.watched(CLUSTER);
    let forgotten = world.launch("forgotten", Named::Environment).await;
    let throttled = world.launch("unanswered", Named::Environment).await;
    world.fleet.fail(&throttled, "INTERNAL_ERROR");
    world.stop(&forgotten, 0);
    // A task of another region and one of another cluster, both long stopped.
    let created = dispatch::timefmt::record_timestamp(world.fleet.now());
    let elsewhere = [
        (
            "other-region",
            "arn:aws:ecs:eu-west-1:123456789012:task/outpost-dev/x1",
        ),
        (
            "other-cluster",
            "arn:aws:ecs:us-east-1:123456789012:task/batch/x2",
        ),
    ];
    for (dispatch, arn) in elsewhere {
        world
            .table
            .put_dispatch_created(dispatch, "RUNNING", Some(arn), &created)
            .await;
    }
    // ECS forgets the stopped task after an hour; the dispatch is past the maximum age.
    world.fleet.advance(Duration::minutes(150));
    let report = world.run(&watched).await;
    assert_eq!(report.outside, 2, "{report:?}");
    assert_eq!(report.unchecked, 1, "{report:?}");
    assert_eq!(report.task_missing, 1, "{report:?}");
    assert_eq!(report.settled.get("FAILED"), Some(&1), "{report:?}");
    assert_eq!(world.status("forgotten").await, "FAILED");
    for left in ["unanswered", "other-region", "other-cluster"] {
        assert_eq!(world.status(left).await, "RUNNING", "{left}");
    }
    // Nothing of another region or cluster was asked of this one.
    let calls = world.fleet.calls();
    assert_eq!(calls["DescribeTasks"], 1, "{calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_cluster_has_no_tasks_and_an_old_format_arn_means_the_watched_cluster() {
    let world = world().await;
    let created = dispatch::timefmt::record_timestamp(world.fleet.now());
    let old_format = format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task/old-format-task");
    world
        .table
        .put_dispatch_created("old-format", "RUNNING", Some(&old_format), &created)
        .await;
    let gone = world.launch("gone-cluster", Named::Environment).await;
    world.fleet.advance(Duration::minutes(150));
    world.fleet.delete_cluster(CLUSTER);
    // Every run: the deleted cluster's dispatches are missing tasks, never a failed batch.
    let report = world.run(&world.watched(CLUSTER)).await;
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.task_missing, 2, "{report:?}");
    assert_eq!(report.settled.get("FAILED"), Some(&2), "{report:?}");
    assert_eq!(world.status("gone-cluster").await, "FAILED");
    assert_eq!(world.status("old-format").await, "FAILED");
    let _ = gone;

    // Watching every cluster, an old-format ARN names none: reported, not guessed.
    world
        .table
        .put_dispatch_created("old-format-2", "RUNNING", Some(&old_format), &created)
        .await;
    let report = world.run(&world.watched("*")).await;
    assert_eq!(report.unchecked, 1, "{report:?}");
    assert_eq!(world.status("old-format-2").await, "RUNNING");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_cluster_never_stops_the_others() {
    let world = world().await;
    world.fleet.create_cluster("batch");
    let ours = world.launch("ours", Named::Environment).await;
    world.stop(&ours, 0);
    world.fleet.advance(Duration::minutes(11));
    // Every call about the first cluster listed fails, past the SDK's retries; the other
    // cluster is read.
    world.fleet.fail_cluster("batch");
    let report = world.run(&world.watched("*")).await;
    assert_eq!(report.settled_total(), 1, "{report:?}");
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert_eq!(world.status("ours").await, "COMPLETED");
}

/// The starvation, at the sweep's scale: more long-running dispatches than one
/// run walks, and a second status full of dispatches that name no task, ahead of
/// dispatches whose tasks stopped while the event path was down and that ECS has since
/// forgotten. Every run walks its share of each status from where the last stopped, so
/// every lost one is closed within one sweep period, and the next cycle starts over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_reaches_every_dispatch_within_its_period() {
    let world = world().await;
    let watched = world.watched(CLUSTER);
    world.launch_many("long", 1_500).await;
    let unlaunched: Vec<_> = (0..600)
        .map(|i| {
            let created = dispatch::timefmt::record_timestamp(world.fleet.now());
            testkit::table::launched(&format!("pending-{i:04}"), "PENDING", None, &created)
        })
        .collect();
    world.table.put_records(&unlaunched).await;
    world.fleet.advance(Duration::minutes(1));
    let lost = world.launch_many("lost", 5).await;
    for arn in &lost {
        world.stop(arn, 0);
    }
    // The event path was down for longer than ECS remembers, and past the maximum age.
    world.fleet.advance(Duration::minutes(130));
    let statuses = "RUNNING,PENDING";
    let deps = world
        .deps_with(&watched, &[(STATUSES.name, statuses)])
        .await;
    let mut runs = 0;
    let mut walked = [0; 2];
    while runs < 12 {
        runs += 1;
        let report = run(&deps, "run", world.fleet.now(), later()).await.unwrap();
        // The PENDING ones name no task and are past the maximum age: only a person may
        // close them, so each one walked is counted for the alarm.
        assert_eq!(report.no_task_past_max_age, report.sweep[1].walked);
        for (progress, total) in report.sweep.iter().zip(&mut walked) {
            // Its share: a count of the status over the 11 runs of a cycle, at least 500.
            assert!(progress.walked <= 500, "{progress:?}");
            assert_eq!(progress.place, Place::Moved, "{progress:?}");
            *total += progress.walked;
        }
        if report.settled.get("FAILED") == Some(&5) {
            break;
        }
        world.fleet.advance(Duration::minutes(5));
    }
    // 1,505 RUNNING dispatches at 500 a run: the lost ones, newest, are reached by the
    // fourth run; the 600 PENDING ones were walked whole twice meanwhile (a cycle ends
    // at the newest, and the next run starts over from the oldest).
    assert_eq!(runs, 4);
    assert_eq!(walked, [1_505, 600 * 2]);
    for i in 0..5 {
        let record = world.table.get(&format!("lost-{i:04}")).await.unwrap();
        assert_eq!(record.status.as_deref(), Some("FAILED"), "{record:?}");
    }
}

/// A dry run walks what the next run would and leaves the place where it was; a run
/// whose place another run moved meanwhile leaves the other's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_never_moves_the_place_and_overlapping_runs_never_corrupt_it() {
    let world = world().await;
    let watched = world.watched(CLUSTER);
    world.launch_many("long", 1_200).await;
    world.fleet.advance(Duration::minutes(15));
    let deps = world.deps(&watched).await;
    let now = world.fleet.now();
    let dry = run_in(Mode::DryRun, &deps, "dry", now, later())
        .await
        .unwrap();
    assert_eq!(
        (dry.sweep[0].walked, dry.sweep[0].place),
        (500, Place::Kept)
    );
    let first = run(&deps, "first", now, later()).await.unwrap();
    assert_eq!(
        (first.sweep[0].walked, first.sweep[0].place),
        (500, Place::Moved)
    );
    let second = run(&deps, "second", now, later()).await.unwrap();
    assert_eq!(second.sweep[0].walked, 500, "resumed after the first 500");
    // Two runs read the same place; the one that writes last is refused.
    let cursors = &deps.cursors;
    let read = cursors.load("RUNNING", now).await.unwrap();
    let ahead = read.advanced(200, None, now);
    let behind = read.advanced(10, read.after.clone(), now);
    use reconcile::cursor::store::Saved;
    assert_eq!(cursors.save(&ahead, "a", now).await.unwrap(), Saved::Moved);
    assert_eq!(
        cursors.save(&behind, "b", now).await.unwrap(),
        Saved::Overtaken
    );
    let stored = cursors.load("RUNNING", now).await.unwrap();
    assert_eq!(stored, ahead);
    assert_eq!(stored.last_cycle, Some(1_200));
}

/// A run's time limit far enough off never to stop it.
fn later() -> std::time::Instant {
    std::time::Instant::now() + std::time::Duration::from_secs(600)
}
