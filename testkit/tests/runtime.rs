//! The `echo` example, a real `lambda_runtime` function, run as a process against the API.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Value};
use testkit::runtime::{FunctionProcess, InvocationError, Output, RuntimeApi, Stream};

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    let limit = Duration::from_secs(10);
    tokio::time::timeout(limit, future).await.expect("in time")
}

/// Builds the `echo` example with the cargo running these tests, because `cargo test --test
/// runtime` does not build examples, and returns the executable cargo reports. It selects the
/// whole workspace, as `make build` does, so cargo resolves the features the test build has
/// and reuses its dependencies instead of compiling the SDK a second time.
fn echo_binary() -> PathBuf {
    static ECHO: OnceLock<PathBuf> = OnceLock::new();
    let build = || {
        let output = std::process::Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "--message-format=json",
                "--workspace",
                "--example=echo",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo");
        let errors = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "building echo failed: {errors}");
        let artifact = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| line["target"]["name"] == "echo" && line["executable"].is_string());
        let artifact = artifact.expect("cargo reports the echo executable");
        PathBuf::from(artifact["executable"].as_str().unwrap_or_default())
    };
    ECHO.get_or_init(build).clone()
}

fn spawn(api: &RuntimeApi, env: &[(&str, &str)], output: Output) -> FunctionProcess {
    let env: Vec<_> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    FunctionProcess::spawn(&echo_binary(), api, &env, output).expect("spawn echo")
}

#[tokio::test]
async fn answers_in_order_then_reports_handler_errors_and_crashes() {
    let api = RuntimeApi::start("echo-test").unwrap();
    let function = spawn(&api, &[], Output::Capture);
    assert!(within(api.first_poll()).await > function.started_at());

    let mut ids = Vec::new();
    for n in 0..3 {
        let response = within(api.invoke(json!({"n": n}))).await.unwrap();
        assert_eq!(response["event"], json!({"n": n}));
        assert_eq!(response["function_name"], "echo-test");
        assert_eq!(response["memory_mb"], 256);
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:echo-test";
        assert_eq!(response["function_arn"], arn);
        ids.push(response["request_id"].as_str().unwrap().to_owned());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "request IDs are distinct");

    let message = match within(api.invoke(json!({"fail": true}))).await {
        Err(InvocationError::Function { error_message, .. }) => error_message,
        other => panic!("expected a handler error, got {other:?}"),
    };
    assert_eq!(message, "asked to fail");

    // A crash mid-invocation fails that invocation and the next, instead of hanging them.
    for event in [json!({"exit": 3}), json!({})] {
        let crashed = within(api.invoke(event)).await;
        assert!(
            matches!(crashed, Err(InvocationError::Exited { .. })),
            "{crashed:?}"
        );
    }
    assert_eq!(within(function.exited()).await.unwrap().code(), Some(3));

    let (_, output) = function.stop().await;
    let has = |stream, line: &str| output.iter().any(|o| o.stream == stream && o.line == line);
    assert!(has(Stream::Stdout, "echo: starting"), "{output:?}");
    assert!(has(Stream::Stderr, "echo: stderr works"), "{output:?}");
}

#[tokio::test]
async fn an_init_error_fails_every_invocation() {
    let api = RuntimeApi::start("echo-init").unwrap();
    let env = [
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start"),
        ("ECHO_INIT_ERROR", "no config"),
    ];
    let function = spawn(&api, &env, Output::Null);
    for _ in 0..2 {
        let message = match within(api.invoke(json!({}))).await {
            Err(InvocationError::Init { error_message, .. }) => error_message,
            other => panic!("expected an init error, got {other:?}"),
        };
        assert_eq!(message, "no config");
    }
    assert!(!within(function.stop()).await.0.unwrap().success());
}
