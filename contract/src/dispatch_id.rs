//! Where the dispatcher (the control plane) puts a task's dispatch ID when it launches it
//! (runbook, "Where Dispatch ID Should Be Set").

/// The environment variable in a container override.
pub const ENV_NAME: &str = "DISPATCH_ID";
/// The task group prefix: `dispatch:<id>`.
pub const GROUP_PREFIX: &str = "dispatch:";
/// The task tag key.
pub const TAG_KEY: &str = "dispatch_id";
