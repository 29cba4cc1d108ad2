//! Exactly once under faults: the real `bootstrap` binary, one long-lived process, handed
//! 400 events of every kind (see `testkit::reliability`) asynchronously, with
//! Lambda's retries, while the fault proxy fails DynamoDB requests at a moderate seeded
//! rate. No dispatch may be lost, settled wrong, created, or counted other than once.
//!
//! `make bench` runs the same at a harsh rate, and a 10,000-event soak (BENCHMARKS.md).

use dispatch_aws::sdk::Caller;
use std::time::Duration;

use testkit::faults::{Chaos, Fault, FaultProxy};
use testkit::reliability::{run, Mix, Scenario};
use testkit::table::TestTable;

/// About one DynamoDB request in twelve fails, every kind of fault in turn.
const RATE: f64 = 0.08;
/// Fixed, so a failure here reproduces: the same faults hit the same requests.
const SEED: u64 = 20_261_130;

/// The binary of `$FUNCTION_BINARIES` (see `testkit::function_binary`), else the debug
/// build Cargo made for this test.
fn binary() -> std::path::PathBuf {
    match std::env::var_os("FUNCTION_BINARIES") {
        Some(_) => testkit::function_binary("bootstrap"),
        None => env!("CARGO_BIN_EXE_bootstrap").into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_dispatch_is_lost_wrong_stray_or_miscounted_under_faults() {
    let table = TestTable::new(dispatch_aws::sdk::loader(Caller::Lambda)).await;
    let hold = dispatch_aws::sdk::ATTEMPT_TIMEOUT + Duration::from_millis(500);
    let proxy = FaultProxy::start(&table.server, hold).await.unwrap();
    // First, two bursts chance would almost never give: the first write's answer is lost
    // and every attempt of all three deliveries fails (the event is parked, its write
    // landed); then the next write's answer is lost and its first delivery fails (Lambda's
    // retry, with the same request ID, must count that write once).
    let lost_then_failing = |attempts| {
        std::iter::once(Fault::LostResponse)
            .chain(std::iter::repeat_n(Fault::ServerError, attempts))
    };
    let burst = lost_then_failing(8).chain(lost_then_failing(2));
    proxy.script("UpdateItem", burst.map(Some));
    proxy.chaos(Chaos::new(SEED, RATE, &["UpdateItem", "Query", "GetItem"]));
    let scenario = Scenario::new(Mix {
        events: 400,
        seed: SEED,
    });

    let report = run(&binary(), &table, &proxy, &scenario).await;
    let summary = report.summary();
    eprintln!("{summary}");

    let violations = report.violations();
    assert!(
        violations.is_empty(),
        "{}\n{summary}",
        violations.join("\n")
    );
    // The run must have met every fault, the lost answer of a write above all, or it
    // proves nothing about them.
    for kind in Fault::ALL {
        assert!(report.faults.of(kind) > 0, "no {kind} injected\n{summary}");
    }
    let faults = &report.faults.faults;
    let lost_writes = [Fault::LostResponse, Fault::Reset].map(|kind| {
        faults
            .get(&("UpdateItem".to_owned(), kind))
            .copied()
            .unwrap_or(0)
    });
    assert!(lost_writes.iter().sum::<u64>() > 0, "{summary}");
    assert!(report.settled > 100, "{summary}");
    assert_eq!(
        (report.parked, report.parked_after_write),
        (1, 1),
        "{summary}"
    );
    assert!(report.invocations >= report.events + 3, "{summary}");
    assert_eq!(report.events, scenario.events());
}
