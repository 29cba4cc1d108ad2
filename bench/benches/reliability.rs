//! Reliability under load, the release binary against moto's DynamoDB (loopback only):
//!
//! 1. a harsh mixed run: every kind of event (see `testkit::reliability`), delivered
//!    asynchronously with Lambda's retries, while the fault proxy fails `--rate` percent
//!    of DynamoDB requests, every kind of fault in turn;
//! 2. a soak: `--soak-events` events (10,000 by default), duplicates and RUNNING events
//!    after their STOPPED one included, through one long-lived function process, with
//!    its resident memory after warm-up and at the end.
//!
//!   cargo bench -p bench --bench reliability -- [--events N] [--rate PERCENT] [--soak-events N]
//!
//! Both report lost / wrong / stray / miscount, which must be zero (the run fails
//! otherwise), and the faults and parked events, which are figures to read.

use dispatch_aws::sdk::Caller;
use std::path::PathBuf;
use std::time::Duration;

use testkit::faults::{Chaos, FaultProxy};
use testkit::reliability::{run, Mix, Report, Scenario};
use testkit::table::TestTable;

const SEED: u64 = 1_130;

/// The release build (`make bench` builds it), or `$FUNCTION_BINARIES`' for a smoke run.
fn release_binary() -> PathBuf {
    testkit::function_binary("bootstrap")
}

async fn mixed_run(events: usize, rate: Option<f64>) -> Report {
    // The harness seeds and reads back the whole table (a Scan of thousands of records
    // after the soak), which no Lambda's 8 s budget is meant for: it calls as a person would.
    let table = TestTable::new(dispatch_aws::sdk::loader(Caller::Person)).await;
    let hold = dispatch_aws::sdk::ATTEMPT_TIMEOUT + Duration::from_millis(500);
    let proxy = FaultProxy::start(&table.server, hold)
        .await
        .expect("start the fault proxy");
    if let Some(rate) = rate {
        proxy.chaos(Chaos::new(SEED, rate, &["UpdateItem", "Query", "GetItem"]));
    }
    let scenario = Scenario::new(Mix { events, seed: SEED });
    let report = run(&release_binary(), &table, &proxy, &scenario).await;
    let violations = report.violations();
    assert!(
        violations.is_empty(),
        "{}\n{}",
        violations.join("\n"),
        report.summary()
    );
    report
}

fn main() {
    let [events, rate, soak_events] =
        bench::options([("events", 600), ("rate", 30), ("soak-events", 10_000)]);
    bench::block_on(async {
        let rate = rate.min(100) as f64 / 100.0;
        let harsh = mixed_run(events.max(1), Some(rate)).await;
        println!(
            "## Harsh mixed run ({:.0} % of DynamoDB requests faulted by chance)\n",
            rate * 100.0
        );
        println!("```\n{}```\n", harsh.summary());
        let soak = mixed_run(soak_events.max(1), None).await;
        println!(
            "## Soak: {} events through one function process\n",
            soak.events
        );
        println!("```\n{}```", soak.summary());
        if let Some((start, end, peak)) = soak.rss_kib {
            let growth = end as f64 / start.max(1) as f64 - 1.0;
            println!(
                "\nRSS {:.1} MiB after warm-up, {:.1} MiB at the end ({:+.1} %), peak {:.1} MiB; \
                 {:.0} events/s",
                start as f64 / 1024.0,
                end as f64 / 1024.0,
                growth * 100.0,
                peak as f64 / 1024.0,
                soak.events as f64 / soak.elapsed.as_secs_f64()
            );
        }
    });
}
