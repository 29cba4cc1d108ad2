//! Each fault DynamoDB or the network can hand the function, alone, through the fault
//! proxy (`testkit::faults`), against moto and against dynalite: the store's retries, the
//! conditional write and `updateRequestId` (which tells our own retried write from a
//! duplicate) must turn every one of them into exactly one settle, or a clean error that
//! Lambda retries, never a lost or double-counted dispatch.
//!
//! These run the handler in process, with the function's own SDK configuration (retries,
//! timeouts); `tests/reliability.rs` runs the real binary through a mixed run of them.

use dispatch::outcome::{Outcome, SkipReason};
use dispatch::record::DispatchRecord;
use dispatch_aws::sdk::Caller;
use dispatch_aws::table::DynamoStore;
use function::config::Config;
use function::error::CallbackError;
use function::handler::process;
use serde_json::Value;
use testkit::events::{TaskEvent, DISPATCH_ID, TASK_ARN};
use testkit::faults::{Fault, FaultProxy};
use testkit::server::{point_at, Server};
use testkit::table::TestTable;

/// Longer than one attempt may take, so a held request is always given up on first.
const HOLD: std::time::Duration =
    dispatch_aws::sdk::ATTEMPT_TIMEOUT.saturating_add(std::time::Duration::from_millis(500));

/// The table on one implementation, and the function's store reaching it through a proxy.
struct Rig {
    table: TestTable,
    proxy: FaultProxy,
    store: DynamoStore,
    config: Config,
}

impl Rig {
    async fn on(server: Result<Server, testkit::server::ServerError>) -> Rig {
        let table = TestTable::on(server, dispatch_aws::sdk::loader(Caller::Lambda)).await;
        let proxy = FaultProxy::start(&table.server, HOLD).await.unwrap();
        let sdk = point_at(dispatch_aws::sdk::loader(Caller::Lambda), proxy.endpoint());
        let client = aws_sdk_dynamodb::Client::new(&sdk.load().await);
        let config = Config::defaults();
        let store = DynamoStore::new(client, &config.table_name, &config.task_arn_index);
        Rig {
            table,
            proxy,
            store,
            config,
        }
    }

    /// Both implementations, so no test passes on one server's quirks alone.
    async fn each() -> [Rig; 2] {
        [
            Rig::on(Server::moto()).await,
            Rig::on(Server::dynalite()).await,
        ]
    }

    fn name(&self) -> String {
        format!("{:?}", self.table.server.kind())
    }

    async fn process(&self, event: &Value, request_id: &str) -> Result<Outcome, CallbackError> {
        let now = chrono::Utc::now();
        process(event.clone(), &self.store, &self.config, request_id, now).await
    }

    async fn running(&self) {
        let table = &self.table;
        table
            .put_dispatch(DISPATCH_ID, "RUNNING", Some(TASK_ARN))
            .await;
    }

    async fn record(&self) -> DispatchRecord {
        self.proxy.quiet().await;
        self.table.get(DISPATCH_ID).await.expect("the record")
    }

    fn update_items(&self) -> u64 {
        self.proxy.counts().requests["UpdateItem"]
    }
}

fn stopped() -> Value {
    TaskEvent::stopped(TASK_ARN)
        .dispatch_id(DISPATCH_ID)
        .build()
}

fn updated(result: &Result<Outcome, CallbackError>) -> bool {
    matches!(result, Ok(Outcome::Updated { .. }))
}

fn skipped(result: &Result<Outcome, CallbackError>) -> Option<SkipReason> {
    match result {
        Ok(Outcome::Skipped { reason, .. }) => Some(*reason),
        _ => None,
    }
}

/// The write happened but its answer was lost (a 500 after the write, or a connection
/// closed before the answer): the SDK's retry meets the failed condition, sees its own
/// request ID on the record, and reports the update, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_answer_was_lost_is_our_own_update() {
    for fault in [Fault::LostResponse, Fault::Reset] {
        for rig in Rig::each().await {
            rig.running().await;
            rig.proxy.script("UpdateItem", [Some(fault)]);
            let result = rig.process(&stopped(), "req-lost").await;
            let at = format!("{fault} on {}", rig.name());
            assert!(updated(&result), "{at}: {result:?}");
            assert_eq!(rig.update_items(), 2, "{at}: one write, one retry");
            let record = rig.record().await;
            assert_eq!(record.status.as_deref(), Some("COMPLETED"), "{at}");
            assert_eq!(
                record.update_request_id.as_deref(),
                Some("req-lost"),
                "{at}"
            );

            // The same event again, as EventBridge may deliver it: a duplicate.
            let again = rig.process(&stopped(), "req-duplicate").await;
            assert_eq!(
                skipped(&again),
                Some(SkipReason::AlreadyTerminal),
                "{at}: {again:?}"
            );
        }
    }
}

