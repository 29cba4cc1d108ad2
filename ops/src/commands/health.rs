//! `outpost-ops health`: the runbook's quick health check (6) on one screen: the rule,
//! the function's configuration, every alarm of the stack, last hour's metrics, the two
//! queues, the reconciler's schedule and last run. A verdict line; exit 1 if anything is
//! off, or could not be checked.

use std::time::Duration;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_smithy_types::DateTime as AwsDateTime;
use chrono::Utc;
use clap::Args;
use serde::Serialize;

use crate::context::Context;
use crate::error::{aws, Result};
use crate::logs::{fetch, Source};
use crate::output::{self, fields, or_dash, Report, Table};
use crate::parked;

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The window of the metrics (the runbook reads the last hour).
    #[arg(long, default_value = "1h", value_parser = crate::cli::duration)]
    pub window: Duration,
}

/// The runbook's High Latency threshold: p95 Duration above 500 ms.
pub const P95_LIMIT_MS: f64 = 500.0;

/// One checked part: what it is, what was seen, and whether it is off.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub name: String,
    pub value: String,
    pub ok: bool,
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthReport {
    pub stack: String,
    pub function: Option<Function>,
    pub checks: Vec<Check>,
    pub healthy: bool,
}

impl HealthReport {
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
            ok,
            next: next.filter(|_| !ok).map(str::to_owned),
        });
    }

    /// A part that could not be read is not known to be healthy.
    fn unreadable(&mut self, name: impl Into<String>, err: impl ToString) {
        self.check(
            name,
            format!("could not check: {}", err.to_string()),
            false,
            None,
        );
    }
}

