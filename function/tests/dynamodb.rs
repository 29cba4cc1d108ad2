//! The write against real DynamoDB APIs: exactly once, never over a terminal status, never
//! creating a record, and AWS failures surfaced as typed errors. Every test runs against
//! moto and against dynalite, a second DynamoDB implementation, so the function is not
//! tuned to one server's quirks.
//!
//! Where the two differ: on a failed condition, DynamoDB (as documented for
//! `ReturnValuesOnConditionCheckFailure = ALL_OLD`) and moto return the record as it was;
//! dynalite returns none. The function then reads the record once, strongly consistent,
//! so a duplicate is still a duplicate and not a missing dispatch.

use std::future::Future;

use dispatch::outcome::{Outcome, SkipReason};
use dispatch::record::DispatchRecord;
use dispatch::status::DispatchStatus;
use dispatch_aws::sdk::Caller;
use dispatch_aws::table::DynamoStore;
use function::config::Config;
use function::error::CallbackError;
use function::handler::process;
use testkit::events::{fixture, with_dispatch_id, with_task_arn, DISPATCH_ID, TASK_ARN};
use testkit::request_id;
use testkit::server::Server;
use testkit::table::TestTable;

/// Runs `test` on a fresh table in moto, then in dynalite. The line it prints before each
/// run is shown with a failure, and says which server the failure came from.
async fn on_each_server<Test, Run>(test: Test)
where
    Test: Fn(TestTable) -> Run,
    Run: Future<Output = ()>,
{
    for server in [Server::moto, Server::dynalite] {
        let table = TestTable::on(server(), dispatch_aws::sdk::loader(Caller::Lambda)).await;
        eprintln!("against {:?}", table.server.kind());
        test(table).await;
    }
}

fn store(table: &TestTable) -> DynamoStore {
    DynamoStore::new(
        table.client.clone(),
        contract::table::NAME,
        contract::table::TASK_ARN_INDEX.name,
    )
}

/// One invocation's processing of `event` against `table`, now.
async fn handle(table: &TestTable, event: serde_json::Value) -> Result<Outcome, CallbackError> {
    let now = chrono::Utc::now();
    process(
        event,
        &store(table),
        &Config::defaults(),
        &request_id(),
        now,
    )
    .await
}

async fn run(table: &TestTable, event: serde_json::Value) -> Result<Outcome, String> {
    handle(table, event).await.map_err(|err| err.error_type())
}

fn skipped(result: &Result<Outcome, String>) -> Option<SkipReason> {
    match result {
        Ok(Outcome::Skipped { reason, .. }) => Some(*reason),
        _ => None,
    }
}

/// A duplicate is a duplicate even where the failed condition returns no old record
/// (dynalite): the function reads the record, and finds it settled.
#[tokio::test]
async fn a_duplicate_delivery_is_skipped() {
    on_each_server(|table| async move {
        table
            .put_dispatch(DISPATCH_ID, "RUNNING", Some(TASK_ARN))
            .await;
        let first = run(&table, fixture("exit-0.json")).await;
        assert!(
            matches!(
                first,
                Ok(Outcome::Updated {
                    status: DispatchStatus::Completed,
                    ..
                })
            ),
            "{first:?}"
        );
        let updated_at = table.get(DISPATCH_ID).await.unwrap().updated_at;

        // An hour later, so that an overwrite would show in updatedAt.
        let later = chrono::Utc::now() + chrono::Duration::hours(1);
        let config = Config::defaults();
        let second = process(
            fixture("exit-0.json"),
            &store(&table),
            &config,
            &request_id(),
            later,
        )
        .await
        .map_err(|err| err.error_type());
        assert_eq!(skipped(&second), Some(SkipReason::AlreadyTerminal));
        let record = table.get(DISPATCH_ID).await.unwrap();
        assert_eq!(record.updated_at, updated_at);
        assert_eq!(record.status.as_deref(), Some("COMPLETED"));
    })
    .await;
}

