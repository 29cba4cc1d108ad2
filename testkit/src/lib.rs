//! Test support, shared by the function's tests, the benchmarks and `make local`.
//!
//! - [`server`]: moto's server (our local AWS) or dynalite, on a free loopback port;
//! - [`table`]: the dispatch table on such a server, created from synth's own definition;
//! - [`events`]: ECS task state change events, from the fixtures or built;
//! - [`faults`]: a proxy that fails DynamoDB requests the ways AWS and networks do;
//! - [`reliability`]: a mixed run of the real binary through faults, and its invariants;
//! - [`ecs`]: a cluster in moto's ECS, where tests run and stop tasks;
//! - [`ecs_api`]: an ECS API that answers as ECS does where moto cannot, on a test's clock;
//! - [`template`]: the synthesized template, and the function's environment read from it;
//! - [`runtime`]: a local Lambda Runtime API that runs a real `bootstrap` binary;
//! - [`system`]: the whole system under chaos, and what it must end as;
//! - [`demo`]: `make local`'s demo, and `src/bin/testkit.rs`, what scripts call.

pub mod demo;
pub mod ecs;
pub mod ecs_api;
pub mod events;
pub mod faults;
mod http;
pub mod reliability;
pub mod runtime;
pub mod server;
pub mod stack;
pub mod stand_in;
pub mod system;
pub mod table;
pub mod template;

use std::path::{Path, PathBuf};

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit sits in the repository")
        .to_owned()
}

/// The functions' binary `name` (`bootstrap`, `reconciler`): in `$FUNCTION_BINARIES`
/// when it is set (`make test` runs the debug build it has made), else the release build
/// in `target/release/`, which `make build` makes.
pub fn function_binary(name: &str) -> PathBuf {
    let dir = std::env::var_os("FUNCTION_BINARIES").map(PathBuf::from);
    let path = dir
        .unwrap_or_else(|| repo_root().join("target/release"))
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: build it first (`make build`), or name a folder that holds it in \
         FUNCTION_BINARIES",
        path.display()
    );
    path
}

/// A fresh Lambda request ID, as Lambda gives each invocation one.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