pub async fn exec(ctx: &Context, args: HealthArgs) -> Result<HealthReport> {
    let period = period(args.window)?;
    let names = &ctx.names;
    let mut report = HealthReport {
        stack: names.stack.clone(),
        function: None,
        checks: Vec::new(),
        healthy: true,
    };

    ctx.progress.step("reading the rules");
    let events = ctx.events();
    match super::rule::state(&events, &names.rule).await {
        Ok(state) => report.check(
            format!("rule {}", names.rule),
            state.clone(),
            state == "ENABLED",
            Some("outpost-ops rule enable"),
        ),
        Err(err) => report.unreadable(format!("rule {}", names.rule), err),
    }

    ctx.progress.step("reading the function's configuration");
    match ctx
        .lambda()
        .get_function_configuration()
        .function_name(&names.function)
        .send()
        .await
    {
        Ok(c) => {
            let state = c.state().map(|s| s.as_str().to_owned());
            report.function = Some(Function {
                name: names.function.clone(),
                runtime: c.runtime().map(|r| r.as_str().to_owned()),
                architecture: c.architectures().first().map(|a| a.as_str().to_owned()),
                memory_mb: c.memory_size(),
                timeout_seconds: c.timeout(),
                last_modified: c.last_modified().map(str::to_owned),
                state: state.clone(),
            });
            let state = state.unwrap_or_else(|| "Active".to_owned());
            report.check(
                format!("function {}", names.function),
                state.clone(),
                state == "Active",
                None,
            );
        }
        Err(err) => report.unreadable(
            format!("function {}", names.function),
            aws("GetFunctionConfiguration", &names.function)(err),
        ),
    }

    ctx.progress.step("reading the alarms");
    if names.alarms.is_empty() {
        report.check("alarms", "the stack has none", false, None);
    }
    let cloudwatch = ctx.cloudwatch();
    match alarms(&cloudwatch, &names.alarms).await {
        Ok(states) => {
            for (alarm, state) in states {
                let ok = state != "ALARM" && state != "MISSING";
                report.check(
                    format!("alarm {alarm}"),
                    state,
                    ok,
                    Some(next_for_alarm(&alarm)),
                );
            }
        }
        Err(err) => report.unreadable("alarms", err),
    }

    ctx.progress.step("reading last hour's metrics");
    match metrics(&cloudwatch, &names.function, period).await {
        Ok(m) => {
            report.check("invocations", format!("{}", m.invocations), true, None);
            report.check(
                "errors",
                format!("{}", m.errors),
                m.errors == 0.0,
                Some("outpost-ops logs --errors"),
            );
            report.check(
                "throttles",
                format!("{}", m.throttles),
                m.throttles == 0.0,
                Some("outpost-ops replay"),
            );
            let p95 = m
                .p95_duration_ms
                .map_or_else(|| "no data".to_owned(), |ms| format!("{ms:.0} ms"));
            report.check(
                "p95 duration",
                p95,
                m.p95_duration_ms.is_none_or(|ms| ms <= P95_LIMIT_MS),
                Some("outpost-ops logs --phrase querying-by-task-arn"),
            );
        }
        Err(err) => report.unreadable("metrics", err),
    }

    ctx.progress.step("reading the queues");
    let sqs = ctx.sqs();
    for (url, next) in [
        (&names.failure_queue_url, "outpost-ops replay --dry-run"),
        (
            &names.dead_letter_queue_url,
            "outpost-ops replay --from dlq --dry-run",
        ),
    ] {
        let name = format!("queue {}", parked::queue_name(url));
        match parked::depth(&sqs, url).await {
            Ok((waiting, in_flight)) => report.check(
                name,
                format!("{waiting} waiting, {in_flight} in flight"),
                waiting + in_flight == 0,
                Some(next),
            ),
            Err(err) => report.unreadable(name, err),
        }
    }

    ctx.progress
        .step("reading the reconciler's schedule and last run");
    let interval = match events
        .describe_rule()
        .name(&names.reconciler_schedule)
        .send()
        .await
    {
        Ok(rule) => {
            let state = rule.state().map_or("UNKNOWN", |s| s.as_str()).to_owned();
            let expression = rule.schedule_expression().unwrap_or_default().to_owned();
            report.check(
                format!("schedule {}", names.reconciler_schedule),
                format!("{state} {expression}"),
                state == "ENABLED",
                None,
            );
            rate(&expression)
        }
        Err(err) => {
            report.unreadable(
                format!("schedule {}", names.reconciler_schedule),
                aws("DescribeRule", &names.reconciler_schedule)(err),
            );
            None
        }
    };
    // Two missed runs is a problem; one can be a slow start.
    let expected = interval
        .and_then(|every| every.checked_mul(2))
        .unwrap_or(chrono::Duration::hours(1));
    let since = Utc::now()
        .checked_sub_signed(expected + chrono::Duration::minutes(5))
        .unwrap_or(chrono::DateTime::UNIX_EPOCH)
        .timestamp_millis();
    let pattern = format!("\"{}\"", contract::logs::RECONCILER_RUN_DONE);
    match fetch(
        &ctx.logs(),
        Source::Reconciler,
        &names.reconciler_log_group,
        Some(&pattern),
        since,
        1,
        |_| true,
    )
    .await
    {
        Ok(fetched) => match fetched.lines.last() {
            Some(line) => report.check(
                "reconciler last run",
                format!("{}  {}", line.time, line.message),
                true,
                None,
            ),
            None => report.check(
                "reconciler last run",
                format!("none in the last {}m", expected.num_minutes() + 5),
                false,
                Some("outpost-ops logs --function reconciler --errors"),
            ),
        },
        Err(err) => report.unreadable("reconciler last run", err),
    }

    report.healthy = report.checks.iter().all(|c| c.ok);
    Ok(report)
}

/// `rate(15 minutes)` as a duration; other schedules (cron) as `None`.
pub fn rate(expression: &str) -> Option<chrono::Duration> {
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (amount, unit) = inner.trim().split_once(' ')?;
    let amount: i64 = amount.parse().ok()?;
    match unit.trim_end_matches('s') {
        "minute" => chrono::Duration::try_minutes(amount),
        "hour" => chrono::Duration::try_hours(amount),
        "day" => chrono::Duration::try_days(amount),
        _ => None,
    }
}

/// The subcommand to run first when an alarm fires (README, "On call").
pub fn next_for_alarm(alarm: &str) -> &'static str {
    use contract::resources::alarms::*;
    match alarm {
        ERRORS => "outpost-ops logs --errors",
        DURATION => "outpost-ops logs --phrase querying-by-task-arn",
        THROTTLES | FAILURES_WAITING => "outpost-ops replay --dry-run",
        DEAD_LETTERS_WAITING => "outpost-ops replay --from dlq --dry-run",
        RECONCILER_SETTLED => "outpost-ops logs --phrase reconciler-settled",
        RECONCILER_ERRORS => "outpost-ops logs --function reconciler --errors",
        _ => "outpost-ops health",
    }
}

