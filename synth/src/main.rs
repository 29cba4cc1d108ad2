//! `synth`: prints the CloudFormation templates of the outpost-dispatch-callback system.
//! This file only parses the command line; `synth::cli` runs it.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    synth::cli::run(synth::cli::Cli::parse())
}
