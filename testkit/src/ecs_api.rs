//! An ECS API on loopback that answers as ECS does where moto cannot.
//!
//! moto's ECS keeps little of a stopped task (no stop code, no timestamps, every container
//! exits 0), never forgets one, answers no failure reasons and pages nothing. This fleet
//! answers `ListClusters`, `ListTasks` and `DescribeTasks` in the AWS JSON 1.1 protocol
//! the SDK speaks, on a clock the test controls:
//!
//! - tasks carry their cluster, group, tags, environment overrides, stop code, stopped
//!   reason, containers' exit codes and timestamps;
//! - a stopped task is listed and described for an hour after it stopped, then forgotten
//!   (`MISSING`), as ECS forgets;
//! - `ListTasks` and `ListClusters` page 100 at a time (`nextToken`);
//! - `DescribeTasks` answers a task ECS does not know with the failure `MISSING`, takes at
//!   most 100 tasks, and can be made to answer another failure reason for a task;
//! - a deleted cluster answers `ClusterNotFoundException`;
//! - a share of requests, by API, can be throttled (`ThrottlingException`);
//! - every request is counted by API and, once asked ([`Fleet::record_described`]), each
//!   task `DescribeTasks` is asked about.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Duration, Utc};
use dispatch::task_arn::TaskArn;
use http_body_util::BodyExt;
use hyper::StatusCode;
use serde_json::{json, Value};

use crate::http;
pub use crate::http::Served;

/// How long ECS keeps a stopped task.
pub const MEMORY: Duration = Duration::hours(1);
/// The most items a page or a `DescribeTasks` call holds.
const PAGE: usize = 100;

/// One task as the fleet holds it.
#[derive(Clone, Debug, Default)]
pub struct Task {
    pub cluster: String,
    pub id: String,
    pub group: Option<String>,
    pub tags: Vec<(String, String)>,
    /// The worker container's environment overrides.
    pub environment: Vec<(String, String)>,
    pub containers: Vec<Container>,
    pub started_at: Option<DateTime<Utc>>,
    pub stopping_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
}

/// One container of a task.
#[derive(Clone, Debug, Default)]
pub struct Container {
    pub name: String,
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
}

/// How a task stops.
#[derive(Clone, Debug, Default)]
pub struct Stop {
    pub stop_code: String,
    pub stopped_reason: String,
    /// Exit codes by container name; containers not named exit without a code.
    pub exit_codes: Vec<(String, i64)>,
}

impl Task {
    /// A dispatch's task as the control plane launches it on `cluster`: task ID
    /// `DISPATCH-task`, one worker container (the default name), named by nothing yet
    /// (set `environment`, `group` or `tags`).
    pub fn unnamed(cluster: &str, dispatch: &str) -> Task {
        Task {
            cluster: cluster.to_owned(),
            id: format!("{dispatch}-task"),
            containers: vec![Container {
                name: contract::env::WORKER_CONTAINER.default.to_owned(),
                ..Container::default()
            }],
            ..Task::default()
        }
    }

    /// The same, naming its dispatch in the worker's environment, as most launches do.
    pub fn for_dispatch(cluster: &str, dispatch: &str) -> Task {
        Task {
            environment: vec![(
                contract::dispatch_id::ENV_NAME.to_owned(),
                dispatch.to_owned(),
            )],
            ..Task::unnamed(cluster, dispatch)
        }
    }
}

impl Stop {
    /// The worker exited with `code`, which ended the task (`EssentialContainerExited`).
    pub fn worker_exited(code: i64) -> Stop {
        Stop {
            stop_code: "EssentialContainerExited".to_owned(),
            stopped_reason: "Essential container in task exited".to_owned(),
            exit_codes: vec![(contract::env::WORKER_CONTAINER.default.to_owned(), code)],
        }
    }
}

#[derive(Debug, Default)]
struct State {
    now: DateTime<Utc>,
    /// Each cluster's tasks, by task ID.
    clusters: BTreeMap<String, BTreeMap<String, Task>>,
    /// Failure reasons `DescribeTasks` answers instead of the task, by task ARN.
    failures: BTreeMap<String, String>,
    /// Requests by API.
    calls: BTreeMap<String, u64>,
    /// Throttle every n-th request of an API (0: never).
    throttle_every: BTreeMap<String, u64>,
    /// Clusters every question about fails (`ServerException`).
    failing: Vec<String>,
    /// The tasks `DescribeTasks` was asked about, with how often, once recording began
    /// ([`Fleet::record_described`]).
    described: Option<BTreeMap<String, u64>>,
}