/// Each alarm's state; `MISSING` for one CloudWatch does not have.
async fn alarms(
    client: &aws_sdk_cloudwatch::Client,
    names: &[String],
) -> Result<Vec<(String, String)>> {
    let mut states: Vec<(String, String)> = names
        .iter()
        .map(|n| (n.clone(), "MISSING".to_owned()))
        .collect();
    for chunk in names.chunks(100) {
        let output = client
            .describe_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .max_records(100)
            .send()
            .await
            .map_err(aws("DescribeAlarms", "cloudwatch"))?;
        for alarm in output.metric_alarms() {
            if let (Some(name), Some(state)) = (alarm.alarm_name(), alarm.state_value()) {
                if let Some(entry) = states.iter_mut().find(|(n, _)| n == name) {
                    entry.1 = state.as_str().to_owned();
                }
            }
        }
    }
    Ok(states)
}

/// Last window's Lambda metrics of `function`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub invocations: f64,
    pub errors: f64,
    pub throttles: f64,
    pub p95_duration_ms: Option<f64>,
}

/// The window as one CloudWatch period: whole minutes, at least one, at most 455 days
/// (CloudWatch keeps hourly data that long).
pub fn period(window: Duration) -> Result<i32> {
    let seconds = window.as_secs();
    if seconds < 60 || seconds % 60 != 0 || seconds > 455 * 86_400 {
        return Err(crate::error::OpsError::Usage(format!(
            "--window {} must be whole minutes, from 1m to 455d",
            humantime::format_duration(window)
        )));
    }
    Ok(i32::try_from(seconds).expect("455 days fit an i32"))
}

async fn metrics(
    client: &aws_sdk_cloudwatch::Client,
    function: &str,
    period: i32,
) -> Result<Metrics> {
    let query = |id: &str, name: &str, stat: &str| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace("AWS/Lambda")
                            .metric_name(name)
                            .dimensions(
                                Dimension::builder()
                                    .name("FunctionName")
                                    .value(function)
                                    .build(),
                            )
                            .build(),
                    )
                    .period(period)
                    .stat(stat)
                    .build(),
            )
            .return_data(true)
            .build()
    };
    let now = Utc::now();
    let start = now - chrono::Duration::seconds(i64::from(period));
    let output = client
        .get_metric_data()
        .metric_data_queries(query("invocations", "Invocations", "Sum"))
        .metric_data_queries(query("errors", "Errors", "Sum"))
        .metric_data_queries(query("throttles", "Throttles", "Sum"))
        .metric_data_queries(query("duration", "Duration", "p95"))
        .start_time(AwsDateTime::from_secs(start.timestamp()))
        .end_time(AwsDateTime::from_secs(now.timestamp()))
        .send()
        .await
        .map_err(aws("GetMetricData", function))?;
    let mut metrics = Metrics::default();
    for result in output.metric_data_results() {
        let values = result.values();
        let sum: f64 = values.iter().sum();
        match result.id() {
            Some("invocations") => metrics.invocations = sum,
            Some("errors") => metrics.errors = sum,
            Some("throttles") => metrics.throttles = sum,
            Some("duration") => metrics.p95_duration_ms = values.iter().copied().reduce(f64::max),
            _ => {}
        }
    }
    Ok(metrics)
}

impl Report for HealthReport {
    fn render(&self) -> String {
        let mut text = format!("Stack {}\n\n", self.stack);
        if let Some(f) = &self.function {
            text.push_str(&format!("Function {}\n", f.name));
            text.push_str(&fields(&[
                (
                    "runtime",
                    format!(
                        "{} {}",
                        or_dash(f.runtime.as_deref()),
                        or_dash(f.architecture.as_deref())
                    ),
                ),
                (
                    "memory",
                    f.memory_mb.map_or("-".into(), |m| format!("{m} MB")),
                ),
                (
                    "timeout",
                    f.timeout_seconds.map_or("-".into(), |t| format!("{t} s")),
                ),
                ("last modified", or_dash(f.last_modified.as_deref())),
            ]));
            text.push('\n');
        }
        let mut table = Table::new(&["CHECK", "STATE", "OK", "NEXT"]);
        for c in &self.checks {
            table.row(vec![
                c.name.clone(),
                c.value.clone(),
                if c.ok { "ok".into() } else { "OFF".into() },
                or_dash(c.next.as_deref()),
            ]);
        }
        text.push_str(&table.render());
        let off = self.checks.iter().filter(|c| !c.ok).count();
        text + &output::verdict(
            !self.healthy,
            &if self.healthy {
                "healthy".to_owned()
            } else {
                format!("{off} check(s) off")
            },
        )
    }

    fn found_problem(&self) -> bool {
        !self.healthy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
