//! The whole system under chaos: a fleet of dispatches launched as ECS tasks (every way of
//! naming the dispatch, long and short jobs, every stop of the status table, the control
//! plane's launch race), with events dropped, delivered twice, late and out of order,
//! DynamoDB faults, ECS throttled, an outage longer than ECS's memory and the rule
//! disabled for a while; through the real callback, reconciler and `outpost-ops replay`,
//! on a clock the run controls. Afterwards every dispatch is held against what its task
//! really did.
//!
//! - [`plan`]: the fleet and its troubles, drawn from a seed, and each dispatch's truth;
//! - [`run`]: the world and its clock;
//! - [`check`]: the promises and the figures.

pub mod check;
pub mod plan;
pub mod run;
