//! The CloudWatch dashboard: typed widgets, serialized to the JSON document that
//! `AWS::CloudWatch::Dashboard` takes as a string.
//!
//! See the CloudWatch "Dashboard Body Structure and Syntax" reference. Every widget
//! names its metrics in full (no `"."` shorthand) so each line reads on its own.

use contract::metrics::SkipReason;
use contract::{metrics, resources, table};
use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

use crate::cfn::resources::cloudwatch::{
    whole_numbers_as_integers, Dashboard, Percentile, Statistic,
};
use crate::cfn::{Expr, Id, Template};
use crate::config::Config;

pub(super) fn add(template: &mut Template, config: &Config) -> Id<Dashboard> {
    template.add(
        "CallbackDashboard",
        Dashboard {
            dashboard_name: resources::DASHBOARD.to_owned(),
            dashboard_body: body_expr(config),
        },
    )
}

/// Placeholder that `Fn::Sub` replaces with the stack's region.
const REGION: &str = "${AWS::Region}";
/// Widgets are laid out two to a row on CloudWatch's 24-unit wide grid.
const WIDGET_WIDTH: u32 = 12;
const WIDGET_HEIGHT: u32 = 6;
/// The period of every graph: the alarms' most common period.
const PERIOD_SECONDS: u32 = 300;

#[derive(Debug, Serialize)]
struct Body {
    widgets: Vec<Widget>,
}

#[derive(Debug, Serialize)]
struct Widget {
    #[serde(rename = "type")]
    kind: &'static str,
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    properties: MetricWidget,
}

#[derive(Debug, Serialize)]
struct MetricWidget {
    title: String,
    region: &'static str,
    view: &'static str,
    stacked: bool,
    period: u32,
    metrics: Vec<MetricLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<Annotations>,
}

/// One graphed metric: `[namespace, name, dimension, value, ..., {options}]`.
#[derive(Debug)]
struct MetricLine {
    namespace: &'static str,
    metric: &'static str,
    dimensions: Vec<(&'static str, &'static str)>,
    options: LineOptions,
}

#[derive(Debug, Serialize)]
struct LineOptions {
    stat: String,
    label: String,
}

impl Serialize for MetricLine {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        seq.serialize_element(self.namespace)?;
        seq.serialize_element(self.metric)?;
        for (name, value) in &self.dimensions {
            seq.serialize_element(name)?;
            seq.serialize_element(value)?;
        }
        seq.serialize_element(&self.options)?;
        seq.end()
    }
}

#[derive(Debug, Serialize)]
struct Annotations {
    horizontal: Vec<HorizontalAnnotation>,
}

#[derive(Debug, Serialize)]
struct HorizontalAnnotation {
    label: String,
    #[serde(serialize_with = "whole_numbers_as_integers")]
    value: f64,
}

/// A widget's title, lines and optional threshold line, before layout.
struct Graph {
    title: &'static str,
    lines: Vec<MetricLine>,
    annotations: Option<Annotations>,
}

/// A metric line with a statistic given by name (`Sum`, `p95`, ...).
fn line(
    namespace: &'static str,
    metric: &'static str,
    dimensions: &[(&'static str, &'static str)],
    stat: String,
    label: impl Into<String>,
) -> MetricLine {
    MetricLine {
        namespace,
        metric,
        dimensions: dimensions.to_vec(),
        options: LineOptions {
            stat,
            label: label.into(),
        },
    }
}

fn graph(title: &'static str, lines: Vec<MetricLine>) -> Graph {
    Graph {
        title,
        lines,
        annotations: None,
    }
}

