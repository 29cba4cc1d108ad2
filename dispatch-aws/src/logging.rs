//! The functions' log lines: JSON through `tracing`, one object per line on stdout, which
//! the runbook's `filter-log-events` patterns search.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber. The level comes from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`,
/// else INFO. (Lambda sets `AWS_LAMBDA_LOG_LEVEL` only for a function whose logging config
/// uses the JSON log format; the stack's functions use the text format, so there the level
/// is `RUST_LOG`'s or INFO.) Event fields are top-level keys; the
/// invocation span's fields (the dispatch ID and task ARN) ride along in every line under
/// `span`, so the runbook's `filter-log-events` searches by ID and by `ERROR` find them.
pub fn init() {
    // Lambda's levels are TRACE..ERROR plus FATAL, which `tracing` lacks: FATAL keeps
    // errors. (EnvFilter would read an unknown word as a target name and drop everything.)
    let filter = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .map(|level| match level.to_lowercase().as_str() {
            "fatal" => "error".to_owned(),
            other => other.to_owned(),
        })
        .and_then(|level| EnvFilter::try_new(level).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .with_ansi(false)
        .init();
}
