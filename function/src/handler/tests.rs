//! Every branch of [`process`], against the in-memory store: no server, no Python.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use contract::table::attr;
use proptest::prelude::*;
use serde_json::{json, Value};
use testkit::events::{fixture, TaskEvent, DISPATCH_ID, TASK_ARN};

use super::*;
use dispatch::status::DispatchStatus;
use dispatch_aws::memory::MemoryStore;

const OTHER_TASK: &str = "arn:aws:ecs:us-east-1:311493921645:task/outpost-dev/another";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-15T19:40:00Z")
        .unwrap()
        .into()
}

async fn run(store: &MemoryStore, event: Value) -> Result<Outcome, CallbackError> {
    process(event, store, &Config::defaults(), "request-1", now()).await
}

/// One RUNNING dispatch that names the fixtures' task.
fn running() -> MemoryStore {
    MemoryStore::with(&[(DISPATCH_ID, "RUNNING", Some(TASK_ARN))])
}

fn event() -> TaskEvent {
    TaskEvent::stopped(TASK_ARN).dispatch_id(DISPATCH_ID)
}

fn skip_reason(result: &Result<Outcome, CallbackError>) -> Option<SkipReason> {
    match result {
        Ok(Outcome::Skipped { reason, .. }) => Some(*reason),
        _ => None,
    }
}

fn error_type(result: Result<Outcome, CallbackError>) -> String {
    match result {
        Err(err) => err.error_type(),
        Ok(outcome) => panic!("expected an error, got {outcome:?}"),
    }
}

#[tokio::test]
async fn every_row_of_the_status_table_is_written_with_its_facts() {
    use DispatchStatus::*;
    let rows = [
        (event(), Completed, Some(0)),
        (event().exit_code(Some(2)), Failed, Some(2)),
        (event().exit_code(None), Failed, None),
        (
            event().stop_code("TaskFailedToStart").exit_code(None),
            Failed,
            None,
        ),
        (
            event()
                .stop_code("UserInitiated")
                .stopped_reason("Dispatch timeout")
                .exit_code(Some(143)),
            Timeout,
            Some(143),
        ),
        (
            event().stop_code("UserInitiated").exit_code(Some(143)),
            Cancelled,
            Some(143),
        ),
        // Interrupted from outside: a clean exit 0 on SIGTERM is no completed dispatch.
        (event().stop_code("SpotInterruption"), Failed, Some(0)),
    ];
    for (event, status, exit_code) in rows {
        let store = running();
        let event = event.build();
        let outcome = run(&store, event.clone()).await.unwrap();
        assert_eq!(
            outcome,
            Outcome::Updated {
                dispatch_id: DISPATCH_ID.into(),
                task_arn: TASK_ARN.into(),
                status,
                exit_code,
                stopped_at: "2026-01-15T19:39:31Z".parse().unwrap(),
                corrected: false,
            },
            "{event}"
        );
        let record = store.record(DISPATCH_ID).unwrap();
        assert_eq!(record[attr::STATUS], status.as_str());
        assert_eq!(
            record.get(attr::EXIT_CODE),
            exit_code.map(|c| c.to_string()).as_ref()
        );
        assert_eq!(record[attr::ENDED_AT], "2026-01-15T19:39:31Z");
        assert_eq!(record[attr::UPDATED_AT], "2026-01-15T19:40:00Z");
        assert_eq!(record[attr::UPDATE_REQUEST_ID], "request-1");
        assert_eq!(record[attr::ECS_VERSION], "3");
        assert_eq!(record[attr::STOP_CODE], event["detail"]["stopCode"]);
    }
}

#[tokio::test]
async fn events_that_are_not_ours_to_act_on_are_skipped_without_a_write() {
    let rows = [
        (fixture("other-source.json"), SkipReason::NotTaskStateChange),
        (
            event().last_status("RUNNING").build(),
            SkipReason::NotStopped,
        ),
        (fixture("running.json"), SkipReason::NotStopped),
    ];
    for (event, reason) in rows {
        let store = running();
        let result = run(&store, event.clone()).await;
        assert_eq!(skip_reason(&result), Some(reason), "{event}");
        assert!(store.writes().is_empty());
    }
}