/// Throttles and server errors before the table are retried by the SDK; once its
/// attempts are spent, the invocation fails with AWS's code and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttles_and_server_errors_are_retried_then_reported() {
    for rig in Rig::each().await {
        let at = rig.name();
        rig.running().await;
        rig.proxy.script(
            "UpdateItem",
            [Fault::ProvisionedThroughputExceeded, Fault::Throttling].map(Some),
        );
        let result = rig.process(&stopped(), "req-throttled").await;
        assert!(updated(&result), "{at}: {result:?}");
        assert_eq!(rig.update_items(), 3, "{at}");

        rig.table
            .put_dispatch(DISPATCH_ID, "RUNNING", Some(TASK_ARN))
            .await;
        rig.proxy
            .script("UpdateItem", [Some(Fault::ServerError); 3]);
        match rig.process(&stopped(), "req-failing").await {
            Err(CallbackError::Store(error)) => {
                assert_eq!(error.code, "InternalServerError", "{at}");
                assert_eq!(error.attempts, dispatch_aws::sdk::MAX_ATTEMPTS, "{at}");
            }
            other => panic!("{at}: {other:?}"),
        }
        assert_eq!(
            rig.record().await.status.as_deref(),
            Some("RUNNING"),
            "{at}: nothing written"
        );
    }
}

/// Lambda delivers a failed invocation again with the same request ID. If the first
/// delivery's write landed but every answer was lost, the second delivery recognises the
/// write as its own and counts it; a different request ID (a duplicate event) does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lambda_retry_recognises_the_write_of_its_failed_delivery() {
    for rig in Rig::each().await {
        let at = rig.name();
        rig.running().await;
        rig.proxy.script(
            "UpdateItem",
            [Fault::LostResponse, Fault::ServerError, Fault::ServerError].map(Some),
        );
        let first = rig.process(&stopped(), "req-async").await;
        assert!(
            matches!(&first, Err(CallbackError::Store(error)) if error.code == "InternalServerError"),
            "{at}: {first:?}"
        );
        let record = rig.record().await;
        assert_eq!(
            record.update_request_id.as_deref(),
            Some("req-async"),
            "{at}"
        );

        let retried = rig.process(&stopped(), "req-async").await;
        assert!(updated(&retried), "{at}: {retried:?}");
        let duplicate = rig.process(&stopped(), "req-other").await;
        assert_eq!(
            skipped(&duplicate),
            Some(SkipReason::AlreadyTerminal),
            "{at}"
        );
    }
}

/// A request held past the attempt timeout is retried by the SDK, and the held one is
/// applied afterwards: its condition then fails, so it changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_held_past_the_timeout_lands_late_and_changes_nothing() {
    for rig in Rig::each().await {
        let at = rig.name();
        rig.running().await;
        rig.proxy.script("UpdateItem", [Some(Fault::Held)]);
        let result = rig.process(&stopped(), "req-held").await;
        assert!(updated(&result), "{at}: {result:?}");
        let settled = rig.record().await;
        assert_eq!(
            settled.update_request_id.as_deref(),
            Some("req-held"),
            "{at}"
        );
        assert_eq!(rig.update_items(), 2, "{at}");
        assert_eq!(rig.table.count().await, 1, "{at}");
    }
}

/// The index lookup is retried like the write, and its faults never create a record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_lookup_survives_faults() {
    for rig in Rig::each().await {
        let at = rig.name();
        rig.table
            .put_dispatch("by-arn", "RUNNING", Some(TASK_ARN))
            .await;
        rig.proxy
            .script("Query", [Fault::Reset, Fault::Throttling].map(Some));
        let result = rig
            .process(&TaskEvent::stopped(TASK_ARN).build(), "req-q")
            .await;
        match &result {
            Ok(Outcome::Updated { dispatch_id, .. }) => assert_eq!(dispatch_id, "by-arn"),
            other => panic!("{at}: {other:?}"),
        }
        assert_eq!(rig.proxy.counts().requests["Query"], 3, "{at}");
        rig.proxy.quiet().await;
        assert_eq!(rig.table.count().await, 1, "{at}");
    }
}
