//! The `outpost-dispatch-callback` Lambda: when an ECS task stops, settle the final status
//! of its dispatch record in DynamoDB, exactly once.
//!
//! The pure core (`event`, `dispatch_id`, `status`) decides; `settle` turns a stopped task
//! into one conditional write; `store` and `metrics` talk to AWS behind narrow seams;
//! `handler` wires one invocation together. `main.rs` only sets up.

pub mod aws;
pub mod config;
pub mod dispatch_id;
pub mod error;
pub mod event;
pub mod handler;
pub mod logging;
pub mod metrics;
pub mod outcome;
pub mod settle;
pub mod status;
pub mod store;
pub mod timefmt;
