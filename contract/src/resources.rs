//! The names of the deployed resources, as the runbook's commands spell them.

/// The CloudFormation stack `make deploy` creates, and the tools look up by default.
pub const STACK: &str = "outpost-dispatch-callback";
/// The CloudFormation stack `make bootstrap` creates once per account and region: the
/// bucket that holds the functions' code.
pub const BOOTSTRAP_STACK: &str = "outpost-dispatch-bootstrap";
/// The callback function.
pub const FUNCTION: &str = "outpost-dispatch-callback";
/// The scheduled function that settles what the event path lost.
pub const RECONCILER: &str = "outpost-dispatch-reconciler";
/// Its log group.
pub const RECONCILER_LOG_GROUP: &str = "/aws/lambda/outpost-dispatch-reconciler";
/// The EventBridge schedule that invokes it.
pub const RECONCILER_SCHEDULE: &str = "outpost-dispatch-reconciler-schedule";
/// The function's log group: Lambda's default name for it, which the runbook uses.
pub const LOG_GROUP: &str = "/aws/lambda/outpost-dispatch-callback";
/// The EventBridge rule that sends stopped ECS tasks to the function.
pub const RULE: &str = "outpost-dispatch-completion";
/// Where Lambda puts an event that failed every retry (the function's on-failure destination).
pub const FAILURE_QUEUE: &str = "outpost-dispatch-callback-failures";
/// Where EventBridge puts an event it could not deliver to the function.
pub const DEAD_LETTER_QUEUE: &str = "outpost-dispatch-completion-dlq";
/// The CloudWatch dashboard of the system.
pub const DASHBOARD: &str = "outpost-dispatch-callback";
/// The ECS cluster the rule listens to when the stack is given none.
pub const DEFAULT_CLUSTER: &str = "outpost-dev";

/// The alarms, by name. The first three are the runbook's section 3.
pub mod alarms {
    pub const ERRORS: &str = "outpost-dispatch-callback-errors";
    pub const DURATION: &str = "outpost-dispatch-callback-duration";
    pub const THROTTLES: &str = "outpost-dispatch-callback-throttles";
    /// A message waits in [`super::FAILURE_QUEUE`].
    pub const FAILURES_WAITING: &str = "outpost-dispatch-callback-failures-waiting";
    /// A message waits in [`super::DEAD_LETTER_QUEUE`].
    pub const DEAD_LETTERS_WAITING: &str = "outpost-dispatch-completion-dlq-waiting";
    /// A reconciler run settled a dispatch: the event path lost its event.
    pub const RECONCILER_SETTLED: &str = "outpost-dispatch-reconciler-settled";
    /// The reconciler itself failed.
    pub const RECONCILER_ERRORS: &str = "outpost-dispatch-reconciler-errors";
    /// Every reconciler run for 30 minutes left dispatches unchecked.
    pub const RECONCILER_UNCHECKED: &str = "outpost-dispatch-reconciler-unchecked";
    /// A dispatch that never recorded a task is older than the maximum age.
    pub const RECONCILER_NO_TASK: &str = "outpost-dispatch-reconciler-no-task-past-max-age";

    /// Every alarm of the stack.
    pub const ALL: [&str; 9] = [
        ERRORS,
        DURATION,
        THROTTLES,
        FAILURES_WAITING,
        DEAD_LETTERS_WAITING,
        RECONCILER_SETTLED,
        RECONCILER_ERRORS,
        RECONCILER_UNCHECKED,
        RECONCILER_NO_TASK,
    ];
}
