//! Lambda entry point: sets up once, then serves invocations. All logic lives in the
//! library so tests can drive it.

// The runtime's future wraps the SDK's deeply nested ones; computing its layout needs more
// than the compiler's default query depth (rustc asks for this itself when it runs out).
#![recursion_limit = "256"]

use dispatch_aws::roots::Roots;
use dispatch_aws::sdk::{self, Caller};
use dispatch_aws::table::DynamoStore;
use function::config::{Config, MetricsSinkKind};
use function::handler::{handle, Deps};
use function::metrics::MetricsSink;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    dispatch_aws::logging::init();
    let config = Config::from_env().inspect_err(|err| {
        // Logged as a JSON line too, so the runbook's ERROR search finds a bad deploy.
        tracing::error!(error = %err, "invalid configuration; the function cannot start");
    })?;
    let roots = Roots::from_env().inspect_err(|err| {
        tracing::error!(error = %err, "invalid configuration; the function cannot start");
    })?;
    let tls_roots = roots.to_string();
    let sdk_config = sdk::load(Caller::Lambda, roots).await;

    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk_config),
        &config.table_name,
        &config.task_arn_index,
    );
    let metrics = match config.metrics_sink {
        MetricsSinkKind::Emf => MetricsSink::Emf,
        MetricsSinkKind::CloudWatch => {
            MetricsSink::CloudWatch(aws_sdk_cloudwatch::Client::new(&sdk_config))
        }
    };
    tracing::info!(
        table = %config.table_name,
        index = %config.task_arn_index,
        worker_container = %config.worker_container,
        metrics_sink = %config.metrics_sink,
        tls_roots,
        "{} ready",
        config.function_name
    );
    let deps = &Deps {
        store,
        metrics,
        config,
    };
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            handle(event.payload, &event.context.request_id, deps).await
        },
    ))
    .await
}
