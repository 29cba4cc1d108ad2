//! The dispatch table: its name, key, indexes and the attributes of a record.

/// The table the control plane writes and the function settles.
pub const NAME: &str = "outpost-dispatches";
/// The table's partition key.
pub const PARTITION_KEY: &str = attr::DISPATCH_ID;

/// A global secondary index: its name and key attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Index {
    pub name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: Option<&'static str>,
}

/// Finds the dispatch of a task that does not name it; the function queries it.
pub const TASK_ARN_INDEX: Index = Index {
    name: "task_arn-index",
    partition_key: attr::TASK_ARN,
    sort_key: None,
};

/// Lists dispatches by status, oldest first; operators (and the runbook) query it.
pub const STATUS_INDEX: Index = Index {
    name: "status-createdAt-index",
    partition_key: attr::STATUS,
    sort_key: Some(attr::CREATED_AT),
};

/// The attribute names of a dispatch record.
pub mod attr {
    pub const DISPATCH_ID: &str = "dispatchId";
    pub const STATUS: &str = "status";
    /// Written by the control plane when it launches the dispatch.
    pub const CREATED_AT: &str = "createdAt";
    pub const TASK_ARN: &str = "taskArn";
    pub const ENDED_AT: &str = "endedAt";
    pub const EXIT_CODE: &str = "exitCode";
    pub const STOP_CODE: &str = "stopCode";
    pub const STOPPED_REASON: &str = "stoppedReason";
    pub const ECS_VERSION: &str = "ecsVersion";
    pub const UPDATED_AT: &str = "updatedAt";
    /// The Lambda request ID of the invocation that settled the record. It tells our own
    /// write, retried by the SDK after its response was lost, from another delivery's.
    pub const UPDATE_REQUEST_ID: &str = "updateRequestId";
    /// Who settled the record by hand (`outpost-ops settle`): the caller's ARN from STS.
    pub const SETTLED_BY: &str = "settledBy";
    /// Why the record was settled by hand, as the operator wrote it.
    pub const SETTLE_REASON: &str = "settleReason";
    /// `true` while the record's terminal status is the reconciler's guess (stop code
    /// `status::GUESS_STOP_CODE`); removed when the task's own event corrects it.
    pub const PROVISIONAL: &str = "provisional";
    /// The status the reconciler had guessed, on a record whose task's own event later
    /// corrected it: the record says what happened, not only the metric.
    pub const CORRECTED_GUESS: &str = "correctedGuess";
}

/// The reconciler's own table: where its sweep of the status index keeps its place
/// between runs, one item per status swept. It holds no dispatch, and losing it loses
/// nothing but the place (the next run starts a new cycle).
pub mod sweep {
    pub const NAME: &str = "outpost-reconciler-sweep";
    /// Its logical ID in the stack's template.
    pub const LOGICAL_ID: &str = "ReconcilerSweepTable";
    /// The partition key: the status whose sweep the item follows.
    pub const KEY: &str = "sweep";

    /// The attribute names of a sweep's item.
    pub mod attr {
        /// Where the walk resumes: the status index key of the last dispatch walked.
        pub const AFTER_CREATED_AT: &str = "afterCreatedAt";
        pub const AFTER_DISPATCH_ID: &str = "afterDispatchId";
        /// When the current cycle (one walk of the whole index) began.
        pub const CYCLE_STARTED_AT: &str = "cycleStartedAt";
        /// Dispatches listed so far in the current cycle.
        pub const CYCLE_WALKED: &str = "cycleWalked";
        /// Dispatches the last whole cycle listed: the size a run's share is cut from.
        pub const LAST_CYCLE: &str = "lastCycle";
        /// Bumped by every write; a write is conditional on the version it read, so
        /// overlapping runs never move the place from under each other.
        pub const VERSION: &str = "version";
        pub const UPDATED_AT: &str = "updatedAt";
        /// The request that moved it last (a Lambda request ID, or `outpost-ops`').
        pub const UPDATED_BY: &str = "updatedBy";
    }
}
