//! What ECS says of dispatches' tasks: `DescribeTasks`, up to 100 tasks a call, per
//! cluster, and its tasks read in the shape of the task state change event.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{Task, TaskField};

use crate::error::{AwsError, Call};

mod detail;

pub use detail::{cluster_of, detail, stopped_task};

/// `DescribeTasks` takes at most this many tasks.
pub const BATCH: usize = 100;

/// One cluster's batch: the tasks ECS returned, and those it did not (it reports them as
/// `MISSING`; moto leaves them out).
#[derive(Debug, Default)]
pub struct Described {
    pub tasks: Vec<Task>,
    pub missing: Vec<String>,
}

/// The task ARNs by cluster, in batches `DescribeTasks` accepts. ARNs that name no
/// cluster are not ECS task ARNs and are left out.
pub fn batches(task_arns: &[String]) -> Vec<(String, Vec<String>)> {
    let mut by_cluster: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for arn in task_arns {
        if let Some(cluster) = cluster_of(arn) {
            let arns = by_cluster.entry(cluster).or_default();
            if !arns.contains(arn) {
                arns.push(arn.clone());
            }
        }
    }
    by_cluster
        .into_iter()
        .flat_map(|(cluster, arns)| {
            arns.chunks(BATCH)
                .map(|chunk| (cluster.to_owned(), chunk.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Describes one batch of one cluster's tasks, with their tags (the dispatcher may tag).
pub async fn describe(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
    task_arns: &[String],
) -> Result<Described, AwsError> {
    let call = Call::new("DescribeTasks", cluster);
    let output = client
        .describe_tasks()
        .cluster(cluster)
        .set_tasks(Some(task_arns.to_vec()))
        .include(TaskField::Tags)
        .customize()
        .interceptor(call.counter())
        .send()
        .await
        .map_err(|err| call.failed(err))?;
    let tasks = output.tasks().to_vec();
    let missing = task_arns
        .iter()
        .filter(|arn| {
            !tasks
                .iter()
                .any(|task| task.task_arn() == Some(arn.as_str()))
        })
        .cloned()
        .collect();
    Ok(Described { tasks, missing })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_are_batched_by_cluster_a_hundred_at_most() {
        let arns: Vec<String> = (0..250)
            .map(|i| {
                format!(
                    "arn:aws:ecs:us-east-1:1:task/{}/t{i}",
                    if i % 5 == 0 { "b" } else { "a" }
                )
            })
            .chain([
                "not-an-arn".to_owned(),
                "arn:aws:ecs:us-east-1:1:task/a/t1".to_owned(),
            ])
            .collect();
        let batches = batches(&arns);
        let shape: Vec<(&str, usize)> = batches
            .iter()
            .map(|(cluster, arns)| (cluster.as_str(), arns.len()))
            .collect();
        assert_eq!(shape, [("a", 100), ("a", 100), ("b", 50)]);
    }
}
