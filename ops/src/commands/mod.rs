//! One file per subcommand: its options (`*Args`), its report, and `exec`.

pub mod diagnose;
pub mod health;
pub mod logs;
pub mod reconcile;
pub mod replay;
pub mod rule;
pub mod settle;
pub mod stuck;
