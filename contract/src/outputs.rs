//! The stack's outputs that tools read to find the deployed resources, and the logical ID
//! each one names. `outpost-ops` reads every resource name through these, so it works on
//! any stack this repository deployed, whatever its names.

/// One output of the stack: its key, and the logical ID of the resource it names (synth
/// builds each output from that resource, so the two cannot drift apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Output {
    pub key: &'static str,
    pub logical_id: &'static str,
}

impl Output {
    const fn new(key: &'static str, logical_id: &'static str) -> Output {
        Output { key, logical_id }
    }
}

/// The dispatch table's name.
pub const TABLE_NAME: Output = Output::new("TableName", "DispatchTable");
/// The callback function's name.
pub const FUNCTION_NAME: Output = Output::new("FunctionName", "CallbackFunction");
/// The callback's log group.
pub const LOG_GROUP_NAME: Output = Output::new("LogGroupName", "CallbackLogGroup");
/// The rule that sends stopped ECS tasks to the callback.
pub const RULE_NAME: Output = Output::new("RuleName", "CompletionRule");
/// The callback's on-failure destination (Lambda's envelope around each parked event).
pub const FAILURE_QUEUE_URL: Output = Output::new("FailureQueueUrl", "CallbackFailureQueue");
/// The rule's dead-letter queue (each message is the event EventBridge could not deliver).
pub const DEAD_LETTER_QUEUE_URL: Output =
    Output::new("DeadLetterQueueUrl", "CompletionDeadLetterQueue");
/// The reconciler function's name.
pub const RECONCILER_FUNCTION_NAME: Output =
    Output::new("ReconcilerFunctionName", "ReconcilerFunction");
/// The reconciler's log group.
pub const RECONCILER_LOG_GROUP_NAME: Output =
    Output::new("ReconcilerLogGroupName", "ReconcilerLogGroup");
/// The schedule that invokes the reconciler.
pub const RECONCILER_SCHEDULE_NAME: Output =
    Output::new("ReconcilerScheduleName", "ReconcilerSchedule");

/// Every output a tool reads by name.
pub const ALL: [Output; 9] = [
    TABLE_NAME,
    FUNCTION_NAME,
    LOG_GROUP_NAME,
    RULE_NAME,
    FAILURE_QUEUE_URL,
    DEAD_LETTER_QUEUE_URL,
    RECONCILER_FUNCTION_NAME,
    RECONCILER_LOG_GROUP_NAME,
    RECONCILER_SCHEDULE_NAME,
];
