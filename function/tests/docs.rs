//! The README and the runbook addendum say what the function does: each status row, each
//! error type, where a throttled event ends up. A change to the function that the docs
//! do not follow fails here.

use contract::resources;
use dispatch::status::EXTERNAL_STOPS;

fn read(name: &str) -> String {
    let path = testkit::repo_root().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn every_status_row_and_error_type_is_documented() {
    let readme = read("README.md");
    let addendum = read("RUNBOOK-ADDENDUM.md");
    for code in EXTERNAL_STOPS {
        assert!(
            readme.contains(&format!("`{code}`")),
            "README lacks the {code} row"
        );
        assert!(
            addendum.contains(&format!("`{code}`")),
            "the addendum lacks {code}"
        );
    }
    for error_type in [
        "ValidationException",
        "DispatchNotFound",
        "AmbiguousDispatch",
        "UnexplainedConflict",
    ] {
        assert!(
            readme.contains(&format!("`{error_type}`")),
            "README lacks {error_type}"
        );
        assert!(
            addendum.contains(&format!("`{error_type}`")),
            "the addendum lacks {error_type}"
        );
    }
}

#[test]
fn the_throttles_row_names_the_on_failure_queue() {
    let readme = read("README.md");
    let row = readme
        .lines()
        .find(|line| line.starts_with(&format!("| `{}`", resources::alarms::THROTTLES)))
        .expect("the on-call table has a throttles row");
    // Lambda keeps a throttled asynchronous event, then sends it to the function's
    // on-failure destination; the rule's dead-letter queue never sees it.
    assert!(
        row.contains(&format!("`{}`", resources::FAILURE_QUEUE)),
        "{row}"
    );
    assert!(row.contains("6 hours"), "{row}");
}
