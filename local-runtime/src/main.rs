//! `local-runtime`: runs a Lambda function binary on this machine and invokes it with events.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use local_runtime::{ApiConfig, FunctionProcess, InvocationError, Output, RuntimeApi};
use serde_json::{json, Value};

/// Exit code when the function crashed, failed to initialize, timed out or answered with
/// something that is not JSON.
const EXIT_FUNCTION_FAILED: u8 = 1;
/// Exit code when this tool could not do its job: unreadable event files, a binary that does
/// not start, a closed stdout.
const EXIT_TOOL_FAILED: u8 = 2;

/// Run a Lambda custom-runtime binary (a `bootstrap`) locally and invoke it with events.
///
/// Starts a local Lambda Runtime API on 127.0.0.1, starts BINARY with AWS_LAMBDA_RUNTIME_API
/// pointing at it and the environment Lambda provides, invokes each event in order and prints
/// one JSON line per invocation on stdout:
///
///   {"event": "FILE[#INDEX]", "ok": RESPONSE}
///   {"event": "FILE[#INDEX]", "error": {"errorType": ..., "errorMessage": ...}}
///
/// The function's own stdout and stderr are copied, unchanged, to this tool's stderr.
#[derive(Debug, Parser)]
#[command(
    name = "local-runtime",
    verbatim_doc_comment,
    version,
    after_help = "Exit status: 0 when every invocation returned (a handler error is a result, \
                  not a failure); 1 when the function crashed, failed to initialize, timed out \
                  or sent a response that is not JSON; 2 when an event file could not be read \
                  or the binary could not be started."
)]
struct Cli {
    /// Function name, used in AWS_LAMBDA_FUNCTION_NAME and the invoked function ARN.
    #[arg(long, default_value = local_runtime::DEFAULT_FUNCTION_NAME)]
    function_name: String,

    /// Seconds the function has to answer each invocation once it has received it.
    #[arg(long, default_value_t = 30, value_name = "N")]
    timeout_secs: u64,

    /// Extra environment variable for the function, as KEY=VALUE; repeatable. Overrides the
    /// Lambda-provided variables and this tool's own environment.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,

    /// The function binary to run.
    #[arg(long, value_name = "PATH")]
    binary: PathBuf,

    /// JSON files to invoke, in order. A file holds one event, or a JSON array of events that
    /// are invoked one after another and named FILE#0, FILE#1, ...
    #[arg(required = true, value_name = "EVENT_FILE")]
    events: Vec<PathBuf>,
}

fn parse_env(pair: &str) -> Result<(String, String), String> {
    match pair.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {pair:?}")),
    }
}

/// Reads every event file up front, so a typo fails before the function is started.
fn load_events(files: &[PathBuf]) -> Result<Vec<(String, Value)>, String> {
    let mut events = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(file)
            .map_err(|error| format!("cannot read event file {name}: {error}"))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|error| format!("event file {name} is not JSON: {error}"))?;
        match value {
            Value::Array(items) => events.extend(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(index, event)| (format!("{name}#{index}"), event)),
            ),
            event => events.push((name, event)),
        }
    }
    Ok(events)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("local-runtime: {message}");
            ExitCode::from(code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), (u8, String)> {
    let tool_failed = |message: String| (EXIT_TOOL_FAILED, message);
    let events = load_events(&cli.events).map_err(tool_failed)?;
    let api = RuntimeApi::start_with(ApiConfig {
        function_name: cli.function_name,
        timeout: Duration::from_secs(cli.timeout_secs),
    })
    .await
    .map_err(|error| tool_failed(format!("cannot start the Runtime API: {error}")))?;
    let function = FunctionProcess::spawn(&cli.binary, &api, &cli.env, Output::Stderr)
        .map_err(|error| tool_failed(format!("cannot start {}: {error}", cli.binary.display())))?;

    let mut stdout = std::io::stdout();
    let mut outcome = Ok(());
    for (name, event) in events {
        let line = match api.invoke(event).await {
            Ok(response) => json!({"event": name, "ok": response}),
            Err(InvocationError::Function {
                error_type,
                error_message,
            }) => json!({
                "event": name,
                "error": {"errorType": error_type, "errorMessage": error_message},
            }),
            Err(error) => {
                outcome = Err((EXIT_FUNCTION_FAILED, format!("{name}: {error}")));
                break;
            }
        };
        if let Err(error) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
            outcome = Err(tool_failed(format!("cannot write to stdout: {error}")));
            break;
        }
    }
    // The exit status is not interesting once we kill it; stopping still waits for its output.
    let _ = function.stop().await;
    outcome
}
