//! Configuration from the environment, read once during init.

use std::fmt;

/// Where the per-invocation metrics go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsSinkKind {
    /// CloudWatch Embedded Metric Format: one JSON line on stdout, no network call.
    Emf,
    /// One `PutMetricData` call per invocation.
    CloudWatch,
}

/// Everything the function reads from its environment (besides the AWS SDK's own
/// variables such as `AWS_REGION` and `AWS_ENDPOINT_URL`, which the SDK reads itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: the dispatch table.
    pub table_name: String,
    /// `TASK_ARN_INDEX`: the GSI that maps a task ARN to its dispatch.
    pub task_arn_index: String,
    /// `WORKER_CONTAINER`: the container whose exit code decides the status.
    pub worker_container: String,
    /// `METRICS_SINK`: `emf` (default) or `cloudwatch`.
    pub metrics_sink: MetricsSinkKind,
    /// `AWS_LAMBDA_FUNCTION_NAME`, set by Lambda: the metrics' `FunctionName` dimension.
    pub function_name: String,
}

/// A setting that cannot be used. Init fails on it, so a bad deploy shows at once.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}={value:?} is not valid: {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl Config {
    pub const DEFAULT_TABLE_NAME: &'static str = "outpost-dispatches";
    pub const DEFAULT_TASK_ARN_INDEX: &'static str = "task_arn-index";
    pub const DEFAULT_WORKER_CONTAINER: &'static str = "worker";
    pub const DEFAULT_FUNCTION_NAME: &'static str = "outpost-dispatch-callback";

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    /// An unset or empty variable takes its default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // Stray whitespace in a console-edited variable would only fail later, at runtime.
        let get = |name: &str, default: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        let metrics_sink = match get("METRICS_SINK", "emf").to_ascii_lowercase().as_str() {
            "emf" => MetricsSinkKind::Emf,
            "cloudwatch" => MetricsSinkKind::CloudWatch,
            _ => {
                return Err(ConfigError::Invalid {
                    name: "METRICS_SINK",
                    value: lookup("METRICS_SINK").unwrap_or_default(),
                    expected: "one of emf, cloudwatch",
                })
            }
        };
        Ok(Config {
            table_name: get("TABLE_NAME", Self::DEFAULT_TABLE_NAME),
            task_arn_index: get("TASK_ARN_INDEX", Self::DEFAULT_TASK_ARN_INDEX),
            worker_container: get("WORKER_CONTAINER", Self::DEFAULT_WORKER_CONTAINER),
            metrics_sink,
            function_name: get("AWS_LAMBDA_FUNCTION_NAME", Self::DEFAULT_FUNCTION_NAME),
        })
    }
}

impl fmt::Display for MetricsSinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MetricsSinkKind::Emf => "emf",
            MetricsSinkKind::CloudWatch => "cloudwatch",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn defaults_are_the_runbook_names() {
        let config = config(&[]).unwrap();
        assert_eq!(config.table_name, "outpost-dispatches");
        assert_eq!(config.task_arn_index, "task_arn-index");
        assert_eq!(config.worker_container, "worker");
        assert_eq!(config.metrics_sink, MetricsSinkKind::Emf);
        assert_eq!(config.function_name, "outpost-dispatch-callback");
    }

    #[test]
    fn reads_overrides_and_treats_empty_as_unset() {
        let config = config(&[
            ("TABLE_NAME", " t "),
            ("TASK_ARN_INDEX", ""),
            ("WORKER_CONTAINER", "app"),
            ("METRICS_SINK", "CloudWatch"),
        ])
        .unwrap();
        assert_eq!(config.table_name, "t");
        assert_eq!(config.task_arn_index, "task_arn-index");
        assert_eq!(config.worker_container, "app");
        assert_eq!(config.metrics_sink, MetricsSinkKind::CloudWatch);
    }

    #[test]
    fn rejects_an_unknown_metrics_sink() {
        let err = config(&[("METRICS_SINK", "statsd")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "METRICS_SINK=\"statsd\" is not valid: one of emf, cloudwatch"
        );
    }
}