#[tokio::test]
async fn a_task_without_a_dispatch_id_is_found_through_the_index_or_skipped() {
    let store = running();
    let found = run(&store, TaskEvent::stopped(TASK_ARN).build()).await;
    assert!(
        matches!(&found, Ok(Outcome::Updated { dispatch_id, .. }) if dispatch_id == DISPATCH_ID),
        "{found:?}"
    );

    let store = running();
    let unknown = run(&store, TaskEvent::stopped(OTHER_TASK).build()).await;
    assert_eq!(skip_reason(&unknown), Some(SkipReason::NoDispatchId));
    assert!(store.writes().is_empty());

    let store = MemoryStore::with(&[
        ("a", "RUNNING", Some(TASK_ARN)),
        ("b", "RUNNING", Some(TASK_ARN)),
    ]);
    let ambiguous = run(&store, TaskEvent::stopped(TASK_ARN).build()).await;
    assert_eq!(error_type(ambiguous), "AmbiguousDispatch");
    assert!(store.writes().is_empty());
}

#[tokio::test]
async fn a_settled_or_foreign_dispatch_is_skipped_and_left_as_it_was() {
    for status in DispatchStatus::TERMINAL {
        let store = MemoryStore::with(&[(DISPATCH_ID, status.as_str(), Some(TASK_ARN))]);
        let result = run(&store, event().exit_code(Some(1)).build()).await;
        assert_eq!(skip_reason(&result), Some(SkipReason::AlreadyTerminal));
        assert_eq!(
            store.record(DISPATCH_ID).unwrap()[attr::STATUS],
            status.as_str()
        );
    }
    let store = MemoryStore::with(&[(DISPATCH_ID, "RUNNING", Some(OTHER_TASK))]);
    let result = run(&store, event().build()).await;
    assert_eq!(skip_reason(&result), Some(SkipReason::OwnedByOtherTask));
    assert_eq!(
        store.record(DISPATCH_ID).unwrap()[attr::TASK_ARN],
        OTHER_TASK
    );

    // A record that names no task yet is settled, and from then on names this one.
    let store = MemoryStore::with(&[(DISPATCH_ID, "RUNNING", None)]);
    run(&store, event().build()).await.unwrap();
    assert_eq!(store.record(DISPATCH_ID).unwrap()[attr::TASK_ARN], TASK_ARN);
}

#[tokio::test]
async fn every_error_writes_nothing() {
    let missing = MemoryStore::default();
    assert_eq!(
        error_type(run(&missing, event().build()).await),
        "DispatchNotFound"
    );
    assert_eq!(missing.record(DISPATCH_ID), None, "a record was created");

    // The condition failed, yet the record passes it: its task ARN is not a string.
    let odd = MemoryStore::default();
    odd.put(HashMap::from([
        (
            attr::DISPATCH_ID.to_owned(),
            AttributeValue::S(DISPATCH_ID.into()),
        ),
        (attr::STATUS.to_owned(), AttributeValue::S("RUNNING".into())),
        (attr::TASK_ARN.to_owned(), AttributeValue::N("7".into())),
    ]));
    assert_eq!(
        error_type(run(&odd, event().build()).await),
        "UnexplainedConflict"
    );

    let throttled = running();
    throttled.fail_next("ProvisionedThroughputExceededException");
    let result = run(&throttled, event().build()).await;
    assert_eq!(error_type(result), "ProvisionedThroughputExceededException");
    let denied = running();
    denied.fail_next("AccessDeniedException");
    let result = run(&denied, TaskEvent::stopped(TASK_ARN).build()).await;
    assert_eq!(error_type(result), "AccessDeniedException");

    let malformed = [
        json!({"not": "an EventBridge event"}),
        fixture("malformed-missing-task-arn.json"),
        fixture("malformed-stopped-at.json"),
        fixture("malformed-containers-not-a-list.json"),
        event().dispatch_id("").build(),
        event().dispatch_id("padded ").build(),
        // It says it is a task state change, but carries no task.
        json!({"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": [TASK_ARN]}),
        event().set("lastStatus", Value::Null).build(),
        // Two places naming different dispatches: settling either could be wrong.
        event().set("group", json!("dispatch:another")).build(),
    ];
    for event in malformed {
        let store = running();
        let result = run(&store, event.clone()).await;
        assert_eq!(error_type(result), "ValidationException", "{event}");
        for store in [&store, &missing, &odd, &throttled, &denied] {
            assert!(store.writes().is_empty());
        }
    }
}

