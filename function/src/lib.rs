//! The `outpost-dispatch-callback` Lambda: when an ECS task stops, settle the final status
//! of its dispatch record in DynamoDB, exactly once.
//!
//! The decisions are the `dispatch` crate's and the AWS calls `dispatch-aws`'s; this crate
//! holds what is the callback's own: `config` (its settings), `handler` (one invocation),
//! `error` (how a failed invocation reaches Lambda) and `metrics` (its figures).
//! `main.rs` only sets up.

pub mod config;
pub mod error;
pub mod handler;
pub mod metrics;
