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
/// A task's own event replaced the reconciler's provisional guess with the true outcome
/// (counted on the update, beside [`UPDATES_SUCCESSFUL`]).
pub const GUESSES_CORRECTED: &str = "DispatchGuessesCorrected";

/// The three counts, one of which is 1 for each invocation.
pub const UPDATE_COUNTS: [&str; 3] = [UPDATES_SUCCESSFUL, UPDATES_SKIPPED, UPDATES_FAILED];

/// The dimension that says why an update was skipped; it rides on
/// [`UPDATES_SKIPPED`] beside `FunctionName`, so the dashboard can show tasks with no
/// dispatch ID apart from ordinary duplicates.
pub const SKIP_REASON_DIMENSION: &str = "SkipReason";

/// Why an invocation wrote nothing. None of these is an error: each is normal operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// Another source or detail type (the rule should never send these).
    NotTaskStateChange,
    /// A task state change for a task that has not stopped yet.
    NotStopped,
    /// The task names no dispatch and the task ARN index finds none: not a dispatch, or
    /// the launch race (a task that stopped before its record named it).
    NoDispatchId,
    /// The dispatch is already settled: a duplicate or late event.
    AlreadyTerminal,
    /// The dispatch belongs to another task.
    OwnedByOtherTask,
}

impl SkipReason {
    pub const ALL: [SkipReason; 5] = [
        SkipReason::NotTaskStateChange,
        SkipReason::NotStopped,
        SkipReason::NoDispatchId,
        SkipReason::AlreadyTerminal,
        SkipReason::OwnedByOtherTask,
    ];

    /// The value of the [`SKIP_REASON_DIMENSION`] dimension.
    pub const fn as_str(self) -> &'static str {
        match self {
            SkipReason::NotTaskStateChange => "NotTaskStateChange",
            SkipReason::NotStopped => "NotStopped",
            SkipReason::NoDispatchId => "NoDispatchId",
            SkipReason::AlreadyTerminal => "AlreadyTerminal",
            SkipReason::OwnedByOtherTask => "OwnedByOtherTask",
        }
    }
}

/// The reconciler's figures, one set per run.
pub mod reconciler {
    /// Stopped tasks ECS listed in the watched clusters (the last hour's stops).
    pub const STOPPED_TASKS: &str = "ReconcilerStoppedTasks";
    /// Dispatches the run's sweep examined.
    pub const EXAMINED: &str = "ReconcilerExamined";
    /// Dispatches it settled (also by `Status`): each is an event the event path lost.
    pub const SETTLED: &str = "ReconcilerSettled";
    /// Dispatches whose task still runs.
    pub const STILL_RUNNING: &str = "ReconcilerStillRunning";
    /// Dispatches whose task ECS no longer knows (closed once past the maximum age).
    pub const TASK_MISSING: &str = "ReconcilerTaskMissing";
    /// Dispatches that name no task: only reported.
    pub const NO_TASK: &str = "ReconcilerNoTask";
    /// Of those, dispatches older than the maximum age: never closed by a guess (in the
    /// launch race their true outcome may still arrive), so a person is told, and closes
    /// them with `outpost-ops settle`.
    pub const NO_TASK_PAST_MAX_AGE: &str = "ReconcilerNoTaskPastMaxAge";
    /// Dispatches it could not check or settle (an ECS or DynamoDB failure).
    pub const UNCHECKED: &str = "ReconcilerUnchecked";
    /// Dispatches whose task is of another region, account or cluster: left alone.
    pub const OUTSIDE_STACK: &str = "ReconcilerOutsideStack";
    /// The dimension of [`SETTLED`] that names the status written.
    pub const STATUS_DIMENSION: &str = "Status";

    pub const COUNTS: [&str; 9] = [
        STOPPED_TASKS,
        EXAMINED,
        SETTLED,
        STILL_RUNNING,
        TASK_MISSING,
        NO_TASK,
        NO_TASK_PAST_MAX_AGE,
        UNCHECKED,
        OUTSIDE_STACK,
    ];
}
