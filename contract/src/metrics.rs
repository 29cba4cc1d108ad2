//! The custom metrics: emitted by the function, granted by the role, graphed by the
//! dashboard.

/// The runbook's custom namespace.
pub const NAMESPACE: &str = "Outpost/Callbacks";
/// The one dimension every custom metric carries; its value is the function's name.
pub const FUNCTION_NAME_DIMENSION: &str = "FunctionName";

/// From the task's stop to its dispatch's update, in milliseconds.
pub const CALLBACK_LATENCY_MS: &str = "CallbackLatencyMs";
pub const UPDATES_SUCCESSFUL: &str = "DispatchUpdatesSuccessful";
pub const UPDATES_SKIPPED: &str = "DispatchUpdatesSkipped";
pub const UPDATES_FAILED: &str = "DispatchUpdatesFailed";

/// The three counts, one of which is 1 for each invocation.
pub const UPDATE_COUNTS: [&str; 3] = [UPDATES_SUCCESSFUL, UPDATES_SKIPPED, UPDATES_FAILED];
