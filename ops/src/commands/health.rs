//! `outpost-ops health`: the runbook's quick health check (6) on one screen: the rule,
//! the function's configuration, every alarm of the stack, last hour's metrics, the two
//! queues, the reconciler's schedule and last run. Each check is fine, off, or could not
//! be answered (the endpoint does not offer the service, a call failed, or the answer did
//! not say): an unanswered check is shown as such and never taken for fine. A verdict
//! line; exit 0 when every check was answered and is fine, 1 when any is off, 3 when none
//! is off but some could not be answered.

mod checks;
mod cloudwatch;
mod last_run;

use std::time::Duration;

use clap::Args;
use serde::Serialize;

use crate::context::Context;
use crate::error::{OpsError, Result};
use crate::output::{self, fields, or_dash, Report, Table};

pub use checks::{next_for_alarm, rate};
pub use cloudwatch::{period, P95_LIMIT_MS};

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The window of the metrics (the runbook reads the last hour).
    #[arg(long, default_value = "1h", value_parser = crate::cli::duration)]
    pub window: Duration,
}

/// One checked part: what it is, what was seen, and whether it is off.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub name: String,
    /// What was seen; for a check that could not be answered, why not.
    pub value: String,
    /// `true`: answered and fine; `false`: answered and off; `null`: could not be answered.
    pub ok: Option<bool>,
    /// What to run first when it is off.
    pub next: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Function {
    pub name: String,
    pub runtime: Option<String>,
    pub architecture: Option<String>,
    pub memory_mb: Option<i32>,
    pub timeout_seconds: Option<i32>,
    pub last_modified: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthReport {
    pub stack: String,
    pub function: Option<Function>,
    pub checks: Vec<Check>,
    /// Every check was answered, and every one is fine.
    pub healthy: bool,
    /// How many checks could not be answered.
    pub unanswered: usize,
}

/// Why a check could not be answered; its value says so ([`HealthReport::unanswered`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unanswered {
    /// The endpoint does not offer the service or the operation at all: its answer is
    /// not an AWS one, or it names the operation unknown (a local AWS that lacks it).
    NotAvailable(String),
    /// The service is there, but the call failed (permissions, throttling, the network).
    CouldNotCheck(String),
    /// The call was answered without what the check reads.
    Unknown(String),
}

/// The error codes of an endpoint that does not offer a service or an operation:
/// `dispatch_aws::error`'s code for an answer that is not an AWS error, and AWS's own codes
/// for an unknown operation (JSON protocols) and an unknown action (query protocols).
const NOT_OFFERED: [&str; 3] = ["ServiceError", "UnknownOperationException", "InvalidAction"];

impl Unanswered {
    /// Why a call failed, sorted: not available here, or could not check.
    pub fn of(err: &OpsError) -> Unanswered {
        match err {
            OpsError::Aws(aws) if NOT_OFFERED.contains(&aws.code.as_str()) => {
                Unanswered::NotAvailable(err.to_string())
            }
            _ => Unanswered::CouldNotCheck(err.to_string()),
        }
    }
}

impl HealthReport {
    fn new(stack: &str) -> HealthReport {
        HealthReport {
            stack: stack.to_owned(),
            ..HealthReport::default()
        }
    }

    /// An answered check: fine when `ok`, else off, with `next` to run first.
    fn check(
        &mut self,
        name: impl Into<String>,
        value: impl Into<String>,
        ok: bool,
        next: Option<&str>,
    ) {
        self.checks.push(Check {
            name: name.into(),
            value: value.into(),
            ok: Some(ok),
            next: next.filter(|_| !ok).map(str::to_owned),
        });
    }

    /// A check that could not be answered: not known to be fine, nor off.
    fn unanswered(&mut self, name: impl Into<String>, why: Unanswered) {
        let value = match why {
            Unanswered::NotAvailable(why) => format!("not available here: {why}"),
            Unanswered::CouldNotCheck(why) => format!("could not check: {why}"),
            Unanswered::Unknown(why) => format!("unknown: {why}"),
        };
        self.checks.push(Check {
            name: name.into(),
            value,
            ok: None,
            next: None,
        });
    }

