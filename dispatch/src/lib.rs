//! The dispatch domain, apart from AWS: what a stopped ECS task means for its dispatch.
//!
//! `event` reads the ECS task state change, `dispatch_id` finds the dispatch a task
//! belongs to, `status` is the precedence table, `record` is a dispatch record as the
//! table holds it, and `settlement` decides what a settle writes and explains why a
//! conditional write was refused. Everything here is pure: the crates that talk to AWS
//! (`dispatch-aws`) and the binaries call into it.

pub mod dispatch_id;
pub mod error;
pub mod event;
pub mod outcome;
pub mod record;
pub mod settlement;
pub mod status;
pub mod task_arn;
pub mod timefmt;

pub use error::Invalid;
