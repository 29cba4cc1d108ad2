//! The dispatch table in moto, created from the synthesized template's own definition,
//! so a change to the table in `synth` is the table every test runs against.

use std::collections::HashMap;

use aws_config::ConfigLoader;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{PutRequest, Select, WriteRequest};
use aws_sdk_dynamodb::Client;
use contract::status::RUNNING;
use dispatch::record::DispatchRecord;
use dispatch_aws::item::{item, record};
use dispatch_aws::table::DynamoStore;
use serde_json::{Map, Value};

use crate::server::{point_at, Server};

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
        let client = Client::new(&point_at(loader, server.endpoint()).load().await);
        let name = create_dispatch_table(&client).await;
        create_table(&client, contract::table::sweep::LOGICAL_ID).await;
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
        let put = put(&self.client, &self.name, &record).await;
        put.expect("put dispatch");
    }

    /// Writes many RUNNING dispatches, `(dispatch ID, task ARN, createdAt)` each, for
    /// tests and benchmarks that need thousands.
    pub async fn put_running_dispatches(&self, dispatches: &[(String, String, String)]) {
        let records: Vec<DispatchRecord> = dispatches
            .iter()
            .map(|(id, task_arn, created_at)| launched(id, RUNNING, Some(task_arn), created_at))
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
        let records = scan(&self.client, &self.name).await;
        let records = records.unwrap_or_else(|err| panic!("{err}"));
        let by_id = records
            .into_iter()
            .map(|record| (record.dispatch_id.clone(), record));
        by_id.collect()
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

/// Writes `record` into `table` with `PutItem`.
pub(crate) async fn put(
    client: &Client,
    table: &str,
    record: &DispatchRecord,
) -> Result<(), String> {
    let put = client
        .put_item()
        .table_name(table)
        .set_item(Some(item(record)));
    put.send().await.map_err(|err| sdk_error("PutItem", err))?;
    Ok(())
}

/// Every record of `table`, read with a paginated consistent `Scan`.
pub(crate) async fn scan(client: &Client, table: &str) -> Result<Vec<DispatchRecord>, String> {
    let scan = client.scan().table_name(table).consistent_read(true);
    let mut pages = scan.into_paginator().items().send();
    let mut records = Vec::new();
    while let Some(item) = pages.next().await {
        let item = item.map_err(|err| sdk_error("Scan", err))?;
        // Its key is a text `dispatchId`, so every item is a record; anything else is a
        // broken table.
        records.push(record(&item).ok_or_else(|| format!("{item:?} is not a dispatch record"))?);
    }
    Ok(records)
}

/// An SDK call's error, with its causes.
fn sdk_error(operation: &str, err: impl std::error::Error) -> String {
    format!("{operation}: {}", DisplayErrorContext(err))
}

/// A dispatch record as the control plane writes it when it launches a task.
pub fn launched(
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

/// Creates the template's dispatch table through `client`, and returns its name.
pub async fn create_dispatch_table(client: &Client) -> String {
    create_table(client, contract::outputs::TABLE_NAME.logical_id).await
}

/// Creates the template's DynamoDB table `logical_id` (keys, indexes, projections,
/// billing) through `client`, and returns its name. The template describes the table in
/// CreateTable's own shape, so the request carries those properties as the template has
/// them.
pub async fn create_table(client: &Client, logical_id: &str) -> String {
    let template = crate::template::stack();
    let table = &crate::template::resources(&template)[logical_id];
    assert_eq!(table["Type"], "AWS::DynamoDB::Table", "{logical_id}");
    let properties = &table["Properties"];
    let name = properties["TableName"].as_str().expect("a table name");
    let parameters: Map<String, Value> = CREATE_TABLE_PARAMETERS
        .into_iter()
        .filter(|parameter| !properties[parameter].is_null())
        .map(|parameter| (parameter.to_owned(), properties[parameter].clone()))
        .collect();
    let body = Value::Object(parameters).to_string();
    client
        .create_table()
        .table_name(name)
        .customize()
        .mutate_request(move |request| {
            *request.body_mut() = body.clone().into();
            request
                .headers_mut()
                .insert("content-length", body.len().to_string());
        })
        .send()
        .await
        .unwrap_or_else(|err| panic!("create {name}: {}", DisplayErrorContext(err)));
    // As on AWS, a table is usable once it is ACTIVE, not when CreateTable returns.
    client
        .wait_until_table_exists()
        .table_name(name)
        .wait(std::time::Duration::from_secs(30))
        .await
        .unwrap_or_else(|err| panic!("{name} becomes ACTIVE: {}", DisplayErrorContext(err)));
    name.to_owned()
}

/// The table's properties in the template that are CreateTable's parameters.
const CREATE_TABLE_PARAMETERS: [&str; 5] = [
    "TableName",
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "BillingMode",
];