/// The fleet: ECS's state, shared between the test and the server answering for it.
#[derive(Clone, Debug)]
pub struct Fleet {
    region: String,
    account: String,
    state: Arc<Mutex<State>>,
}

impl Fleet {
    /// An empty fleet in `region` and `account`, its clock at `now`.
    pub fn new(region: &str, account: &str, now: DateTime<Utc>) -> Fleet {
        let state = State {
            now,
            ..State::default()
        };
        Fleet {
            region: region.to_owned(),
            account: account.to_owned(),
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.state().now
    }

    /// Moves the clock on.
    pub fn advance(&self, by: Duration) {
        self.state().now += by;
    }

    pub fn cluster_arn(&self, cluster: &str) -> String {
        format!(
            "arn:aws:ecs:{}:{}:cluster/{cluster}",
            self.region, self.account
        )
    }

    pub fn task_arn(&self, task: &Task) -> String {
        format!(
            "arn:aws:ecs:{}:{}:task/{}/{}",
            self.region, self.account, task.cluster, task.id
        )
    }

    /// Creates an empty cluster (a task's launch creates its cluster too).
    pub fn create_cluster(&self, cluster: &str) {
        self.state().clusters.entry(cluster.to_owned()).or_default();
    }

    /// Starts `task` now (creating its cluster if need be); returns its ARN.
    pub fn launch(&self, mut task: Task) -> String {
        let mut state = self.state();
        task.started_at = Some(state.now);
        let arn = self.task_arn(&task);
        state
            .clusters
            .entry(task.cluster.clone())
            .or_default()
            .insert(task.id.clone(), task);
        arn
    }

    /// Stops the task `arn` now, as ECS does: STOPPED with its code, reason and exit codes.
    pub fn stop(&self, arn: &str, stop: &Stop) {
        let mut state = self.state();
        let now = state.now;
        if let Some(task) = find(&mut state, arn) {
            task.stopping_at = Some(now);
            task.stopped_at = Some(now);
            task.stop_code = Some(stop.stop_code.clone());
            task.stopped_reason = Some(stop.stopped_reason.clone());
            for container in &mut task.containers {
                let code = stop
                    .exit_codes
                    .iter()
                    .find(|(name, _)| *name == container.name);
                container.exit_code = code.map(|(_, code)| *code);
            }
        }
    }

    /// Begins stopping the task `arn` (desired STOPPED, last status still DEPROVISIONING).
    pub fn begin_stopping(&self, arn: &str) {
        let mut state = self.state();
        let now = state.now;
        if let Some(task) = find(&mut state, arn) {
            task.stopping_at = Some(now);
        }
    }

    /// Deletes a cluster: every question about it is answered `ClusterNotFoundException`.
    pub fn delete_cluster(&self, cluster: &str) {
        let mut state = self.state();
        state.clusters.remove(cluster);
    }

    /// Makes `DescribeTasks` answer the failure `reason` for the task `arn`.
    pub fn fail(&self, arn: &str, reason: &str) {
        self.state()
            .failures
            .insert(arn.to_owned(), reason.to_owned());
    }

    /// Makes every question about `cluster` fail with a `ServerException` (HTTP 500).
    pub fn fail_cluster(&self, cluster: &str) {
        self.state().failing.push(cluster.to_owned());
    }

    /// Makes every question about `cluster` fail (as [`Fleet::fail_cluster`]) or answer
    /// again.
    pub fn fail_cluster_while(&self, cluster: &str, failing: bool) {
        let mut state = self.state();
        state.failing.retain(|name| name != cluster);
        if failing {
            state.failing.push(cluster.to_owned());
        }
    }

    /// Throttles every `n`-th request of `api` (0 stops throttling).
    pub fn throttle(&self, api: &str, n: u64) {
        self.state().throttle_every.insert(api.to_owned(), n);
    }

    /// Requests so far, by API (`ListTasks`, `DescribeTasks`, ...).
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.state().calls.clone()
    }

    /// Starts recording the task ARNs each `DescribeTasks` request names (off until
    /// called: a fleet of many tasks need not keep them).
    pub fn record_described(&self) {
        self.state().described.get_or_insert_with(BTreeMap::new);
    }

