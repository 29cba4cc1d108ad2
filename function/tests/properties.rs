//! A property over random delivery sequences against moto: duplicates and reorders
//! never move a terminal status or create a record, and the first event that may settle
//! the record decides it. (Arbitrary JSON against the handler is a unit test, in
//! `src/handler/tests.rs`.)

use contract::table::attr;
use dispatch::event::{classify, Classified};
use dispatch::status::{decide, DispatchStatus};
use dispatch_aws::sdk::Caller;
use dispatch_aws::table::DynamoStore;
use function::config::Config;
use function::handler::process;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use serde_json::Value;
use testkit::events::{fixture, with_task_arn, DISPATCH_ID, TASK_ARN};
use testkit::table::TestTable;

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
            Classified::Stopped(task) => {
                let worker = &Config::defaults().worker_container;
                Some(decide(&task.detail, worker).status.as_str())
            }
            Classified::Ignored(_) => None,
        })
}

#[test]
fn event_sequences_never_move_a_terminal_status_or_create_a_record() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let table = runtime.block_on(TestTable::new(dispatch_aws::sdk::loader(Caller::Lambda)));
    let config = Config::defaults();
    let store = DynamoStore::new(
        table.client.clone(),
        &config.table_name,
        &config.task_arn_index,
    );
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
                        attr::DISPATCH_ID,
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
                    let now = chrono::Utc::now();
                    let request_id = testkit::request_id();
                    let _ = process(event_for(delivery), &store, &config, &request_id, now).await;
                    let record = table.get(DISPATCH_ID).await;
                    match start {
                        Start::Absent => prop_assert!(record.is_none(), "a record was created"),
                        _ => {
                            let status = record.unwrap().status.expect("a status");
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
