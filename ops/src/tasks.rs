//! What ECS says of dispatches' tasks.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;

/// A task as ECS reports it, or its absence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskState {
    pub task_arn: String,
    /// ECS does not know the task: it forgets stopped tasks after about an hour.
    pub missing: bool,
    pub last_status: Option<String>,
    pub desired_status: Option<String>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub stopped_at: Option<String>,
}

impl TaskState {
    pub fn stopped(&self) -> bool {
        self.last_status.as_deref() == Some(contract::ecs::STOPPED)
    }

    /// One cell: `RUNNING`, `STOPPED (EssentialContainerExited)`, `MISSING`.
    pub fn summary(&self) -> String {
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

/// Describes `task_arns` (any clusters, a hundred per call). An ARN that names no
/// cluster is not an ECS task's and is left out.
pub async fn describe(
    client: &aws_sdk_ecs::Client,
    task_arns: &[String],
) -> Result<BTreeMap<String, TaskState>> {
    let mut states = BTreeMap::new();
    for (cluster, arns) in dispatch_aws::ecs::batches(task_arns) {
        let described = dispatch_aws::ecs::describe(client, &cluster, &arns).await?;
        let known = described.tasks.iter().filter_map(|task| {
            Some(TaskState {
                task_arn: task.task_arn()?.to_owned(),
                missing: false,
                last_status: task.last_status().map(str::to_owned),
                desired_status: task.desired_status().map(str::to_owned),
                stop_code: task.stop_code().map(|code| code.as_str().to_owned()),
                stopped_reason: task.stopped_reason().map(str::to_owned),
                stopped_at: task.stopped_at().map(|at| at.to_string()),
            })
        });
        let missing = described.missing.into_iter().map(|task_arn| TaskState {
            task_arn,
            missing: true,
            ..TaskState::default()
        });
        states.extend(known.chain(missing).map(|t| (t.task_arn.clone(), t)));
    }
    Ok(states)
}

/// The last part of a task ARN (its ID), for narrow tables.
pub fn short(task_arn: &str) -> &str {
    task_arn.rsplit('/').next().unwrap_or(task_arn)
}
