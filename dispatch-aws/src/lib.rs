//! The dispatch system's one way to talk to AWS, shared by the callback, the reconciler
//! and the on-call CLI: each AWS concern is written once, here.
//!
//! - `sdk`: the SDK configuration, with a time budget per kind of caller;
//! - `roots`, `https`: the TLS trust roots, and the functions' HTTPS client that trusts
//!   roots compiled into the binary;
//! - `error`: an AWS call that failed, in one line, with its attempts counted;
//! - `table`, `item`, `settle`, `status_index`: the dispatch table (settle, lookup by
//!   task, get, the status index) and records to and from DynamoDB's attribute values;
//! - `ecs`: what ECS says of tasks, in the shape of the task state change event;
//! - `emf`: metrics as Embedded Metric Format lines;
//! - `settings`, `logging`: a process's settings and log lines.
//!
//! The decisions themselves are the `dispatch` crate's; nothing here decides a status.

pub mod ecs;
pub mod emf;
pub mod error;
pub mod https;
pub mod item;
pub mod logging;
#[cfg(feature = "memory")]
pub mod memory;
pub mod roots;
pub mod sdk;
pub mod settings;
pub mod settle;
pub mod status_index;
pub mod table;

pub use error::AwsError;
