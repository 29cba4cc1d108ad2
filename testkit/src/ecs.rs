//! ECS in moto: a cluster with one container instance and the worker's task definition,
//! where tests run and stop tasks as the dispatcher and ECS would.
//!
//! moto's ECS keeps little of a stopped task (no stop code; every container exits 0), so
//! the status rows it cannot express are tested on AWS-shaped `DescribeTasks` answers.

use aws_config::ConfigLoader;
use aws_sdk_ecs::types::{ContainerDefinition, ContainerOverride, KeyValuePair, TaskOverride};
use contract::{dispatch_id, env, resources};
use serde_json::json;

use crate::server::{plain_request, point_at, REGION};

/// A cluster in moto, named like the one the rule listens to by default.
pub struct Cluster {
    pub client: aws_sdk_ecs::Client,
    pub name: String,
    task_definition: String,
}

impl Cluster {
    /// Creates the cluster, an EC2 instance registered as its container instance (moto
    /// places tasks only on one), and the worker's task definition.
    pub async fn new(endpoint: &str, loader: ConfigLoader) -> Cluster {
        let client = aws_sdk_ecs::Client::new(&point_at(loader, endpoint).load().await);
        let name = resources::DEFAULT_CLUSTER.to_owned();
        client
            .create_cluster()
            .cluster_name(&name)
            .send()
            .await
            .expect("create cluster");
        let document = json!({"instanceId": ec2_instance(endpoint), "region": REGION});
        client
            .register_container_instance()
            .cluster(&name)
            .instance_identity_document(document.to_string())
            .send()
            .await
            .expect("register a container instance");
        let worker = ContainerDefinition::builder()
            .name(env::WORKER_CONTAINER.default)
            .image("busybox")
            .essential(true)
            // A reservation, not `memory` or `cpu`: moto echoes those into the task's
            // containers as numbers, where ECS (and so the SDK) has strings.
            .memory_reservation(512)
            .build();
        let definition = client
            .register_task_definition()
            .family("outpost-worker")
            .container_definitions(worker)
            .send()
            .await
            .expect("register the task definition");
        let arn = definition
            .task_definition()
            .and_then(|d| d.task_definition_arn());
        let task_definition = arn.expect("a task definition ARN").to_owned();
        Cluster {
            client,
            name,
            task_definition,
        }
    }

    /// Runs a worker task, as the dispatcher launches one, with `DISPATCH_ID` in its
    /// override environment when given; returns its ARN.
    pub async fn run_task(&self, dispatch: Option<&str>) -> String {
        let environment = dispatch.map(|id| {
            KeyValuePair::builder()
                .name(dispatch_id::ENV_NAME)
                .value(id)
                .build()
        });
        let worker = ContainerOverride::builder()
            .name(env::WORKER_CONTAINER.default)
            .set_environment(environment.map(|pair| vec![pair]))
            .build();
        let overrides = TaskOverride::builder().container_overrides(worker).build();
        let output = self
            .client
            .run_task()
            .cluster(&self.name)
            .task_definition(&self.task_definition)
            .overrides(overrides)
            .send()
            .await
            .expect("run a task");
        let task = output.tasks().first().expect("moto placed the task");
        task.task_arn().expect("a task ARN").to_owned()
    }

    /// Stops a task, as StopTask (or ECS itself) does.
    pub async fn stop_task(&self, task_arn: &str, reason: &str) {
        self.client
            .stop_task()
            .cluster(&self.name)
            .task(task_arn)
            .reason(reason)
            .send()
            .await
            .expect("stop the task");
    }
}

/// Starts an EC2 instance in moto and returns its ID. The EC2 query API is one form POST,
/// which moto answers without checking a signature, so the test kit needs no EC2 SDK.
fn ec2_instance(endpoint: &str) -> String {
    let body = "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&MinCount=1&MaxCount=1&InstanceType=t2.medium";
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20260101/{}/ec2/aws4_request, SignedHeaders=host, Signature=0",
        REGION
    );
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Authorization", authorization.as_str()),
    ];
    let (_, response) = plain_request(endpoint, "POST", "/", &headers, body);
    let instance = crate::stand_in::element(&response, "instanceId");
    instance.expect("an instance ID").to_owned()
}

/// Makes moto's tasks stay RUNNING until stopped. moto moves a task one lifecycle state
/// on (RUNNING, DEACTIVATING, ..., STOPPED) each time it is described, so a task that
/// several commands look at would stop by itself; ECS keeps it running.
pub fn hold_running_tasks(endpoint: &str) {
    let body =
        r#"{"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000}}"#;
    let (status, response) = plain_request(
        endpoint,
        "POST",
        "/moto-api/state-manager/set-transition",
        &[("Content-Type", "application/json")],
        body,
    );
    assert!(
        (200..300).contains(&status),
        "moto refused the transition: {status} {response}"
    );
}
