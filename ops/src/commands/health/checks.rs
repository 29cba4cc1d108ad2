//! One check per part of the system `health` looks at, in the order it shows them. Each
//! adds its rows to the report: fine, off, or could not be answered (and why).

use chrono::{DateTime, Duration, Utc};

use super::{cloudwatch, last_run, Function, HealthReport, Unanswered, P95_LIMIT_MS};
use crate::commands::rule::describe as describe_rule;
use crate::context::Context;
use crate::error::{aws, OpsError};
use crate::logs::{fetch, Line, Source};
use crate::parked::{self, Queue};

/// The completion rule: it must be enabled for stopped tasks to reach the function.
pub async fn rule(ctx: &Context, report: &mut HealthReport) {
    ctx.progress.step("reading the rules");
    let rule = &ctx.names.rule;
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);
    let described = describe_rule(&events, rule).await;
    let answer = described.map(|(state, _)| (state.clone(), state == "ENABLED"));
    let next = Some("outpost-ops rule enable");
    report.answered(format!("rule {rule}"), answer, next);
}

/// The callback function's configuration, shown above the checks, and its state
/// ([`add_state`]).
pub async fn function(ctx: &Context, report: &mut HealthReport) {
    ctx.progress.step("reading the function's configuration");
    let function = &ctx.names.function;
    let name = format!("function {function}");
    let answer = aws_sdk_lambda::Client::new(&ctx.sdk)
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .map_err(aws("GetFunctionConfiguration", function));
    let c = match answer {
        Ok(c) => c,
        Err(err) => return report.unanswered(name, Unanswered::of(&OpsError::from(err))),
    };
    let state = c.state().map(|s| s.as_str().to_owned());
    add_state(report, name, state.as_deref());
    report.function = Some(Function {
        name: function.clone(),
        runtime: c.runtime().map(|r| r.as_str().to_owned()),
        architecture: c.architectures().first().map(|a| a.as_str().to_owned()),
        memory_mb: c.memory_size(),
        timeout_seconds: c.timeout(),
        last_modified: c.last_modified().map(str::to_owned),
        state,
    });
}

/// The function's state as a check: Active is fine, any other state is off, and a state
/// the answer leaves out is not known, so never taken for Active.
pub(super) fn add_state(report: &mut HealthReport, name: String, state: Option<&str>) {
    match state {
        Some(state) => report.check(name, state, state == "Active", None),
        None => report.unanswered(
            name,
            Unanswered::Unknown("GetFunctionConfiguration answered without a state".into()),
        ),
    }
}

/// Every alarm the stack names, by state: `ALARM` is off, and so is one CloudWatch does
/// not have. Resources the stack lists without a name or type may be alarms too: that
/// is said, never assumed either way.
pub async fn alarms(ctx: &Context, report: &mut HealthReport) {
    ctx.progress.step("reading the alarms");
    let (alarms, unnamed) = (&ctx.names.alarms, ctx.names.unnamed_resources);
    if unnamed > 0 {
        let row = if alarms.is_empty() {
            "alarms"
        } else {
            "unnamed resources"
        };
        let why = format!(
            "the stack lists {unnamed} resource(s) without the name and type AWS gives each: \
             any alarm among them cannot be checked"
        );
        report.unanswered(row, Unanswered::NotAvailable(why));
    } else if alarms.is_empty() {
        report.check("alarms", "the stack has none", false, None);
    }
    if alarms.is_empty() {
        return;
    }
    let client = aws_sdk_cloudwatch::Client::new(&ctx.sdk);
    match cloudwatch::alarm_states(&client, alarms).await {
        Ok(states) => {
            for (alarm, state) in states {
                let ok = state != "ALARM" && state != "MISSING";
                let next = Some(next_for_alarm(&alarm));
                report.check(format!("alarm {alarm}"), state, ok, next);
            }
        }
        Err(err) => report.unanswered("alarms", Unanswered::of(&err)),
    }
}

