//! The real `bootstrap` binary, under a local Lambda Runtime API, against moto: what
//! Lambda runs is what this test runs.

use contract::metrics::SkipReason;
use contract::{logs, metrics, resources};
use dispatch_aws::sdk::Caller;
use serde_json::{json, Value};
use testkit::events::{fixture, with_dispatch_id, with_task_arn, DISPATCH_ID, TASK_ARN};
use testkit::runtime::{FunctionProcess, InvocationError, Output, RuntimeApi, Stream};
use testkit::table::TestTable;

/// The binary of `$FUNCTION_BINARIES` (see `testkit::function_binary`), else the debug
/// build Cargo made for this test.
fn binary() -> std::path::PathBuf {
    match std::env::var_os("FUNCTION_BINARIES") {
        Some(_) => testkit::function_binary("bootstrap"),
        None => env!("CARGO_BIN_EXE_bootstrap").into(),
    }
}

async fn table() -> TestTable {
    TestTable::new(dispatch_aws::sdk::loader(Caller::Lambda)).await
}

/// The function as deployed: the template's environment, pointed at this table's moto,
/// with `extra` on top.
fn start(table: &TestTable, extra: &[(&str, &str)]) -> (RuntimeApi, FunctionProcess) {
    let api = RuntimeApi::start(resources::FUNCTION).unwrap();
    let mut env: Vec<(String, String)> = testkit::template::function_environment()
        .into_iter()
        .chain(table.server.env())
        .collect();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let function = FunctionProcess::spawn(&binary(), &api, &env, Output::Capture).unwrap();
    (api, function)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_settles_dispatches_exactly_once() {
    let table = table().await;
    table
        .put_dispatch(DISPATCH_ID, "RUNNING", Some(TASK_ARN))
        .await;
    table.put_dispatch("d-timeout", "RUNNING", None).await;
    let (api, function) = start(&table, &[]);

    let first = api.invoke(fixture("exit-1.json")).await.unwrap();
    assert_eq!(
        first,
        json!({"result": "updated", "dispatchId": DISPATCH_ID, "taskArn": TASK_ARN,
               "status": "FAILED", "exitCode": 1})
    );
    let duplicate = api.invoke(fixture("exit-1.json")).await.unwrap();
    assert_eq!(duplicate["result"], "skipped");
    assert_eq!(duplicate["reason"], SkipReason::AlreadyTerminal.as_str());

    let timeout = with_dispatch_id(fixture("user-initiated-timeout.json"), "d-timeout");
    assert_eq!(api.invoke(timeout).await.unwrap()["status"], "TIMEOUT");
    assert_eq!(
        api.invoke(fixture("running.json")).await.unwrap()["reason"],
        SkipReason::NotStopped.as_str()
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

    assert_eq!(
        table.get(DISPATCH_ID).await.unwrap().status.as_deref(),
        Some("FAILED")
    );
    assert_eq!(
        table.get("d-timeout").await.unwrap().status.as_deref(),
        Some("TIMEOUT")
    );
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
        metrics::NAMESPACE
    );
    assert_eq!(emf[0][metrics::UPDATES_SUCCESSFUL], 1);
    assert!(
        emf[0][metrics::CALLBACK_LATENCY_MS].is_number(),
        "{:?}",
        emf[0]
    );
    assert_eq!(emf[1][metrics::UPDATES_SKIPPED], 1);
    assert_eq!(emf[4][metrics::UPDATES_FAILED], 1);

    // Log lines are JSON and carry the dispatch ID and task ARN (in their `span`);
    // errors are at ERROR.
    let lines_logged: Vec<&Value> = lines
        .iter()
        .filter(|line| line.get("level").is_some())
        .collect();
    assert!(
        lines_logged
            .iter()
            .any(|line| line["message"] == logs::DISPATCH_SETTLED
                && line["span"]["dispatch_id"] == DISPATCH_ID
                && line["span"]["task_arn"] == TASK_ARN),
        "{lines_logged:#?}"
    );
    assert!(
        lines_logged
            .iter()
            .any(|line| line["level"] == "ERROR" && line["error_type"] == "ValidationException"),
        "{lines_logged:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gsi_lookup_is_logged_as_the_runbook_greps_for_it() {
    let table = table().await;
    table
        .put_dispatch("by-arn", "RUNNING", Some(TASK_ARN))
        .await;
    let (api, function) = start(&table, &[]);
    let response = api.invoke(fixture("no-dispatch-id.json")).await.unwrap();
    assert_eq!(response["dispatchId"], "by-arn");
    let unknown = with_task_arn(
        fixture("no-dispatch-id.json"),
        "arn:aws:ecs:us-east-1:1:task/c/none",
    );
    assert_eq!(
        api.invoke(unknown).await.unwrap()["reason"],
        SkipReason::NoDispatchId.as_str()
    );

    let messages: Vec<String> = stop(function)
        .await
        .iter()
        .filter_map(|line| line["message"].as_str().map(str::to_owned))
        .collect();
    assert!(
        messages.iter().any(|m| m == logs::QUERYING_BY_TASK_ARN),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| *m
            == format!(
                "{} arn:aws:ecs:us-east-1:1:task/c/none",
                logs::NO_DISPATCH_ID_FOUND
            )),
        "{messages:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_metrics_sink_fails_init() {
    let table = table().await;
    let (api, function) = start(&table, &[(contract::env::METRICS_SINK.name, "statsd")]);
    let result = api.invoke(fixture("exit-0.json")).await;
    assert!(result.is_err(), "{result:?}");
    let status = function.exited().await.unwrap();
    assert!(!status.success());
    let _ = stop(function).await;
    assert_eq!(table.count().await, 0);
}

/// Stops the function and returns its stdout lines that are JSON.
async fn stop(function: FunctionProcess) -> Vec<Value> {
    let (_, output) = function.stop().await;
    output
        .into_iter()
        .filter(|line| line.stream == Stream::Stdout)
        .filter_map(|line| serde_json::from_str(&line.line).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cloudwatch_sink_calls_put_metric_data_once_and_its_failure_changes_nothing() {
    let table = table().await;
    table.put_dispatch("d-1", "RUNNING", None).await;
    let (api, function) = start(&table, &[(contract::env::METRICS_SINK.name, "cloudwatch")]);
    table.server.request_counts(true);

    let event = with_dispatch_id(fixture("exit-0.json"), "d-1");
    assert_eq!(api.invoke(event).await.unwrap()["status"], "COMPLETED");
    assert_eq!(
        table.get("d-1").await.unwrap().status.as_deref(),
        Some("COMPLETED")
    );

    // The SDK speaks CloudWatch's CBOR protocol, which moto 5.2 does not implement: the
    // call arrives (and is counted) but fails, which is just the failure to publish that
    // must never fail the update.
    let counts = table.server.request_counts(true);
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

/// Whether a CloudWatch Logs filter pattern of terms matches an unstructured log line
/// (the form the runbook's `filter-log-events --filter-pattern` commands use): every
/// plain term (or quoted phrase) must appear; with `?` terms, any one of them will do.
fn filter_pattern_matches(pattern: &str, line: &str) -> bool {
    let mut required = Vec::new();
    let mut any_of = Vec::new();
    let mut rest = pattern.trim();
    while !rest.is_empty() {
        let optional = rest.starts_with('?');
        rest = rest.trim_start_matches('?');
        let (term, tail) = match rest.strip_prefix('"') {
            Some(quoted) => quoted.split_once('"').unwrap_or((quoted, "")),
            None => rest.split_once(' ').unwrap_or((rest, "")),
        };
        if optional {
            any_of.push(term)
        } else {
            required.push(term)
        }
        rest = tail.trim_start();
    }
    required.iter().all(|term| line.contains(term))
        && (any_of.is_empty() || any_of.iter().any(|term| line.contains(term)))
}

/// Every `filter-log-events` search of the runbook, run over the lines the real binary
/// writes (Lambda's Text log format passes them through as they are, one event each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runbooks_log_searches_find_what_they_look_for() {
    let table = table().await;
    table
        .put_dispatch(DISPATCH_ID, "RUNNING", Some(TASK_ARN))
        .await;
    table
        .put_dispatch(
            "by-arn",
            "RUNNING",
            Some("arn:aws:ecs:us-east-1:1:task/c/by-arn"),
        )
        .await;
    let (api, function) = start(&table, &[]);
    let by_arn = with_task_arn(
        fixture("no-dispatch-id.json"),
        "arn:aws:ecs:us-east-1:1:task/c/by-arn",
    );
    let unknown = with_task_arn(
        fixture("no-dispatch-id.json"),
        "arn:aws:ecs:us-east-1:1:task/c/none",
    );
    api.invoke(fixture("exit-0.json")).await.unwrap();
    api.invoke(by_arn).await.unwrap();
    api.invoke(unknown).await.unwrap();
    assert!(api
        .invoke(fixture("malformed-missing-task-arn.json"))
        .await
        .is_err());
    let (_, output) = function.stop().await;
    let lines: Vec<&str> = output.iter().map(|line| line.line.as_str()).collect();
    let search = |pattern: &str| -> Vec<&str> {
        lines
            .iter()
            .copied()
            .filter(|line| filter_pattern_matches(pattern, line))
            .collect()
    };

    // Section 4, step 3: the dispatch's lines, then the errors.
    let by_id = search(DISPATCH_ID);
    assert!(
        by_id
            .iter()
            .any(|line| line.contains(logs::DISPATCH_SETTLED)),
        "{lines:#?}"
    );
    let errors = search("ERROR");
    assert!(
        !errors.is_empty()
            && errors
                .iter()
                .all(|line| line.contains("\"level\":\"ERROR\"")),
        "{errors:#?}"
    );
    assert!(search("?ERROR ?Exception ?Error")
        .iter()
        .any(|line| line.contains("ValidationException")));
    // "High Latency": the GSI is queried, not scanned; "Missing Dispatch ID in Task".
    assert_eq!(search(logs::QUERYING_BY_TASK_ARN).len(), 2, "{lines:#?}");
    let missing = search(logs::NO_DISPATCH_ID_FOUND);
    assert_eq!(missing.len(), 1, "{lines:#?}");
    assert!(missing[0].contains("task/c/none"), "{missing:?}");
    // The quoted phrase matches only where the words stand together.
    assert!(filter_pattern_matches(
        "\"by task\"",
        "querying by task ARN"
    ));
    assert!(!filter_pattern_matches(
        "\"task by\"",
        "querying by task ARN"
    ));
}

/// The custom metrics flow at every log level the function accepts: its EMF lines are
/// written whatever the level (and the stack's Text log format has no level filter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_survive_every_log_level() {
    let table = table().await;
    for level in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] {
        let (api, function) = start(&table, &[("AWS_LAMBDA_LOG_LEVEL", level)]);
        api.invoke(fixture("running.json")).await.unwrap();
        let lines = stop(function).await;
        let emf: Vec<&Value> = lines
            .iter()
            .filter(|line| line.get("_aws").is_some())
            .collect();
        assert_eq!(emf.len(), 1, "{level}: {lines:#?}");
        assert_eq!(
            emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            metrics::NAMESPACE
        );
        assert_eq!(emf[0][metrics::UPDATES_SKIPPED], 1, "{level}");
        let logged_info = lines.iter().any(|line| line["level"] == "INFO");
        assert_eq!(
            logged_info,
            ["TRACE", "DEBUG", "INFO"].contains(&level),
            "{level}"
        );
    }
}
