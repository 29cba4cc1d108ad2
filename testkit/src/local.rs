//! `make local`'s steps after the deploy: seed dispatch records, run the real function
//! binary with the sample events, and show the records before and after.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use aws_sdk_dynamodb::Client;
use contract::table::attr;
use dispatch::record::{self, DispatchRecord};
use dispatch_aws::item::{item, record as read_record, Item};
use serde_json::{json, Value};

use crate::runtime::{InvocationError, RuntimeApi};

/// The columns shown; a task ARN shows only its last part, the task ID.
const COLUMNS: [&str; 6] = [
    attr::DISPATCH_ID,
    attr::STATUS,
    attr::EXIT_CODE,
    attr::STOP_CODE,
    attr::ENDED_AT,
    attr::TASK_ARN,
];
/// The attributes `--check` compares with the expected records.
const CHECKED: [&str; 3] = [attr::DISPATCH_ID, attr::STATUS, attr::EXIT_CODE];

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    serde_json::from_str(&text).map_err(|err| format!("{} is not JSON: {err}", path.display()))
}

/// A deployed function's environment (a JSON object of strings, as `aws lambda
/// get-function-configuration --query Environment.Variables` prints it).
pub fn read_environment(path: &Path) -> Result<Vec<(String, String)>, String> {
    let environment = read_json(path)?;
    let variables = environment
        .as_object()
        .ok_or_else(|| format!("{} is not a JSON object", path.display()))?;
    Ok(variables
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_owned()))
        .collect())
}

/// Writes a RUNNING dispatch of `task_arn`, created at `created_at`, as the control plane
/// does when it launches a task.
pub async fn put_running(
    client: &Client,
    table: &str,
    dispatch_id: &str,
    task_arn: &str,
    created_at: &str,
) -> Result<(), String> {
    let record = DispatchRecord {
        dispatch_id: dispatch_id.to_owned(),
        status: Some(contract::status::RUNNING.to_owned()),
        task_arn: Some(task_arn.to_owned()),
        created_at: Some(created_at.to_owned()),
        ..DispatchRecord::default()
    };
    put(client, table, &record).await
}

/// Writes each record of `file` (a JSON list of objects of strings) into `table`.
pub async fn seed(client: &Client, table: &str, file: &Path) -> Result<usize, String> {
    let records = read_json(file)?;
    let records = records
        .as_array()
        .ok_or_else(|| format!("{} is not a list of records", file.display()))?;
    for record in records {
        put(client, table, &seeded(record)?).await?;
    }
    Ok(records.len())
}

/// A record of the seed file: a JSON object of strings, each written as a string, as the
/// control plane writes them.
fn seeded(record: &Value) -> Result<DispatchRecord, String> {
    let attributes = record
        .as_object()
        .ok_or_else(|| format!("{record} is not an object"))?
        .iter()
        .map(|(name, value)| {
            let text = value
                .as_str()
                .ok_or_else(|| format!("{name} is not a string"))?;
            Ok((name.clone(), record::Value::Text(text.to_owned())))
        })
        .collect::<Result<Vec<_>, String>>()?;
    DispatchRecord::from_attributes(attributes)
        .ok_or_else(|| format!("{record} has no {}", attr::DISPATCH_ID))
}

async fn put(client: &Client, table: &str, record: &DispatchRecord) -> Result<(), String> {
    let put = client
        .put_item()
        .table_name(table)
        .set_item(Some(item(record)));
    put.send().await.map(|_| ()).map_err(|err| {
        format!(
            "PutItem: {}",
            aws_sdk_dynamodb::error::DisplayErrorContext(err)
        )
    })
}

/// Every record of `table`, by dispatch ID (a consistent scan: the demo table is small).
pub async fn records(client: &Client, table: &str) -> Result<Vec<DispatchRecord>, String> {
    let output = client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await
        .map_err(|err| {
            format!(
                "Scan: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(err)
            )
        })?;
    let mut records = output
        .items()
        .iter()
        .map(dispatch_record)
        .collect::<Result<Vec<_>, String>>()?;
    records.sort_by(|a, b| a.dispatch_id.cmp(&b.dispatch_id));
    Ok(records)
}

/// An item of the table as its record, every attribute kept.
fn dispatch_record(item: &Item) -> Result<DispatchRecord, String> {
    read_record(item).ok_or_else(|| format!("{item:?} is not a dispatch record"))
}

/// The records as an aligned table.
pub fn records_table(records: &[DispatchRecord]) -> String {
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|record| {
            let shown = record.to_text();
            COLUMNS
                .iter()
                .map(|column| match shown.get(*column) {
                    Some(value) => value.rsplit('/').next().unwrap_or(value).to_owned(),
                    None => "-".to_owned(),
                })
                .collect()
        })
        .collect();
    let header: Vec<String> = COLUMNS.iter().map(|column| column.to_string()).collect();
    let rule: Vec<String> = COLUMNS.iter().map(|_| String::new()).collect();
    aligned(&[vec![header, rule], rows].concat())
}

