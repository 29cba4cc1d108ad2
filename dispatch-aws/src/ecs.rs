//! What ECS says of dispatches' tasks: `DescribeTasks`, up to 100 tasks a call, per
//! cluster, and its tasks read in the shape of the task state change event.

use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::types::{DesiredStatus, Task, TaskField};

use crate::error::{AwsError, Call};

mod detail;

pub use detail::{detail, stopped_task};

/// `DescribeTasks` takes at most this many tasks.
pub const BATCH: usize = 100;

/// One cluster's batch, as ECS answered it.
#[derive(Debug, Default)]
pub struct Described {
    pub tasks: Vec<Task>,
    /// Answered `MISSING`: ECS does not know the task (it forgets a stopped task about an
    /// hour after it stopped), or the cluster no longer exists.
    pub missing: Vec<String>,
    /// Answered with another failure reason, or not answered at all: nothing is known of
    /// these, so nothing may be decided. Each with why.
    pub unanswered: Vec<(String, String)>,
}

/// ECS's failure reason for a task it does not know.
pub const MISSING: &str = "MISSING";

/// Describes one batch of one cluster's tasks, with their tags (the dispatcher may tag).
/// Only a `MISSING` failure makes a task missing; a cluster that no longer exists has no
/// tasks, so all of its batch is missing.
pub async fn describe(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
    task_arns: &[String],
) -> Result<Described, AwsError> {
    let call = Call::new("DescribeTasks", cluster);
    let sent = client
        .describe_tasks()
        .cluster(cluster)
        .set_tasks(Some(task_arns.to_vec()))
        .include(TaskField::Tags)
        .customize()
        .interceptor(call.counter())
        .send()
        .await;
    let output = match sent {
        Err(err) if cluster_is_gone(&err) => {
            return Ok(Described {
                missing: task_arns.to_vec(),
                ..Described::default()
            })
        }
        sent => sent.map_err(|err| call.failed(err))?,
    };
    let mut described = Described {
        tasks: output.tasks().to_vec(),
        ..Described::default()
    };
    for arn in task_arns {
        let failure = output.failures().iter().find(|f| f.arn() == Some(arn));
        match failure.map(|f| (f.reason().unwrap_or_default(), f.detail())) {
            Some((MISSING, _)) => described.missing.push(arn.clone()),
            Some((reason, detail)) => described.unanswered.push((
                arn.clone(),
                format!(
                    "ECS answered {reason}{}",
                    detail.map(|d| format!(": {d}")).unwrap_or_default()
                ),
            )),
            None if described.tasks.iter().any(|t| t.task_arn() == Some(arn)) => {}
            None => described.unanswered.push((
                arn.clone(),
                "ECS neither returned the task nor said why".to_owned(),
            )),
        }
    }
    Ok(described)
}

/// The tasks ECS still knows as stopped or stopping in `cluster`, every page of them
/// (`ListTasks` with `desiredStatus=STOPPED`: the last hour's stops). A cluster that no
/// longer exists has none.
pub async fn list_stopped(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
) -> Result<Vec<String>, AwsError> {
    let mut task_arns = Vec::new();
    let mut next_token = None;
    loop {
        let call = Call::new("ListTasks", cluster);
        let sent = client
            .list_tasks()
            .cluster(cluster)
            .desired_status(DesiredStatus::Stopped)
            .max_results(BATCH as i32)
            .set_next_token(next_token)
            .customize()
            .interceptor(call.counter())
            .send()
            .await;
        let page = match sent {
            Err(err) if cluster_is_gone(&err) => return Ok(task_arns),
            sent => sent.map_err(|err| call.failed(err))?,
        };
        task_arns.extend(page.task_arns().iter().cloned());
        next_token = page.next_token().map(str::to_owned);
        if next_token.is_none() {
            return Ok(task_arns);
        }
    }
}

/// The names of every cluster of the account in this region (`ListClusters`, every page),
/// for a stack that watches them all.
pub async fn list_clusters(client: &aws_sdk_ecs::Client) -> Result<Vec<String>, AwsError> {
    let mut names = Vec::new();
    let mut next_token = None;
    loop {
        let call = Call::new("ListClusters", "the account");
        let page = client
            .list_clusters()
            .max_results(BATCH as i32)
            .set_next_token(next_token)
            .customize()
            .interceptor(call.counter())
            .send()
            .await
            .map_err(|err| call.failed(err))?;
        let arns = page.cluster_arns().iter();
        names.extend(arns.filter_map(|arn| Some(arn.rsplit_once("cluster/")?.1.to_owned())));
        next_token = page.next_token().map(str::to_owned);
        if next_token.is_none() {
            return Ok(names);
        }
    }
}

/// Whether ECS said the cluster asked about does not exist.
fn cluster_is_gone<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error()
        .is_some_and(|err| err.code() == Some("ClusterNotFoundException"))
}
