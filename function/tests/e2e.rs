//! The real `bootstrap` binary, under a local Lambda Runtime API, against moto: what
//! Lambda runs is what this test runs. `CALLBACK_BINARY` names the binary (`make test`
//! passes the release build); without it the test uses the debug build Cargo made.

mod common;

use common::{fixture, with_dispatch_id, TestTable, DISPATCH_ID, TASK_ARN};
use local_runtime::{ApiConfig, FunctionProcess, InvocationError, Output, RuntimeApi, Stream};
use serde_json::{json, Value};

fn binary() -> std::path::PathBuf {
    std::env::var_os("CALLBACK_BINARY")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_bootstrap").into())
}

async fn start(table: &TestTable, extra: &[(&str, &str)]) -> (RuntimeApi, FunctionProcess) {
    let api = RuntimeApi::start_with(ApiConfig {
        function_name: "outpost-dispatch-callback".to_owned(),
        ..ApiConfig::default()
    })
    .await
    .unwrap();
    let function = FunctionProcess::spawn(
        &binary(),
        &api,
        &common::function_env(&table.moto, &table.name, extra),
        Output::Capture,
    )
    .unwrap();
    (api, function)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_settles_dispatches_exactly_once() {
    let table = TestTable::new().await;
    table
        .put_dispatch(DISPATCH_ID, "RUNNING", Some(TASK_ARN))
        .await;
    table.put_dispatch("d-timeout", "RUNNING", None).await;
    let (api, function) = start(&table, &[]).await;

    let first = api.invoke(fixture("exit-1.json")).await.unwrap();
    assert_eq!(
        first,
        json!({"result": "updated", "dispatchId": DISPATCH_ID, "taskArn": TASK_ARN,
               "status": "FAILED", "exitCode": 1})
    );
    let duplicate = api.invoke(fixture("exit-1.json")).await.unwrap();
    assert_eq!(duplicate["result"], "skipped");
    assert_eq!(duplicate["reason"], "alreadyTerminal");

    let timeout = with_dispatch_id(fixture("user-initiated-timeout.json"), "d-timeout");
    assert_eq!(api.invoke(timeout).await.unwrap()["status"], "TIMEOUT");
    assert_eq!(
        api.invoke(fixture("running.json")).await.unwrap()["reason"],
        "notStopped"
    );

    let malformed = api.invoke(fixture("malformed-missing-task-arn.json")).await;
    match malformed {
        Err(InvocationError::Function {
            error_type,
            error_message,
        }) => {
            assert_eq!(error_type, "ValidationException");
            assert!(
                error_message.contains("Missing task_arn"),
                "{error_message}"
            );
        }
        other => panic!("{other:?}"),
    }
    let missing = api
        .invoke(with_dispatch_id(fixture("exit-0.json"), "no-such-dispatch"))
        .await;
    assert!(
        matches!(&missing, Err(InvocationError::Function { error_type, .. }) if error_type == "DispatchNotFound"),
        "{missing:?}"
    );

    assert_eq!(table.get(DISPATCH_ID).await.unwrap()["status"], "FAILED");
    assert_eq!(table.get("d-timeout").await.unwrap()["status"], "TIMEOUT");
    assert_eq!(table.count().await, 2);

    let lines = stop(function).await;
    // One EMF document per invocation, in the runbook's namespace.
    let emf: Vec<&Value> = lines
        .iter()
        .filter(|line| line.get("_aws").is_some())
        .collect();
    assert_eq!(emf.len(), 6, "{lines:#?}");
    assert_eq!(
        emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "Outpost/Callbacks"
    );
    assert_eq!(emf[0]["DispatchUpdatesSuccessful"], 1);
    assert!(emf[0]["CallbackLatencyMs"].is_number(), "{:?}", emf[0]);
    assert_eq!(emf[1]["DispatchUpdatesSkipped"], 1);
    assert_eq!(emf[4]["DispatchUpdatesFailed"], 1);

    // Log lines are JSON and carry the dispatch ID and task ARN (in their `span`);
    // errors are at ERROR.
    let logs: Vec<&Value> = lines
        .iter()
        .filter(|line| line.get("level").is_some())
        .collect();
    assert!(
        logs.iter().any(|line| line["message"] == "dispatch settled"
            && line["span"]["dispatch_id"] == DISPATCH_ID
            && line["span"]["task_arn"] == TASK_ARN),
        "{logs:#?}"
    );
    assert!(
        logs.iter()
            .any(|line| line["level"] == "ERROR" && line["error_type"] == "ValidationException"),
        "{logs:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gsi_lookup_is_logged_as_the_runbook_greps_for_it() {
    let table = TestTable::new().await;
    table
        .put_dispatch("by-arn", "RUNNING", Some(TASK_ARN))
        .await;
    let (api, function) = start(&table, &[]).await;
    let response = api.invoke(fixture("no-dispatch-id.json")).await.unwrap();
    assert_eq!(response["dispatchId"], "by-arn");
    let unknown = common::with_task_arn(
        fixture("no-dispatch-id.json"),
        "arn:aws:ecs:us-east-1:1:task/c/none",
    );
    assert_eq!(api.invoke(unknown).await.unwrap()["reason"], "noDispatchId");

    let messages: Vec<String> = stop(function)
        .await
        .iter()
        .filter_map(|line| line["message"].as_str().map(str::to_owned))
        .collect();
    assert!(
        messages.iter().any(|m| m == "querying by task ARN"),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m == "No dispatch ID found in task arn:aws:ecs:us-east-1:1:task/c/none"),
        "{messages:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_metrics_sink_fails_init() {
    let table = TestTable::new().await;
    let (api, function) = start(&table, &[("METRICS_SINK", "statsd")]).await;
    let result = api.invoke(fixture("exit-0.json")).await;
    assert!(result.is_err(), "{result:?}");
    let status = function.exited().await.unwrap();
    assert!(!status.success());
    let _ = stop(function).await;
    assert_eq!(table.count().await, 0);
}

/// Stops the function and returns its stdout lines that are JSON.
async fn stop(function: FunctionProcess) -> Vec<Value> {
    let output = function.captured_output();
    let _ = function.stop().await;
    output
        .into_iter()
        .filter(|line| line.stream == Stream::Stdout)
        .filter_map(|line| serde_json::from_str(&line.line).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cloudwatch_sink_calls_put_metric_data_once_and_its_failure_changes_nothing() {
    let table = TestTable::new().await;
    table.put_dispatch("d-1", "RUNNING", None).await;
    let (api, function) = start(&table, &[("METRICS_SINK", "cloudwatch")]).await;
    table.moto.request_counts(true);

    let event = with_dispatch_id(fixture("exit-0.json"), "d-1");
    assert_eq!(api.invoke(event).await.unwrap()["status"], "COMPLETED");
    assert_eq!(table.get("d-1").await.unwrap()["status"], "COMPLETED");

    // The SDK speaks CloudWatch's CBOR protocol, which moto 5.2 does not implement: the
    // call arrives (and is counted) but fails, which is just the failure to publish that
    // must never fail the update.
    let counts = table.moto.request_counts(true);
    let put_metric_data: u64 = counts
        .as_object()
        .unwrap()
        .iter()
        .filter(|(operation, _)| operation.ends_with("PutMetricData"))
        .map(|(_, count)| count.as_u64().unwrap())
        .sum();
    assert_eq!(put_metric_data, 1, "{counts}");
    assert_eq!(counts["UpdateItem"], 1, "{counts}");

    let lines = stop(function).await;
    assert!(
        lines.iter().any(|line| line["level"] == "WARN"
            && line["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("could not publish metrics"))),
        "{lines:#?}"
    );
    // No EMF line in this mode.
    assert!(
        !lines.iter().any(|line| line.get("_aws").is_some()),
        "{lines:#?}"
    );
}
