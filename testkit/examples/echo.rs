//! A test function on the real `lambda_runtime` client, so the tests check the local Runtime
//! API against the client our Lambda function uses.
//!
//! It answers `{"event": EVENT, "request_id": ..., "function_arn": ..., "function_name": ...,
//! "memory_mb": ...}`. An event with `"fail": true` makes the handler return an error, and one
//! with `"exit": CODE` makes the process exit with that code mid-invocation, like a crash.
//! With `ECHO_INIT_ERROR=MESSAGE` and `AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`, a SnapStart
//! hook fails with MESSAGE, which `lambda_runtime` reports to `/init/error` before polling.

use std::sync::Arc;

use lambda_runtime::{service_fn, BoxFuture, Error, LambdaEvent, Runtime, SnapStartResource};
use serde_json::{json, Value};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // One line on each stream, so tests can check that output is captured.
    println!("echo: starting");
    eprintln!("echo: stderr works");
    let runtime = Runtime::new(service_fn(handle));
    match std::env::var("ECHO_INIT_ERROR") {
        Ok(message) => {
            let hook = Arc::new(FailingInit(message));
            runtime.register_snapstart_resource(hook).run().await
        }
        Err(_) => runtime.run().await,
    }
}

/// A SnapStart hook that fails, the one way `lambda_runtime` itself posts to `/init/error`.
struct FailingInit(String);

impl SnapStartResource for FailingInit {
    fn before_snapshot(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move { Err(self.0.clone().into()) })
    }
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
