//! A test function built on the real `lambda_runtime` client, so the tests check the local
//! Runtime API against the client our Lambda function uses.
//!
//! It answers `{"event": EVENT, "request_id": ..., "function_arn": ..., "function_name": ...,
//! "memory_mb": ...}`. An event with `"fail": true` makes the handler return an error, and one
//! with `"exit": CODE` makes the process exit with that code mid-invocation, like a crash. With
//! `ECHO_EXIT_AT_INIT=CODE` in its environment it exits before polling, like a failed init.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // One line on each stream so tests can check that output is captured.
    println!("echo: starting");
    eprintln!("echo: stderr works");
    if let Ok(code) = std::env::var("ECHO_EXIT_AT_INIT") {
        eprintln!("echo: exiting during init as asked");
        std::process::exit(code.parse().unwrap_or(1));
    }
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    if payload.get("fail") == Some(&Value::Bool(true)) {
        return Err("asked to fail".into());
    }
    if let Some(code) = payload.get("exit").and_then(Value::as_i64) {
        std::process::exit(i32::try_from(code).unwrap_or(1));
    }
    Ok(json!({
        "event": payload,
        "request_id": context.request_id,
        "function_arn": context.invoked_function_arn,
        "function_name": context.env_config.function_name,
        "memory_mb": context.env_config.memory,
    }))
}