    /// The task ARNs `DescribeTasks` requests named since recording began or the last
    /// call, each with how many times; empties the record (and keeps recording).
    pub fn take_described(&self) -> BTreeMap<String, u64> {
        let mut state = self.state();
        state
            .described
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The "ECS Task State Change" event EventBridge delivers for the task `arn` as it
    /// stands now (`last_status` overriding its status, for a RUNNING event sent late):
    /// the task as `DescribeTasks` shows it, without tags (events carry none), its times
    /// as ISO 8601 text, in the envelope EventBridge puts around it. Not a request: it is
    /// not counted.
    pub fn event(&self, arn: &str, last_status: Option<&str>) -> Option<Value> {
        let mut state = self.state();
        let now = state.now;
        let task = find(&mut state, arn)?.clone();
        drop(state);
        let mut detail = self.described(&task, false);
        for field in ["startedAt", "stoppingAt", "stoppedAt"] {
            let at = detail[field].as_f64().and_then(|seconds| {
                DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64)
            });
            detail[field] = at.map_or(Value::Null, |at| json!(at.to_rfc3339()));
        }
        if let Some(status) = last_status {
            detail["lastStatus"] = json!(status);
            detail["desiredStatus"] = json!("RUNNING");
        }
        Some(json!({
            "version": "0",
            "id": crate::request_id(),
            "detail-type": "ECS Task State Change",
            "source": "aws.ecs",
            "account": self.account,
            "time": now.to_rfc3339(),
            "region": self.region,
            "resources": [arn],
            "detail": detail,
        }))
    }

    /// Serves the fleet on a loopback port, on the current tokio runtime, until the
    /// returned server is dropped. Point an ECS client at its `endpoint`.
    pub fn serve(&self) -> std::io::Result<Served> {
        let fleet = self.clone();
        http::start(move |request: hyper::Request<hyper::body::Incoming>| {
            let fleet = fleet.clone();
            async move {
                let target = request.headers().get("x-amz-target").cloned();
                let api = target
                    .as_ref()
                    .and_then(|t| t.to_str().ok())
                    .unwrap_or_default();
                let api = api.rsplit('.').next().unwrap_or_default().to_owned();
                let body = request.into_body().collect().await?.to_bytes();
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let (status, answer) = fleet.answer(&api, &body);
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
                let content = [("content-type", "application/x-amz-json-1.1")];
                Ok::<_, hyper::Error>(http::answer(status, answer.to_string(), &content))
            }
        })
    }

    /// Answers one request: `api` is the `X-Amz-Target` operation, `body` its JSON. The
    /// answer is an HTTP status and a JSON body.
    pub fn answer(&self, api: &str, body: &Value) -> (u16, Value) {
        let mut state = self.state();
        let every = state.throttle_every.get(api).copied().unwrap_or(0);
        let count = state.calls.entry(api.to_owned()).or_default();
        *count += 1;
        if every > 0 && *count % every == 0 {
            return error("ThrottlingException", "Rate exceeded");
        }
        if let (Some(described), "DescribeTasks") = (state.described.as_mut(), api) {
            let asked = body["tasks"].as_array().into_iter().flatten();
            for arn in asked.filter_map(Value::as_str) {
                *described.entry(arn.to_owned()).or_default() += 1;
            }
        }
        match api {
            "ListClusters" => self.list_clusters(&state, body),
            "ListTasks" => self.list_tasks(&state, body),
            "DescribeTasks" => self.describe_tasks(&state, body),
            other => error("InvalidAction", &format!("{other} is not answered here")),
        }
    }

    fn list_clusters(&self, state: &State, body: &Value) -> (u16, Value) {
        let arns: Vec<String> = state.clusters.keys().map(|c| self.cluster_arn(c)).collect();
        page("clusterArns", &arns, body)
    }

    fn list_tasks(&self, state: &State, body: &Value) -> (u16, Value) {
        let tasks = match cluster(state, body) {
            Ok(tasks) => tasks,
            Err(answer) => return answer,
        };
        let stopped = body["desiredStatus"] == "STOPPED";
        let listed = tasks.values().filter(|task| match task.stopping_at {
            None => !stopped,
            Some(_) => stopped && remembered(task, state.now),
        });
        let arns: Vec<String> = listed.map(|task| self.task_arn(task)).collect();
        page("taskArns", &arns, body)
    }

    fn describe_tasks(&self, state: &State, body: &Value) -> (u16, Value) {
        let tasks = match cluster(state, body) {
            Ok(tasks) => tasks,
            Err(answer) => return answer,
        };
        let asked: Vec<&str> = body["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if asked.is_empty() || asked.len() > PAGE {
            return error(
                "InvalidParameterException",
                "tasks must hold 1 to 100 tasks",
            );
        }
        let tags = body["include"]
            .as_array()
            .is_some_and(|i| i.iter().any(|f| f == "TAGS"));
        let (mut found, mut failures) = (Vec::new(), Vec::new());
        for arn in asked {
            let id = TaskArn::parse(arn).map_or(arn, |task| task.id);
            // By ID, or by whole ARN: a task of another region or account is not this one.
            let known = tasks
                .get(id)
                .filter(|t| id == arn || self.task_arn(t) == arn);
            match (state.failures.get(arn), known) {
                (Some(reason), _) => failures.push(json!({"arn": arn, "reason": reason})),
                (None, Some(task)) if remembered(task, state.now) => {
                    found.push(self.described(task, tags))
                }
                (None, _) => failures.push(json!({"arn": arn, "reason": "MISSING"})),
            }
        }
        (200, json!({"tasks": found, "failures": failures}))
    }

