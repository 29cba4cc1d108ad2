//! Phrases the function logs and the runbook's `filter-log-events` commands search for.

/// Logged before the `task_arn-index` lookup; the runbook greps for it to confirm that a
/// GSI query, not a scan, finds dispatches ("High Latency", "Verify GSI Usage").
pub const QUERYING_BY_TASK_ARN: &str = "querying by task ARN";
/// Starts the line logged when a stopped task names no dispatch and the index finds none
/// ("Missing Dispatch ID in Task"); the task ARN follows.
pub const NO_DISPATCH_ID_FOUND: &str = "No dispatch ID found in task";
/// Logged when a dispatch is settled.
pub const DISPATCH_SETTLED: &str = "dispatch settled";
/// Logged, at WARN, when a task's own event replaces the reconciler's guess (the
/// dispatch was closed FAILED because ECS had forgotten the task) with the true outcome.
pub const GUESS_CORRECTED: &str = "reconciler's guess corrected by the task's own event";
/// Logged, at ERROR, when an invocation fails.
pub const DISPATCH_UPDATE_FAILED: &str = "dispatch update failed";
/// Logged by the reconciler for each dispatch it settles, with the dispatch ID, task ARN,
/// status and why.
pub const RECONCILER_SETTLED: &str = "dispatch settled by the reconciler";
/// Logged by the reconciler for a dispatch that names no task (it is only reported).
pub const RECONCILER_NO_TASK: &str = "dispatch names no task; reported, not settled";
/// Logged (WARN) for a dispatch whose `createdAt` is not RFC 3339: the status index lists
/// it, but no age can be told, so it is counted unchecked and never settled by guess.
pub const UNREADABLE_CREATED_AT: &str = "dispatch has an unreadable createdAt; not examined";
/// Logged (WARN) for a dispatch whose task is of another partition, region, account or
/// cluster than the stack watches: it is never asked of this region and never closed.
pub const RECONCILER_OUTSIDE_STACK: &str = "dispatch's task is outside this stack; left alone";
/// Logged (WARN) for a dispatch left unchecked because ECS gave no usable answer for its
/// task (a failure reason other than MISSING, no answer, an unreadable task ARN), with why.
pub const RECONCILER_UNCHECKED: &str = "dispatch left unchecked; the next run tries again";
/// Logged (WARN) when the sweep's place was moved by another run (overlapping runs, or
/// `outpost-ops reconcile`) between this run's read and write: this run's move is
/// dropped, the other's stands.
pub const RECONCILER_SWEEP_OVERTAKEN: &str =
    "the sweep's place was moved by another run; this run's move is dropped";
/// Logged (WARN) when a run's time for the stops ECS listed ran out before it read them
/// all: the next run lists them again, as long as ECS remembers them (an hour).
pub const RECONCILER_STOPS_LEFT: &str =
    "the run's time ran out before every stop ECS listed was read; the next run goes on";
/// Logged by the reconciler at the end of each run, with its counts; `outpost-ops health`
/// reads the last one.
pub const RECONCILER_RUN_DONE: &str = "reconciler run done";
/// Logged (ERROR) by the reconciler when a run fails (it could check nothing, or every
/// write failed), with the error; `outpost-ops health` calls the reconciler off when its
/// last run ended so.
pub const RECONCILER_RUN_FAILED: &str = "reconciler run failed";
