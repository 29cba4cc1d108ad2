//! `synth`: prints the CloudFormation template of the outpost-dispatch-callback stack.
//!
//! This file only parses the command line and reports errors; the template comes from
//! [`synth::render`].

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use synth::cfn::Scalar;
use synth::{render, render_bootstrap, Config, SynthError};

/// Prints the CloudFormation template of the outpost-dispatch-callback stack (EventBridge
/// rule, Lambda function, DynamoDB table, IAM role, log group, SQS queues, alarms and
/// dashboard), as JSON, with every name and threshold from the runbook; or the bootstrap
/// stack's (the code bucket, created once per account and region).
#[derive(Debug, Parser)]
#[command(name = "synth", version)]
struct Cli {
    /// Which template to print.
    #[arg(value_enum, default_value_t = Which::Stack)]
    template: Which,
    /// Write the template to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Which {
    /// The system (templates/stack.json).
    Stack,
    /// The bootstrap stack (templates/bootstrap.json).
    Bootstrap,
}

fn main() -> ExitCode {
    let command = Cli::command().after_help(parameters_help());
    let cli = match Cli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("synth: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), SynthError> {
    let text = match cli.template {
        Which::Stack => render(&Config::runbook()),
        Which::Bootstrap => render_bootstrap(),
    };
    match &cli.out {
        Some(path) => std::fs::write(path, text).map_err(|source| SynthError::Write {
            path: path.clone(),
            source,
        }),
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(SynthError::Stdout),
    }
}

/// Lists the template's parameters for `--help`, from the template itself.
fn parameters_help() -> String {
    let template = synth::stack::build(&Config::runbook());
    let mut help = String::from(
        "Template parameters (give them to `aws cloudformation deploy --parameter-overrides`):\n",
    );
    for (name, parameter) in &template.parameters {
        let default = match &parameter.default {
            None => "required".to_owned(),
            Some(Scalar::String(value)) if value.is_empty() => "default empty".to_owned(),
            Some(Scalar::String(value)) => format!("default {value}"),
            Some(Scalar::Number(value)) => format!("default {value}"),
        };
        help.push_str(&format!(
            "  {name} ({default})\n          {}\n",
            parameter.description
        ));
    }
    help
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Only JSON is written: YAML 1.1 readers (PyYAML, which `aws cloudformation package`
    /// uses) read unquoted `2010-09-09` as a date, and nothing here deploys YAML.
    #[test]
    fn there_is_no_yaml_format() {
        let yaml = Cli::command().try_get_matches_from(["synth", "--format", "yaml"]);
        assert!(yaml.is_err());
        let text = synth::render(&Config::runbook());
        assert!(text.starts_with("{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\""));
    }

    #[test]
    fn help_lists_every_template_parameter() {
        let help = parameters_help();
        let template = synth::stack::build(&Config::runbook());
        for name in template.parameters.keys() {
            assert!(
                help.contains(&format!("  {name} (")),
                "--help does not list {name}"
            );
        }
        assert!(help.contains("CodeBucket (required)"));
        assert!(help.contains("LogRetentionDays (default 30)"));
    }
}
