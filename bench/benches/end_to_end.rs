//! The function's end-to-end figures, measured the way Lambda runs it: the release
//! binary under a local Runtime API, against moto's DynamoDB on loopback.
//!
//!   cargo bench -p bench --bench end_to_end -- [--events N] [--starts N]
//!
//! `make bench` runs it with the targets' sample sizes and prints a Markdown report;
//! `make bench BENCH_SMOKE=1` runs a short smoke (CI checks only that it runs: these
//! are figures to read, never assertions).

use dispatch_aws::sdk::Caller;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dispatch::settlement::Settlement;
use dispatch::status::DispatchStatus;
use dispatch_aws::table::{DispatchStore, DynamoStore};
use testkit::events::{fixture, with_dispatch_id, with_task_arn, TASK_ARN};
use testkit::runtime::{FunctionProcess, Output, RuntimeApi};
use testkit::table::TestTable;

/// The release build (`make bench` builds it), or `$FUNCTION_BINARIES`' for a smoke run.
fn release_binary(name: &str) -> PathBuf {
    testkit::function_binary(name)
}

/// Latency figures in milliseconds.
struct Summary {
    p50: f64,
    p95: f64,
    p99: f64,
    count: usize,
}

fn summarize(mut samples: Vec<Duration>) -> Summary {
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[index].as_secs_f64() * 1000.0
    };
    Summary {
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        count: samples.len(),
    }
}

/// The template's environment for the function, pointed at moto.
fn function_env(table: &TestTable) -> Vec<(String, String)> {
    // Warnings only: the figures are for the work, not for writing INFO lines.
    let quiet = ("AWS_LAMBDA_LOG_LEVEL".to_owned(), "WARN".to_owned());
    testkit::template::function_environment()
        .into_iter()
        .chain(table.server.env())
        .chain([quiet])
        .collect()
}

fn api() -> RuntimeApi {
    RuntimeApi::start(contract::resources::FUNCTION).expect("local Runtime API")
}

