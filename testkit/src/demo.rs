//! `testkit local`: `make local`'s demo against a stack deployed into moto. It seeds
//! dispatch records, runs the function binary under a local Lambda Runtime API with each
//! sample event, then shows a lost event healed by one reconciler run, and prints the
//! records before and after.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aws_sdk_dynamodb::Client;
use clap::Args;
use contract::table::attr;
use dispatch::record::{self, DispatchRecord};
use serde_json::{json, Value};

use crate::runtime::{FunctionProcess, InvocationError, Output, RuntimeApi};
use crate::table::{put, scan};

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

#[derive(Debug, Args)]
pub struct Demo {
    #[arg(long, value_name = "PATH")]
    binary: PathBuf,
    #[arg(long, value_name = "NAME")]
    function_name: String,
    #[arg(long, value_name = "ENV_FILE")]
    env_file: PathBuf,
    /// A JSON list of records to write before the events.
    #[arg(long, value_name = "FILE")]
    dispatches: PathBuf,
    /// A folder of event files, invoked in name order.
    #[arg(long, value_name = "DIR")]
    events: PathBuf,
    /// Where the function's own output (its JSON log lines) is written.
    #[arg(long, value_name = "FILE")]
    function_log: PathBuf,
    /// The reconciler's binary: after the events, a task stops with no event for its
    /// dispatch (a lost event), and one reconciler run settles it.
    #[arg(long, value_name = "PATH", requires_all = ["reconciler_function", "reconciler_env_file"])]
    reconciler: Option<PathBuf>,
    #[arg(long, value_name = "NAME")]
    reconciler_function: Option<String>,
    /// The deployed reconciler's environment, as for ENV_FILE.
    #[arg(long, value_name = "FILE")]
    reconciler_env_file: Option<PathBuf>,
    /// Exit 1 unless the records end as FILE says (dispatch ID, status, exit code).
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
}

/// Runs the demo; exit 1 when the records end otherwise than `--expect` says.
pub async fn run(demo: Demo) -> Result<ExitCode, String> {
    let environment = read_environment(&demo.env_file)?;
    let table_var = contract::env::TABLE_NAME;
    let table = environment
        .iter()
        .find(|(name, _)| name == table_var.name)
        .map_or(table_var.default, |(_, value)| value.as_str())
        .to_owned();
    let events = event_files(&demo.events)?;
    // The demo only ever runs against moto, under `testkit with-moto`.
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .map_err(|_| "AWS_ENDPOINT_URL is not set: run this under `testkit with-moto`")?;
    let sdk = crate::server::point_at(loader(), &endpoint).load().await;
    let client = Client::new(&sdk);

    let seeded = seed(&client, &table, &demo.dispatches).await?;
    let dispatches = demo.dispatches.display();
    println!("==> records before ({seeded} seeded from {dispatches})");
    print_records(&client, &table).await?;

    let events_dir = demo.events.display();
    println!("\n==> the function binary, once per event in {events_dir}");
    let api = RuntimeApi::start(&demo.function_name).map_err(|err| err.to_string())?;
    let function = FunctionProcess::spawn(&demo.binary, &api, &environment, Output::Capture)
        .map_err(|err| format!("cannot start {}: {err}", demo.binary.display()))?;
    let results = invoke_all(&api, &events).await;
    let (_, output) = function.stop().await;
    let log: String = output.iter().map(|line| line.line.clone() + "\n").collect();
    let function_log = demo.function_log.display();
    std::fs::write(&demo.function_log, log)
        .map_err(|err| format!("cannot write {function_log}: {err}"))?;
    print!("{}", results?);
    println!("  (the function's log lines: {function_log})");

    lost_event(&client, &table, &endpoint, &demo).await?;

    println!("\n==> records after");
    let records = print_records(&client, &table).await?;
    let Some(expect) = demo.expect else {
        return Ok(ExitCode::SUCCESS);
    };
    let differences = differences(&records, &read_json(&expect)?);
    let (count, expect) = (records.len(), expect.display());
    if differences.is_empty() {
        println!("\n  all {count} records are as {expect} expects");
        return Ok(ExitCode::SUCCESS);
    }
    println!("\nrecords differ from {expect}:");
    for difference in differences {
        println!("  {difference}");
    }
    Ok(ExitCode::from(1))
}

/// The SDK's defaults, on a plain HTTP client: moto is on loopback.
fn loader() -> aws_config::ConfigLoader {
    let http = aws_smithy_http_client::Builder::new().build_http();
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http)
}

