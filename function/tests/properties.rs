//! Properties over random inputs: event sequences against moto never move a terminal
//! status or create a record, and arbitrary JSON never panics the parser or the handler.

mod common;

use common::fake::FakeStore;
use common::{fixture, with_task_arn, TestTable, DISPATCH_ID, TASK_ARN};
use function::event::{classify, Classified};
use function::handler::handle;
use function::status::{decide, DispatchStatus};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use serde_json::Value;

const EVENTS: [&str; 8] = [
    "exit-0.json",
    "exit-1.json",
    "exit-137.json",
    "user-initiated.json",
    "user-initiated-timeout.json",
    "failed-to-start.json",
    "spot-interruption.json",
    "running.json",
];
const OTHER_TASK: &str = "arn:aws:ecs:us-east-1:311493921645:task/outpost-dev/someone-else";

/// One delivery: which fixture, and whether it is for this dispatch's task or another.
#[derive(Clone, Debug)]
struct Delivery {
    event: usize,
    other_task: bool,
}

/// How the record starts: absent, RUNNING without a task ARN, or RUNNING with ours.
#[derive(Clone, Copy, Debug)]
enum Start {
    Absent,
    RunningUnclaimed,
    RunningClaimed,
}

fn deliveries() -> impl Strategy<Value = (Start, Vec<Delivery>)> {
    let start = prop_oneof![
        Just(Start::Absent),
        Just(Start::RunningUnclaimed),
        Just(Start::RunningClaimed)
    ];
    let delivery = (0..EVENTS.len(), proptest::bool::weighted(0.2))
        .prop_map(|(event, other_task)| Delivery { event, other_task });
    // Duplicates come from drawing the same delivery twice, reordering from the draw order.
    (start, proptest::collection::vec(delivery, 1..8))
}

fn event_for(delivery: &Delivery) -> Value {
    let event = fixture(EVENTS[delivery.event]);
    if delivery.other_task {
        with_task_arn(event, OTHER_TASK)
    } else {
        event
    }
}

/// The status the first stopped event that may settle the record must leave, if any: any
/// task's event when the record names no task yet, only our task's when it does.
fn expected_status(start: Start, deliveries: &[Delivery]) -> Option<&'static str> {
    deliveries
        .iter()
        .filter(|delivery| matches!(start, Start::RunningUnclaimed) || !delivery.other_task)
        .map(event_for)
        .find_map(|event| match classify(event).unwrap() {
            Classified::Stopped(task) => Some(decide(&task.detail, "worker").status.as_str()),
            Classified::Ignored(_) => None,
        })
}

#[test]
fn event_sequences_never_move_a_terminal_status_or_create_a_record() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let table = runtime.block_on(TestTable::new());
    let (store, config) = (table.store(), table.config());
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&deliveries(), |(start, deliveries)| {
            runtime.block_on(async {
                table
                    .client
                    .delete_item()
                    .table_name(&table.name)
                    .key(
                        "dispatchId",
                        aws_sdk_dynamodb::types::AttributeValue::S(DISPATCH_ID.into()),
                    )
                    .send()
                    .await
                    .unwrap();
                match start {
                    Start::Absent => {}
                    Start::RunningUnclaimed => {
                        table.put_dispatch(DISPATCH_ID, "RUNNING", None).await
                    }
                    Start::RunningClaimed => {
                        table
                            .put_dispatch(DISPATCH_ID, "RUNNING", Some(TASK_ARN))
                            .await
                    }
                }
                let mut settled: Option<String> = None;
                for delivery in &deliveries {
                    // Errors (a missing record) are allowed; they must not write.
                    let _ = handle(
                        event_for(delivery),
                        &store,
                        &config,
                        &common::request_id(),
                        chrono::Utc::now(),
                    )
                    .await;
                    let record = table.get(DISPATCH_ID).await;
                    match start {
                        Start::Absent => prop_assert!(record.is_none(), "a record was created"),
                        _ => {
                            let status = record.unwrap()["status"].clone();
                            if let Some(terminal) = &settled {
                                prop_assert_eq!(&status, terminal, "a terminal status moved");
                            } else if DispatchStatus::is_terminal(&status) {
                                settled = Some(status);
                            }
                        }
                    }
                }
                if !matches!(start, Start::Absent) {
                    prop_assert_eq!(settled.as_deref(), expected_status(start, &deliveries));
                }
                Ok(())
            })
        })
        .unwrap();
}

/// Arbitrary JSON, nested a few levels.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from("STOPPED")),
        Just(Value::from("aws.ecs")),
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

/// A fixture with one field, anywhere in it, replaced by arbitrary JSON.
fn mutated_fixture() -> impl Strategy<Value = Value> {
    (
        0..EVENTS.len(),
        any::<proptest::sample::Index>(),
        arbitrary_json(),
    )
        .prop_map(|(event, index, replacement)| {
            let mut event = fixture(EVENTS[event]);
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
                collect_pointers(
                    child,
                    format!("{here}/{}", key.replace('~', "~0").replace('/', "~1")),
                    out,
                );
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

    #[test]
    fn arbitrary_json_never_panics_the_parser_or_the_handler(
        payload in prop_oneof![arbitrary_json(), mutated_fixture()]
    ) {
        let _ = classify(payload.clone());
        let store = FakeStore::with(DISPATCH_ID, "RUNNING", Some(TASK_ARN));
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let result = runtime.block_on(handle(payload, &store, &common::config("t"), &common::request_id(), chrono::Utc::now()));
        let writes = store.writes.lock().unwrap().len();
        match result {
            Ok(function::handler::Outcome::Updated { .. }) => prop_assert_eq!(writes, 1),
            _ => prop_assert_eq!(writes, 0),
        }
    }
}
