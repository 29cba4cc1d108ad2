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

/// The dashboard: the function, its custom metrics, the table and the queues.
fn body(config: &Config) -> Body {
    let lambda = "AWS/Lambda";
    let function = [("FunctionName", resources::FUNCTION)];
    let custom = [(metrics::FUNCTION_NAME_DIMENSION, resources::FUNCTION)];
    let reconciler = [(metrics::FUNCTION_NAME_DIMENSION, resources::RECONCILER)];
    let reconciler_function = [("FunctionName", resources::RECONCILER)];
    let dynamodb = "AWS/DynamoDB";
    let table = [("TableName", table::NAME)];
    let sum = || Statistic::Sum.as_str().to_owned();
    let percentiles = |namespace, metric, dimensions: &[(&'static str, &'static str)]| {
        [50, 95, 99]
            .map(|p| {
                let stat = Percentile(p).label();
                line(
                    namespace,
                    metric,
                    dimensions,
                    stat.clone(),
                    format!("{metric} {stat}"),
                )
            })
            .into_iter()
            .collect::<Vec<_>>()
    };
    let duration_alarm = config
        .function_alarms
        .iter()
        .find(|alarm| alarm.metric == "Duration");

    let graphs = vec![
        graph(
            "Invocations and errors",
            vec![
                line(lambda, "Invocations", &function, sum(), "Invocations"),
                line(lambda, "Errors", &function, sum(), "Errors"),
            ],
        ),
        Graph {
            annotations: duration_alarm.map(|alarm| Annotations {
                horizontal: vec![HorizontalAnnotation {
                    label: format!("{} alarm", alarm.name),
                    value: alarm.threshold,
                }],
            }),
            ..graph("Duration (ms)", percentiles(lambda, "Duration", &function))
        },
        graph(
            "Concurrency and throttles",
            vec![
                line(
                    lambda,
                    "ConcurrentExecutions",
                    &function,
                    Statistic::Maximum.as_str().to_owned(),
                    "ConcurrentExecutions",
                ),
                line(lambda, "Throttles", &function, sum(), "Throttles"),
            ],
        ),
        graph(
            "Dispatch updates",
            metrics::UPDATE_COUNTS
                .map(|metric| line(metrics::NAMESPACE, metric, &custom, sum(), metric))
                .into_iter()
                .collect(),
        ),
        // "No dispatch ID" apart from duplicates: a task that stopped before its record
        // named it (the launch race) shows here, and nowhere else.
        graph(
            "Skipped updates, by reason",
            SkipReason::ALL
                .map(|reason| {
                    let dimensions = [custom[0], (metrics::SKIP_REASON_DIMENSION, reason.as_str())];
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
        ),
        graph(
            "Reconciler runs",
            metrics::reconciler::COUNTS
                .map(|metric| line(metrics::NAMESPACE, metric, &reconciler, sum(), metric))
                .into_iter()
                .collect(),
        ),
        graph(
            "Reconciler invocations and errors",
            vec![
                line(
                    lambda,
                    "Invocations",
                    &reconciler_function,
                    sum(),
                    "Invocations",
                ),
                line(lambda, "Errors", &reconciler_function, sum(), "Errors"),
            ],
        ),
        graph(
            "Callback latency, task stop to update (ms)",
            percentiles(metrics::NAMESPACE, metrics::CALLBACK_LATENCY_MS, &custom),
        ),
        graph(
            "DynamoDB write throttles",
            vec![line(
                dynamodb,
                "WriteThrottledRequests",
                &table,
                sum(),
                "WriteThrottledRequests",
            )],
        ),
        graph(
            "DynamoDB UpdateItem latency (ms)",
            [Statistic::Average, Statistic::Maximum]
                .map(|stat| {
                    line(
                        dynamodb,
                        "SuccessfulRequestLatency",
                        &[("TableName", table::NAME), ("Operation", "UpdateItem")],
                        stat.as_str().to_owned(),
                        format!("UpdateItem {}", stat.as_str()),
                    )
                })
                .into_iter()
                .collect(),
        ),
        graph(
            "Events waiting for an operator",
            [config.failure_queue.name, config.dead_letter_queue.name]
                .map(|queue| {
                    line(
                        "AWS/SQS",
                        "ApproximateNumberOfMessagesVisible",
                        &[("QueueName", queue)],
                        Statistic::Maximum.as_str().to_owned(),
                        queue,
                    )
                })
                .into_iter()
                .collect(),
        ),
    ];

    let widgets = graphs
        .into_iter()
        .zip(0u32..)
        .map(|(graph, index)| Widget {
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
        })
        .collect();
    Body { widgets }
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
