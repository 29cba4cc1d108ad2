//! In-process cost of reading an event and deciding its status, per fixture event.
//!
//!   cargo bench -p bench --bench decide

use dispatch::event::{classify, Classified};
use dispatch::status::decide;

fn main() {
    divan::main();
}

const FIXTURES: &[&str] = &[
    "exit-0.json",
    "exit-137.json",
    "failed-to-start-no-containers.json",
    "user-initiated-timeout.json",
    "unknown-fields.json",
    "running.json",
];

/// From the raw bytes the runtime receives, as the function does: JSON to a value, the
/// envelope and detail to types, then the precedence table.
#[divan::bench(args = FIXTURES)]
fn parse_and_decide(bencher: divan::Bencher, name: &str) {
    let raw = testkit::events::fixture_text(name);
    let worker = contract::env::WORKER_CONTAINER.default;
    bencher.bench(|| {
        let payload: serde_json::Value = serde_json::from_str(divan::black_box(&raw)).unwrap();
        match classify(payload).unwrap() {
            Classified::Stopped(task) => Some(decide(&task.detail, worker)),
            Classified::Ignored(_) => None,
        }
    });
}