/// Lays out rows in columns as wide as their widest cell; an empty row is a rule.
fn aligned(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .map(|row| row.get(i).map_or(0, |cell| cell.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in rows {
        let cells: Vec<String> = widths
            .iter()
            .enumerate()
            .map(
                |(i, width)| match row.get(i).filter(|cell| !cell.is_empty()) {
                    Some(cell) => format!("{cell:width$}"),
                    None if row.iter().all(String::is_empty) => "-".repeat(*width),
                    None => " ".repeat(*width),
                },
            )
            .collect();
        text.push_str(&format!("  {}\n", cells.join("  ").trim_end()));
    }
    text
}

/// The `.json` files of `dir`, in name order.
pub fn event_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|err| format!("cannot read {}: {err}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Invokes the function once per file, in order, and returns one line per event: what
/// the function answered, or the error it reported. A crash or a timeout stops the run.
pub async fn invoke_all(api: &RuntimeApi, files: &[PathBuf]) -> Result<String, String> {
    let mut rows = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let cells = match api.invoke(read_json(file)?).await {
            Ok(response) => {
                let text = |key: &str| response[key].as_str().unwrap_or_default().to_owned();
                let what = match text("status").as_str() {
                    "" => text("reason"),
                    status => status.to_owned(),
                };
                vec![
                    name,
                    format!("{} {what}", text("result")),
                    text("dispatchId"),
                ]
            }
            Err(InvocationError::Function {
                error_type,
                error_message,
            }) => {
                vec![name, format!("error {error_type}"), error_message]
            }
            Err(err) => return Err(format!("{name}: {err}")),
        };
        rows.push(cells);
    }
    Ok(aligned(&rows))
}

/// The differences between the records and `expected` (a JSON list of records), in
/// dispatch ID, status and exit code.
pub fn differences(records: &[DispatchRecord], expected: &Value) -> Vec<String> {
    let actual = by_id(records.iter().map(|record| json!(record)));
    let wanted = by_id(expected.as_array().into_iter().flatten().cloned());
    let ids: BTreeSet<&String> = actual.keys().chain(wanted.keys()).collect();
    ids.into_iter()
        .filter(|id| actual.get(*id) != wanted.get(*id))
        .map(|id| {
            let (wanted, actual) = (show(wanted.get(id)), show(actual.get(id)));
            format!("{id}: expected {wanted}, got {actual}")
        })
        .collect()
}

/// The checked attributes of each record (absent ones as null), by dispatch ID.
fn by_id(records: impl Iterator<Item = Value>) -> BTreeMap<String, Value> {
    records
        .map(|record| {
            let id = record[attr::DISPATCH_ID]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let checked = CHECKED
                .iter()
                .map(|name| (name.to_string(), record[*name].clone()))
                .collect();
            (id, Value::Object(checked))
        })
        .collect()
}

fn show(record: Option<&Value>) -> String {
    record.map_or_else(|| "no record".to_owned(), Value::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(dispatch_id: &str) -> DispatchRecord {
        DispatchRecord {
            dispatch_id: dispatch_id.to_owned(),
            ..DispatchRecord::default()
        }
    }

    #[test]
    fn differences_name_each_record_that_is_not_as_expected() {
        let records = [
            DispatchRecord {
                status: Some("COMPLETED".to_owned()),
                exit_code: Some(0),
                ..record("a")
            },
            DispatchRecord {
                status: Some("RUNNING".to_owned()),
                ..record("b")
            },
        ];
        let expected = json!([
            {"dispatchId": "a", "status": "COMPLETED", "exitCode": "0"},
            {"dispatchId": "b", "status": "FAILED", "exitCode": "1"},
            {"dispatchId": "c", "status": "RUNNING"}
        ]);
        let found = differences(&records, &expected);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("b: expected"), "{found:?}");
        assert!(found[1].ends_with("got no record"), "{found:?}");
        assert!(differences(&records[..1], &json!([expected[0]])).is_empty());
    }

    #[test]
    fn tables_align_and_show_only_the_task_id() {
        let records = [DispatchRecord {
            task_arn: Some("arn:aws:ecs:r:1:task/c/abc".to_owned()),
            ..record("a")
        }];
        let table = records_table(&records);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(lines[0].starts_with("  dispatchId  status"), "{table}");
        assert!(lines[1].starts_with("  ----------  ------"), "{table}");
        assert!(lines[2].ends_with("abc"), "{table}");
    }

    #[test]
    fn a_seeded_record_keeps_every_attribute_of_the_file() {
        let file = json!({"dispatchId": "a", "status": "RUNNING", "team": "outpost"});
        let read = seeded(&file).unwrap();
        assert_eq!(read.status.as_deref(), Some("RUNNING"));
        assert_eq!(read.to_text()["team"], "outpost");
        assert!(seeded(&json!({"status": "RUNNING"})).is_err());
    }
}