#[tokio::test]
async fn a_terminal_status_is_never_overwritten() {
    on_each_server(|table| async move {
        for status in ["COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"] {
            table
                .put_dispatch(DISPATCH_ID, status, Some(TASK_ARN))
                .await;
            for event in ["exit-0.json", "exit-1.json", "user-initiated.json"] {
                let result = run(&table, fixture(event)).await;
                assert_eq!(
                    skipped(&result),
                    Some(SkipReason::AlreadyTerminal),
                    "{status} {event}"
                );
                let record = table.get(DISPATCH_ID).await.unwrap();
                assert_eq!(record.status.as_deref(), Some(status));
                assert!(record.ended_at.is_none(), "{record:?}");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn the_gsi_finds_a_dispatch_the_event_does_not_name() {
    on_each_server(|table| async move {
        table
            .put_dispatch("found-by-arn", "RUNNING", Some(TASK_ARN))
            .await;
        table
            .put_dispatch(
                "other",
                "RUNNING",
                Some("arn:aws:ecs:us-east-1:1:task/c/other"),
            )
            .await;
        let result = run(&table, fixture("no-dispatch-id.json")).await;
        match result {
            Ok(Outcome::Updated { dispatch_id, .. }) => assert_eq!(dispatch_id, "found-by-arn"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            table.get("other").await.unwrap().status.as_deref(),
            Some("RUNNING")
        );
    })
    .await;
}

#[tokio::test]
async fn a_task_that_is_not_a_dispatch_is_skipped() {
    on_each_server(|table| async move {
        table
            .put_dispatch(
                "unrelated",
                "RUNNING",
                Some("arn:aws:ecs:us-east-1:1:task/c/x"),
            )
            .await;
        let result = run(&table, fixture("no-dispatch-id.json")).await;
        assert_eq!(skipped(&result), Some(SkipReason::NoDispatchId));
        assert_eq!(table.count().await, 1);
    })
    .await;
}

#[tokio::test]
async fn two_dispatches_claiming_one_task_is_an_error() {
    on_each_server(|table| async move {
        table.put_dispatch("a", "RUNNING", Some(TASK_ARN)).await;
        table.put_dispatch("b", "RUNNING", Some(TASK_ARN)).await;
        let result = run(&table, fixture("no-dispatch-id.json")).await;
        assert_eq!(result.unwrap_err(), "AmbiguousDispatch");
        assert_eq!(
            table.get("a").await.unwrap().status.as_deref(),
            Some("RUNNING")
        );
        assert_eq!(
            table.get("b").await.unwrap().status.as_deref(),
            Some("RUNNING")
        );
    })
    .await;
}

#[tokio::test]
async fn a_missing_record_is_an_error_and_nothing_is_created() {
    on_each_server(|table| async move {
        let result = run(&table, fixture("exit-0.json")).await;
        assert_eq!(result.unwrap_err(), "DispatchNotFound");
        assert_eq!(table.count().await, 0);
    })
    .await;
}

#[tokio::test]
async fn a_record_owned_by_another_task_is_skipped() {
    on_each_server(|table| async move {
        let owner = "arn:aws:ecs:us-east-1:311493921645:task/outpost-dev/the-real-one";
        table
            .put_dispatch(DISPATCH_ID, "RUNNING", Some(owner))
            .await;
        let result = run(&table, fixture("exit-1.json")).await;
        assert_eq!(skipped(&result), Some(SkipReason::OwnedByOtherTask));
        let record = table.get(DISPATCH_ID).await.unwrap();
        assert_eq!(record.status.as_deref(), Some("RUNNING"));
        assert_eq!(record.task_arn.as_deref(), Some(owner));

        // The owner's own event still settles it.
        let result = run(&table, with_task_arn(fixture("exit-1.json"), owner)).await;
        assert!(matches!(result, Ok(Outcome::Updated { .. })), "{result:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_deliveries_update_exactly_once() {
    on_each_server(|table| async move {
        table.put_dispatch(DISPATCH_ID, "RUNNING", None).await;
        let mut deliveries = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let store = store(&table);
            deliveries.spawn(async move {
                let now = chrono::Utc::now();
                let config = Config::defaults();
                process(fixture("exit-0.json"), &store, &config, &request_id(), now).await
            });
        }
        let results: Vec<_> = deliveries.join_all().await;
        let updates = results
            .iter()
            .filter(|result| matches!(result, Ok(Outcome::Updated { .. })))
            .count();
        let duplicates = results
            .iter()
            .filter(|result| {
                matches!(
                    result,
                    Ok(Outcome::Skipped {
                        reason: SkipReason::AlreadyTerminal,
                        ..
                    })
                )
            })
            .count();
        assert_eq!((updates, duplicates), (1, 19), "{results:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_events_for_one_dispatch_settle_it_once() {
    // A COMPLETED and a FAILED event race: whichever lands first wins, the other skips.
    on_each_server(|table| async move {
        table
            .put_dispatch(DISPATCH_ID, "RUNNING", Some(TASK_ARN))
            .await;
        let (a, b) = tokio::join!(
            handle(&table, fixture("exit-0.json")),
            handle(&table, fixture("exit-1.json")),
        );
        let updated: Vec<DispatchStatus> = [&a, &b]
            .iter()
            .filter_map(|result| match result {
                Ok(Outcome::Updated { status, .. }) => Some(*status),
                _ => None,
            })
            .collect();
        assert_eq!(updated.len(), 1, "{a:?} {b:?}");
        assert_eq!(
            table.get(DISPATCH_ID).await.unwrap().status.as_deref(),
            Some(updated[0].as_str())
        );
    })
    .await;
}

#[tokio::test]
async fn aws_failures_are_typed_errors_and_write_nothing() {
    on_each_server(|table| async move {
        // The table does not exist.
        let config = Config {
            table_name: "no-such-table".to_owned(),
            ..Config::defaults()
        };
        let missing = DynamoStore::new(
            table.client.clone(),
            &config.table_name,
            &config.task_arn_index,
        );
        table.put_dispatch("d", "RUNNING", None).await;
        let err = process(
            with_dispatch_id(fixture("exit-0.json"), "d"),
            &missing,
            &config,
            &request_id(),
            chrono::Utc::now(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "ResourceNotFoundException", "{err}");
        // One line, as AWS says it: operation, table, attempts, code, message, request ID.
        let message = err.to_string();
        assert!(
            message.starts_with(
                "UpdateItem on no-such-table failed after 1 attempt: ResourceNotFoundException: "
            ),
            "{message}"
        );
        assert!(message.contains(" (request "), "{message}");
        assert!(!message.contains('\n') && message.len() < 300, "{message}");
        assert_eq!(
            table.get("d").await.unwrap().status.as_deref(),
            Some("RUNNING")
        );
        assert_eq!(table.count().await, 1);

        // DynamoDB cannot be reached: the server is gone.
        let gone = store(&table);
        drop(table);
        let err = process(
            fixture("exit-0.json"),
            &gone,
            &Config::defaults(),
            &request_id(),
            chrono::Utc::now(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "DispatchFailure", "{err}");
        // The SDK retried the connection (standard mode, 3 attempts); the root cause is said once.
        let message = err.to_string();
        assert!(
            message.starts_with(
                "UpdateItem on outpost-dispatches failed after 3 attempts: DispatchFailure: "
            ),
            "{message}"
        );
        assert!(message.contains("refused"), "{message}");
        assert!(
            !message.contains("DisplayErrorContext") && message.len() < 300,
            "{message}"
        );
    })
    .await;
}

/// The reconciler closed the dispatch FAILED because ECS had forgotten its task; the
/// task's own event (late, or replayed from the failure queue) replaces the guess with the
/// true outcome, once, through the same single conditional write, on both servers.
#[tokio::test]
async fn the_tasks_own_event_replaces_the_reconcilers_guess_once() {
    on_each_server(|table| async move {
        let guess = DispatchRecord {
            dispatch_id: DISPATCH_ID.into(),
            status: Some("FAILED".into()),
            task_arn: Some(TASK_ARN.into()),
            stop_code: Some(contract::status::GUESS_STOP_CODE.into()),
            stopped_reason: Some("ECS has no record of the task".into()),
            provisional: Some(true),
            ..DispatchRecord::default()
        };
        table.put_records(std::slice::from_ref(&guess)).await;
        // Another task's event is not the truth about this one.
        let other = with_task_arn(
            with_dispatch_id(fixture("exit-0.json"), DISPATCH_ID),
            "arn:other",
        );
        assert_eq!(
            skipped(&run(&table, other).await),
            Some(SkipReason::AlreadyTerminal)
        );

        let truth = run(&table, fixture("exit-0.json")).await;
        assert!(
            matches!(
                &truth,
                Ok(Outcome::Updated {
                    status: DispatchStatus::Completed,
                    corrected: true,
                    ..
                })
            ),
            "{truth:?}"
        );
        let record = table.get(DISPATCH_ID).await.unwrap();
        assert_eq!(record.status.as_deref(), Some("COMPLETED"));
        assert_eq!(record.exit_code, Some(0));
        assert_eq!(
            record.stop_code.as_deref(),
            Some("EssentialContainerExited")
        );
        assert_eq!(record.provisional, None, "{record:?}");
        assert_eq!(record.corrected_guess.as_deref(), Some("FAILED"));

        let again = run(&table, fixture("exit-0.json")).await;
        assert_eq!(skipped(&again), Some(SkipReason::AlreadyTerminal));
    })
    .await;
}
