//! A run's figures as Embedded Metric Format lines in `Outpost/Callbacks`: the counts
//! with no dimension and by `FunctionName`, and each settled status by `Status` too.

use chrono::{DateTime, Utc};
use contract::metrics::{reconciler as names, FUNCTION_NAME_DIMENSION, NAMESPACE};
use serde_json::{json, Value};

use crate::run::Report;

/// The EMF documents of one run, one JSON line each.
pub fn emf_lines(report: &Report, function_name: &str, at: DateTime<Utc>) -> Vec<String> {
    let counts = [
        (names::EXAMINED, report.examined),
        (names::SETTLED, report.settled_total()),
        (names::STILL_RUNNING, report.still_running),
        (names::TASK_MISSING, report.task_missing),
        (names::NO_TASK, report.no_task),
        (names::UNCHECKED, report.unchecked),
    ];
    let mut run = document(
        at,
        json!([[], [FUNCTION_NAME_DIMENSION]]),
        &counts.map(|(name, _)| name),
    );
    run[FUNCTION_NAME_DIMENSION] = json!(function_name);
    for (name, value) in counts {
        run[name] = json!(value);
    }
    let mut lines = vec![run.to_string()];
    for (status, count) in &report.settled {
        let dimensions = json!([[FUNCTION_NAME_DIMENSION, names::STATUS_DIMENSION]]);
        let mut by_status = document(at, dimensions, &[names::SETTLED]);
        by_status[FUNCTION_NAME_DIMENSION] = json!(function_name);
        by_status[names::STATUS_DIMENSION] = json!(status);
        by_status[names::SETTLED] = json!(count);
        lines.push(by_status.to_string());
    }
    lines
}

fn document(at: DateTime<Utc>, dimensions: Value, metrics: &[&str]) -> Value {
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|name| json!({"Name": name, "Unit": "Count"}))
        .collect();
    json!({"_aws": {
        "Timestamp": at.timestamp_millis(),
        "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": dimensions, "Metrics": definitions}],
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_one_line_plus_one_per_settled_status() {
        let report = Report {
            examined: 7,
            settled: [("COMPLETED".to_owned(), 2), ("FAILED".to_owned(), 1)].into(),
            still_running: 3,
            ..Report::default()
        };
        let lines: Vec<Value> = emf_lines(&report, "r", DateTime::UNIX_EPOCH)
            .iter()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0][names::EXAMINED], 7);
        assert_eq!(lines[0][names::SETTLED], 3);
        assert_eq!(lines[0][names::STILL_RUNNING], 3);
        assert_eq!(
            lines[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[], ["FunctionName"]])
        );
        assert_eq!(lines[1][names::STATUS_DIMENSION], "COMPLETED");
        assert_eq!(lines[1][names::SETTLED], 2);
        assert_eq!(lines[2][names::STATUS_DIMENSION], "FAILED");
        assert_eq!(
            lines[2]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["FunctionName", "Status"]])
        );
    }
}
