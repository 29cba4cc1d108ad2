//! The whole system under chaos, the long run (`testkit::system`): at least 5,000
//! dispatches through the real callback, reconciler and `outpost-ops replay`, 5% of
//! events dropped, 10% DynamoDB faults, one two-hour outage, ECS throttled and failing
//! for a while, the rule disabled for a while.
//!
//!   cargo bench -p bench --bench system -- [--dispatches N] [--seed N]
//!
//! It fails on any broken promise; the latencies by path, the requests per settled
//! dispatch and the knowable exceptions are figures to read (BENCHMARKS.md).

use testkit::system::plan::Knobs;
use testkit::system::run::{run, Reconciler};

fn main() {
    let [dispatches, seed] = bench::options([("dispatches", 5_000), ("seed", 20)]);
    let knobs = Knobs {
        dispatches,
        ..Knobs::long(seed as u64)
    };
    bench::block_on(async {
        let report = run(&knobs, Reconciler::Scheduled).await;
        println!("{}", report.summary());
        for exception in &report.exceptions {
            println!("exception: {exception}");
        }
        assert!(
            report.violations.is_empty(),
            "broken promises:\n{}",
            report.summary()
        );
    });
}
