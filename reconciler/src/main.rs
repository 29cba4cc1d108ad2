//! Lambda entry point of the reconciler: sets up once, then runs on each schedule tick.

// The runtime's future wraps the SDK's deeply nested ones (see the callback's main.rs).
#![recursion_limit = "256"]

use std::io::Write;

use function::config::Config;
use function::store::DynamoStore;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use reconciler::config::Settings;
use reconciler::index::StatusIndex;
use reconciler::run::{run, Deps};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    function::logging::init();
    let config = Config::from_env()?;
    let settings = Settings::from_lookup(|name| std::env::var(name).ok()).inspect_err(|err| {
        tracing::error!(error = %err, "invalid configuration; the reconciler cannot start");
    })?;
    let sdk_config = function::aws::load_sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config);
    let deps = &Deps {
        index: StatusIndex {
            client: dynamodb.clone(),
            table: config.table_name.clone(),
            index: settings.status_index.clone(),
            page_size: reconciler::index::PAGE_SIZE,
        },
        ecs: aws_sdk_ecs::Client::new(&sdk_config),
        store: DynamoStore::new(dynamodb, &config),
        config,
        settings,
    };
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let now = chrono::Utc::now();
            let result = run(deps, &event.context.request_id, now).await;
            if let Ok(report) = &result {
                // One write per line, so a metrics line never interleaves with a log line.
                let mut stdout = std::io::stdout().lock();
                for line in reconciler::metrics::emf_lines(report, &deps.config.function_name, now)
                {
                    let _ = writeln!(stdout, "{line}");
                }
            }
            result
        },
    ))
    .await
}
