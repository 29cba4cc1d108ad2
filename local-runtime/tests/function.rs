//! A real `lambda_runtime` function (the `echo` example) run as a process against the API.

mod common;

use std::time::Duration;

use local_runtime::{ApiConfig, FunctionProcess, InvocationError, Output, RuntimeApi, Stream};
use serde_json::json;

const SOON: Duration = Duration::from_secs(5);

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(SOON, future)
        .await
        .expect("did not finish in time")
}

#[tokio::test]
async fn lambda_runtime_function_answers_errors_and_crashes() {
    let api = RuntimeApi::start_with(ApiConfig {
        function_name: "echo-test".into(),
        ..ApiConfig::default()
    })
    .await
    .unwrap();
    let env = [("ECHO_UNUSED".to_owned(), "1".to_owned())];
    let function = FunctionProcess::spawn(&common::echo_binary(), &api, &env, Output::Capture)
        .expect("spawn echo");

    let first_poll = within(api.first_poll()).await;
    assert!(first_poll > function.started_at());

    // Several invocations over the client's kept-alive connections.
    let mut ids = Vec::new();
    for n in 0..3 {
        let response = within(api.invoke(json!({"n": n}))).await.unwrap();
        assert_eq!(response["event"], json!({"n": n}));
        assert_eq!(response["function_name"], "echo-test");
        assert_eq!(response["memory_mb"], 256);
        assert_eq!(
            response["function_arn"],
            "arn:aws:lambda:us-east-1:123456789012:function:echo-test"
        );
        ids.push(response["request_id"].as_str().unwrap().to_owned());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);

    match within(api.invoke(json!({"fail": true}))).await {
        Err(InvocationError::Function { error_message, .. }) => {
            assert_eq!(error_message, "asked to fail");
        }
        other => panic!("expected a function error, got {other:?}"),
    }

    // A crash mid-invocation fails that invocation and the next instead of hanging them.
    let crash = within(api.invoke(json!({"exit": 3}))).await;
    assert!(
        matches!(&crash, Err(InvocationError::Exited { status }) if status.contains('3')),
        "{crash:?}"
    );
    assert!(matches!(
        within(api.invoke(json!({}))).await,
        Err(InvocationError::Exited { .. })
    ));
    assert_eq!(within(function.exited()).await.unwrap().code(), Some(3));

    let output = function.captured_output();
    let stdout_start = local_runtime::OutputLine {
        stream: Stream::Stdout,
        line: "echo: starting".into(),
    };
    assert!(output.contains(&stdout_start), "{output:?}");
    assert!(
        output
            .iter()
            .any(|line| line.stream == Stream::Stderr && line.line == "echo: stderr works"),
        "{output:?}"
    );
}

#[tokio::test]
async fn exit_during_init_fails_invocations_and_a_new_process_recovers() {
    let api = RuntimeApi::start().await.unwrap();
    let env = [("ECHO_EXIT_AT_INIT".to_owned(), "4".to_owned())];
    let broken = FunctionProcess::spawn(&common::echo_binary(), &api, &env, Output::Null).unwrap();
    assert!(matches!(
        within(api.invoke(json!({}))).await,
        Err(InvocationError::Exited { .. })
    ));
    assert_eq!(within(broken.stop()).await.unwrap().code(), Some(4));
    assert_eq!(api.try_first_poll(), None);

    let working = FunctionProcess::spawn(&common::echo_binary(), &api, &[], Output::Null).unwrap();
    let response = within(api.invoke(json!("again"))).await.unwrap();
    assert_eq!(response["event"], "again");
    let status = within(working.stop()).await.unwrap();
    assert!(!status.success(), "killed, so not a clean exit: {status}");
}
