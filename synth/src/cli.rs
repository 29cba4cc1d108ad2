//! The `synth` command line: what each subcommand takes, and which module does its work.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::diff::Finding;
use crate::render::{self, Which};
use crate::{adopt, change_set, diff, stack, SynthError};

/// Prints the CloudFormation template of the outpost-dispatch-callback stack (EventBridge
/// rule, Lambda function, DynamoDB table, IAM role, log group, SQS queues, alarms and
/// dashboard), as JSON, with every name and threshold from the runbook; or the bootstrap
/// stack's (the code bucket, created once per account and region); or what a change to
/// either would make CloudFormation do. `synth parameters` lists the template's
/// parameters.
#[derive(Debug, Parser)]
#[command(name = "synth", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Write the template to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Print the system's template (what `synth` alone does).
    Stack {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the bootstrap stack's template.
    Bootstrap {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List the system template's parameters, with their defaults: what to give
    /// `aws cloudformation deploy --parameter-overrides`.
    Parameters,
    /// Compare the template built from this source with a base: per resource, added,
    /// removed or modified (with the property paths), whether CloudFormation replaces it,
    /// whether access widens, and what happens to a stateful resource's data.
    Diff {
        /// Which template to compare.
        #[arg(long, value_enum, default_value_t = Which::Stack)]
        template: Which,
        /// Compare with this template file.
        #[arg(long, value_name = "FILE", conflicts_with = "base_ref")]
        base: Option<PathBuf>,
        /// Compare with the committed template at this git ref (default: the merge base
        /// of HEAD and main).
        #[arg(long, value_name = "GIT_REF")]
        base_ref: Option<String>,
        /// Exit 1 on these findings unless templates/acknowledged-changes.txt gains a line
        /// for them in this change: replace, remove, widen (comma-separated).
        #[arg(long, value_name = "FINDINGS", value_delimiter = ',', value_parser = finding)]
        fail_on: Vec<Finding>,
    },
    /// Write what `make adopt` imports the running system with: DIR/import-template.json
    /// (the table, log group and rule, retained, described as they exist) and
    /// DIR/resources-to-import.json.
    Adopt {
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
        /// The running rule's ARN, its identifier in the import.
        #[arg(long, value_name = "ARN")]
        rule_arn: String,
        /// The running rule's event pattern (JSON), as `aws events describe-rule` gives it.
        #[arg(long, value_name = "JSON")]
        rule_event_pattern: String,
    },
    /// Show a change set (the JSON `aws cloudformation describe-change-set` prints, on
    /// standard input or from FILE) as a table: action, logical ID, type, replacement,
    /// properties. Exits 1 when it replaces or removes a stateful resource.
    ChangeSet {
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

fn finding(text: &str) -> Result<Finding, String> {
    Finding::parse(text).ok_or_else(|| format!("`{text}` is not one of replace, remove, widen"))
}

/// Runs the command: exit 0 when it did its work, 1 when it found what it is asked to
/// stop on (an unacknowledged finding, a dangerous change set), 2 when it could not run.
pub fn run(cli: Cli) -> ExitCode {
    match exec(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("synth: {err}");
            ExitCode::from(2)
        }
    }
}

/// Whether the command found nothing to stop on.
fn exec(cli: Cli) -> Result<bool, SynthError> {
    match cli.command {
        None => render::print(Which::Stack, cli.out.as_deref()).map(|()| true),
        Some(Cmd::Stack { out }) => render::print(Which::Stack, out.as_deref()).map(|()| true),
        Some(Cmd::Bootstrap { out }) => {
            render::print(Which::Bootstrap, out.as_deref()).map(|()| true)
        }
        Some(Cmd::Parameters) => {
            print!(
                "{}",
                stack::parameters::listing(&stack::build(&Config::runbook()))
            );
            Ok(true)
        }
        Some(Cmd::Diff {
            template,
            base,
            base_ref,
            fail_on,
        }) => {
            let blocking = diff::compare(template, base.as_deref(), base_ref.as_deref(), &fail_on)?;
            for line in &blocking {
                eprintln!("synth diff: FAIL: {line}");
            }
            Ok(blocking.is_empty())
        }
        Some(Cmd::ChangeSet { file }) => {
            change_set::show(file.as_deref()).map(|dangerous| !dangerous)
        }
        Some(Cmd::Adopt {
            out_dir,
            rule_arn,
            rule_event_pattern,
        }) => adopt::write(&out_dir, &rule_arn, &rule_event_pattern).map(|()| true),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

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
        let text = crate::render(&Config::runbook());
        assert!(text.starts_with("{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\""));
    }

    #[test]
    fn parameters_lists_every_template_parameter() {
        let template = stack::build(&Config::runbook());
        let listing = stack::parameters::listing(&template);
        for name in template.parameters.keys() {
            assert!(
                listing.contains(&format!("  {name} (")),
                "`synth parameters` does not list {name}"
            );
        }
        assert!(listing.contains("CodeBucket (required)"));
        assert!(listing.contains("LogRetentionDays (default 30)"));
    }
}
