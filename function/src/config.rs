//! Configuration from the environment, read once during init.
//!
//! The names and defaults are the contract's (`contract::env`): the stack sets exactly
//! these variables, and a test feeds the synthesized template's environment through
//! [`Config::from_lookup`], so the two cannot drift apart.

use std::fmt;

use contract::env::{self, metrics_sink};
use dispatch_aws::settings::{SettingError, Settings};

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
    /// The dispatch table.
    pub table_name: String,
    /// The GSI that maps a task ARN to its dispatch.
    pub task_arn_index: String,
    /// The container whose exit code decides the status.
    pub worker_container: String,
    pub metrics_sink: MetricsSinkKind,
    /// Set by Lambda: the metrics' `FunctionName` dimension.
    pub function_name: String,
}

/// A setting that cannot be used. Init fails on it, so a bad deploy shows at once.
pub type ConfigError = SettingError;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    /// An unset or empty variable takes its default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let read = Settings::new(lookup);
        let get = |var| read.get(var);
        let metrics_sink = match get(env::METRICS_SINK).to_ascii_lowercase().as_str() {
            metrics_sink::EMF => MetricsSinkKind::Emf,
            metrics_sink::CLOUDWATCH => MetricsSinkKind::CloudWatch,
            _ => {
                return Err(ConfigError {
                    name: env::METRICS_SINK.name,
                    value: read.raw(env::METRICS_SINK),
                    expected: "one of emf, cloudwatch",
                })
            }
        };
        Ok(Config {
            table_name: get(env::TABLE_NAME),
            task_arn_index: get(env::TASK_ARN_INDEX),
            worker_container: get(env::WORKER_CONTAINER),
            metrics_sink,
            function_name: get(env::LAMBDA_FUNCTION_NAME),
        })
    }

    /// The configuration with every variable unset.
    pub fn defaults() -> Self {
        Self::from_lookup(|_| None).expect("the defaults are valid")
    }
}

impl fmt::Display for MetricsSinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MetricsSinkKind::Emf => metrics_sink::EMF,
            MetricsSinkKind::CloudWatch => metrics_sink::CLOUDWATCH,
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
    fn defaults_are_the_contracts_names() {
        let config = Config::defaults();
        assert_eq!(config.table_name, contract::table::NAME);
        assert_eq!(config.task_arn_index, contract::table::TASK_ARN_INDEX.name);
        assert_eq!(config.worker_container, env::WORKER_CONTAINER.default);
        assert_eq!(config.metrics_sink, MetricsSinkKind::Emf);
        assert_eq!(config.function_name, contract::resources::FUNCTION);
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
        assert_eq!(config.task_arn_index, contract::table::TASK_ARN_INDEX.name);
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

    /// The stack and the function agree: every variable the synthesized template gives
    /// the function is one the function reads, and reading them gives the deployed names.
    #[test]
    fn the_templates_environment_is_what_the_function_reads() {
        let environment = testkit::template::function_environment();
        let known: Vec<&str> = env::ALL.iter().map(|var| var.name).collect();
        for name in environment.keys() {
            assert!(
                known.contains(&name.as_str()),
                "the template sets {name}, which the function never reads"
            );
        }
        for var in env::ALL {
            assert!(
                environment.contains_key(var.name),
                "the template does not set {}",
                var.name
            );
        }
        let config = Config::from_lookup(|name| environment.get(name).cloned()).unwrap();
        assert_eq!(config, Config::defaults());
    }
}
