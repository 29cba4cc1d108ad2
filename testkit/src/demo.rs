//! `testkit local`: `make local`'s demo against a stack deployed into moto. It seeds
//! dispatch records, runs the function binary under a local Lambda Runtime API with each
//! sample event, then shows a lost event healed by one reconciler run, and prints the
//! records before and after.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::local;
use crate::runtime::{FunctionProcess, Output, RuntimeApi};

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
    let environment = local::read_environment(&demo.env_file)?;
    let table_var = contract::env::TABLE_NAME;
    let table = environment
        .iter()
        .find(|(name, _)| name == table_var.name)
        .map_or(table_var.default, |(_, value)| value.as_str())
        .to_owned();
    let events = local::event_files(&demo.events)?;
    // The demo only ever runs against moto, under `testkit with-moto`.
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .map_err(|_| "AWS_ENDPOINT_URL is not set: run this under `testkit with-moto`")?;
    let http = aws_smithy_http_client::Builder::new().build_http();
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http);
    let sdk = crate::server::point_at(loader, &endpoint).load().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);

    let seeded = local::seed(&client, &table, &demo.dispatches).await?;
    println!(
        "==> records before ({seeded} seeded from {})",
        demo.dispatches.display()
    );
    print!(
        "{}",
        local::records_table(&local::records(&client, &table).await?)
    );

    println!(
        "\n==> the function binary, once per event in {}",
        demo.events.display()
    );
    let api = RuntimeApi::start(&demo.function_name).map_err(|err| err.to_string())?;
    let function = FunctionProcess::spawn(&demo.binary, &api, &environment, Output::Capture)
        .map_err(|err| format!("cannot start {}: {err}", demo.binary.display()))?;
    let results = local::invoke_all(&api, &events).await;
    let (_, output) = function.stop().await;
    let log: String = output
        .iter()
        .map(|line| format!("{}\n", line.line))
        .collect();
    std::fs::write(&demo.function_log, log)
        .map_err(|err| format!("cannot write {}: {err}", demo.function_log.display()))?;
    print!("{}", results?);
    println!(
        "  (the function's log lines: {})",
        demo.function_log.display()
    );

    if let (Some(binary), Some(name), Some(env_file)) = (
        &demo.reconciler,
        &demo.reconciler_function,
        &demo.reconciler_env_file,
    ) {
        lost_event(&client, &table, &endpoint, binary, name, env_file).await?;
    }

    println!("\n==> records after");
    let records = local::records(&client, &table).await?;
    print!("{}", local::records_table(&records));
    let Some(expect) = demo.expect else {
        return Ok(ExitCode::SUCCESS);
    };
    let differences = local::differences(&records, &local::read_json(&expect)?);
    if differences.is_empty() {
        println!(
            "\n  all {} records are as {} expects",
            records.len(),
            expect.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("\nrecords differ from {}:", expect.display());
    for difference in differences {
        println!("  {difference}");
    }
    Ok(ExitCode::from(1))
}

/// The lost event: a task of dispatch `demo-lost-event` stops, no event reaches the
/// callback, and one run of the reconciler, with the deployed reconciler's environment,
/// settles it.
async fn lost_event(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    endpoint: &str,
    binary: &std::path::Path,
    function_name: &str,
    env_file: &std::path::Path,
) -> Result<(), String> {
    const DISPATCH: &str = "demo-lost-event";
    println!("\n==> a lost event: {DISPATCH}'s task stops in ECS (moto) and no event reaches the callback");
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(aws_smithy_http_client::Builder::new().build_http());
    let cluster = crate::ecs::Cluster::new(endpoint, loader).await;
    let task = cluster.run_task(Some(DISPATCH)).await;
    cluster
        .stop_task(&task, "Essential container in task exited")
        .await;
    let created = (chrono::Utc::now() - chrono::Duration::minutes(30))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    local::put_running(client, table, DISPATCH, &task, &created).await?;
    print!(
        "{}",
        local::records_table(&local::records(client, table).await?)
    );

    println!("\n==> one run of the reconciler ({})", binary.display());
    let api = RuntimeApi::start(function_name).map_err(|err| err.to_string())?;
    let environment = local::read_environment(env_file)?;
    let process = FunctionProcess::spawn(binary, &api, &environment, Output::Capture)
        .map_err(|err| format!("cannot start {}: {err}", binary.display()))?;
    let scheduled = serde_json::json!({"version": "0", "id": "local", "source": "aws.events",
        "detail-type": "Scheduled Event", "detail": {}});
    let report = api.invoke(scheduled).await;
    let _ = process.stop().await;
    println!(
        "  {}",
        report.map_err(|err| format!("the reconciler run failed: {err}"))?
    );
    Ok(())
}