    /// A check from a call's answer: `(value, ok)` as [`Self::check`] takes them, or the
    /// call's error as [`Unanswered::of`] sorts it.
    fn answered(
        &mut self,
        name: impl Into<String>,
        answer: Result<(String, bool), impl Into<OpsError>>,
        next: Option<&str>,
    ) {
        match answer {
            Ok((value, ok)) => self.check(name, value, ok, next),
            Err(err) => self.unanswered(name, Unanswered::of(&err.into())),
        }
    }

    /// Sums the checks up, once all are in.
    fn conclude(&mut self) {
        self.unanswered = self.checks.iter().filter(|c| c.ok.is_none()).count();
        self.healthy = self.checks.iter().all(|c| c.ok == Some(true));
    }

    fn off(&self) -> usize {
        self.checks.iter().filter(|c| c.ok == Some(false)).count()
    }

    /// The verdict line: on what could be checked, with what could not be named apart.
    fn verdict(&self) -> String {
        let unanswered = self.checks.iter().filter(|c| c.ok.is_none());
        let unanswered: Vec<&str> = unanswered.map(|c| c.name.as_str()).collect();
        let answered = self.checks.len() - unanswered.len();
        let not_answered = match unanswered.as_slice() {
            [] => String::new(),
            names => format!("; not answered: {}", names.join(", ")),
        };
        match self.off() {
            0 if unanswered.is_empty() => output::verdict(false, "healthy"),
            // Neither OK nor a problem: nothing is off, but not everything was looked at.
            0 => format!(
                "\nUNKNOWN: nothing off in the {answered} check(s) answered{not_answered}\n"
            ),
            off => output::verdict(true, &format!("{off} check(s) off{not_answered}")),
        }
    }
}

pub async fn exec(ctx: &Context, args: HealthArgs) -> Result<HealthReport> {
    let period = period(args.window)?;
    let mut report = HealthReport::new(&ctx.names.stack);
    checks::rule(ctx, &mut report).await;
    checks::function(ctx, &mut report).await;
    checks::alarms(ctx, &mut report).await;
    checks::metrics(ctx, period, &mut report).await;
    checks::queues(ctx, &mut report).await;
    let every = checks::schedule(ctx, &mut report).await;
    checks::last_run(ctx, every, &mut report).await;
    report.conclude();
    Ok(report)
}

impl Report for HealthReport {
    fn render(&self) -> String {
        let mut text = format!("Stack {}\n\n", self.stack);
        if let Some(f) = &self.function {
            text += &render_function(f);
        }
        let mut table = Table::new(&["CHECK", "STATE", "OK", "NEXT"]);
        for c in &self.checks {
            let ok = match c.ok {
                Some(true) => "ok",
                Some(false) => "OFF",
                None => "unknown",
            };
            table.row(vec![
                c.name.clone(),
                c.value.clone(),
                ok.into(),
                or_dash(c.next.as_deref()),
            ]);
        }
        text.push_str(&table.render());
        text + &self.verdict()
    }

    fn found_problem(&self) -> bool {
        self.off() > 0
    }

    fn exit_code(&self) -> u8 {
        match (self.found_problem(), self.unanswered) {
            (true, _) => output::PROBLEM,
            (false, 0) => output::OK,
            (false, _) => output::NOT_ALL_CHECKED,
        }
    }
}