#[test]
fn metrics_count_each_outcome_once() {
    let updated = |stopped_at| {
        Ok(Outcome::Updated {
            dispatch_id: "d".into(),
            task_arn: "t".into(),
            status: DispatchStatus::Completed,
            exit_code: Some(0),
            stopped_at,
            corrected: false,
        })
    };
    let metrics = invocation_metrics(
        &updated(now() - chrono::Duration::milliseconds(1500)),
        now(),
    );
    assert_eq!(metrics.tally, Tally::Successful);
    assert_eq!(metrics.callback_latency_ms, Some(1500.0));

    // A stop stamped after the update (clock skew) is no negative latency.
    let skewed = updated(now() + chrono::Duration::seconds(5));
    assert_eq!(
        invocation_metrics(&skewed, now()).callback_latency_ms,
        Some(0.0)
    );

    let skipped = Ok(Outcome::Skipped {
        reason: SkipReason::AlreadyTerminal,
        dispatch_id: Some("d".into()),
        task_arn: None,
    });
    assert_eq!(
        invocation_metrics(&skipped, now()).tally,
        Tally::Skipped(SkipReason::AlreadyTerminal)
    );
    let failed = Err(CallbackError::Validation("bad".into()));
    assert_eq!(invocation_metrics(&failed, now()).tally, Tally::Failed);
}

#[test]
fn outcomes_serialize_as_the_response() {
    let skipped = Outcome::Skipped {
        reason: SkipReason::AlreadyTerminal,
        dispatch_id: Some("d".into()),
        task_arn: None,
    };
    assert_eq!(
        serde_json::to_value(&skipped).unwrap(),
        json!({"result": "skipped", "reason": "AlreadyTerminal", "dispatchId": "d"})
    );
    let updated = Outcome::Updated {
        dispatch_id: "d".into(),
        task_arn: "t".into(),
        status: DispatchStatus::Timeout,
        exit_code: None,
        stopped_at: now(),
        corrected: false,
    };
    assert_eq!(
        serde_json::to_value(&updated).unwrap(),
        json!({"result": "updated", "dispatchId": "d", "taskArn": "t", "status": "TIMEOUT"})
    );
}

/// Arbitrary JSON, nested a few levels, with the words the parser looks for.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from(contract::ecs::STOPPED)),
        Just(Value::from(contract::ecs::SOURCE)),
        Just(Value::from("2026-01-15T19:39:31.932Z")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    ".{0,8}",
                    Just("detail".to_owned()),
                    Just("containers".to_owned()),
                    Just("exitCode".to_owned()),
                    Just("taskArn".to_owned()),
                ],
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

const MUTATED: [&str; 5] = [
    "exit-0.json",
    "no-dispatch-id.json",
    "failed-to-start.json",
    "user-initiated-timeout.json",
    "running.json",
];

/// A fixture with one field, anywhere in it, replaced by arbitrary JSON.
fn mutated_fixture() -> impl Strategy<Value = Value> {
    (
        0..MUTATED.len(),
        any::<proptest::sample::Index>(),
        arbitrary_json(),
    )
        .prop_map(|(event, index, replacement)| {
            let mut event = fixture(MUTATED[event]);
            let mut pointers = Vec::new();
            collect_pointers(&event, String::new(), &mut pointers);
            if let Some(target) = event.pointer_mut(&pointers[index.index(pointers.len())]) {
                *target = replacement;
            }
            event
        })
}