/// The callback function's dimension in Lambda's own metrics.
const FUNCTION: [(&str, &str); 1] = [("FunctionName", resources::FUNCTION)];
/// The callback function's dimension in the system's custom metrics.
const CUSTOM: [(&str, &str); 1] = [(metrics::FUNCTION_NAME_DIMENSION, resources::FUNCTION)];
/// The reconciler's dimension in the system's custom metrics.
const RECONCILER: [(&str, &str); 1] = [(metrics::FUNCTION_NAME_DIMENSION, resources::RECONCILER)];
/// The reconciler's dimension in Lambda's own metrics.
const RECONCILER_FUNCTION: [(&str, &str); 1] = [("FunctionName", resources::RECONCILER)];
/// The dispatch table's dimension in DynamoDB's metrics.
const TABLE: [(&str, &str); 1] = [("TableName", table::NAME)];
const LAMBDA: &str = "AWS/Lambda";
const DYNAMODB: &str = "AWS/DynamoDB";

fn sum() -> String {
    Statistic::Sum.as_str().to_owned()
}

fn maximum() -> String {
    Statistic::Maximum.as_str().to_owned()
}

/// The median, p95 and p99 of a metric, as three lines.
fn percentiles(
    namespace: &'static str,
    metric: &'static str,
    dimensions: &[(&'static str, &'static str)],
) -> Vec<MetricLine> {
    [50, 95, 99]
        .map(|p| {
            let stat = Percentile(p).label();
            let label = format!("{metric} {stat}");
            line(namespace, metric, dimensions, stat, label)
        })
        .into_iter()
        .collect()
}

/// The dashboard: the function, its custom metrics, the table and the queues, laid out
/// two graphs to a row in this order.
fn body(config: &Config) -> Body {
    let graphs = [
        invocations_and_errors(),
        duration(config),
        concurrency_and_throttles(),
        dispatch_updates(),
        skipped_updates(),
        reconciler_runs(),
        reconciler_invocations_and_errors(),
        callback_latency(),
        write_throttles(),
        update_item_latency(),
        events_waiting(config),
    ];
    let widgets = graphs.into_iter().zip(0u32..).map(widget).collect();
    Body { widgets }
}

/// The `index`th graph in its place on the grid.
fn widget((graph, index): (Graph, u32)) -> Widget {
    Widget {
        kind: "metric",
        x: (index % 2) * WIDGET_WIDTH,
        y: (index / 2) * WIDGET_HEIGHT,
        width: WIDGET_WIDTH,
        height: WIDGET_HEIGHT,
        properties: MetricWidget {
            title: graph.title.to_owned(),
            region: REGION,
            view: "timeSeries",
            stacked: false,
            period: PERIOD_SECONDS,
            metrics: graph.lines,
            annotations: graph.annotations,
        },
    }
}

fn invocations_and_errors() -> Graph {
    graph(
        "Invocations and errors",
        vec![
            line(LAMBDA, "Invocations", &FUNCTION, sum(), "Invocations"),
            line(LAMBDA, "Errors", &FUNCTION, sum(), "Errors"),
        ],
    )
}

/// The function's duration, with the duration alarm's threshold drawn across it.
fn duration(config: &Config) -> Graph {
    let duration_alarm = config
        .function_alarms
        .iter()
        .find(|alarm| alarm.metric == "Duration");
    Graph {
        annotations: duration_alarm.map(|alarm| Annotations {
            horizontal: vec![HorizontalAnnotation {
                label: format!("{} alarm", alarm.name),
                value: alarm.threshold,
            }],
        }),
        ..graph("Duration (ms)", percentiles(LAMBDA, "Duration", &FUNCTION))
    }
}

fn concurrency_and_throttles() -> Graph {
    graph(
        "Concurrency and throttles",
        vec![
            line(
                LAMBDA,
                "ConcurrentExecutions",
                &FUNCTION,
                maximum(),
                "ConcurrentExecutions",
            ),
            line(LAMBDA, "Throttles", &FUNCTION, sum(), "Throttles"),
        ],
    )
}

fn dispatch_updates() -> Graph {
    graph(
        "Dispatch updates",
        metrics::UPDATE_COUNTS
            .map(|metric| line(metrics::NAMESPACE, metric, &CUSTOM, sum(), metric))
            .into_iter()
            .collect(),
    )
}