    /// A task as `DescribeTasks` shows it.
    fn described(&self, task: &Task, tags: bool) -> Value {
        let seconds =
            |at: Option<DateTime<Utc>>| at.map(|at| at.timestamp_millis() as f64 / 1000.0);
        let last_status = match (task.stopping_at, task.stopped_at) {
            (_, Some(_)) => "STOPPED",
            (Some(_), None) => "DEPROVISIONING",
            (None, None) => "RUNNING",
        };
        let containers: Vec<Value> = task
            .containers
            .iter()
            .map(|c| {
                json!({"name": c.name, "exitCode": c.exit_code, "reason": c.reason,
                   "lastStatus": if task.stopped_at.is_some() { "STOPPED" } else { "RUNNING" }})
            })
            .collect();
        let environment: Vec<Value> = task
            .environment
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        let mut described = json!({
            "taskArn": self.task_arn(task),
            "clusterArn": self.cluster_arn(&task.cluster),
            "lastStatus": last_status,
            "desiredStatus": if task.stopping_at.is_some() { "STOPPED" } else { "RUNNING" },
            "group": task.group,
            "stopCode": task.stop_code,
            "stoppedReason": task.stopped_reason,
            "startedAt": seconds(task.started_at),
            "stoppingAt": seconds(task.stopping_at),
            "stoppedAt": seconds(task.stopped_at),
            "version": if task.stopped_at.is_some() { 3 } else { 1 },
            "containers": containers,
            "overrides": {"containerOverrides": [{"name": "worker", "environment": environment}]},
        });
        if tags {
            described["tags"] = task
                .tags
                .iter()
                .map(|(key, value)| json!({"key": key, "value": value}))
                .collect();
        }
        described
    }
}

/// An ECS client built by `loader` (the caller's retries and timeouts) that asks the fleet
/// `served`.
pub async fn client(loader: aws_config::ConfigLoader, served: &Served) -> aws_sdk_ecs::Client {
    let config = crate::server::point_at(loader, &served.endpoint);
    aws_sdk_ecs::Client::new(&config.load().await)
}

/// Whether ECS still knows `task`: running, or stopped less than [`MEMORY`] ago.
fn remembered(task: &Task, now: DateTime<Utc>) -> bool {
    task.stopped_at.is_none_or(|at| now - at < MEMORY)
}

fn find<'a>(state: &'a mut State, arn: &str) -> Option<&'a mut Task> {
    let task = TaskArn::parse(arn)?;
    state.clusters.get_mut(task.cluster?)?.get_mut(task.id)
}

/// The tasks of the cluster a request names (by name or ARN; `default` when none).
fn cluster<'a>(state: &'a State, body: &Value) -> Result<&'a BTreeMap<String, Task>, (u16, Value)> {
    let named = body["cluster"].as_str().unwrap_or("default");
    let name = named
        .rsplit_once("cluster/")
        .map_or(named, |(_, name)| name);
    if state.failing.iter().any(|failing| failing == name) {
        let message = "We encountered an internal error.";
        return Err((
            500,
            json!({"__type": "ServerException", "message": message}),
        ));
    }
    match state.clusters.get(name) {
        Some(tasks) => Ok(tasks),
        None => Err(error("ClusterNotFoundException", "Cluster not found.")),
    }
}

/// One page of `items` under `key`, from the request's `nextToken` (an offset here), at
/// most `maxResults` (up to 100).
fn page(key: &str, items: &[String], body: &Value) -> (u16, Value) {
    let start: usize = body["nextToken"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let size = body["maxResults"]
        .as_u64()
        .map_or(PAGE, |n| (n as usize).clamp(1, PAGE));
    let end = (start + size).min(items.len());
    let mut answer = json!({ key: items.get(start..end).unwrap_or_default() });
    if end < items.len() {
        answer["nextToken"] = json!(end.to_string());
    }
    (200, answer)
}

fn error(code: &str, message: &str) -> (u16, Value) {
    (400, json!({"__type": code, "message": message}))
}
