//! `synth`: prints the CloudFormation template of the outpost-dispatch-callback stack.
//!
//! This file only parses the command line and reports errors; the template comes from
//! [`synth::render`].

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use synth::cfn::Scalar;
use synth::change_set::ChangeSet;
use synth::diff::{self, inputs, Acknowledgements, CreateOnly, Finding};
use synth::{render, render_bootstrap, Config, SynthError};

/// Prints the CloudFormation template of the outpost-dispatch-callback stack (EventBridge
/// rule, Lambda function, DynamoDB table, IAM role, log group, SQS queues, alarms and
/// dashboard), as JSON, with every name and threshold from the runbook; or the bootstrap
/// stack's (the code bucket, created once per account and region); or what a change to
/// either would make CloudFormation do.
#[derive(Debug, Parser)]
#[command(name = "synth", version, args_conflicts_with_subcommands = true)]
struct Cli {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Which {
    /// The system (templates/stack.json).
    Stack,
    /// The bootstrap stack (templates/bootstrap.json).
    Bootstrap,
}

impl Which {
    fn file(self) -> &'static str {
        match self {
            Which::Stack => "templates/stack.json",
            Which::Bootstrap => "templates/bootstrap.json",
        }
    }

    fn render(self) -> String {
        match self {
            Which::Stack => render(&Config::runbook()),
            Which::Bootstrap => render_bootstrap(),
        }
    }
}

fn finding(text: &str) -> Result<Finding, String> {
    Finding::parse(text).ok_or_else(|| format!("`{text}` is not one of replace, remove, widen"))
}

fn main() -> ExitCode {
    let command = Cli::command().after_help(parameters_help());
    let cli = match Cli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    let result = match cli.command {
        None => print(Which::Stack, cli.out.as_ref()),
        Some(Cmd::Stack { out }) => print(Which::Stack, out.as_ref()),
        Some(Cmd::Bootstrap { out }) => print(Which::Bootstrap, out.as_ref()),
        Some(Cmd::Diff {
            template,
            base,
            base_ref,
            fail_on,
        }) => compare(template, base, base_ref.as_deref(), &fail_on),
        Some(Cmd::ChangeSet { file }) => change_set(file),
        Some(Cmd::Adopt {
            out_dir,
            rule_arn,
            rule_event_pattern,
        }) => adopt(&out_dir, &rule_arn, &rule_event_pattern),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("synth: {err}");
            // 2: could not compare or write, as distinct from 1, a change `--fail-on` stops.
            ExitCode::from(2)
        }
    }
}

fn print(which: Which, out: Option<&PathBuf>) -> Result<ExitCode, SynthError> {
    let text = which.render();
    match out {
        Some(path) => std::fs::write(path, text).map_err(|source| SynthError::Write {
            path: path.clone(),
            source,
        }),
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(SynthError::Stdout),
    }?;
    Ok(ExitCode::SUCCESS)
}

fn adopt(dir: &std::path::Path, rule_arn: &str, pattern: &str) -> Result<ExitCode, SynthError> {
    let stack = serde_json::to_value(synth::stack::build(&Config::runbook()))
        .expect("the template serializes");
    let pattern: serde_json::Value =
        serde_json::from_str(pattern).map_err(|err| SynthError::Parse {
            what: "--rule-event-pattern".to_owned(),
            reason: err.to_string(),
        })?;
    let documents = [
        (
            "import-template.json",
            synth::adopt::import_template(&stack, &pattern),
        ),
        (
            "resources-to-import.json",
            synth::adopt::resources_to_import(&stack, rule_arn),
        ),
    ];
    for (name, document) in documents {
        let path = dir.join(name);
        let mut text = serde_json::to_string_pretty(&document).expect("JSON serializes");
        text.push('\n');
        std::fs::write(&path, text).map_err(|source| SynthError::Write { path, source })?;
    }
    Ok(ExitCode::SUCCESS)
}

fn change_set(file: Option<PathBuf>) -> Result<ExitCode, SynthError> {
    let (what, text) = match &file {
        Some(path) => (path.display().to_string(), std::fs::read_to_string(path)),
        None => (
            "standard input".to_owned(),
            std::io::read_to_string(std::io::stdin()),
        ),
    };
    let text = text.map_err(|source| SynthError::Read {
        what: what.clone(),
        source,
    })?;
    let change_set = ChangeSet::parse(&text).map_err(|err| SynthError::Parse {
        what,
        reason: format!("not a DescribeChangeSet answer: {err}"),
    })?;
    print!("{}", change_set.table());
    Ok(if change_set.dangerous().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn compare(
    which: Which,
    base: Option<PathBuf>,
    base_ref: Option<&str>,
    fail_on: &[Finding],
) -> Result<ExitCode, SynthError> {
    let repository = inputs::repository();
    let base = inputs::base(&repository, which.file(), base.as_deref(), base_ref)?;
    let head: serde_json::Value =
        serde_json::from_str(&which.render()).expect("synth renders JSON");
    let changes = diff::diff(&base.template, &head, &CreateOnly::committed());
    let acknowledged = Acknowledgements::added(
        &base.acknowledgements,
        &inputs::head_acknowledgements(&repository),
    )
    .map_err(SynthError::Acknowledgements)?;
    let (report, blocking) = diff::report::render(&changes, fail_on, &acknowledged);
    println!("{} against {}:", which.file(), base.label);
    print!("{report}");
    if blocking.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for line in &blocking {
        eprintln!("synth diff: FAIL: {line}");
    }
    Ok(ExitCode::FAILURE)
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
