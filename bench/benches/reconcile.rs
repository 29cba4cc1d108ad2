//! One reconciler run over a backlog, on moto: how many DynamoDB and ECS requests it
//! makes, and how long it takes.
//!
//!   cargo bench -p bench --bench reconcile -- [--dispatches N]
//!
//! N non-terminal dispatches (default 10,000), created 30 minutes ago, of which 1% have
//! a task that stopped in moto's ECS. The others name tasks ECS does not know: moto's
//! container instance has room for only a few running tasks, and `DescribeTasks` costs
//! the same for a task it does not know; they are younger than the maximum age, so the
//! run leaves them alone. The run is the library's, in process, with every dispatch in
//! reach (`MAX_RECORDS` = N). Figures to read, never assertions.

use dispatch_aws::sdk::Caller;
use std::time::Instant;

use chrono::{Duration, Utc};
use contract::env::reconciler as vars;
use dispatch_aws::status_index::{StatusIndex, PAGE_SIZE};
use dispatch_aws::table::DynamoStore;
use reconcile::config::Settings;
use reconcile::run::{run, Deps, Report};
use testkit::ecs::Cluster;
use testkit::table::TestTable;

fn main() {
    let [count] = bench::options([("dispatches", 10_000)]);
    let count = count.max(100);
    bench::block_on(async {
        let table = TestTable::new(dispatch_aws::sdk::loader(Caller::Lambda)).await;
        let cluster = Cluster::new(
            table.server.endpoint(),
            dispatch_aws::sdk::loader(Caller::Lambda),
        )
        .await;
        let created = dispatch::timefmt::record_timestamp(Utc::now() - Duration::minutes(30));
        let mut records = Vec::with_capacity(count);
        for i in 0..count {
            let dispatch = format!("bench-{i:05}");
            let task = if i % 100 == 0 {
                let task = cluster.run_task(Some(&dispatch)).await;
                cluster
                    .stop_task(&task, "Essential container in task exited")
                    .await;
                task
            } else {
                format!("arn:aws:ecs:us-east-1:123456789012:task/outpost-dev/unknown{i:05}")
            };
            records.push((dispatch, task, created.clone()));
        }
        table.put_running_dispatches(&records).await;

        let max_records = count.to_string();
        let (region, account) = (testkit::server::REGION, testkit::server::ACCOUNT);
        let watched = format!("arn:aws:ecs:{region}:{account}:cluster/outpost-dev");
        let settings = Settings::from_lookup(|name| match name {
            _ if name == vars::MAX_RECORDS.name => Some(max_records.clone()),
            _ if name == vars::WATCHED_CLUSTER.name => Some(watched.clone()),
            _ => None,
        })
        .unwrap();
        let deps = Deps {
            index: StatusIndex {
                client: table.client.clone(),
                table: settings.table_name.clone(),
                index: settings.status_index.clone(),
                page_size: PAGE_SIZE,
            },
            ecs: cluster.client.clone(),
            store: DynamoStore::new(
                table.client.clone(),
                &settings.table_name,
                &settings.task_arn_index,
            ),
            settings,
        };
        table.server.request_counts(true);
        let started = Instant::now();
        let report = run(&deps, "bench", Utc::now()).await.expect("the run");
        let elapsed = started.elapsed();
        print_table(&report, &table.server.request_counts(true), count, elapsed);
    });
}

/// The run's figures beside their targets, as a Markdown table.
fn print_table(
    report: &Report,
    counts: &serde_json::Value,
    count: usize,
    elapsed: std::time::Duration,
) {
    let stopped = count / 100;
    let count_of = |operation: &str| counts[operation].as_u64().unwrap_or(0);
    println!("| measure | figure | target |");
    println!("|---|---|---|");
    println!("| dispatches examined | {} | {count} |", report.examined);
    println!("| settled | {} | {stopped} (1%) |", report.settled_total());
    println!(
        "| DynamoDB Query pages | {} | ⌈{count}/{PAGE_SIZE}⌉ = {} |",
        count_of("Query"),
        count.div_ceil(PAGE_SIZE)
    );
    println!(
        "| DynamoDB UpdateItem | {} | one per settled dispatch |",
        count_of("UpdateItem")
    );
    println!(
        "| DynamoDB GetItem, Scan | {}, {} | 0, 0 |",
        count_of("GetItem"),
        count_of("Scan")
    );
    println!(
        "| ECS ListTasks pages | {} | ⌈{stopped}/100⌉ = {} (the stops ECS lists) |",
        count_of("ListTasks"),
        stopped.div_ceil(100).max(1)
    );
    println!(
        "| ECS DescribeTasks | {} | ≤ ⌈{count}/100⌉ + ⌈{stopped}/100⌉ = {} (the sweep, then the stops) |",
        count_of("DescribeTasks"),
        count.div_ceil(100) + stopped.div_ceil(100)
    );
    println!("| run time | {:.2} s | |", elapsed.as_secs_f64());
}
