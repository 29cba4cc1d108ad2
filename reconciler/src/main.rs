//! Lambda entry point of the reconciler: sets up once, then runs on each schedule tick
//! (see `handler`).

// The runtime's future wraps the SDK's deeply nested ones (see the callback's main.rs).
#![recursion_limit = "256"]

use dispatch_aws::roots::Roots;
use dispatch_aws::sdk::{self, Caller};
use dispatch_aws::settings::Settings as Env;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use reconcile::config::Settings;
use reconcile::run::Deps;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    dispatch_aws::logging::init();
    let settings = Settings::from_env().inspect_err(|err| {
        tracing::error!(error = %err, "invalid configuration; the reconciler cannot start");
    })?;
    let roots = Roots::from_env().inspect_err(|err| {
        tracing::error!(error = %err, "invalid configuration; the reconciler cannot start");
    })?;
    let function_name = Env::from_env().get(contract::env::LAMBDA_FUNCTION_NAME);
    let sdk_config = sdk::load(Caller::Lambda, roots).await;
    let deps = &Deps::new(
        aws_sdk_dynamodb::Client::new(&sdk_config),
        aws_sdk_ecs::Client::new(&sdk_config),
        settings,
    );
    let function_name = function_name.as_str();
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            handler::handle(deps, function_name, &event.payload, &event.context).await
        },
    ))
    .await
}