/// The lost event: a task of dispatch `demo-lost-event` stops, no event reaches the
/// callback, and one run of the reconciler, with the deployed reconciler's environment,
/// settles it; with `--reconciler` only.
async fn lost_event(client: &Client, table: &str, moto: &str, demo: &Demo) -> Result<(), String> {
    let (Some(binary), Some(function_name), Some(env_file)) = (
        &demo.reconciler,
        &demo.reconciler_function,
        &demo.reconciler_env_file,
    ) else {
        return Ok(());
    };
    const DISPATCH: &str = "demo-lost-event";
    println!("\n==> a lost event: {DISPATCH}'s task stops in ECS (moto) and no event reaches the callback");
    let cluster = crate::ecs::Cluster::new(moto, loader()).await;
    let task = cluster.run_task(Some(DISPATCH)).await;
    cluster
        .stop_task(&task, "Essential container in task exited")
        .await;
    let created = chrono::Utc::now() - chrono::Duration::minutes(30);
    let created = created.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let running = contract::status::RUNNING;
    let record = crate::table::launched(DISPATCH, running, Some(&task), &created);
    put(client, table, &record).await?;
    print_records(client, table).await?;

    println!("\n==> one run of the reconciler ({})", binary.display());
    let api = RuntimeApi::start(function_name).map_err(|err| err.to_string())?;
    let environment = read_environment(env_file)?;
    let process = FunctionProcess::spawn(binary, &api, &environment, Output::Capture)
        .map_err(|err| format!("cannot start {}: {err}", binary.display()))?;
    let scheduled = json!({"version": "0", "id": "local", "source": "aws.events",
        "detail-type": "Scheduled Event", "detail": {}});
    let report = api.invoke(scheduled).await;
    let _ = process.stop().await;
    let report = report.map_err(|err| format!("the reconciler run failed: {err}"))?;
    println!("  {report}");
    Ok(())
}

/// Reads a JSON file.
fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    serde_json::from_str(&text).map_err(|err| format!("{} is not JSON: {err}", path.display()))
}

/// A deployed function's environment (a JSON object of strings, as `aws lambda
/// get-function-configuration --query Environment.Variables` prints it).
fn read_environment(path: &Path) -> Result<Vec<(String, String)>, String> {
    let environment = read_json(path)?;
    let variables = environment
        .as_object()
        .ok_or_else(|| format!("{} is not a JSON object", path.display()))?;
    Ok(variables
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_owned()))
        .collect())
}

/// Writes each record of `file` (a JSON list of objects of strings) into `table`.
async fn seed(client: &Client, table: &str, file: &Path) -> Result<usize, String> {
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

/// Prints every record of `table` as an aligned table, and returns them by dispatch ID.
async fn print_records(client: &Client, table: &str) -> Result<Vec<DispatchRecord>, String> {
    let mut records = scan(client, table).await?;
    records.sort_by(|a, b| a.dispatch_id.cmp(&b.dispatch_id));
    print!("{}", records_table(&records));
    Ok(records)
}

/// The records as an aligned table.
fn records_table(records: &[DispatchRecord]) -> String {
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
fn event_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|err| format!("cannot read {}: {err}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Invokes the function once per file, in order, and returns one line per event: what
/// the function answered, or the error it reported. A crash or a timeout stops the run.
async fn invoke_all(api: &RuntimeApi, files: &[PathBuf]) -> Result<String, String> {
    let mut rows = Vec::new();
    for file in files {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let (outcome, detail) = match api.invoke(read_json(file)?).await {
            Ok(response) => {
                let text = |key: &str| response[key].as_str().unwrap_or_default().to_owned();
                let what = match text("status").as_str() {
                    "" => text("reason"),
                    status => status.to_owned(),
                };
                (format!("{} {what}", text("result")), text("dispatchId"))
            }
            Err(InvocationError::Function {
                error_type,
                error_message,
            }) => (format!("error {error_type}"), error_message),
            Err(err) => return Err(format!("{name}: {err}")),
        };
        rows.push(vec![name.into_owned(), outcome, detail]);
    }
    Ok(aligned(&rows))
}

/// The differences between the records and `expected` (a JSON list of records), in
/// dispatch ID, status and exit code.
fn differences(records: &[DispatchRecord], expected: &Value) -> Vec<String> {
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
            let id = record[attr::DISPATCH_ID].as_str().unwrap_or_default();
            let checked = CHECKED
                .iter()
                .map(|name| (name.to_string(), record[*name].clone()))
                .collect();
            (id.to_owned(), Value::Object(checked))
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
