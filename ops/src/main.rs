//! `outpost-ops`: parses the command line and runs it; see `lib.rs`.

// The SDK's futures nest deeply (see the callback's main.rs).
#![recursion_limit = "256"]

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    let cli = match ops::cli::parse(&args) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    // Warnings only, on stderr: stdout is the report (and, with --output json, a document).
    let filter = EnvFilter::try_from_env("OUTPOST_OPS_LOG");
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter.unwrap_or_else(|_| EnvFilter::new("warn")))
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
