//! The reconciler's run against moto's DynamoDB and an ECS that answers as ECS does
//! (`testkit::ecs_api`): stop codes, timestamps, an hour's memory of stopped tasks,
//! pages of 100, failure reasons, deleted clusters. moto's ECS can show none of these.

use chrono::Duration;
use contract::dispatch_id::{ENV_NAME, GROUP_PREFIX, TAG_KEY};
use contract::env::reconciler::WATCHED_CLUSTER;
use dispatch_aws::sdk::{self, Caller};
use dispatch_aws::table::DynamoStore;
use reconcile::run::{run, Deps, Report};
use testkit::ecs_api::{Container, Fleet, Stop, Task};
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
        let mut task = Task {
            cluster: CLUSTER.to_owned(),
            id: format!("{dispatch}-task"),
            containers: vec![Container {
                name: "worker".to_owned(),
                ..Container::default()
            }],
            ..Task::default()
        };
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
        let stop = Stop {
            stop_code: "EssentialContainerExited".to_owned(),
            stopped_reason: "Essential container in task exited".to_owned(),
            exit_codes: vec![("worker".to_owned(), exit_code)],
        };
        self.fleet.stop(arn, &stop);
    }

    /// The run's dependencies, watching `watched`, against this world.
    async fn deps(&self, watched: &str) -> Deps {
        let settings = reconcile::config::Settings::from_lookup(|name| {
            (name == WATCHED_CLUSTER.name).then(|| watched.to_owned())
        })
        .unwrap();
        let ecs = testkit::server::point_at(sdk::loader(Caller::Lambda), &self.served.endpoint);
        let client = self.table.client.clone();
        Deps {
            index: dispatch_aws::status_index::StatusIndex {
                client: client.clone(),
                table: settings.table_name.clone(),
                index: settings.status_index.clone(),
                page_size: 100,
            },
            ecs: aws_sdk_ecs::Client::new(&ecs.load().await),
            store: DynamoStore::new(client, &settings.table_name, &settings.task_arn_index),
            settings,
        }
    }

    async fn run(&self, watched: &str) -> Report {
        let deps = self.deps(watched).await;
        run(&deps, "run", self.fleet.now()).await.unwrap()
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
    // The sweep examines the rest, which still run (bounded by the run's own limit).
    assert_eq!((report.examined, report.still_running), (750, 750));
    // 250 stops: three pages of ListTasks and three DescribeTasks, then the sweep's eight.
    assert_eq!(calls["ListTasks"], 3, "{calls:?}");
    assert_eq!(calls["DescribeTasks"], 3 + 8, "{calls:?}");
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