/// The window's Invocations, Errors, Throttles and p95 Duration: any error or throttle is
/// off, and so is a p95 above the runbook's limit.
pub async fn metrics(ctx: &Context, period: i32, report: &mut HealthReport) {
    ctx.progress.step("reading last hour's metrics");
    let client = aws_sdk_cloudwatch::Client::new(&ctx.sdk);
    let m = match cloudwatch::metrics(&client, &ctx.names.function, period).await {
        Ok(m) => m,
        Err(err) => return report.unanswered("metrics", Unanswered::of(&err)),
    };
    report.check("invocations", m.invocations.to_string(), true, None);
    let mut any_is_off = |name, count: f64, next| {
        report.check(name, count.to_string(), count == 0.0, Some(next));
    };
    any_is_off("errors", m.errors, "outpost-ops logs --errors");
    any_is_off("throttles", m.throttles, "outpost-ops replay");
    let p95 = m.p95_duration_ms;
    let value = p95.map_or_else(|| "no data".to_owned(), |ms| format!("{ms:.0} ms"));
    let fine = p95.is_none_or(|ms| ms <= P95_LIMIT_MS);
    let next = Some("outpost-ops logs --phrase querying-by-task-arn");
    report.check("p95 duration", value, fine, next);
}

/// Both queues: a message waiting, or received and not yet deleted, is off.
pub async fn queues(ctx: &Context, report: &mut HealthReport) {
    ctx.progress.step("reading the queues");
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);
    for queue in Queue::ALL {
        let url = queue.url(&ctx.names);
        let depth = parked::depth(&sqs, url).await.map(|(waiting, in_flight)| {
            let value = format!("{waiting} waiting, {in_flight} in flight");
            (value, waiting + in_flight == 0)
        });
        let next = format!("outpost-ops replay{} --dry-run", queue.option());
        let name = format!("queue {}", parked::queue_name(url));
        report.answered(name, depth, Some(next.as_str()));
    }
}

/// The reconciler's schedule: it must be enabled. Returns its interval, when it is a
/// `rate(...)`, for [`last_run`].
pub async fn schedule(ctx: &Context, report: &mut HealthReport) -> Option<Duration> {
    ctx.progress
        .step("reading the reconciler's schedule and last run");
    let schedule = &ctx.names.reconciler_schedule;
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);
    let described = describe_rule(&events, schedule).await;
    let expression = described.as_ref().map_or("", |(_, expression)| expression);
    let interval = rate(expression);
    let answer =
        described.map(|(state, expression)| (format!("{state} {expression}"), state == "ENABLED"));
    report.answered(format!("schedule {schedule}"), answer, None);
    interval
}

/// The reconciler's last run, from its log ([`last_run`](super::last_run)): none within
/// two intervals (one missed run can be a slow start), or within an hour when the
/// interval is not known, is off unless the stack was deployed since; so is a run that
/// failed or left dispatches unchecked.
pub async fn last_run(ctx: &Context, interval: Option<Duration>, report: &mut HealthReport) {
    let expected = interval
        .and_then(|every| every.checked_mul(2))
        .unwrap_or(Duration::hours(1));
    let now = Utc::now();
    let since = now
        .checked_sub_signed(expected + Duration::minutes(5))
        .unwrap_or(DateTime::UNIX_EPOCH)
        .timestamp_millis();
    let pattern = last_run::pattern();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&ctx.sdk);
    let group = &ctx.names.reconciler_log_group;
    let source = Source::Reconciler;
    let ends_a_run = |line: &Line| last_run::ended(line).is_some();
    let fetched = fetch(&logs, source, group, Some(&pattern), since, 1, ends_a_run).await;
    let answer = fetched.map(|fetched| {
        let last = fetched.lines.last();
        let last = last.and_then(|line| Some((line, last_run::ended(line)?)));
        last_run::judge(last, ctx.deployed_at, expected, now)
    });
    let next = Some("outpost-ops logs --function reconciler --errors");
    report.answered("reconciler last run", answer, next);
}

/// `rate(15 minutes)` as a duration; other schedules (cron) as `None`.
pub fn rate(expression: &str) -> Option<Duration> {
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (amount, unit) = inner.trim().split_once(' ')?;
    let amount: i64 = amount.parse().ok()?;
    match unit.trim_end_matches('s') {
        "minute" => Duration::try_minutes(amount),
        "hour" => Duration::try_hours(amount),
        "day" => Duration::try_days(amount),
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
        RECONCILER_UNCHECKED => {
            "outpost-ops logs --function reconciler --phrase reconciler-unchecked"
        }
        RECONCILER_NO_TASK => "outpost-ops logs --function reconciler --phrase reconciler-no-task",
        _ => "outpost-ops health",
    }
}
