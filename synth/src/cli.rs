//! The `synth` command line: what each subcommand takes, and which module does its work.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::diff::Finding;
use crate::names::{self, Name};
use crate::render::{self, Format, Which};
use crate::{adopt, change_set, diff, environment, stack, SynthError};

/// Prints the CloudFormation template of the outpost-dispatch-callback stack (EventBridge
/// rule, Lambda function, DynamoDB table, IAM role, log group, SQS queues, alarms and
/// dashboard), as JSON or YAML, with every name and threshold from the runbook; or the bootstrap
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
    /// Write the template as compact JSON or as YAML.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Print the system's template (what `synth` alone does).
    Stack {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Print the bootstrap stack's template.
    Bootstrap {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Print a JSON document (another template, `synth adopt`'s import template) as YAML,
    /// written as `--format yaml` writes the templates.
    Yaml {
        /// The JSON file.
        file: PathBuf,
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
        /// for them in this change: replace, remove, widen, weaken (comma-separated).
        #[arg(long, value_name = "FINDINGS", value_delimiter = ',', value_parser = finding)]
        fail_on: Vec<Finding>,
    },
    /// Write what `make adopt` imports the running system with: DIR/import-template.json
    /// (the table, log group and rule, retained, described as they exist) and
    /// DIR/resources-to-import.json. Its subcommands are the adoption's other decisions.
    Adopt(AdoptArgs),
    /// Print the names the scripts use (stacks, table, function, log group, rule,
    /// reconciler): each NAME's value on a line, or with none, every `NAME VALUE`.
    Names {
        #[arg(value_enum, value_name = "NAME")]
        names: Vec<Name>,
    },
    /// Environment files (`environments/NAME.json`): check them all against the
    /// template, or print one resolved for a deploy by name.
    Env {
        #[command(subcommand)]
        command: EnvCmd,
    },
    /// Whether what is deployed is what environments/NAME.json and this source say
    /// (`make drift ENV=name` asks AWS and runs this): the stack's parameters, each
    /// function's code, CloudFormation's drift detection. Exits 0 when all match, 1
    /// naming each difference, 2 when it cannot tell (saying why).
    Drift {
        name: String,
        #[arg(long, value_name = "DIR", default_value = environment::DIR)]
        dir: PathBuf,
        /// What `aws cloudformation describe-stacks` printed.
        #[arg(long, value_name = "FILE")]
        stack: PathBuf,
        /// `FUNCTION DEPLOYED_SHA256 LOCAL_SHA256` a line (`-` when unknown).
        #[arg(long, value_name = "FILE")]
        code: PathBuf,
        /// What `describe-stack-drift-detection-status` printed.
        #[arg(long, value_name = "FILE")]
        detection: PathBuf,
        /// What `describe-stack-resource-drifts` printed.
        #[arg(long, value_name = "FILE")]
        drifts: PathBuf,
        /// The one-off overrides the last deploy was given, `Parameter=value`.
        #[arg(value_name = "PARAMETER=VALUE", value_parser = assignment)]
        overrides: Vec<(String, String)>,
    },
    /// Print the stack policy a deploy sets (the table and both queues of parked events
    /// never replaced or deleted), or with --lifted the one a deploy with
    /// LIFT_STACK_POLICY=1 sets while it runs.
    StackPolicy {
        #[arg(long)]
        lifted: bool,
    },
    /// Show a change set (the JSON `aws cloudformation describe-change-set` prints, on
    /// standard input or from FILE) as a table: action, logical ID, type, replacement,
    /// properties. Exits 1 when it replaces or removes a stateful resource.
    ChangeSet {
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum EnvCmd {
    /// Check every environment file against the synthesized template. Exits 1 naming
    /// each file and key at fault: an unknown parameter, a wrong type, a value outside
    /// the parameter's constraints, a missing setting, timings that contradict.
    Check {
        #[arg(long, value_name = "DIR", default_value = environment::DIR)]
        dir: PathBuf,
    },
    /// Print NAME's settings for the deploy scripts, checked, with the one-off overrides
    /// applied: `account ID`, `region R`, `stack S`, then `parameter K=V` for every
    /// setting and `override K=NEW (the file says OLD)` for each override. Exits 1 on a
    /// problem.
    Show {
        /// The environment: environments/NAME.json.
        name: String,
        #[arg(long, value_name = "DIR", default_value = environment::DIR)]
        dir: PathBuf,
        /// One-off overrides, `Parameter=value`.
        #[arg(value_name = "PARAMETER=VALUE", value_parser = assignment)]
        overrides: Vec<(String, String)>,
    },
    /// The settings an environment file writes down (the template's parameters but those
    /// the build gives), one name a line.
    Settings,
    /// What NAME's settings change against the stack's (the template built from this
    /// source under each), as `synth diff` reports a template change. Exits 1 on a
    /// replacement, removal, wider access or weakened protection.
    Plan {
        name: String,
        #[arg(long, value_name = "DIR", default_value = environment::DIR)]
        dir: PathBuf,
        /// What `aws cloudformation describe-stacks` printed for the stack.
        #[arg(long, value_name = "FILE")]
        stack: PathBuf,
        /// One-off overrides, `Parameter=value`.
        #[arg(value_name = "PARAMETER=VALUE", value_parser = assignment)]
        overrides: Vec<(String, String)>,
    },
}

fn assignment(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not PARAMETER=VALUE"))?;
    Ok((name.to_owned(), value.to_owned()))
}

/// `synth adopt`: the import documents (its own options), or one of its subcommands.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct AdoptArgs {
    #[command(subcommand)]
    command: Option<AdoptCmd>,
    /// Where to write the two documents.
    #[arg(long, value_name = "DIR", required = true)]
    out_dir: Option<PathBuf>,
    /// The running rule's ARN, its identifier in the import.
    #[arg(long, value_name = "ARN", required = true)]
    rule_arn: Option<String>,
    /// The running rule's event pattern (JSON), as `aws events describe-rule` gives it.
    #[arg(long, value_name = "JSON", required = true)]
    rule_event_pattern: Option<String>,
}

#[derive(Debug, Subcommand)]
enum AdoptCmd {
    /// The pre-checks: compare the running table with the template's (key schema, key
    /// attribute types, both indexes with their keys and projections, billing mode,
    /// point-in-time recovery). Exits 1, listing every difference, when they differ.
    Check {
        /// What `aws dynamodb describe-table --output json` printed.
        #[arg(long, value_name = "FILE")]
        table: PathBuf,
        /// What `aws dynamodb describe-continuous-backups --output json` printed.
        #[arg(long, value_name = "FILE")]
        continuous_backups: PathBuf,
    },
    /// Print the test dispatch's record (a RUNNING dispatch of the task), as
    /// `aws dynamodb put-item --item` takes it; with --key, only its key.
    TestRecord {
        #[arg(long, value_name = "ID")]
        dispatch_id: String,
        #[arg(long, value_name = "ARN", required_unless_present = "key")]
        task_arn: Option<String>,
        /// When the dispatch was launched, `YYYY-MM-DDTHH:MM:SSZ`.
        #[arg(long, value_name = "TIME", required_unless_present = "key")]
        created_at: Option<String>,
        /// Print only the record's key (for get-item and delete-item).
        #[arg(long)]
        key: bool,
    },
    /// Whether the test dispatch ended as its event says (COMPLETED): FILE is what
    /// `aws dynamodb get-item --output json` printed for it. Exits 1 when it did not.
    TestSettled {
        #[arg(long, value_name = "FILE")]
        item: PathBuf,
    },
}

fn finding(text: &str) -> Result<Finding, String> {
    Finding::parse(text)
        .ok_or_else(|| format!("`{text}` is not one of replace, remove, widen, weaken"))
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
    let alone = Cmd::Stack {
        out: cli.out,
        format: cli.format,
    };
    match cli.command.unwrap_or(alone) {
        Cmd::Stack { out, format } => {
            render::print(Which::Stack, format, out.as_deref()).map(|()| true)
        }
        Cmd::Bootstrap { out, format } => {
            render::print(Which::Bootstrap, format, out.as_deref()).map(|()| true)
        }
        Cmd::Yaml { file, out } => render::yaml_of(&file, out.as_deref()).map(|()| true),
        Cmd::Parameters => {
            let template = stack::build(&Config::runbook());
            print!("{}", stack::parameters::listing(&template));
            Ok(true)
        }
        Cmd::Diff {
            template,
            base,
            base_ref,
            fail_on,
        } => {
            let blocking = diff::compare(template, base.as_deref(), base_ref.as_deref(), &fail_on)?;
            for line in &blocking {
                eprintln!("synth diff: FAIL: {line}");
            }
            Ok(blocking.is_empty())
        }
        Cmd::Env { command } => env_exec(command),
        Cmd::Drift {
            name,
            dir,
            stack,
            code,
            detection,
            drifts,
            overrides,
        } => drift_exec(DriftInputs {
            name,
            dir,
            stack,
            code,
            detection,
            drifts,
            overrides,
        }),
        Cmd::StackPolicy { lifted } => {
            let policy = match lifted {
                true => crate::stack_policy::lifted(),
                false => crate::stack_policy::guarding(),
            };
            println!("{policy}");
            Ok(true)
        }
        Cmd::ChangeSet { file } => change_set::show(file.as_deref()).map(|dangerous| !dangerous),
        Cmd::Adopt(args) => adopt_exec(args),
        Cmd::Names { names: asked } => {
            print!("{}", names::listing(&asked));
            Ok(true)
        }
    }
}

/// An environment file that cannot be resolved: nothing can be compared with it.
fn cannot_tell(problems: Vec<environment::Problem>) -> SynthError {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    SynthError::CannotTell(lines.join("; "))
}

/// What `synth drift` reads.
struct DriftInputs {
    name: String,
    dir: PathBuf,
    stack: PathBuf,
    code: PathBuf,
    detection: PathBuf,
    drifts: PathBuf,
    overrides: Vec<(String, String)>,
}

fn drift_exec(inputs: DriftInputs) -> Result<bool, SynthError> {
    let DriftInputs {
        name,
        dir,
        stack,
        code,
        detection,
        drifts,
        overrides,
    } = inputs;
    let template = stack::build(&Config::runbook());
    let resolved = environment::resolve(&dir, &name, &overrides, &template).map_err(cannot_tell)?;
    let detection = crate::drift::Detection {
        status: crate::drift::read_json(&detection)?,
        drifts: crate::drift::read_json(&drifts)?,
    };
    let file = environment::path(&dir, &name).display().to_string();
    let verdict = crate::drift::compare(
        &resolved.parameters,
        &crate::drift::read_json(&stack)?,
        &crate::drift::read_code(&code)?,
        &detection,
        &file,
    );
    for line in &verdict.differences {
        println!("drift: {line}");
    }
    if !verdict.differences.is_empty() {
        for line in &verdict.unknown {
            println!("drift: also, cannot tell: {line}");
        }
        return Ok(false);
    }
    if !verdict.unknown.is_empty() {
        return Err(SynthError::CannotTell(verdict.unknown.join("; ")));
    }
    println!("drift: none: the stack's parameters are {file}'s, the code is the local package's, and CloudFormation finds no drifted resource");
    Ok(true)
}

fn env_exec(command: EnvCmd) -> Result<bool, SynthError> {
    let template = stack::build(&Config::runbook());
    match command {
        EnvCmd::Check { dir } => {
            let (files, problems) = environment::check_all(&dir, &template)?;
            for problem in &problems {
                eprintln!("synth env check: {problem}");
            }
            if problems.is_empty() {
                println!(
                    "{files} environment file(s) in {} match the template",
                    dir.display()
                );
            }
            Ok(problems.is_empty())
        }
        EnvCmd::Show {
            name,
            dir,
            overrides,
        } => match environment::resolve(&dir, &name, &overrides, &template) {
            Ok(resolved) => {
                print!("{}", environment::listing(&resolved));
                Ok(true)
            }
            Err(problems) => {
                for problem in &problems {
                    eprintln!("synth env show: {problem}");
                }
                Ok(false)
            }
        },
        EnvCmd::Plan {
            name,
            dir,
            stack: stack_file,
            overrides,
        } => env_plan(&template, &name, &dir, &stack_file, &overrides),
        EnvCmd::Settings => {
            for name in environment::settings(&template) {
                println!("{name}");
            }
            Ok(true)
        }
    }
}

/// `synth env plan`: this source's template under the stack's settings and under
/// NAME's, compared as `synth diff` compares two templates.
fn env_plan(
    template: &crate::cfn::Template,
    name: &str,
    dir: &std::path::Path,
    stack_file: &std::path::Path,
    overrides: &[(String, String)],
) -> Result<bool, SynthError> {
    let resolved = environment::resolve(dir, name, overrides, template).map_err(cannot_tell)?;
    let described = crate::drift::read_json(stack_file)?;
    let deployed = crate::drift::stack_parameters(&described);
    // The code's place and architecture are the build's, not the file's: the plan
    // keeps the stack's, so only the settings differ.
    let mut planned = resolved.parameters.clone();
    for name in crate::stack::parameters::FROM_THE_BUILD {
        if let Some(value) = deployed.get(name) {
            planned.insert(name.to_owned(), value.clone());
        }
    }
    let rendered = serde_json::to_value(template).expect("a template is JSON");
    let before = crate::resolve::resolve(&rendered, &deployed);
    let after = crate::resolve::resolve(&rendered, &planned);
    let changes = diff::diff(&before, &after, &diff::CreateOnly::committed());
    let none = diff::Acknowledgements::default();
    let (report, blocking) = diff::report::render(&changes, &Finding::ALL, &none);
    println!("what the settings of {name} change against the stack's (this source's template under each):");
    print!("{report}");
    Ok(blocking.is_empty())
}

fn adopt_exec(args: AdoptArgs) -> Result<bool, SynthError> {
    match args.command {
        None => {
            // clap requires the three options when no subcommand is given.
            let (Some(out_dir), Some(rule_arn), Some(pattern)) =
                (args.out_dir, args.rule_arn, args.rule_event_pattern)
            else {
                unreachable!("clap requires --out-dir, --rule-arn and --rule-event-pattern");
            };
            adopt::write(&out_dir, &rule_arn, &pattern).map(|()| true)
        }
        Some(AdoptCmd::Check {
            table,
            continuous_backups,
        }) => adopt::precheck::show(&table, &continuous_backups),
        Some(AdoptCmd::TestRecord {
            dispatch_id,
            task_arn,
            created_at,
            key,
        }) => {
            let document = if key {
                adopt::test_record::key(&dispatch_id)
            } else {
                // clap requires both unless --key is given.
                let (Some(task_arn), Some(created_at)) = (task_arn, created_at) else {
                    unreachable!("clap requires --task-arn and --created-at without --key");
                };
                adopt::test_record::item(&adopt::test_record::TestDispatch {
                    dispatch_id,
                    task_arn,
                    created_at,
                })
            };
            println!("{document}");
            Ok(true)
        }
        Some(AdoptCmd::TestSettled { item }) => adopt::test_record::show_settled(&item),
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

    /// JSON unless asked: the scripts deploy JSON, and the README's first flow is
    /// `cargo run -p synth > stack.json`.
    #[test]
    fn json_unless_yaml_is_asked_for() {
        for args in [&["synth"][..], &["synth", "stack"], &["synth", "bootstrap"]] {
            let cli = Cli::try_parse_from(args).expect("parses");
            let format = match cli.command {
                None => cli.format,
                Some(Cmd::Stack { format, .. } | Cmd::Bootstrap { format, .. }) => format,
                Some(other) => panic!("{args:?} parsed as {other:?}"),
            };
            assert_eq!(format, Format::Json, "{args:?}");
        }
        let yaml = Cli::try_parse_from(["synth", "bootstrap", "--format", "yaml"]).expect("parses");
        assert!(matches!(
            yaml.command,
            Some(Cmd::Bootstrap {
                format: Format::Yaml,
                ..
            })
        ));
        assert!(Cli::try_parse_from(["synth", "--format", "toml"]).is_err());
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
