//! What `health` asks CloudWatch: the alarms' states and the function's metrics.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_smithy_types::DateTime as AwsDateTime;
use chrono::Utc;

use crate::error::{aws, OpsError, Result};

/// The runbook's High Latency threshold: p95 Duration above 500 ms.
pub const P95_LIMIT_MS: f64 = 500.0;

/// Each alarm's state; `MISSING` for one CloudWatch does not have.
pub async fn alarm_states(
    client: &aws_sdk_cloudwatch::Client,
    names: &[String],
) -> Result<Vec<(String, String)>> {
    let mut states = BTreeMap::new();
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
                states.insert(name.to_owned(), state.as_str().to_owned());
            }
        }
    }
    let mut state = |name: &str| states.remove(name).unwrap_or_else(|| "MISSING".to_owned());
    Ok(names.iter().map(|n| (n.clone(), state(n))).collect())
}

/// Last window's Lambda metrics of `function`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
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
    let whole_minutes = (60..=455 * 86_400).contains(&seconds) && seconds % 60 == 0;
    let period = i32::try_from(seconds).ok().filter(|_| whole_minutes);
    period.ok_or_else(|| {
        let window = humantime::format_duration(window);
        OpsError::Usage(format!(
            "--window {window} must be whole minutes, from 1m to 455d"
        ))
    })
}

/// One metric of `function` over `period`, as a `GetMetricData` query.
fn query(id: &str, name: &str, stat: &str, function: &str, period: i32) -> MetricDataQuery {
    let dimension = Dimension::builder().name("FunctionName").value(function);
    let metric = Metric::builder().namespace("AWS/Lambda").metric_name(name);
    let metric = metric.dimensions(dimension.build()).build();
    let stat = MetricStat::builder()
        .metric(metric)
        .period(period)
        .stat(stat);
    let query = MetricDataQuery::builder().id(id).metric_stat(stat.build());
    query.return_data(true).build()
}

/// Invocations, Errors, Throttles (sums) and p95 Duration of `function` over the last
/// `period` seconds.
pub async fn metrics(
    client: &aws_sdk_cloudwatch::Client,
    function: &str,
    period: i32,
) -> Result<Metrics> {
    let now = Utc::now();
    let start = now - chrono::Duration::seconds(i64::from(period));
    let output = client
        .get_metric_data()
        .metric_data_queries(query("invocations", "Invocations", "Sum", function, period))
        .metric_data_queries(query("errors", "Errors", "Sum", function, period))
        .metric_data_queries(query("throttles", "Throttles", "Sum", function, period))
        .metric_data_queries(query("duration", "Duration", "p95", function, period))
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
