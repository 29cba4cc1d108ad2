//! The reconciler's settings, from its environment (names and defaults: `contract::env`).

use chrono::Duration;
use contract::env::{self, reconciler as vars};
use dispatch::task_arn::Watched;
pub use dispatch_aws::settings::SettingError as SettingsError;
use dispatch_aws::settings::Settings as Reader;

/// What one run examines and when it closes a dispatch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The clusters whose tasks it reads and asks about (the stack's `ClusterArn`).
    pub watched: Watched,
    /// The dispatch table, and its task index (the callback's own settle path uses it).
    pub table_name: String,
    pub task_arn_index: String,
    /// The container whose exit code decides, as for the callback.
    pub worker_container: String,
    /// The index that lists dispatches by status and creation time.
    pub status_index: String,
    /// The non-terminal statuses examined, in order.
    pub statuses: Vec<String>,
    /// The schedule's period.
    pub every: Duration,
    /// Dispatches younger than this are not examined: their event may still come.
    pub grace: Duration,
    /// A dispatch whose task ECS no longer knows is closed once it is older than this.
    pub max_age: Duration,
    /// Every non-terminal dispatch past the grace period is examined once within this.
    pub sweep: Duration,
    /// Where the sweep keeps its place between runs.
    pub sweep_table: String,
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
        let watched = read.get(vars::WATCHED_CLUSTER);
        let watched = Watched::parse(&watched).ok_or(SettingsError {
            name: vars::WATCHED_CLUSTER.name,
            value: watched,
            expected: "a cluster ARN of the stack's region and account, ending in cluster/NAME \
                       or cluster/* (the stack sets it from ClusterArn)",
        })?;
        let every = minutes(vars::EVERY_MINUTES)?;
        let grace = minutes(vars::GRACE_MINUTES)?;
        let max_age = minutes(vars::MAX_AGE_MINUTES)?;
        let sweep = minutes(vars::SWEEP_MINUTES)?;
        check_together(every, grace, sweep, max_age)?;
        Ok(Settings {
            watched,
            table_name: read.get(env::TABLE_NAME),
            task_arn_index: read.get(env::TASK_ARN_INDEX),
            worker_container: read.get(env::WORKER_CONTAINER),
            status_index: read.get(vars::STATUS_INDEX),
            statuses,
            every,
            grace,
            max_age,
            sweep,
            sweep_table: read.get(vars::SWEEP_TABLE),
        })
    }
}

/// Refuses settings that could hide a loss (`Timing::contradiction` says which and why).
fn check_together(
    every: Duration,
    grace: Duration,
    sweep: Duration,
    max_age: Duration,
) -> Result<(), SettingsError> {
    let timing = vars::Timing {
        every: every.num_minutes(),
        grace: grace.num_minutes(),
        sweep: sweep.num_minutes(),
        max_age: max_age.num_minutes(),
    };
    match timing.contradiction() {
        None => Ok(()),
        Some(contradiction) => {
            let with: Vec<String> = contradiction
                .with
                .iter()
                .map(|(var, value)| format!("{}={value}", var.name))
                .collect();
            Err(SettingsError {
                name: contradiction.var.name,
                value: format!("{} (with {})", contradiction.value, with.join(" and ")),
                expected: contradiction.expected,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stack's default cluster, as a deploy into moto's account renders it.
    const WATCHED: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/outpost-dev";

    /// Settings from `vars`, the watched cluster (which has no default) given unless
    /// `vars` names it.
    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| {
            let found = vars.iter().find(|(key, _)| *key == name);
            let watched = (name == vars::WATCHED_CLUSTER.name).then_some(WATCHED);
            found
                .map(|(_, value)| *value)
                .or(watched)
                .map(str::to_owned)
        })
    }

    #[test]
    fn defaults_are_the_issues() {
        let defaults = settings(&[]).unwrap();
        assert_eq!(defaults.watched.to_string(), WATCHED);
        assert_eq!(defaults.status_index, contract::table::STATUS_INDEX.name);
        assert_eq!(defaults.statuses, [contract::status::RUNNING]);
        assert_eq!(defaults.grace, Duration::minutes(10));
        assert_eq!(defaults.max_age, Duration::hours(2));
        assert_eq!(defaults.sweep, Duration::hours(1));
        assert_eq!(defaults.sweep_table, contract::table::sweep::NAME);
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
            ("SWEEP_MINUTES", "30"),
        ])
        .unwrap();
        assert_eq!(read.statuses, ["RUNNING", "PENDING"]);
        assert_eq!(read.sweep, Duration::minutes(30));
        assert_eq!(
            settings(&[("GRACE_MINUTES", "0")]).unwrap_err().name,
            "GRACE_MINUTES"
        );
        assert_eq!(
            settings(&[("MAX_AGE_MINUTES", "2h")]).unwrap_err().name,
            "MAX_AGE_MINUTES"
        );
        let late = settings(&[("GRACE_MINUTES", "50"), ("RECONCILE_EVERY_MINUTES", "10")]);
        let late = late.unwrap_err();
        assert_eq!(late.name, "GRACE_MINUTES");
        assert!(late.value.contains("RECONCILE_EVERY_MINUTES=10"), "{late}");
        let young = settings(&[("MAX_AGE_MINUTES", "70"), ("GRACE_MINUTES", "10")]);
        let young = young.unwrap_err();
        assert_eq!(young.name, "MAX_AGE_MINUTES");
        assert!(young.value.contains("SWEEP_MINUTES=60"), "{young}");
        let fast = settings(&[("SWEEP_MINUTES", "4")]).unwrap_err();
        assert_eq!(fast.name, "SWEEP_MINUTES");
        assert!(fast.value.contains("RECONCILE_EVERY_MINUTES=5"), "{fast}");
        let terminal = settings(&[("RECONCILE_STATUSES", "RUNNING,COMPLETED")]).unwrap_err();
        assert_eq!(terminal.value, "COMPLETED");
        for watched in [
            "",
            "*",
            "arn:aws:ecs:us-east-1:311493921645:task/outpost-dev/abc",
        ] {
            let refused = settings(&[("WATCHED_CLUSTER", watched)]).unwrap_err();
            assert_eq!(refused.name, "WATCHED_CLUSTER", "{watched:?}");
        }
    }
}
