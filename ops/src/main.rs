//! `outpost-ops`: parses the command line and runs it; see `lib.rs`.

// The SDK's futures nest deeply (see the callback's main.rs).
#![recursion_limit = "256"]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let cli = match ops::cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            let _ = err.print();
            if ops::cli::wants_json(&args) {
                let message = err
                    .kind()
                    .as_str()
                    .unwrap_or("invalid arguments")
                    .to_owned();
                let detail = err.to_string();
                let first = detail.lines().next().unwrap_or(&message);
                println!(
                    "{}",
                    serde_json::json!({ "error": first.trim_start_matches("error: ") })
                );
            }
            return ExitCode::from(ops::output::COULD_NOT_RUN);
        }
    };
    // Warnings only, on stderr: stdout is the report (and, with --output json, a document).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OUTPOST_OPS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return ops::output::could_not_run(cli.global.output, &err.to_string()),
    };
    runtime.block_on(ops::run(cli))
}
