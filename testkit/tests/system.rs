//! The whole system under chaos, CI's short run: a few hundred dispatches, events
//! dropped, doubled, late and out of order, DynamoDB faults, ECS throttled, one outage
//! longer than ECS's memory and the rule disabled for a while, through the real binaries.
//! It fails on any broken promise; and a run without the reconciler shows that it would
//! catch a broken system.

use testkit::system::plan::Knobs;
use testkit::system::run::{run, Reconciler};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_stopped_tasks_dispatch_ends_right_whichever_path_lost_what() {
    let knobs = Knobs::short(11);
    let report = run(&knobs, Reconciler::Scheduled).await;
    let summary = report.summary();
    println!("{summary}");
    assert!(report.violations.is_empty(), "{summary}");
    // The run went through every path it is meant to.
    assert!(
        report.parked > 0 && report.dropped > 0 && report.rule_disabled > 0,
        "{summary}"
    );
    assert!(report.guesses > 0 && report.corrected > 0, "{summary}");
    assert!(report.failed_runs > 0, "ECS failed for a while: {summary}");
    for path in [
        testkit::system::check::Path::Event,
        testkit::system::check::Path::LateEvent,
        testkit::system::check::Path::Reconciler,
        testkit::system::check::Path::Replay,
    ] {
        assert!(report.latencies.contains_key(&path), "{path:?}: {summary}");
    }
}

/// With the reconciler never scheduled, the dispatches whose events were lost are left
/// behind, and the run says which.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_system_without_its_reconciler_is_caught_leaving_dispatches_behind() {
    let knobs = Knobs {
        dispatches: 120,
        ..Knobs::short(12)
    };
    let report = run(&knobs, Reconciler::Never).await;
    let left: Vec<&String> = report
        .violations
        .iter()
        .filter(|line| line.contains("still RUNNING"))
        .collect();
    assert!(!left.is_empty(), "{}", report.summary());
}
