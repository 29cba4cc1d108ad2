//! Every name that two parts of the system must agree on, in one place.
//!
//! The function reads what the stack writes (environment variables, table and index
//! names), the stack grants what the function calls (the metric namespace in an IAM
//! condition), the dashboard graphs what the function emits, and the runbook greps for
//! what the function logs. Each of those names is a constant here, and every crate takes
//! it from here: a rename is one edit, or a compile error, never a silent production break.
//!
//! The values are the runbook's (`../shared/runbook.md`); `tests/runbook.rs` pins them.
//! This crate has no dependencies, so anything (a build script, a CLI) can use it cheaply.

pub mod dispatch_id;
pub mod ecs;
pub mod env;
pub mod logs;
pub mod metrics;
pub mod outputs;
pub mod resources;
pub mod status;
pub mod table;

pub use status::DispatchStatus;
