//! The CloudWatch dashboard: typed widgets, serialized to the JSON document that
//! `AWS::CloudWatch::Dashboard` takes as a string.
//!
//! See the CloudWatch "Dashboard Body Structure and Syntax" reference. Every widget
//! names its metrics in full (no `"."` shorthand) so each line reads on its own.

use contract::metrics::{reconciler, SkipReason};
use contract::{metrics, resources, table};
use serde::Serialize;

use crate::cfn::resources::cloudwatch::{Dashboard, Percentile};
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
    title: &'static str,
    region: &'static str,
    view: &'static str,
    stacked: bool,
    period: u32,
    metrics: Vec<MetricLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<Annotations>,
}

/// One graphed metric: `[namespace, name, dimension, value, ..., {options}]`.
type MetricLine = Vec<LineItem>;

#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
enum LineItem {
    /// The namespace, the metric's name, or a dimension's name or value.
    Name(&'static str),
    /// The line's options, last.
    Options { stat: String, label: String },
}

#[derive(Debug, Serialize)]
struct Annotations {
    horizontal: Vec<HorizontalAnnotation>,
}

#[derive(Debug, Serialize)]
struct HorizontalAnnotation {
    label: String,
    value: u32,
}

/// A metric line with a statistic given by name (`Sum`, `p95`, ...).
fn line(
    namespace: &'static str,
    metric: &'static str,
    dimensions: &[(&'static str, &'static str)],
    stat: String,
    label: impl Into<String>,
) -> MetricLine {
    let dimensions = dimensions.iter().flat_map(|&(name, value)| [name, value]);
    let names = [namespace, metric].into_iter().chain(dimensions);
    let options = LineItem::Options {
        stat,
        label: label.into(),
    };
    names.map(LineItem::Name).chain([options]).collect()
}

/// One line for each of `metrics`, labelled with its name.
fn lines(
    namespace: &'static str,
    metrics: &[&'static str],
    dimensions: &[(&'static str, &'static str)],
    stat: &str,
) -> Vec<MetricLine> {
    let line = |metric| line(namespace, metric, dimensions, stat.to_owned(), metric);
    metrics.iter().copied().map(line).collect()
}

/// The median, p95 and p99 of a metric, as three lines.
fn percentiles(
    namespace: &'static str,
    metric: &'static str,
    dimensions: &[(&'static str, &'static str)],
) -> Vec<MetricLine> {
    let percentile = |p| {
        let stat = Percentile(p).label();
        let label = format!("{metric} {stat}");
        line(namespace, metric, dimensions, stat, label)
    };
    [50, 95, 99].map(percentile).into()
}

/// A graph of `lines`, with no threshold drawn.
fn graph(title: &'static str, lines: impl Into<Vec<MetricLine>>) -> MetricWidget {
    MetricWidget {
        title,
        region: REGION,
        view: "timeSeries",
        stacked: false,
        period: PERIOD_SECONDS,
        metrics: lines.into(),
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
const INVOCATIONS_AND_ERRORS: [&str; 2] = ["Invocations", "Errors"];

/// The dashboard: the function, its custom metrics, the reconciler, the table and the
/// queues, laid out two graphs to a row in this order.
fn body(config: &Config) -> Body {
    let graphs = [
        graph(
            "Invocations and errors",
            lines(LAMBDA, &INVOCATIONS_AND_ERRORS, &FUNCTION, "Sum"),
        ),
        duration(config),
        graph(
            "Concurrency and throttles",
            [
                lines(LAMBDA, &["ConcurrentExecutions"], &FUNCTION, "Maximum"),
                lines(LAMBDA, &["Throttles"], &FUNCTION, "Sum"),
            ]
            .concat(),
        ),
        graph(
            "Dispatch updates",
            lines(metrics::NAMESPACE, &metrics::UPDATE_COUNTS, &CUSTOM, "Sum"),
        ),
        skipped_updates(),
        graph(
            "Reconciler runs",
            lines(metrics::NAMESPACE, &reconciler::COUNTS, &RECONCILER, "Sum"),
        ),
        graph(
            "Reconciler invocations and errors",
            lines(LAMBDA, &INVOCATIONS_AND_ERRORS, &RECONCILER_FUNCTION, "Sum"),
        ),
        graph(
            "Callback latency, task stop to update (ms)",
            percentiles(metrics::NAMESPACE, metrics::CALLBACK_LATENCY_MS, &CUSTOM),
        ),
        graph(
            "DynamoDB write throttles",
            lines(DYNAMODB, &["WriteThrottledRequests"], &TABLE, "Sum"),
        ),
        update_item_latency(),
        events_waiting(config),
    ];
    // The `index`th graph in its place on the grid.
    let widget = |(properties, index): (MetricWidget, u32)| Widget {
        kind: "metric",
        x: (index % 2) * WIDGET_WIDTH,
        y: (index / 2) * WIDGET_HEIGHT,
        width: WIDGET_WIDTH,
        height: WIDGET_HEIGHT,
        properties,
    };
    let widgets = graphs.into_iter().zip(0u32..).map(widget).collect();
    Body { widgets }
}

/// The function's duration, with the duration alarm's threshold drawn across it.
fn duration(config: &Config) -> MetricWidget {
    let mut alarms = config.function_alarms.iter();
    let duration_alarm = alarms.find(|alarm| alarm.metric == "Duration");
    MetricWidget {
        annotations: duration_alarm.map(|alarm| Annotations {
            horizontal: vec![HorizontalAnnotation {
                label: format!("{} alarm", alarm.name),
                value: alarm.threshold,
            }],
        }),
        ..graph("Duration (ms)", percentiles(LAMBDA, "Duration", &FUNCTION))
    }
}

/// "No dispatch ID" apart from duplicates: a task that stopped before its record named it
/// (the launch race) shows here, and nowhere else.
fn skipped_updates() -> MetricWidget {
    let skipped = |reason: SkipReason| {
        let dimensions = [CUSTOM[0], (metrics::SKIP_REASON_DIMENSION, reason.as_str())];
        let metric = metrics::UPDATES_SKIPPED;
        line(
            metrics::NAMESPACE,
            metric,
            &dimensions,
            "Sum".to_owned(),
            reason.as_str(),
        )
    };
    graph("Skipped updates, by reason", SkipReason::ALL.map(skipped))
}

fn update_item_latency() -> MetricWidget {
    let latency = |stat: &str| {
        let dimensions = [TABLE[0], ("Operation", "UpdateItem")];
        let label = format!("UpdateItem {stat}");
        line(
            DYNAMODB,
            "SuccessfulRequestLatency",
            &dimensions,
            stat.to_owned(),
            label,
        )
    };
    graph(
        "DynamoDB UpdateItem latency (ms)",
        ["Average", "Maximum"].map(latency),
    )
}

/// The failure and dead-letter queues: every message there waits for an operator.
fn events_waiting(config: &Config) -> MetricWidget {
    let waiting = |queue| {
        let metric = "ApproximateNumberOfMessagesVisible";
        line(
            "AWS/SQS",
            metric,
            &[("QueueName", queue)],
            "Maximum".to_owned(),
            queue,
        )
    };
    let queues = [config.failure_queue.name, config.dead_letter_queue.name];
    graph("Events waiting for an operator", queues.map(waiting))
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