/// The function's configuration, one aligned line each, and a blank line.
fn render_function(f: &Function) -> String {
    let runtime = [f.runtime.as_deref(), f.architecture.as_deref()].map(or_dash);
    let memory = f.memory_mb.map(|m| format!("{m} MB"));
    let timeout = f.timeout_seconds.map(|t| format!("{t} s"));
    let pairs = [
        ("runtime", runtime.join(" ")),
        ("memory", or_dash(memory)),
        ("timeout", or_dash(timeout)),
        ("last modified", or_dash(f.last_modified.as_deref())),
    ];
    format!("Function {}\n{}\n", f.name, fields(&pairs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dispatch_aws::AwsError;

    fn failure(code: &str) -> OpsError {
        OpsError::Aws(AwsError {
            operation: "DescribeAlarms",
            resource: "cloudwatch".into(),
            attempts: 0,
            code: code.into(),
            message: "m".into(),
            request_id: None,
        })
    }

    #[test]
    fn schedules_read_as_intervals() {
        assert_eq!(
            rate("rate(15 minutes)"),
            Some(chrono::Duration::minutes(15))
        );
        assert_eq!(rate("rate(1 hour)"), Some(chrono::Duration::hours(1)));
        assert_eq!(rate("cron(0 * * * ? *)"), None);
    }

    #[test]
    fn a_window_is_whole_minutes() {
        assert_eq!(period(Duration::from_secs(3600)).unwrap(), 3600);
        assert!(period(Duration::from_secs(90)).is_err());
        assert!(period(Duration::from_secs(30)).is_err());
        assert!(period(Duration::from_secs(500 * 86_400)).is_err());
        assert_eq!(rate("rate(99999999999999999999 days)"), None);
        assert_eq!(
            rate("rate(999999999999999 days)"),
            None,
            "beyond what a duration holds"
        );
    }

    #[test]
    fn every_alarm_has_a_first_subcommand() {
        for alarm in contract::resources::alarms::ALL {
            assert_ne!(next_for_alarm(alarm), "outpost-ops health", "{alarm}");
        }
    }

    #[test]
    fn a_missing_service_is_not_available_and_a_failed_call_could_not_check() {
        assert!(matches!(
            Unanswered::of(&failure("ServiceError")),
            Unanswered::NotAvailable(_)
        ));
        assert!(matches!(
            Unanswered::of(&failure("UnknownOperationException")),
            Unanswered::NotAvailable(_)
        ));
        assert!(matches!(
            Unanswered::of(&failure("AccessDeniedException")),
            Unanswered::CouldNotCheck(_)
        ));
    }

    #[test]
    fn a_function_state_left_out_is_unknown_never_active() {
        let mut report = HealthReport::new("s");
        checks::add_state(&mut report, "function f".into(), None);
        checks::add_state(&mut report, "function g".into(), Some("Active"));
        checks::add_state(&mut report, "function h".into(), Some("Failed"));
        report.conclude();
        let oks: Vec<Option<bool>> = report.checks.iter().map(|c| c.ok).collect();
        assert_eq!(oks, [None, Some(true), Some(false)]);
        assert_eq!(
            report.checks[0].value,
            "unknown: GetFunctionConfiguration answered without a state"
        );
        assert!(!report.healthy);
    }

    fn report(oks: &[Option<bool>]) -> HealthReport {
        let mut report = HealthReport::new("s");
        for (i, ok) in oks.iter().enumerate() {
            match ok {
                Some(ok) => report.check(format!("c{i}"), "v", *ok, Some("next")),
                None => report.unanswered(format!("c{i}"), Unanswered::Unknown("why".into())),
            }
        }
        report.conclude();
        report
    }

    #[test]
    fn the_verdict_and_exit_code_rest_on_what_was_answered() {
        let fine = report(&[Some(true), Some(true)]);
        assert_eq!(
            (fine.healthy, fine.exit_code(), fine.verdict()),
            (true, 0, "\nOK: healthy\n".to_owned())
        );
        let partial = report(&[Some(true), None]);
        assert_eq!(
            (partial.healthy, partial.unanswered, partial.exit_code()),
            (false, 1, 3)
        );
        assert_eq!(
            partial.verdict(),
            "\nUNKNOWN: nothing off in the 1 check(s) answered; not answered: c1\n"
        );
        assert_eq!(partial.checks[1].value, "unknown: why");
        let off = report(&[Some(false), None]);
        assert_eq!(off.exit_code(), 1);
        assert_eq!(
            off.verdict(),
            "\nPROBLEM: 1 check(s) off; not answered: c1\n"
        );
        assert_eq!(off.checks[0].next.as_deref(), Some("next"));
    }
}