/// "No dispatch ID" apart from duplicates: a task that stopped before its record named it
/// (the launch race) shows here, and nowhere else.
fn skipped_updates() -> Graph {
    graph(
        "Skipped updates, by reason",
        SkipReason::ALL
            .map(|reason| {
                let dimensions = [CUSTOM[0], (metrics::SKIP_REASON_DIMENSION, reason.as_str())];
                let skipped = metrics::UPDATES_SKIPPED;
                line(
                    metrics::NAMESPACE,
                    skipped,
                    &dimensions,
                    sum(),
                    reason.as_str(),
                )
            })
            .into_iter()
            .collect(),
    )
}

fn reconciler_runs() -> Graph {
    graph(
        "Reconciler runs",
        metrics::reconciler::COUNTS
            .map(|metric| line(metrics::NAMESPACE, metric, &RECONCILER, sum(), metric))
            .into_iter()
            .collect(),
    )
}

fn reconciler_invocations_and_errors() -> Graph {
    graph(
        "Reconciler invocations and errors",
        vec![
            line(
                LAMBDA,
                "Invocations",
                &RECONCILER_FUNCTION,
                sum(),
                "Invocations",
            ),
            line(LAMBDA, "Errors", &RECONCILER_FUNCTION, sum(), "Errors"),
        ],
    )
}

fn callback_latency() -> Graph {
    graph(
        "Callback latency, task stop to update (ms)",
        percentiles(metrics::NAMESPACE, metrics::CALLBACK_LATENCY_MS, &CUSTOM),
    )
}

fn write_throttles() -> Graph {
    graph(
        "DynamoDB write throttles",
        vec![line(
            DYNAMODB,
            "WriteThrottledRequests",
            &TABLE,
            sum(),
            "WriteThrottledRequests",
        )],
    )
}

fn update_item_latency() -> Graph {
    graph(
        "DynamoDB UpdateItem latency (ms)",
        [Statistic::Average, Statistic::Maximum]
            .map(|stat| {
                line(
                    DYNAMODB,
                    "SuccessfulRequestLatency",
                    &[TABLE[0], ("Operation", "UpdateItem")],
                    stat.as_str().to_owned(),
                    format!("UpdateItem {}", stat.as_str()),
                )
            })
            .into_iter()
            .collect(),
    )
}

/// The failure and dead-letter queues: every message there waits for an operator.
fn events_waiting(config: &Config) -> Graph {
    graph(
        "Events waiting for an operator",
        [config.failure_queue.name, config.dead_letter_queue.name]
            .map(|queue| {
                line(
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    &[("QueueName", queue)],
                    maximum(),
                    queue,
                )
            })
            .into_iter()
            .collect(),
    )
}

/// The `DashboardBody` property: the body as compact JSON inside `Fn::Sub`, which fills
/// in the region.
fn body_expr(config: &Config) -> Expr {
    let json = serde_json::to_string(&body(config))
        .expect("a dashboard body has only string keys, so it always serializes");
    debug_assert_eq!(json.matches("${").count(), json.matches(REGION).count());
    Expr::sub(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widgets_do_not_overlap() {
        let body = body(&Config::runbook());
        let cells: std::collections::BTreeSet<_> = body
            .widgets
            .iter()
            .map(|widget| (widget.x, widget.y))
            .collect();
        assert_eq!(cells.len(), body.widgets.len());
    }

    #[test]
    fn metric_lines_serialize_in_cloudwatch_array_form() {
        let line = line(
            "AWS/Lambda",
            "Errors",
            &[("FunctionName", "f")],
            "Sum".into(),
            "Errors",
        );
        assert_eq!(
            serde_json::to_value(&line).unwrap(),
            serde_json::json!(["AWS/Lambda", "Errors", "FunctionName", "f", {"stat": "Sum", "label": "Errors"}])
        );
    }
}
