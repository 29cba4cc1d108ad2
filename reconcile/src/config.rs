//! The reconciler's settings, from its environment (names and defaults: `contract::env`).

use chrono::Duration;
use contract::env::{self, reconciler as vars};
pub use dispatch_aws::settings::SettingError as SettingsError;
use dispatch_aws::settings::Settings as Reader;

/// What one run examines and when it closes a dispatch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The dispatch table, and its task index (the callback's own settle path uses it).
    pub table_name: String,
    pub task_arn_index: String,
    /// The container whose exit code decides, as for the callback.
    pub worker_container: String,
    /// The index that lists dispatches by status and creation time.
    pub status_index: String,
    /// The non-terminal statuses examined, in order.
    pub statuses: Vec<String>,
    /// Dispatches younger than this are not examined: their event may still come.
    pub grace: Duration,
    /// A dispatch whose task ECS no longer knows is closed once it is older than this.
    pub max_age: Duration,
    /// The most dispatches one run examines.
    pub max_records: usize,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`; an unset or empty variable takes its default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let read = Reader::new(lookup);
        let minutes = |var| -> Result<Duration, SettingsError> {
            let number = read.positive(var, "a whole number of minutes above 0")?;
            Ok(Duration::minutes(number.into()))
        };
        let statuses: Vec<String> = read
            .get(vars::STATUSES)
            .split(',')
            .map(|status| status.trim().to_owned())
            .filter(|status| !status.is_empty())
            .collect();
        if let Some(terminal) = statuses
            .iter()
            .find(|s| contract::DispatchStatus::is_terminal(s))
        {
            return Err(SettingsError {
                name: vars::STATUSES.name,
                value: terminal.clone(),
                expected: "non-terminal statuses only (a settled dispatch is never touched)",
            });
        }
        Ok(Settings {
            table_name: read.get(env::TABLE_NAME),
            task_arn_index: read.get(env::TASK_ARN_INDEX),
            worker_container: read.get(env::WORKER_CONTAINER),
            status_index: read.get(vars::STATUS_INDEX),
            statuses,
            grace: minutes(vars::GRACE_MINUTES)?,
            max_age: minutes(vars::MAX_AGE_MINUTES)?,
            max_records: read.positive(vars::MAX_RECORDS, "a whole number above 0")? as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| {
            let found = vars.iter().find(|(key, _)| *key == name);
            found.map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn defaults_are_the_issues() {
        let defaults = settings(&[]).unwrap();
        assert_eq!(defaults.status_index, contract::table::STATUS_INDEX.name);
        assert_eq!(defaults.statuses, [contract::status::RUNNING]);
        assert_eq!(defaults.grace, Duration::minutes(10));
        assert_eq!(defaults.max_age, Duration::hours(2));
        assert_eq!(defaults.max_records, 1000);
        assert_eq!(defaults.table_name, contract::table::NAME);
        assert_eq!(
            defaults.task_arn_index,
            contract::table::TASK_ARN_INDEX.name
        );
        assert_eq!(
            defaults.worker_container,
            contract::env::WORKER_CONTAINER.default
        );
    }

    /// The stack and the reconciler agree: every variable the template gives it is one it
    /// reads, and reading them gives the template's defaults.
    #[test]
    fn the_templates_environment_is_what_the_reconciler_reads() {
        let environment = testkit::template::environment_of(contract::resources::RECONCILER);
        let known: Vec<&str> = vars::ALL
            .iter()
            .chain([&contract::env::TABLE_NAME, &contract::env::WORKER_CONTAINER])
            .map(|var| var.name)
            .collect();
        for name in environment.keys() {
            assert!(
                known.contains(&name.as_str()),
                "the template sets {name}, which the reconciler never reads"
            );
        }
        for name in &known {
            assert!(
                environment.contains_key(*name),
                "the template does not set {name}"
            );
        }
        let read = Settings::from_lookup(|name| environment.get(name).cloned()).unwrap();
        assert_eq!(read, settings(&[]).unwrap());
        assert_eq!(read.table_name, contract::table::NAME);
    }

    #[test]
    fn reads_a_list_of_statuses_and_refuses_bad_values() {
        let read = settings(&[
            ("RECONCILE_STATUSES", " RUNNING, PENDING ,"),
            ("MAX_RECORDS", "50"),
        ])
        .unwrap();
        assert_eq!(read.statuses, ["RUNNING", "PENDING"]);
        assert_eq!(read.max_records, 50);
        assert_eq!(
            settings(&[("GRACE_MINUTES", "0")]).unwrap_err().name,
            "GRACE_MINUTES"
        );
        assert_eq!(
            settings(&[("MAX_AGE_MINUTES", "2h")]).unwrap_err().name,
            "MAX_AGE_MINUTES"
        );
        let terminal = settings(&[("RECONCILE_STATUSES", "RUNNING,COMPLETED")]).unwrap_err();
        assert_eq!(terminal.value, "COMPLETED");
    }
}
