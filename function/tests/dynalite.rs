//! The conditional write, its explanation and the index lookup against dynalite, a second
//! DynamoDB implementation, so the function is not tuned to moto's quirks.
//!
//! Where the two differ: on a failed condition, DynamoDB (as documented for
//! `ReturnValuesOnConditionCheckFailure = ALL_OLD`) and moto return the record as it was;
//! dynalite returns none. The function then reads the record once, strongly consistent,
//! so a duplicate is still a duplicate and not a missing dispatch.

use dispatch::outcome::{Outcome, SkipReason};
use dispatch_aws::sdk::Caller;
use dispatch_aws::table::DynamoStore;
use function::config::Config;
use function::handler::process;
use testkit::events::{TaskEvent, DISPATCH_ID, TASK_ARN};
use testkit::server::Server;
use testkit::table::TestTable;

async fn table() -> TestTable {
    TestTable::on(
        Server::dynalite(),
        dispatch_aws::sdk::loader(Caller::Lambda),
    )
    .await
}

async fn run(table: &TestTable, event: serde_json::Value) -> Result<Outcome, String> {
    let config = Config::defaults();
    let store = DynamoStore::new(
        table.client.clone(),
        &config.table_name,
        &config.task_arn_index,
    );
    let now = chrono::Utc::now();
    let result = process(event, &store, &config, &testkit::request_id(), now).await;
    result.map_err(|err| err.error_type())
}

fn skipped(result: &Result<Outcome, String>) -> Option<SkipReason> {
    match result {
        Ok(Outcome::Skipped { reason, .. }) => Some(*reason),
        _ => None,
    }
}

#[tokio::test]
async fn a_duplicate_is_a_duplicate_even_without_the_old_record() {
    let table = table().await;
    table
        .put_dispatch(DISPATCH_ID, "RUNNING", Some(TASK_ARN))
        .await;
    let event = TaskEvent::stopped(TASK_ARN)
        .dispatch_id(DISPATCH_ID)
        .build();
    let first = run(&table, event.clone()).await;
    assert!(matches!(first, Ok(Outcome::Updated { .. })), "{first:?}");
    let duplicate = run(&table, event).await;
    assert_eq!(
        skipped(&duplicate),
        Some(SkipReason::AlreadyTerminal),
        "{duplicate:?}"
    );
    assert_eq!(table.get(DISPATCH_ID).await.unwrap()["status"], "COMPLETED");
}

#[tokio::test]
async fn another_tasks_dispatch_is_skipped_and_a_missing_one_is_not_created() {
    let table = table().await;
    let owner = "arn:aws:ecs:us-east-1:311493921645:task/outpost-dev/the-real-one";
    table
        .put_dispatch(DISPATCH_ID, "RUNNING", Some(owner))
        .await;
    let event = TaskEvent::stopped(TASK_ARN)
        .dispatch_id(DISPATCH_ID)
        .build();
    assert_eq!(
        skipped(&run(&table, event).await),
        Some(SkipReason::OwnedByOtherTask)
    );
    assert_eq!(table.get(DISPATCH_ID).await.unwrap()["status"], "RUNNING");

    let missing = TaskEvent::stopped(TASK_ARN)
        .dispatch_id("no-such-dispatch")
        .build();
    assert_eq!(run(&table, missing).await.unwrap_err(), "DispatchNotFound");
    assert_eq!(table.count().await, 1);
}

#[tokio::test]
async fn the_task_arn_index_finds_a_dispatch_the_event_does_not_name() {
    let table = table().await;
    table
        .put_dispatch("by-arn", "RUNNING", Some(TASK_ARN))
        .await;
    let result = run(&table, TaskEvent::stopped(TASK_ARN).build()).await;
    match result {
        Ok(Outcome::Updated { dispatch_id, .. }) => assert_eq!(dispatch_id, "by-arn"),
        other => panic!("{other:?}"),
    }
}