/// Where a function finds the system's trust roots at start: the layouts of issue #22.
struct Layout {
    name: &'static str,
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR`, set whatever this machine's environment says.
    file: PathBuf,
    dir: PathBuf,
}

/// The system's store (the bundle and every file of the certificate folder), the bundle
/// only (the one-bundle layout of Lambda's `provided.al2023`), and none; the first two only
/// where this machine has a bundle.
fn layouts(nothing: &Path) -> Vec<Layout> {
    let empty_file = nothing.join("no-roots.pem");
    let empty_dir = nothing.join("no-certs");
    std::fs::write(&empty_file, b"").expect("an empty bundle");
    std::fs::create_dir_all(&empty_dir).expect("an empty folder");
    let bundle = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|bundle| bundle.is_file());
    let mut layouts = Vec::new();
    if let Some(bundle) = bundle {
        let folder = bundle.parent().expect("the bundle's folder").to_owned();
        layouts.push(Layout {
            name: "system store (bundle + every file of its folder)",
            file: bundle.clone(),
            dir: folder,
        });
        layouts.push(Layout {
            name: "bundle only (SSL_CERT_DIR empty)",
            file: bundle,
            dir: empty_dir.clone(),
        });
    }
    layouts.push(Layout {
        name: "none",
        file: empty_file,
        dir: empty_dir,
    });
    layouts
}

/// One way to start: the roots the function is told to trust, and what it finds.
struct Setup<'a> {
    tls_roots: &'static str,
    layout: &'a Layout,
}

/// The cold starts of one setup, and the first two invocations after each.
struct ColdStarts {
    init: Vec<Duration>,
    first: Vec<Duration>,
    second: Vec<Duration>,
}

/// From process start to the first `GET /runtime/invocation/next`, then the first and the
/// second invocation, `starts` times for each setup, the setups taken in turn so that a
/// neighbour's load falls on all of them alike.
async fn cold_starts(
    binary: &Path,
    table: &TestTable,
    setups: &[Setup<'_>],
    starts: usize,
) -> Vec<ColdStarts> {
    let mut measured: Vec<ColdStarts> = setups
        .iter()
        .map(|_| ColdStarts {
            init: Vec::with_capacity(starts),
            first: Vec::with_capacity(starts),
            second: Vec::with_capacity(starts),
        })
        .collect();
    let event = fixture("exit-0.json");
    for start in 0..starts {
        for (index, setup) in setups.iter().enumerate() {
            let dispatch = |nth: usize| format!("cold-{index}-{start}-{nth}");
            for nth in [1, 2] {
                table.put_dispatch(&dispatch(nth), "RUNNING", None).await;
            }
            let env: Vec<(String, String)> = function_env(table)
                .into_iter()
                .chain([
                    (
                        contract::env::TLS_ROOTS.name.to_owned(),
                        setup.tls_roots.to_owned(),
                    ),
                    ("SSL_CERT_FILE".to_owned(), path_text(&setup.layout.file)),
                    ("SSL_CERT_DIR".to_owned(), path_text(&setup.layout.dir)),
                ])
                .collect();
            let api = api();
            let function = FunctionProcess::spawn(binary, &api, &env, Output::Null)
                .expect("spawn the function");
            let first_poll = tokio::time::timeout(Duration::from_secs(10), api.first_poll())
                .await
                .expect("the function polled for its first event");
            measured[index]
                .init
                .push(first_poll - function.started_at());
            for nth in [1, 2] {
                let started = Instant::now();
                let response = api
                    .invoke(with_dispatch_id(event.clone(), &dispatch(nth)))
                    .await
                    .expect("invocation");
                assert_eq!(response["result"], "updated", "{response}");
                let samples = if nth == 1 {
                    &mut measured[index].first
                } else {
                    &mut measured[index].second
                };
                samples.push(started.elapsed());
            }
            function.stop().await.0.expect("stop the function");
        }
    }
    measured
}

fn path_text(path: &Path) -> String {
    path.to_str().expect("a UTF-8 path").to_owned()
}

fn min_ms(samples: &[Duration]) -> f64 {
    samples.iter().min().map_or(f64::NAN, Duration::as_secs_f64) * 1000.0
}

async fn seed(table: &TestTable, prefix: &str, count: usize) {
    for i in 0..count {
        table
            .put_dispatch(&format!("{prefix}-{i}"), "RUNNING", None)
            .await;
    }
}

/// Peak resident memory of a process, from /proc (Linux), in MiB.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

struct PerEvent {
    first_invocation: Duration,
    function: Summary,
    bare: Summary,
    counts: serde_json::Value,
    gsi_counts: serde_json::Value,
    peak_rss_mib: Option<f64>,
}

async fn per_event(binary: &Path, table: &TestTable, events: usize) -> PerEvent {
    seed(table, "fn", events).await;
    seed(table, "bare", events).await;
    let api = api();
    let function = FunctionProcess::spawn(binary, &api, &function_env(table), Output::Null)
        .expect("spawn the function");
    // The first invocation is reported on its own: it opens the connection to DynamoDB
    // (and in AWS, the TLS session), which no later invocation pays for.
    table.put_dispatch("warm-up", "RUNNING", None).await;
    let started = Instant::now();
    api.invoke(with_dispatch_id(fixture("exit-0.json"), "warm-up"))
        .await
        .expect("warm-up");
    let first_invocation = started.elapsed();

    table.server.request_counts(true);
    let base = fixture("exit-0.json");
    let mut samples = Vec::with_capacity(events);
    for i in 0..events {
        let event = with_dispatch_id(base.clone(), &format!("fn-{i}"));
        let started = Instant::now();
        let response = api.invoke(event).await.expect("invocation");
        samples.push(started.elapsed());
        assert_eq!(response["result"], "updated", "{response}");
    }
    let counts = table.server.request_counts(true);
    let gsi_events = events.min(20);
    let gsi_counts = gsi_lookups(&api, table, gsi_events).await;
    let peak_rss_mib = function.pid().and_then(peak_rss_mib);
    function.stop().await.0.expect("stop the function");

    PerEvent {
        first_invocation,
        function: summarize(samples),
        bare: summarize(bare_client(table, events).await),
        counts,
        gsi_counts: serde_json::json!({"events": gsi_events, "requests": gsi_counts}),
        peak_rss_mib,
    }
}

/// Events without a dispatch ID cost a GSI query as well; a handful shows the count.
async fn gsi_lookups(api: &RuntimeApi, table: &TestTable, gsi_events: usize) -> serde_json::Value {
    for i in 0..gsi_events {
        let arn = format!("arn:aws:ecs:us-east-1:311493921645:task/outpost-dev/gsi{i}");
        table
            .put_dispatch(&format!("gsi-{i}"), "RUNNING", Some(&arn))
            .await;
    }
    table.server.request_counts(true);
    for i in 0..gsi_events {
        let arn = format!("arn:aws:ecs:us-east-1:311493921645:task/outpost-dev/gsi{i}");
        let event = with_task_arn(fixture("no-dispatch-id.json"), &arn);
        api.invoke(event).await.expect("invocation");
    }
    table.server.request_counts(true)
}

/// The same UpdateItem as the function's, through a bare SDK client in a loop, against
/// the same server: each call's time.
async fn bare_client(table: &TestTable, events: usize) -> Vec<Duration> {
    let store = DynamoStore::new(
        table.client.clone(),
        contract::table::NAME,
        contract::table::TASK_ARN_INDEX.name,
    );
    let mut bare = Vec::with_capacity(events);
    for i in 0..events {
        let settlement = Settlement {
            dispatch_id: format!("bare-{i}"),
            task_arn: Some(TASK_ARN.to_owned()),
            status: DispatchStatus::Completed,
            ended_at: "2026-01-15T19:39:31Z".to_owned(),
            exit_code: Some(0),
            stop_code: Some("EssentialContainerExited".to_owned()),
            stopped_reason: Some("Essential container in task exited".to_owned()),
            ecs_version: Some(5),
            updated_at: "2026-01-15T19:39:32Z".to_owned(),
            request_id: format!("bare-request-{i}"),
            audit: None,
            provisional: false,
        };
        let started = Instant::now();
        store.settle(&settlement).await.expect("bare UpdateItem");
        bare.push(started.elapsed());
    }
    bare
}

/// The whole `synth` process, `runs` times.
fn synth_runs(binary: &Path, runs: usize) -> Summary {
    let samples = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let output = std::process::Command::new(binary)
                .output()
                .expect("run synth");
            assert!(output.status.success());
            started.elapsed()
        })
        .collect();
    summarize(samples)
}

/// The size of each package `make package` last made, as (function, architecture, bytes).
fn zip_sizes() -> Vec<(String, String, u64)> {
    let mut sizes = Vec::new();
    for arch in ["arm64", "x86_64"] {
        for function in ["callback", "reconciler"] {
            let record = testkit::repo_root().join(format!("dist/{arch}.{function}.zip-path"));
            let Ok(path) = std::fs::read_to_string(record) else {
                continue;
            };
            if let Ok(metadata) = std::fs::metadata(testkit::repo_root().join(path.trim())) {
                sizes.push((function.to_owned(), arch.to_owned(), metadata.len()));
            }
        }
    }
    sizes
}

fn row(name: &str, summary: &Summary, target: &str) {
    println!(
        "| {name} | {} | {:.2} | {:.2} | {:.2} | {target} |",
        summary.count, summary.p50, summary.p95, summary.p99
    );
}

/// The functions' default with each layout (it reads none of them), and the fallback to
/// the system's store (the SDK's own client, as before issue #22) with each. The fallback
/// with no roots at all is the floor the issue measured; a debug build of the SDK's
/// client asserts that it found roots, so the smoke run (debug binaries, debug harness)
/// leaves that one out.
fn setups(layouts: &[Layout]) -> Vec<Setup<'_>> {
    let compiled = layouts.iter().map(|layout| Setup {
        tls_roots: contract::env::tls_roots::COMPILED,
        layout,
    });
    let system = layouts
        .iter()
        .filter(|layout| !cfg!(debug_assertions) || layout.name != "none")
        .map(|layout| Setup {
            tls_roots: contract::env::tls_roots::SYSTEM,
            layout,
        });
    compiled.chain(system).collect()
}

/// The cold starts' table: init, first and second invocation, by roots and layout.
fn print_cold_starts(setups: &[Setup], measured: &[ColdStarts], starts: usize) {
    println!("Cold starts by trust roots, {starts} starts each (ms):");
    println!();
    println!("| TLS_ROOTS | trust roots at start | init p50 | init min | first invocation p50 | second invocation p50 |");
    println!("|---|---|---|---|---|---|");
    for (setup, measured) in setups.iter().zip(measured) {
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            setup.tls_roots,
            setup.layout.name,
            summarize(measured.init.clone()).p50,
            min_ms(&measured.init),
            summarize(measured.first.clone()).p50,
            summarize(measured.second.clone()).p50,
        );
    }
    println!();
}

/// The per-event figures beside the table: first invocation, ratio, requests, memory.
fn print_per_event(per_event: &PerEvent, events: usize) {
    println!(
        "- first invocation after a cold start: {:.2} ms (opens the DynamoDB connection)",
        per_event.first_invocation.as_secs_f64() * 1000.0
    );
    println!(
        "- per-event p50 ratio, function / bare SDK: {:.2} (target <= 1.2)",
        per_event.function.p50 / per_event.bare.p50
    );
    println!(
        "- DynamoDB requests for {} events carrying a dispatch ID: {} (target: one UpdateItem each, nothing else)",
        events, per_event.counts
    );
    println!(
        "- requests for events found through the GSI: {} (target: one Query and one UpdateItem each)",
        per_event.gsi_counts
    );
    match per_event.peak_rss_mib {
        Some(mib) => println!(
            "- function peak RSS after {} events: {mib:.1} MiB (target <= 20 MB)",
            events + per_event.gsi_counts["events"].as_u64().unwrap_or(0) as usize + 1
        ),
        None => println!("- function peak RSS: not available (no /proc)"),
    }
}

fn main() {
    let [events, starts] = bench::options([("events", 1000), ("starts", 20)]);
    let (events, starts) = (events.max(1), starts.max(1));
    let binary = release_binary("bootstrap");
    assert!(
        binary.exists(),
        "{binary:?} is missing: run `make build` (or `make bench`)"
    );
    bench::block_on(async {
        let table = TestTable::new(dispatch_aws::sdk::loader(Caller::Lambda)).await;
        let nothing = tempfile::tempdir().expect("a folder for the empty layout");
        let layouts = layouts(nothing.path());
        let setups = setups(&layouts);
        let measured = cold_starts(&binary, &table, &setups, starts).await;
        let cold = summarize(measured[0].init.clone());
        let per_event = per_event(&binary, &table, events).await;
        let synth = release_binary("synth");
        let synth = synth.exists().then(|| synth_runs(&synth, starts));

        println!("| measure | samples | p50 ms | p95 ms | p99 ms | target |");
        println!("|---|---|---|---|---|---|");
        row(
            "cold start: process start to first /next (compiled roots)",
            &cold,
            "p50 < 2.5 ms",
        );
        row(
            "per event: function under the Runtime API",
            &per_event.function,
            "p50 <= 1.2 x bare",
        );
        row("per event: bare SDK UpdateItem", &per_event.bare, "");
        if let Some(synth) = &synth {
            row("synth: whole process", synth, "<= 20 ms");
        }
        println!();
        print_cold_starts(&setups, &measured, starts);
        print_per_event(&per_event, events);
        for (function, arch, size) in zip_sizes() {
            println!(
                "- package, {function} {arch}: {size} bytes ({:.2} MiB; target for the callback on arm64 <= 4 MB)",
                size as f64 / 1_048_576.0
            );
        }
    });
}
