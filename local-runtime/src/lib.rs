//! A local AWS Lambda Runtime API.
//!
//! Tests, benchmarks and the `make local` demo use this crate to run the real release
//! `bootstrap` binary of a custom-runtime Lambda function on this machine. [`RuntimeApi`]
//! serves the endpoints that Lambda's runtime interface serves inside a sandbox
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>) on `127.0.0.1` with an
//! OS-assigned port, and [`FunctionProcess`] starts the function binary pointed at it with the
//! environment Lambda would give it. The function cannot tell the difference, so what runs
//! here is the same code, the same runtime client and the same process that runs in AWS.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use local_runtime::{FunctionProcess, Output, RuntimeApi};
//!
//! let api = RuntimeApi::start().await?;
//! let function = FunctionProcess::spawn("target/release/bootstrap".as_ref(), &api, &[], Output::Stderr)?;
//! let response = api.invoke(serde_json::json!({"hello": "world"})).await?;
//! let cold_start = api.first_poll().await - function.started_at();
//! function.stop().await?;
//! # let _ = (response, cold_start);
//! # Ok(())
//! # }
//! ```

mod api;
mod process;

pub use api::{ApiConfig, InvocationError, RuntimeApi, DEFAULT_FUNCTION_NAME, DEFAULT_TIMEOUT};
pub use process::{FunctionProcess, Output, OutputLine, Stream};
