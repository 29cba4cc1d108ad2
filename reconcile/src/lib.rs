//! The reconciler's run: on a schedule, settle the dispatches whose task stopped without
//! an event the callback could use (the launch race, a disabled rule, an event parked
//! after its retries), and make the rest impossible to miss. The reconciler Lambda runs it
//! on each tick; `outpost-ops reconcile` runs it (or its dry run) by hand.
//!
//! `config` reads the settings; the run lists old non-terminal dispatches through the
//! status index (a Query, never a Scan) and asks `DescribeTasks` about their tasks
//! (`dispatch_aws`); `plan` decides from ECS's answer; `run` settles through
//! `dispatch_aws::settle::settle`, the callback's own path, so the callback and the
//! reconciler can never disagree, and a race between them settles once; `metrics` writes
//! a run's figures.

pub mod config;
pub mod metrics;
pub mod plan;
pub mod run;
