//! What the integration tests share: moto's server as a real DynamoDB API, the dispatch
//! table as the runbook describes it, fixtures, and an in-memory store for unit-level
//! tests that must not depend on a server.
#![allow(dead_code)]

pub mod fake;

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use function::config::{Config, MetricsSinkKind};
use function::store::DynamoStore;

pub const DISPATCH_ID: &str = "5f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";
pub const TASK_ARN: &str =
    "arn:aws:ecs:us-east-1:311493921645:task/outpost-dev/0f9b6d3b4c8a4e6f9d2a1b3c4d5e6f70";

/// A request ID unique within the test process, as Lambda gives each invocation one.
pub fn request_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("test-request-{n}")
}

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The text of `tests/fixtures/<name>`.
pub fn fixture_text(name: &str) -> String {
    let path = repo_root().join("function/tests/fixtures").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path:?}: {err}"))
}

/// Reads `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> serde_json::Value {
    serde_json::from_str(&fixture_text(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

/// The environment the deployed function gets, pointed at `moto` and `table_name`.
pub fn function_env(
    moto: &Moto,
    table_name: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut env = vec![
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("TABLE_NAME", table_name),
        ("TASK_ARN_INDEX", "task_arn-index"),
        ("WORKER_CONTAINER", "worker"),
    ];
    env.extend_from_slice(extra);
    env.into_iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
}

/// The function's configuration as deployed, for a given table.
pub fn config(table_name: &str) -> Config {
    Config {
        table_name: table_name.to_owned(),
        task_arn_index: "task_arn-index".to_owned(),
        worker_container: "worker".to_owned(),
        metrics_sink: MetricsSinkKind::Emf,
        function_name: "outpost-dispatch-callback".to_owned(),
    }
}

/// moto's server on a free loopback port, stopped when dropped. Each test gets its own,
/// so tests never see each other's tables.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    /// Starts `scripts/moto_server.py` (moto with requests serialized, so conditional
    /// writes are atomic as in DynamoDB) with the project's `.venv/tools` Python, else
    /// `$MOTO_PYTHON`, else `python3` from `PATH`.
    pub fn start() -> Moto {
        let python = std::env::var_os("MOTO_PYTHON")
            .map(PathBuf::from)
            .or_else(|| {
                let local = repo_root().join(".venv/tools/bin/python");
                local.exists().then_some(local)
            })
            .unwrap_or_else(|| PathBuf::from("python3"));
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let script = repo_root().join("scripts/moto_server.py");
        // moto's own output goes to a file, so a failed start can say why.
        let log_path = std::env::temp_dir().join(format!("moto-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("moto log file");
        let mut child = Command::new(&python)
            .arg(&script)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| {
                panic!("cannot start {python:?} {script:?} (run `make tools`): {err}")
            });
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let _ = child.kill();
                let output = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("moto's server did not start ({exited:?}); run `make tools`. Its output:\n{output}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(&log_path);
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// SDK configuration pointed at this server, with the function's retries and timeouts.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        function::aws::sdk_config_loader()
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
            .load()
            .await
    }

    /// The requests moto served since the last reset, by operation (see
    /// `scripts/moto_server.py`); `reset` starts a new count.
    pub fn request_counts(&self, reset: bool) -> serde_json::Value {
        let mut curl = Command::new("curl");
        curl.args([
            "-fsS",
            &format!("{}/_outpost/request-counts", self.endpoint),
        ]);
        if reset {
            curl.args(["-X", "DELETE"]);
        }
        let output = curl.output().expect("curl");
        serde_json::from_slice(&output.stdout).expect("request counts")
    }

    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config().await)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The dispatch table as the runbook lists it: key `dispatchId`, GSIs `task_arn-index`
/// (hash `taskArn`) and `status-createdAt-index` (hash `status`, range `createdAt`).
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .unwrap()
    };
    // The projections of the synthesized template (synth/src/config.rs).
    let keys_only = Projection::builder()
        .projection_type(ProjectionType::KeysOnly)
        .build();
    let all = Projection::builder()
        .projection_type(ProjectionType::All)
        .build();
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("dispatchId"))
        .attribute_definitions(attribute("taskArn"))
        .attribute_definitions(attribute("status"))
        .attribute_definitions(attribute("createdAt"))
        .key_schema(key("dispatchId", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("task_arn-index")
                .key_schema(key("taskArn", KeyType::Hash))
                .projection(keys_only)
                .build()
                .unwrap(),
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("status-createdAt-index")
                .key_schema(key("status", KeyType::Hash))
                .key_schema(key("createdAt", KeyType::Range))
                .projection(all)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create table");
}

/// A table on a fresh moto server, with the store the function would use.
pub struct TestTable {
    pub moto: Moto,
    pub client: aws_sdk_dynamodb::Client,
    pub name: String,
}

impl TestTable {
    pub async fn new() -> TestTable {
        let moto = Moto::start();
        let client = moto.dynamodb().await;
        let name = "outpost-dispatches".to_owned();
        create_table(&client, &name).await;
        TestTable { moto, client, name }
    }

    pub fn store(&self) -> DynamoStore {
        DynamoStore::new(self.client.clone(), &self.name, "task_arn-index")
    }

    pub fn config(&self) -> Config {
        config(&self.name)
    }

    /// One invocation's handling of `event` against this table, now.
    pub async fn handle(
        &self,
        event: serde_json::Value,
    ) -> Result<function::handler::Outcome, function::error::CallbackError> {
        function::handler::handle(
            event,
            &self.store(),
            &self.config(),
            &request_id(),
            chrono::Utc::now(),
        )
        .await
    }

    /// Writes a dispatch record as the control plane does when it launches a task.
    pub async fn put_dispatch(&self, dispatch_id: &str, status: &str, task_arn: Option<&str>) {
        let mut item = HashMap::from([
            (
                "dispatchId".to_owned(),
                AttributeValue::S(dispatch_id.to_owned()),
            ),
            ("status".to_owned(), AttributeValue::S(status.to_owned())),
            (
                "createdAt".to_owned(),
                AttributeValue::S("2026-01-15T19:38:40Z".to_owned()),
            ),
        ]);
        if let Some(arn) = task_arn {
            item.insert("taskArn".to_owned(), AttributeValue::S(arn.to_owned()));
        }
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .send()
            .await
            .expect("put dispatch");
    }

    /// The whole record, as plain strings (numbers as their text), or `None`.
    pub async fn get(&self, dispatch_id: &str) -> Option<HashMap<String, String>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.name)
            .key("dispatchId", AttributeValue::S(dispatch_id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .expect("get dispatch");
        output.item.map(|item| {
            item.into_iter()
                .map(|(key, value)| {
                    let text = match value {
                        AttributeValue::S(s) | AttributeValue::N(s) => s,
                        other => format!("{other:?}"),
                    };
                    (key, text)
                })
                .collect()
        })
    }

    /// How many records the table holds.
    pub async fn count(&self) -> i32 {
        self.client
            .scan()
            .table_name(&self.name)
            .select(aws_sdk_dynamodb::types::Select::Count)
            .send()
            .await
            .expect("scan")
            .count()
    }
}

/// `event` with its dispatch ID replaced by `dispatch_id` wherever the fixture carries one.
pub fn with_dispatch_id(mut event: serde_json::Value, dispatch_id: &str) -> serde_json::Value {
    if let Some(overrides) = event
        .pointer_mut("/detail/overrides/containerOverrides")
        .and_then(|value| value.as_array_mut())
    {
        for container in overrides {
            for pair in container
                .get_mut("environment")
                .and_then(|value| value.as_array_mut())
                .into_iter()
                .flatten()
            {
                if pair["name"] == "DISPATCH_ID" {
                    pair["value"] = dispatch_id.into();
                }
            }
        }
    }
    event
}

/// `event` for another task ARN.
pub fn with_task_arn(mut event: serde_json::Value, task_arn: &str) -> serde_json::Value {
    event["detail"]["taskArn"] = task_arn.into();
    event
}
