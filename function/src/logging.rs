//! JSON log lines through `tracing`, one object per line on stdout.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber. The level comes from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's
/// logging config) or `RUST_LOG`, else INFO. Event fields are top-level keys; the
/// invocation span's fields (the dispatch ID and task ARN) ride along in every line under
/// `span`, so the runbook's `filter-log-events` searches by ID and by `ERROR` find them.
pub fn init() {
    let filter = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .and_then(|level| EnvFilter::try_new(level.to_lowercase()).ok())
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
