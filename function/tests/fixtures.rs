//! Every fixture event, shaped like AWS's documented ECS task state changes, through the
//! real handler against a real DynamoDB API (moto). One row per fixture: what the
//! invocation returns and what the record holds afterwards.

use dispatch::outcome::{Outcome, SkipReason};
use dispatch::record::DispatchRecord;
use dispatch_aws::sdk::Caller;
use dispatch_aws::table::DynamoStore;
use function::config::Config;
use function::handler::process;
use testkit::events::{fixture, DISPATCH_ID, TASK_ARN};
use testkit::table::TestTable;

async fn table() -> TestTable {
    TestTable::new(dispatch_aws::sdk::loader(Caller::Lambda)).await
}

fn store(table: &TestTable) -> DynamoStore {
    DynamoStore::new(
        table.client.clone(),
        contract::table::NAME,
        contract::table::TASK_ARN_INDEX.name,
    )
}

/// What a row expects.
#[derive(Debug)]
enum Expect {
    /// Settled with this status and, when known, this exit code.
    Updated(&'static str, Option<i64>),
    /// Acknowledged without a write.
    Skipped(SkipReason),
    /// Failed with this error type, without a write.
    Error(&'static str),
}

async fn check(table: &TestTable, name: &str, expected: Expect) {
    // Every row starts from a RUNNING record that the GSI can find by task ARN.
    table
        .put_dispatch(DISPATCH_ID, "RUNNING", Some(TASK_ARN))
        .await;
    let now = chrono::Utc::now();
    let config = Config::defaults();
    let result = process(
        fixture(name),
        &store(table),
        &config,
        &testkit::request_id(),
        now,
    )
    .await;
    let record = table
        .get(DISPATCH_ID)
        .await
        .expect("the record is never deleted");

    match (&expected, &result) {
        (Expect::Updated(status, exit_code), Ok(Outcome::Updated { status: got, .. })) => {
            assert_eq!(got.as_str(), *status, "{name}");
            assert_eq!(record.status.as_deref(), Some(*status), "{name}");
            assert_eq!(record.exit_code, *exit_code, "{name}");
            assert_eq!(record.task_arn.as_deref(), Some(TASK_ARN), "{name}");
            let ended_at = record.ended_at.as_deref().unwrap_or_default();
            assert!(ended_at.ends_with('Z'), "{name}: {record:?}");
            assert_eq!(
                record.updated_at,
                Some(dispatch::timefmt::record_timestamp(now))
            );
        }
        (Expect::Skipped(reason), Ok(Outcome::Skipped { reason: got, .. })) => {
            assert_eq!(got, reason, "{name}");
            assert_untouched(name, &record);
        }
        (Expect::Error(error_type), Err(err)) => {
            assert_eq!(err.error_type(), *error_type, "{name}: {err}");
            assert_untouched(name, &record);
        }
        _ => panic!("{name}: expected {expected:?}, got {result:?}"),
    }
}

fn assert_untouched(name: &str, record: &DispatchRecord) {
    assert_eq!(record.status.as_deref(), Some("RUNNING"), "{name}");
    assert!(record.ended_at.is_none(), "{name}: {record:?}");
}

#[tokio::test]
async fn every_fixture_settles_as_the_table_says() {
    use Expect::*;
    let table = table().await;
    let rows = [
        ("exit-0.json", Updated("COMPLETED", Some(0))),
        ("exit-1.json", Updated("FAILED", Some(1))),
        ("exit-137.json", Updated("FAILED", Some(137))),
        ("exit-143.json", Updated("FAILED", Some(143))),
        // The reason says "i/o timeout", but a task that never started cannot time out.
        ("failed-to-start.json", Updated("FAILED", None)),
        (
            "failed-to-start-no-containers.json",
            Updated("FAILED", None),
        ),
        ("user-initiated.json", Updated("CANCELLED", Some(143))),
        ("user-initiated-timeout.json", Updated("TIMEOUT", Some(143))),
        ("spot-interruption.json", Updated("FAILED", Some(143))),
        ("unknown-fields.json", Updated("COMPLETED", Some(0))),
        ("dispatch-id-in-group.json", Updated("COMPLETED", Some(0))),
        ("dispatch-id-in-tags.json", Updated("COMPLETED", Some(0))),
        ("no-dispatch-id.json", Updated("COMPLETED", Some(0))),
        ("running.json", Skipped(SkipReason::NotStopped)),
        ("other-source.json", Skipped(SkipReason::NotTaskStateChange)),
        (
            "malformed-missing-task-arn.json",
            Error("ValidationException"),
        ),
        (
            "malformed-containers-not-a-list.json",
            Error("ValidationException"),
        ),
        ("malformed-stopped-at.json", Error("ValidationException")),
        (
            "malformed-empty-dispatch-id.json",
            Error("ValidationException"),
        ),
        (
            "malformed-not-eventbridge.json",
            Error("ValidationException"),
        ),
    ];
    for (name, expected) in rows {
        check(&table, name, expected).await;
    }
}

#[tokio::test]
async fn the_record_carries_what_on_call_needs() {
    let table = table().await;
    table.put_dispatch(DISPATCH_ID, "RUNNING", None).await;
    let now = chrono::Utc::now();
    let config = Config::defaults();
    process(
        fixture("exit-137.json"),
        &store(&table),
        &config,
        "request-1",
        now,
    )
    .await
    .unwrap();
    // Every attribute as its text, so the count below catches one written by mistake.
    let record = table.get(DISPATCH_ID).await.unwrap().to_text();
    let expected = [
        ("status", "FAILED"),
        ("exitCode", "137"),
        ("endedAt", "2026-01-15T19:39:31Z"),
        ("stopCode", "EssentialContainerExited"),
        ("stoppedReason", "Essential container in task exited"),
        ("taskArn", TASK_ARN),
        ("ecsVersion", "5"),
        ("createdAt", "2026-01-15T19:38:40Z"),
        ("dispatchId", DISPATCH_ID),
    ];
    for (attribute, value) in expected {
        assert_eq!(record[attribute], value, "{attribute}");
    }
    assert_eq!(record["updateRequestId"], "request-1");
    assert_eq!(record.len(), expected.len() + 2, "{record:?}"); // plus updatedAt
}

#[tokio::test]
async fn a_long_reason_is_cut_and_a_missing_stopped_at_falls_back_to_the_event_time() {
    let table = table().await;
    table.put_dispatch(DISPATCH_ID, "RUNNING", None).await;
    let mut event = fixture("exit-1.json");
    event["detail"]["stoppedReason"] = "x".repeat(5000).into();
    event["detail"].as_object_mut().unwrap().remove("stoppedAt");
    let config = Config::defaults();
    let now = chrono::Utc::now();
    process(event, &store(&table), &config, &testkit::request_id(), now)
        .await
        .unwrap();
    let record = table.get(DISPATCH_ID).await.unwrap();
    assert_eq!(record.stopped_reason.unwrap_or_default().len(), 1024);
    assert_eq!(record.ended_at.as_deref(), Some("2026-01-15T19:39:32Z"));
}

/// `make adopt`'s last step sends `examples/adopt/stopped-event.json`, its placeholders
/// filled in, to the deployed function and expects COMPLETED.
#[tokio::test]
async fn the_adopt_check_event_settles_its_dispatch() {
    let table = table().await;
    let (dispatch, task) = (
        "adopt-check-1",
        "arn:aws:ecs:us-east-1:000000000000:task/adopt-check/adopt-check-1",
    );
    table.put_dispatch(dispatch, "RUNNING", Some(task)).await;
    let text =
        std::fs::read_to_string(testkit::repo_root().join("examples/adopt/stopped-event.json"))
            .expect("the adopt check event");
    let text = text
        .replace("@DISPATCH_ID@", dispatch)
        .replace("@TASK_ARN@", task);
    let event = serde_json::from_str(&text).expect("the adopt check event is JSON");
    let config = Config::defaults();
    let result = process(
        event,
        &store(&table),
        &config,
        &testkit::request_id(),
        chrono::Utc::now(),
    )
    .await;
    assert!(matches!(result, Ok(Outcome::Updated { .. })), "{result:?}");
    assert_eq!(
        table.get(dispatch).await.unwrap().status.as_deref(),
        Some("COMPLETED")
    );
}
