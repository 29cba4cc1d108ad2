//! The command line: global options (AWS conventions) and one subcommand per runbook
//! section. Each subcommand's options live with it, in `commands/`.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::commands;
use crate::error::OpsError;
use crate::output::{self, Format};

/// The runbook of outpost-dispatch-callback, executable: diagnose, repair and replay.
///
/// Every resource name comes from the stack's outputs. Exit codes: 0 healthy or done,
/// 1 a problem was found (or a change was refused), 2 the command could not run.
#[derive(Debug, Parser)]
#[command(name = "outpost-ops", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The AWS profile (else the SDK's own: AWS_PROFILE, then `default`).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// The AWS region (else the SDK's own: AWS_REGION, then the profile's).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// The stack `make deploy` created.
    #[arg(long, global = true, default_value = contract::resources::STACK)]
    pub stack_name: String,
    /// Tables for a person, or one JSON document for scripts.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// No progress on stderr.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Quick health check (runbook 6): rule, function, alarms, last hour's metrics, queues,
    /// the reconciler's last run. Exit 1 if anything is off.
    Health(commands::health::HealthArgs),
    /// Why is this dispatch not settled? (runbook 4, "Dispatch Stuck in RUNNING", steps 1-3)
    Diagnose(commands::diagnose::DiagnoseArgs),
    /// Old non-terminal dispatches, through status-createdAt-index (never a Scan).
    Stuck(commands::stuck::StuckArgs),
    /// Settle one dispatch by hand (runbook 4, step 4), safely: never over a terminal status.
    Settle(commands::settle::SettleArgs),
    /// Re-invoke the function with events parked in the failure queue or the rule's DLQ.
    Replay(commands::replay::ReplayArgs),
    /// Enable or disable the completion rule.
    Rule(commands::rule::RuleArgs),
    /// The callback's and the reconciler's log lines, readable.
    Logs(commands::logs::LogsArgs),
    /// Run the reconciler now, from the same code as the scheduled run.
    Reconcile(commands::reconcile::ReconcileArgs),
}

/// The moment `duration` before `now`; a duration reaching before the calendar's start is
/// a usage error, not a panic.
pub fn before(now: DateTime<Utc>, duration: Duration) -> Result<DateTime<Utc>, OpsError> {
    let ago = humantime::format_duration(duration);
    let too_long = || OpsError::Usage(format!("{ago} is too long ago"));
    let duration = chrono::Duration::from_std(duration).map_err(|_| too_long())?;
    now.checked_sub_signed(duration).ok_or_else(too_long)
}

/// Parses the command line. `Err` is the exit code when there is nothing to run: 0 after
/// `--help` or `--version`, 2 for arguments clap refuses. Its message goes to stderr and,
/// when the arguments ask for JSON, `{"error": ...}` to stdout, so a script reads it too.
pub fn parse(args: &[OsString]) -> Result<Cli, ExitCode> {
    Cli::try_parse_from(args).map_err(|err| {
        let _ = err.print();
        if !err.use_stderr() {
            return ExitCode::SUCCESS;
        }
        if wants_json(args) {
            let message = err.to_string();
            let first = message.lines().next().unwrap_or("invalid arguments");
            output::print_error_document(first.trim_start_matches("error: "));
        }
        ExitCode::from(output::COULD_NOT_RUN)
    })
}

/// Whether the raw arguments ask for JSON: used when they cannot be parsed.
fn wants_json(args: &[OsString]) -> bool {
    let apart = |pair: &[OsString]| (pair[0] == "--output" || pair[0] == "-o") && pair[1] == "json";
    let joined = |arg: &OsString| arg == "--output=json" || arg == "-ojson";
    args.windows(2).any(apart) || args.iter().any(joined)
}

/// Parses `30m`, `1h`, `2d`, `1h30m` (never through `date`).
pub fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|err| format!("{err} (write it like 30m, 1h, 2d or 1h30m)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_moment_too_long_ago_is_an_error() {
        let now = chrono::Utc::now();
        assert!(before(now, Duration::from_secs(3600)).is_ok());
        let err = before(now, duration("300000y").unwrap()).unwrap_err();
        assert!(err.to_string().contains("too long ago"), "{err}");
    }

    #[test]
    fn json_is_asked_for_in_every_spelling() {
        let args = |line: &str| line.split(' ').map(OsString::from).collect::<Vec<_>>();
        assert!(wants_json(&args("outpost-ops --output json stuck")));
        assert!(wants_json(&args("outpost-ops stuck -o json")));
        assert!(wants_json(&args("outpost-ops --output=json stuck")));
        assert!(!wants_json(&args("outpost-ops stuck --dispatch json")));
    }

    #[test]
    fn durations_are_read_by_the_tool() {
        assert_eq!(duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(duration("2d"), Ok(Duration::from_secs(2 * 86400)));
        assert_eq!(duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(duration("an hour").unwrap_err().contains("like 30m"));
    }
}
