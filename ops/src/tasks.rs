//! What ECS says of dispatches' tasks, and what it could not be asked or did not answer.

mod placement;

use std::collections::{BTreeMap, BTreeSet};

use dispatch::task_arn::Watched;
use dispatch_aws::ecs::{Described, BATCH};
use serde::Serialize;

use placement::{place, Place};

/// A task as ECS reports it, its absence, or why its state is not known.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskState {
    pub task_arn: String,
    /// ECS does not know the task: it forgets stopped tasks after about an hour, and a
    /// deleted cluster has none.
    pub missing: bool,
    /// ECS was not asked, or gave no answer for this task: why. Neither running, nor
    /// stopped, nor missing.
    pub unknown: Option<String>,
    /// The task is of a cluster the stack does not watch (why): no event of it reaches
    /// the callback, and the reconciler leaves it alone.
    pub outside_stack: Option<String>,
    pub last_status: Option<String>,
    pub desired_status: Option<String>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub stopped_at: Option<String>,
}

impl TaskState {
    /// A task whose state cannot be told, and why.
    pub fn unknown(task_arn: &str, why: impl Into<String>) -> TaskState {
        TaskState {
            task_arn: task_arn.to_owned(),
            unknown: Some(why.into()),
            ..TaskState::default()
        }
    }

    pub fn stopped(&self) -> bool {
        self.last_status.as_deref() == Some(contract::ecs::STOPPED)
    }

    /// ECS says the task still runs (or is on its way to run, or to stop).
    pub fn running(&self) -> bool {
        self.unknown.is_none() && !self.missing && !self.stopped()
    }

    /// One cell: `RUNNING`, `STOPPED (EssentialContainerExited)`, `MISSING`, `UNKNOWN
    /// (why)`.
    pub fn summary(&self) -> String {
        if let Some(why) = &self.unknown {
            return format!("UNKNOWN ({why})");
        }
        if self.missing {
            return "MISSING (ECS no longer knows it)".to_owned();
        }
        let status = self.last_status.as_deref().unwrap_or("?");
        match &self.stop_code {
            Some(code) if self.stopped() => format!("{status} ({code})"),
            _ => status.to_owned(),
        }
    }
}

/// Describes `task_arns`, each in its cluster, a hundred per call, and never fails: a
/// task that cannot be asked from here ([`place`]), or that its batch's call or ECS left
/// unanswered, is unknown with why, and the other batches still answer. A cluster that no
/// longer exists has no tasks: its tasks are missing.
pub async fn describe(
    client: &aws_sdk_ecs::Client,
    watched: Option<&Watched>,
    task_arns: &[String],
) -> BTreeMap<String, TaskState> {
    let mut states = BTreeMap::new();
    let mut by_cluster: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut outside = BTreeMap::new();
    for arn in task_arns {
        match place(watched, arn) {
            Place::Ask {
                cluster,
                outside: why,
            } => {
                by_cluster.entry(cluster).or_default().insert(arn.clone());
                outside.extend(why.map(|why| (arn.clone(), why)));
            }
            Place::Unknown(why) => {
                states.insert(arn.clone(), TaskState::unknown(arn, why));
            }
        }
    }
    for (cluster, arns) in by_cluster {
        let arns: Vec<String> = arns.into_iter().collect();
        for batch in arns.chunks(BATCH) {
            let answered = match dispatch_aws::ecs::describe(client, cluster, batch).await {
                Ok(described) => read(described),
                Err(err) => batch
                    .iter()
                    .map(|arn| TaskState::unknown(arn, err.to_string()))
                    .collect(),
            };
            states.extend(answered.into_iter().map(|mut task| {
                task.outside_stack = outside.get(&task.task_arn).cloned();
                (task.task_arn.clone(), task)
            }));
        }
    }
    states
}

/// One batch's answer as task states: found, missing, or unanswered with ECS's reason.
fn read(described: Described) -> Vec<TaskState> {
    let found = described.tasks.iter().filter_map(|task| {
        Some(TaskState {
            task_arn: task.task_arn()?.to_owned(),
            last_status: task.last_status().map(str::to_owned),
            desired_status: task.desired_status().map(str::to_owned),
            stop_code: task.stop_code().map(|code| code.as_str().to_owned()),
            stopped_reason: task.stopped_reason().map(str::to_owned),
            stopped_at: task.stopped_at().map(|at| at.to_string()),
            ..TaskState::default()
        })
    });
    let missing = described.missing.into_iter().map(|task_arn| TaskState {
        task_arn,
        missing: true,
        ..TaskState::default()
    });
    let unanswered =
        (described.unanswered.into_iter()).map(|(arn, why)| TaskState::unknown(&arn, why));
    found.chain(missing).chain(unanswered).collect()
}

/// The last part of a task ARN (its ID), for narrow tables.
pub fn short(task_arn: &str) -> &str {
    task_arn.rsplit('/').next().unwrap_or(task_arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_task_is_neither_running_nor_stopped_nor_missing_and_says_why() {
        let task = TaskState::unknown("t", "ECS answered ACCESS_DENIED");
        assert!(!task.running() && !task.stopped() && !task.missing);
        assert_eq!(task.summary(), "UNKNOWN (ECS answered ACCESS_DENIED)");
        let running = TaskState {
            last_status: Some("RUNNING".into()),
            ..TaskState::default()
        };
        assert!(running.running());
    }

    #[test]
    fn an_answer_is_read_as_found_missing_and_unanswered() {
        let task = aws_sdk_ecs::types::Task::builder()
            .task_arn("a")
            .last_status("STOPPED")
            .build();
        let states = read(Described {
            tasks: vec![task],
            missing: vec!["b".into()],
            unanswered: vec![("c".into(), "ECS answered ACCESS_DENIED".into())],
        });
        let summaries: Vec<String> = states.iter().map(TaskState::summary).collect();
        assert_eq!(
            summaries,
            [
                "STOPPED",
                "MISSING (ECS no longer knows it)",
                "UNKNOWN (ECS answered ACCESS_DENIED)"
            ]
        );
    }
}
