//! `synth`: prints the CloudFormation template of the outpost-dispatch-callback stack.
//!
//! This file only parses the command line and reports errors; the template comes from
//! [`synth::render`].

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};
use synth::cfn::Scalar;
use synth::{render, Config, Format, SynthError};

/// Prints the CloudFormation template of the outpost-dispatch-callback stack (EventBridge
/// rule, Lambda function, DynamoDB table, IAM role, log group, SQS queues, alarms and
/// dashboard), with every name and threshold from the runbook.
#[derive(Debug, Parser)]
#[command(name = "synth", version)]
struct Cli {
    /// Output format. Without this option the format follows the extension of the FILE
    /// given to --out or --check (.yaml and .yml mean yaml), and is json otherwise.
    #[arg(long, value_enum)]
    format: Option<Format>,

    /// Write the template to FILE instead of standard output.
    #[arg(long, value_name = "FILE", conflicts_with = "check")]
    out: Option<PathBuf>,

    /// Write nothing; exit with status 1 and print a unified diff when FILE differs from
    /// the template (refresh it with `make templates`).
    #[arg(long, value_name = "FILE")]
    check: Option<PathBuf>,
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
            ExitCode::from(err.exit_code())
        }
    }
}

/// The format asked for, or the one the file name implies, or JSON.
fn format_of(cli: &Cli) -> Format {
    let file = cli.out.as_deref().or(cli.check.as_deref());
    cli.format
        .or(file.map(Format::for_path))
        .unwrap_or(Format::Json)
}

fn run(cli: &Cli) -> Result<(), SynthError> {
    let format = format_of(cli);
    if let Some(path) = &cli.check {
        synth::render::check(path, format)?;
        eprintln!("synth: {} is up to date", path.display());
        Ok(())
    } else if let Some(path) = &cli.out {
        synth::render::write(path, format)
    } else {
        std::io::stdout()
            .lock()
            .write_all(render(format).as_bytes())
            .map_err(SynthError::Stdout)
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

    #[test]
    fn the_format_follows_the_file_unless_given() {
        let cases = [
            (vec!["synth"], Format::Json),
            (vec!["synth", "--out", "templates/stack.yaml"], Format::Yaml),
            (
                vec!["synth", "--check", "templates/stack.yml"],
                Format::Yaml,
            ),
            (
                vec!["synth", "--format", "json", "--out", "stack.yaml"],
                Format::Json,
            ),
            (vec!["synth", "--format", "yaml"], Format::Yaml),
        ];
        for (args, expected) in cases {
            let cli = Cli::try_parse_from(&args).unwrap();
            assert_eq!(format_of(&cli), expected, "{args:?}");
        }
    }
}
