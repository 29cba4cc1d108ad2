//! `testkit`: what the scripts need from the test kit.
//!
//!   testkit with-moto -- CMD [ARGS...]   runs CMD with moto's server on loopback
//!   testkit local --binary ... ...       `make local`'s demo against a deployed stack
//!
//! This file parses the command line and reports errors; the work is in the library
//! (`testkit::server::with_moto`, `testkit::demo`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use testkit::demo::{self, Demo};

#[derive(Debug, Parser)]
#[command(
    name = "testkit",
    about = "Test support for outpost-dispatch-callback's scripts."
)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Runs a command with moto's server (our local AWS) on a free loopback port, pointed
    /// at it through AWS_ENDPOINT_URL with dummy credentials; stops the server afterwards
    /// and exits with the command's status.
    WithMoto {
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Seeds dispatch records, runs the function binary under a local Lambda Runtime API
    /// with each sample event, and prints the records before and after. The function gets
    /// the environment of the deployed function (ENV_FILE, as `aws lambda
    /// get-function-configuration --query Environment.Variables` prints it).
    Local(Box<Demo>),
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let result =
        runtime
            .map_err(|err| err.to_string())
            .and_then(|runtime| match Cli::parse().command {
                Commands::WithMoto { command } => testkit::server::with_moto(&runtime, &command),
                Commands::Local(options) => runtime.block_on(demo::run(*options)),
            });
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("testkit: {message}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
