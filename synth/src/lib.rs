//! Builds the CloudFormation template of the outpost-dispatch-callback system from typed
//! Rust structs. `main.rs` is the command line; [`render::render`] is the core.

pub mod cfn;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod render;
pub mod stack;

pub use config::Config;
pub use error::SynthError;
pub use render::{render, Format};
