//! The ECS events the rule matches and the function reads.

/// The EventBridge `source` of ECS events.
pub const SOURCE: &str = "aws.ecs";
/// The EventBridge `detail-type` of ECS task state changes.
pub const TASK_STATE_CHANGE: &str = "ECS Task State Change";
/// The `lastStatus` of a task that has stopped for good.
pub const STOPPED: &str = "STOPPED";
