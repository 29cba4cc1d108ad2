//! What can stop a subcommand from running (exit code 2). Problems it finds are not
//! errors: they are its report, with exit code 1.

pub use dispatch_aws::error::aws;
use dispatch_aws::AwsError;

/// A subcommand could not run.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// An AWS call failed after the SDK's retries, in the one-line form the functions
    /// log too (`dispatch_aws::error`).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The reconciler's run could check nothing; its message names each failed call.
    #[error("{0}")]
    Run(String),
    /// The stack is missing, or lacks what the tool reads from it.
    #[error("stack {stack}: {message}")]
    Stack { stack: String, message: String },
    /// The arguments cannot be acted on.
    #[error("{0}")]
    Usage(String),
    /// Reading the terminal or writing the output failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Shorthand for results of this crate.
pub type Result<T, E = OpsError> = std::result::Result<T, E>;
