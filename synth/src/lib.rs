//! Builds the CloudFormation template of the outpost-dispatch-callback system from typed
//! Rust structs. `cli` is the command line; [`render()`] is the core, and
//! [`stack::table::dispatch_table`] gives the table definition alone; [`bootstrap`] is the
//! small stack that must exist first. [`adopt`] holds the adoption's documents and
//! decisions, and [`names`] the names the scripts ask for instead of spelling them.

pub mod adopt;
pub mod bootstrap;
pub mod cfn;
pub mod change_set;
pub mod cli;
pub mod config;
pub mod diff;
pub mod drift;
pub mod environment;
mod error;
pub mod names;
pub mod render;
pub mod resolve;
pub mod stack;
pub mod stack_policy;
pub mod yaml;

pub use config::Config;
pub use error::SynthError;
pub use render::{render, render_bootstrap};
