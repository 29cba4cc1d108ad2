//! The reconciler's run: on a schedule, settle the dispatches whose task stopped without
//! an event the callback could use (the launch race, a disabled rule, an event parked
//! after its retries), and make the rest impossible to miss. The reconciler Lambda runs it
//! on each tick; `outpost-ops reconcile` runs it (or its dry run) by hand.
//!
//! `config` reads the settings. A run first reads what ECS says stopped in the watched
//! clusters (`stopped`: `ListTasks`, `DescribeTasks`, a batch read of the dispatches),
//! then sweeps the old non-terminal dispatches through the status index (`sweep`: a
//! Query, never a Scan), asking ECS about their tasks; `plan` decides from ECS's answer;
//! `run` settles through
//! `dispatch_aws::settle::settle`, the callback's own path, so the callback and the
//! reconciler can never disagree, and a race between them settles once; `metrics` writes
//! a run's figures.

pub mod config;
pub mod cursor;
pub mod metrics;
pub mod plan;
pub mod run;
mod stopped;
pub mod sweep;
