//! CloudWatch Embedded Metric Format: metrics as one JSON line on stdout, which CloudWatch
//! Logs turns into metrics with no network call on the function's path. Both functions
//! write their figures through this one writer.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

/// A metric's CloudWatch unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One EMF document: its directives (which metrics, by which dimension sets, in which
/// namespace) and its members (the dimensions' values, the metrics' values, and any other
/// property, which CloudWatch keeps in the log line for searches).
#[derive(Clone, Debug)]
pub struct Document {
    at: DateTime<Utc>,
    namespace: &'static str,
    directives: Vec<Value>,
    members: Map<String, Value>,
}

impl Document {
    pub fn new(namespace: &'static str, at: DateTime<Utc>) -> Document {
        Document {
            at,
            namespace,
            directives: Vec::new(),
            members: Map::new(),
        }
    }

    /// Publishes `metrics` by each of `dimension_sets` (an empty set: no dimension).
    pub fn directive(mut self, dimension_sets: &[&[&str]], metrics: &[(&str, Unit)]) -> Self {
        let definitions: Vec<Value> = metrics
            .iter()
            .map(|(name, unit)| json!({"Name": name, "Unit": unit.as_str()}))
            .collect();
        self.directives.push(json!({
            "Namespace": self.namespace,
            "Dimensions": dimension_sets,
            "Metrics": definitions,
        }));
        self
    }

    /// Sets a member: a dimension's value, a metric's value, or a property.
    pub fn set(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.members.insert(name.to_owned(), value.into());
        self
    }

    /// The document as JSON: its members, and the directives under `_aws`.
    pub fn to_json(&self) -> Value {
        let mut document = Value::Object(self.members.clone());
        document["_aws"] = json!({
            "Timestamp": self.at.timestamp_millis(),
            "CloudWatchMetrics": self.directives,
        });
        document
    }

    /// The document as one JSON line, without a trailing newline.
    pub fn render(&self) -> String {
        self.to_json().to_string()
    }
}

/// Writes each document as its own line on stdout, one write per line, so a metrics line
/// never interleaves with a log line. A failed write is logged: the figures are never
/// worth failing the invocation for.
pub fn print(documents: &[Document]) {
    let mut stdout = std::io::stdout().lock();
    for document in documents {
        let line = document.render() + "\n";
        if let Err(err) = stdout.write_all(line.as_bytes()) {
            tracing::warn!(error = %err, "could not write metrics");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_its_members_and_the_aws_directives() {
        let at = DateTime::from_timestamp_millis(1_588_880_371_932).unwrap();
        let line = Document::new("Ns", at)
            .directive(&[&[], &["FunctionName"]], &[("Done", Unit::Count)])
            .directive(&[&["FunctionName", "Why"]], &[("Late", Unit::Milliseconds)])
            .set("FunctionName", "f")
            .set("Done", 1)
            .set("Late", 2.5)
            .set("dispatchId", "d-1")
            .render();
        let parsed: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            parsed,
            json!({
                "_aws": {"Timestamp": 1_588_880_371_932_i64, "CloudWatchMetrics": [
                    {"Namespace": "Ns", "Dimensions": [[], ["FunctionName"]],
                     "Metrics": [{"Name": "Done", "Unit": "Count"}]},
                    {"Namespace": "Ns", "Dimensions": [["FunctionName", "Why"]],
                     "Metrics": [{"Name": "Late", "Unit": "Milliseconds"}]}
                ]},
                "FunctionName": "f", "Done": 1, "Late": 2.5, "dispatchId": "d-1"
            })
        );
        assert!(!line.contains('\n'));
    }
}