fn collect_pointers(value: &Value, here: String, out: &mut Vec<String>) {
    out.push(here.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                collect_pointers(child, format!("{here}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_pointers(child, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Whatever arrives, the handler answers without panicking and writes at most once,
    /// and only when it reports an update.
    #[test]
    fn arbitrary_json_never_panics_and_writes_only_on_update(
        payload in prop_oneof![arbitrary_json(), mutated_fixture()]
    ) {
        let store = running();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let result = runtime.block_on(run(&store, payload));
        let writes = store.writes().len();
        match result {
            Ok(Outcome::Updated { .. }) => prop_assert_eq!(writes, 1),
            _ => prop_assert_eq!(writes, 0),
        }
    }
}

/// The reconciler closed the dispatch FAILED because ECS had forgotten the task; the
/// task's own event (late, or replayed from the failure queue) then brings the truth.
fn guessed() -> MemoryStore {
    let store = MemoryStore::default();
    let text = |value: &str| AttributeValue::S(value.to_owned());
    store.put(HashMap::from([
        (attr::DISPATCH_ID.to_owned(), text(DISPATCH_ID)),
        (attr::STATUS.to_owned(), text("FAILED")),
        (attr::TASK_ARN.to_owned(), text(TASK_ARN)),
        (
            attr::STOP_CODE.to_owned(),
            text(contract::status::GUESS_STOP_CODE),
        ),
        (
            attr::STOPPED_REASON.to_owned(),
            text("ECS has no record of the task"),
        ),
        (attr::PROVISIONAL.to_owned(), AttributeValue::Bool(true)),
    ]));
    store
}

#[tokio::test]
async fn the_tasks_own_event_replaces_the_reconcilers_guess_once() {
    let store = guessed();
    let result = run(&store, event().build()).await;
    assert!(
        matches!(
            &result,
            Ok(Outcome::Updated {
                status: DispatchStatus::Completed,
                corrected: true,
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(invocation_metrics(&result, now()).tally, Tally::Corrected);
    let record = store.record(DISPATCH_ID).unwrap();
    assert_eq!(record[attr::STATUS], "COMPLETED");
    assert_eq!(record[attr::EXIT_CODE], "0");
    assert_eq!(record[attr::CORRECTED_GUESS], "FAILED");
    // The guess's own attributes are gone or replaced by the truth's: the record is
    // terminal for good.
    assert!(!record.contains_key(attr::PROVISIONAL), "{record:?}");
    assert_eq!(record[attr::STOP_CODE], "EssentialContainerExited");
    assert_eq!(
        record[attr::STOPPED_REASON],
        "Essential container in task exited"
    );
    // A second delivery (another invocation) is a duplicate.
    let again = process(
        event().build(),
        &store,
        &Config::defaults(),
        "request-2",
        now(),
    )
    .await;
    assert_eq!(skip_reason(&again), Some(SkipReason::AlreadyTerminal));
}

#[tokio::test]
async fn nothing_but_the_tasks_own_event_replaces_a_guess() {
    // Another task's event for the dispatch is not the truth about this one.
    let store = guessed();
    let other = TaskEvent::stopped(OTHER_TASK)
        .dispatch_id(DISPATCH_ID)
        .build();
    assert_eq!(
        skip_reason(&run(&store, other).await),
        Some(SkipReason::AlreadyTerminal)
    );
    // Nor is a second guess of the same task.
    let guess = event()
        .stop_code(contract::status::GUESS_STOP_CODE)
        .exit_code(None)
        .build();
    assert_eq!(
        skip_reason(&run(&store, guess).await),
        Some(SkipReason::AlreadyTerminal)
    );
    assert_eq!(
        store.record(DISPATCH_ID).unwrap()[attr::PROVISIONAL],
        "true"
    );
    assert!(store.writes().is_empty());
}
