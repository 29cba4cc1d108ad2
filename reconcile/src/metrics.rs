//! A run's figures as Embedded Metric Format lines in `Outpost/Callbacks`: the counts
//! with no dimension and by `FunctionName`, and each settled status by `Status` too.

use chrono::{DateTime, Utc};
use contract::metrics::{reconciler as names, FUNCTION_NAME_DIMENSION, NAMESPACE};
use dispatch_aws::emf::{Document, Unit};

use crate::run::Report;

/// The EMF documents of one run: the run's counts, then one per settled status.
pub fn documents(report: &Report, function_name: &str, at: DateTime<Utc>) -> Vec<Document> {
    let counts = [
        (names::STOPPED_TASKS, report.stopped_tasks),
        (names::EXAMINED, report.examined),
        (names::SETTLED, report.settled_total()),
        (names::STILL_RUNNING, report.still_running),
        (names::TASK_MISSING, report.task_missing),
        (names::NO_TASK, report.no_task),
        (names::NO_TASK_PAST_MAX_AGE, report.no_task_past_max_age),
        (names::UNCHECKED, report.unchecked),
        (names::OUTSIDE_STACK, report.outside),
    ];
    let mut run = Document::new(NAMESPACE, at)
        .directive(
            &[&[], &[FUNCTION_NAME_DIMENSION]],
            &counts.map(|(name, _)| (name, Unit::Count)),
        )
        .set(FUNCTION_NAME_DIMENSION, function_name);
    for (name, value) in counts {
        run = run.set(name, value);
    }
    let mut documents = vec![run];
    for (status, count) in &report.settled {
        let dimensions: &[&[&str]] = &[&[FUNCTION_NAME_DIMENSION, names::STATUS_DIMENSION]];
        let by_status = Document::new(NAMESPACE, at)
            .directive(dimensions, &[(names::SETTLED, Unit::Count)])
            .set(FUNCTION_NAME_DIMENSION, function_name)
            .set(names::STATUS_DIMENSION, status.as_str())
            .set(names::SETTLED, *count);
        documents.push(by_status);
    }
    documents
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    #[test]
    fn a_run_is_one_line_plus_one_per_settled_status() {
        let report = Report {
            examined: 7,
            settled: [("COMPLETED".to_owned(), 2), ("FAILED".to_owned(), 1)].into(),
            still_running: 3,
            ..Report::default()
        };
        let lines: Vec<Value> = documents(&report, "r", DateTime::UNIX_EPOCH)
            .iter()
            .map(|document| serde_json::from_str(&document.render()).unwrap())
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
