//! `outpost-dispatch-reconciler`: on a schedule, settles the dispatches whose task
//! stopped without an event the callback could use (the launch race, a disabled rule, an
//! event parked after its retries), and makes the rest impossible to miss.
//!
//! `index` lists old non-terminal dispatches (a Query, never a Scan); `ecs` asks
//! `DescribeTasks` about their tasks; `task` reads ECS's answer as the callback's own task
//! detail; `plan` decides; `run` settles through `function::settle::settle`, so the
//! callback and the reconciler can never disagree, and a race between them settles once.

pub mod config;
pub mod ecs;
pub mod index;
pub mod metrics;
pub mod plan;
pub mod run;
pub mod task;
