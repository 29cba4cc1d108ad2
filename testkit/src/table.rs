//! The dispatch table in moto, created from the synthesized template's own definition,
//! so a change to the table in `synth` is the table every test runs against.

use std::collections::HashMap;

use aws_config::ConfigLoader;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, PutRequest, ScalarAttributeType, Select, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use dispatch::record::DispatchRecord;
use dispatch_aws::item::{item, record, Item};
use dispatch_aws::table::DynamoStore;
use serde_json::Value;

use crate::server::Server;

/// A fresh local server holding an empty dispatch table.
pub struct TestTable {
    pub server: Server,
    pub client: Client,
    pub name: String,
}

impl TestTable {
    /// Starts moto, creates the table, and gives a client built by `loader` (the
    /// function's own, so tests run with its retries and timeouts).
    pub async fn new(loader: ConfigLoader) -> TestTable {
        Self::on(Server::moto(), loader).await
    }

    /// The same on `server` (moto or dynalite), as it started.
    pub async fn on(
        server: Result<Server, crate::server::ServerError>,
        loader: ConfigLoader,
    ) -> TestTable {
        let server = server.unwrap_or_else(|err| panic!("{err}"));
        let client = Client::new(&server.configure(loader).load().await);
        let name = create_dispatch_table(&client).await;
        TestTable {
            server,
            client,
            name,
        }
    }

    /// Writes a dispatch record as the control plane does when it launches a task.
    pub async fn put_dispatch(&self, dispatch_id: &str, status: &str, task_arn: Option<&str>) {
        self.put_dispatch_created(dispatch_id, status, task_arn, "2026-01-15T19:38:40Z")
            .await;
    }

    /// The same, created at `created_at` (RFC 3339, as the control plane writes it).
    pub async fn put_dispatch_created(
        &self,
        dispatch_id: &str,
        status: &str,
        task_arn: Option<&str>,
        created_at: &str,
    ) {
        let record = launched(dispatch_id, status, task_arn, created_at);
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item(&record)))
            .send()
            .await
            .expect("put dispatch");
    }

    /// Writes many RUNNING dispatches, `(dispatch ID, task ARN, createdAt)` each, for
    /// tests and benchmarks that need thousands.
    pub async fn put_running_dispatches(&self, dispatches: &[(String, String, String)]) {
        let records: Vec<DispatchRecord> = dispatches
            .iter()
            .map(|(dispatch_id, task_arn, created_at)| {
                let running = contract::status::RUNNING;
                launched(dispatch_id, running, Some(task_arn), created_at)
            })
            .collect();
        self.put_records(&records).await;
    }

    /// Writes records, 25 to a `BatchWriteItem` (its most).
    pub async fn put_records(&self, records: &[DispatchRecord]) {
        for chunk in records.chunks(25) {
            let requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|record| {
                    let put = PutRequest::builder().set_item(Some(item(record))).build();
                    WriteRequest::builder()
                        .put_request(put.expect("an item"))
                        .build()
                })
                .collect();
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.name, requests)
                .send()
                .await
                .expect("batch write records");
            let left = output.unprocessed_items().map_or(0, |items| items.len());
            assert_eq!(left, 0, "the local server left writes unprocessed");
        }
    }

    /// Every record, by dispatch ID, read with a paginated consistent `Scan` (a test's
    /// view of the whole table, never the function's).
    pub async fn records(&self) -> HashMap<String, DispatchRecord> {
        let mut pages = self
            .client
            .scan()
            .table_name(&self.name)
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut records = HashMap::new();
        while let Some(item) = pages.next().await {
            let record = dispatch_record(&item.expect("scan the table"));
            records.insert(record.dispatch_id.clone(), record);
        }
        records
    }

    /// The whole record, every attribute kept, or `None`: the table's own strongly
    /// consistent `GetItem`.
    pub async fn get(&self, dispatch_id: &str) -> Option<DispatchRecord> {
        let index = contract::table::TASK_ARN_INDEX.name;
        DynamoStore::new(self.client.clone(), &self.name, index)
            .get(dispatch_id)
            .await
            .expect("get dispatch")
    }

    /// How many records the table holds.
    pub async fn count(&self) -> i32 {
        self.client
            .scan()
            .table_name(&self.name)
            .select(Select::Count)
            .send()
            .await
            .expect("scan")
            .count()
    }
}

/// A dispatch record as the control plane writes it when it launches a task.
fn launched(
    dispatch_id: &str,
    status: &str,
    task_arn: Option<&str>,
    created_at: &str,
) -> DispatchRecord {
    DispatchRecord {
        dispatch_id: dispatch_id.to_owned(),
        status: Some(status.to_owned()),
        task_arn: task_arn.map(str::to_owned),
        created_at: Some(created_at.to_owned()),
        ..DispatchRecord::default()
    }
}

/// An item of the dispatch table as its record. Its key is a text `dispatchId`, so every
/// item is one; anything else is a broken table, and the test that reads it fails here.
fn dispatch_record(item: &Item) -> DispatchRecord {
    record(item).unwrap_or_else(|| panic!("{item:?} is not a dispatch record"))
}

/// Creates the template's DynamoDB table (keys, indexes, projections, billing) through
/// `client`, and returns its name.
pub async fn create_dispatch_table(client: &Client) -> String {
    let template = crate::template::stack();
    let table = template["Resources"]
        .as_object()
        .expect("the template has resources")
        .values()
        .find(|resource| resource["Type"] == "AWS::DynamoDB::Table")
        .expect("the template has a table");
    let properties = &table["Properties"];
    let name = text(&properties["TableName"]).to_owned();
    let definitions = list(&properties["AttributeDefinitions"]).map(|definition| {
        AttributeDefinition::builder()
            .attribute_name(text(&definition["AttributeName"]))
            .attribute_type(ScalarAttributeType::from(text(
                &definition["AttributeType"],
            )))
            .build()
            .expect("an attribute definition")
    });
    let indexes = list(&properties["GlobalSecondaryIndexes"]).map(|index| {
        let projection = &index["Projection"];
        GlobalSecondaryIndex::builder()
            .index_name(text(&index["IndexName"]))
            .set_key_schema(Some(key_schema(&index["KeySchema"])))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::from(text(&projection["ProjectionType"])))
                    .set_non_key_attributes(
                        projection
                            .get("NonKeyAttributes")
                            .map(|names| list(names).map(|name| text(name).to_owned()).collect()),
                    )
                    .build(),
            )
            .build()
            .expect("an index")
    });
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::from(text(&properties["BillingMode"])))
        .set_attribute_definitions(Some(definitions.collect()))
        .set_key_schema(Some(key_schema(&properties["KeySchema"])))
        .set_global_secondary_indexes(Some(indexes.collect()))
        .send()
        .await
        .expect("create the dispatch table");
    // As on AWS, a table is usable once it is ACTIVE, not when CreateTable returns.
    client
        .wait_until_table_exists()
        .table_name(&name)
        .wait(std::time::Duration::from_secs(30))
        .await
        .expect("the dispatch table becomes ACTIVE");
    name
}

fn key_schema(value: &Value) -> Vec<KeySchemaElement> {
    list(value)
        .map(|key| {
            KeySchemaElement::builder()
                .attribute_name(text(&key["AttributeName"]))
                .key_type(KeyType::from(text(&key["KeyType"])))
                .build()
                .expect("a key schema element")
        })
        .collect()
}

fn list(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().expect("a list in the template").iter()
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a string in the template")
}
