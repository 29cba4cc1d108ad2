//! The runbook's custom metrics (`contract::metrics`), one record per invocation.
//!
//! By default they are written as CloudWatch Embedded Metric Format: one JSON line on
//! stdout that CloudWatch Logs turns into metrics, with no network call on the event's
//! path. `METRICS_SINK=cloudwatch` sends the same figures with one `PutMetricData` call.

use aws_sdk_cloudwatch::error::DisplayErrorContext;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use chrono::{DateTime, Utc};
use contract::metrics::{
    SkipReason, CALLBACK_LATENCY_MS, FUNCTION_NAME_DIMENSION as DIMENSION, GUESSES_CORRECTED,
    NAMESPACE, SKIP_REASON_DIMENSION, UPDATES_FAILED, UPDATES_SKIPPED, UPDATES_SUCCESSFUL,
};
use dispatch_aws::emf::{self, Document, Unit};
use serde_json::Value;

/// How long `PutMetricData` may take. The dispatch is already settled by then, so the
/// figures are not worth risking the invocation's time budget for.
pub const PUBLISH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// How one invocation ended, as the metrics count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tally {
    Successful,
    /// A successful update that replaced the reconciler's guess: also counted as
    /// `DispatchGuessesCorrected`.
    Corrected,
    Skipped(SkipReason),
    Failed,
}

/// The figures of one invocation.
#[derive(Clone, Debug, PartialEq)]
pub struct InvocationMetrics {
    pub tally: Tally,
    /// From the task's stop to the moment its dispatch was settled; only on updates.
    pub callback_latency_ms: Option<f64>,
    /// Carried along as properties (not dimensions) so log searches by ID find the line.
    pub dispatch_id: Option<String>,
    pub task_arn: Option<String>,
}

impl InvocationMetrics {
    fn counts(&self) -> [(&'static str, f64); 3] {
        let one_if = |counted: bool| if counted { 1.0 } else { 0.0 };
        [
            (
                UPDATES_SUCCESSFUL,
                one_if(matches!(self.tally, Tally::Successful | Tally::Corrected)),
            ),
            (UPDATES_SKIPPED, one_if(self.skip_reason().is_some())),
            (UPDATES_FAILED, one_if(self.tally == Tally::Failed)),
        ]
    }

    fn skip_reason(&self) -> Option<SkipReason> {
        match self.tally {
            Tally::Skipped(reason) => Some(reason),
            _ => None,
        }
    }
}

/// The invocation's EMF document.
///
/// Every figure is published with no dimension (the runbook's metrics, as its commands
/// ask for them) and by `FunctionName` (what the dashboard and alarms select by). A skip
/// is also published by `FunctionName` and `SkipReason`, through a second directive, so
/// the other figures never carry a reason.
pub fn emf_document(
    metrics: &InvocationMetrics,
    function_name: &str,
    at: DateTime<Utc>,
) -> Document {
    let counts = metrics.counts();
    let mut definitions: Vec<(&str, Unit)> = counts
        .iter()
        .map(|(name, _)| (*name, Unit::Count))
        .collect();
    if metrics.callback_latency_ms.is_some() {
        definitions.push((CALLBACK_LATENCY_MS, Unit::Milliseconds));
    }
    let mut document = Document::new(NAMESPACE, at)
        .directive(&[&[], &[DIMENSION]], &definitions)
        .set(DIMENSION, function_name);
    for (name, value) in counts {
        document = document.set(name, value as u64);
    }
    if let Some(latency) = metrics.callback_latency_ms {
        document = document.set(CALLBACK_LATENCY_MS, latency);
    }
    if metrics.tally == Tally::Corrected {
        document = document
            .directive(&[&[], &[DIMENSION]], &[(GUESSES_CORRECTED, Unit::Count)])
            .set(GUESSES_CORRECTED, 1);
    }
    if let Some(reason) = metrics.skip_reason() {
        document = document
            .directive(
                &[&[DIMENSION, SKIP_REASON_DIMENSION]],
                &[(UPDATES_SKIPPED, Unit::Count)],
            )
            .set(SKIP_REASON_DIMENSION, reason.as_str());
    }
    if let Some(id) = &metrics.dispatch_id {
        document = document.set("dispatchId", id.as_str());
    }
    if let Some(arn) = &metrics.task_arn {
        document = document.set("taskArn", arn.as_str());
    }
    document
}

/// Where the figures go.
#[derive(Clone, Debug)]
pub enum MetricsSink {
    Emf,
    CloudWatch(aws_sdk_cloudwatch::Client),
}

impl MetricsSink {
    /// Publishes one invocation's figures. A failure is logged and never fails the
    /// invocation: the dispatch is already settled, and a retry would only skip it.
    pub async fn publish(&self, metrics: &InvocationMetrics, function_name: &str) {
        let now = Utc::now();
        match self {
            MetricsSink::Emf => emf::print(&[emf_document(metrics, function_name, now)]),
            MetricsSink::CloudWatch(client) => {
                let call = client
                    .put_metric_data()
                    .namespace(NAMESPACE)
                    .set_metric_data(Some(metric_data(metrics, function_name, now)))
                    .send();
                match tokio::time::timeout(PUBLISH_TIMEOUT, call).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(err)) => {
                        tracing::warn!(error = %DisplayErrorContext(&err), "could not publish metrics")
                    }
                    Err(_) => tracing::warn!(
                        timeout_ms = PUBLISH_TIMEOUT.as_millis() as u64,
                        "could not publish metrics: timed out"
                    ),
                }
            }
        }
    }
}

