//! Lambda entry point: sets up once, then serves invocations. All logic lives in the
//! library so tests can drive it.

use function::config::{Config, MetricsSinkKind};
use function::handler::{invoke, Deps};
use function::metrics::MetricsSink;
use function::store::DynamoStore;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    function::logging::init();
    let config = Config::from_env()?;
    let sdk_config = function::aws::load_sdk_config().await;

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
        "outpost-dispatch-callback ready"
    );
    let deps = Deps {
        store,
        metrics,
        config,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        invoke(event.payload, &deps)
    }))
    .await
}