/// The same figures as `PutMetricData` datums, read off the EMF document, so both sinks
/// publish the same metrics under the same dimension sets: none, `FunctionName`, and for a
/// skip `FunctionName` with `SkipReason`.
pub fn metric_data(
    metrics: &InvocationMetrics,
    function_name: &str,
    at: DateTime<Utc>,
) -> Vec<MetricDatum> {
    let document = emf_document(metrics, function_name, at).to_json();
    let timestamp = aws_sdk_cloudwatch::primitives::DateTime::from_millis(at.timestamp_millis());
    let each = |value: &Value| value.as_array().cloned().unwrap_or_default();
    let mut data = Vec::new();
    for directive in each(&document["_aws"]["CloudWatchMetrics"]) {
        for metric in each(&directive["Metrics"]) {
            let name = metric["Name"].as_str().unwrap_or_default();
            for set in each(&directive["Dimensions"]) {
                let names = each(&set);
                let dimensions = names.iter().filter_map(Value::as_str).map(|dimension| {
                    let value = document[dimension].as_str().unwrap_or_default();
                    Dimension::builder().name(dimension).value(value).build()
                });
                let datum = MetricDatum::builder()
                    .metric_name(name)
                    .set_dimensions(Some(dimensions.collect()))
                    .timestamp(timestamp)
                    .value(document[name].as_f64().unwrap_or_default())
                    .unit(StandardUnit::from(
                        metric["Unit"].as_str().unwrap_or_default(),
                    ));
                data.push(datum.build());
            }
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn emf_line(metrics: &InvocationMetrics, function_name: &str, at: DateTime<Utc>) -> String {
        emf_document(metrics, function_name, at).render()
    }

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_588_880_371_932).unwrap()
    }

    #[test]
    fn emf_for_an_update() {
        let metrics = InvocationMetrics {
            tally: Tally::Successful,
            callback_latency_ms: Some(1234.5),
            dispatch_id: Some("d-1".into()),
            task_arn: Some("arn:t".into()),
        };
        let line: serde_json::Value =
            serde_json::from_str(&emf_line(&metrics, "callback", at())).unwrap();
        assert_eq!(
            line,
            json!({
                "_aws": {"Timestamp": 1_588_880_371_932_i64, "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [[], [DIMENSION]],
                    "Metrics": [
                        {"Name": UPDATES_SUCCESSFUL, "Unit": "Count"},
                        {"Name": UPDATES_SKIPPED, "Unit": "Count"},
                        {"Name": UPDATES_FAILED, "Unit": "Count"},
                        {"Name": CALLBACK_LATENCY_MS, "Unit": "Milliseconds"}
                    ]
                }]},
                DIMENSION: "callback",
                UPDATES_SUCCESSFUL: 1,
                UPDATES_SKIPPED: 0,
                UPDATES_FAILED: 0,
                CALLBACK_LATENCY_MS: 1234.5,
                "dispatchId": "d-1",
                "taskArn": "arn:t"
            })
        );
    }

    #[test]
    fn a_skip_says_why_beside_the_runbooks_undimensioned_count() {
        let metrics = InvocationMetrics {
            tally: Tally::Skipped(SkipReason::NoDispatchId),
            callback_latency_ms: None,
            dispatch_id: None,
            task_arn: Some("arn:t".into()),
        };
        let line: serde_json::Value = serde_json::from_str(&emf_line(&metrics, "f", at())).unwrap();
        assert!(line.get(CALLBACK_LATENCY_MS).is_none(), "{line}");
        assert_eq!(line[UPDATES_SKIPPED], 1, "{line}");
        assert_eq!(line[SKIP_REASON_DIMENSION], "NoDispatchId", "{line}");
        let directives = line["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 2, "{line}");
        assert_eq!(directives[0]["Dimensions"], json!([[], [DIMENSION]]));
        assert_eq!(
            directives[1],
            json!({"Namespace": NAMESPACE,
                   "Dimensions": [[DIMENSION, SKIP_REASON_DIMENSION]],
                   "Metrics": [{"Name": UPDATES_SKIPPED, "Unit": "Count"}]})
        );

        // PutMetricData: each count with no dimension and by function, and the reason.
        let data = metric_data(&metrics, "f", at());
        let shown: Vec<(String, Vec<String>, f64)> = data
            .iter()
            .map(|datum| {
                let dimensions = datum
                    .dimensions()
                    .iter()
                    .map(|d| format!("{}={}", d.name().unwrap(), d.value().unwrap()))
                    .collect();
                (
                    datum.metric_name().unwrap().to_owned(),
                    dimensions,
                    datum.value().unwrap(),
                )
            })
            .collect();
        let by_function = || vec![format!("{DIMENSION}=f")];
        let expected = vec![
            (UPDATES_SUCCESSFUL.to_owned(), vec![], 0.0),
            (UPDATES_SUCCESSFUL.to_owned(), by_function(), 0.0),
            (UPDATES_SKIPPED.to_owned(), vec![], 1.0),
            (UPDATES_SKIPPED.to_owned(), by_function(), 1.0),
            (UPDATES_FAILED.to_owned(), vec![], 0.0),
            (UPDATES_FAILED.to_owned(), by_function(), 0.0),
            (
                UPDATES_SKIPPED.to_owned(),
                vec![
                    format!("{DIMENSION}=f"),
                    format!("{SKIP_REASON_DIMENSION}=NoDispatchId"),
                ],
                1.0,
            ),
        ];
        assert_eq!(shown, expected);
    }

    #[test]
    fn an_update_carries_no_skip_reason() {
        let metrics = InvocationMetrics {
            tally: Tally::Successful,
            callback_latency_ms: Some(5.0),
            dispatch_id: None,
            task_arn: None,
        };
        let line = emf_line(&metrics, "f", at());
        assert!(!line.contains(SKIP_REASON_DIMENSION), "{line}");
        assert_eq!(metric_data(&metrics, "f", at()).len(), 8);
    }
}
