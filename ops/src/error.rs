//! What can stop a subcommand from running (exit code 2). Problems it finds are not
//! errors: they are its report, with exit code 1.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;

/// A subcommand could not run.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// An AWS call failed after the SDK's retries.
    #[error("{operation} on {resource} failed: {message}")]
    Aws {
        operation: &'static str,
        resource: String,
        message: String,
    },
    /// A call through the shared code (`function`'s store, the reconciler) failed; its
    /// message already names the operation, the resource and the attempts.
    #[error("{0}")]
    Call(String),
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

/// Turns an SDK error into [`OpsError::Aws`]: the service's code and message when it sent
/// them; else what happened (a timeout, no connection, an answer that is not AWS's), in
/// one short line rather than the whole chain with the raw response.
pub fn aws<E>(
    operation: &'static str,
    resource: impl Into<String>,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> OpsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let resource = resource.into();
    move |err| {
        let message = match (err.code(), err.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => match &err {
                SdkError::TimeoutError(_) => "timed out".to_owned(),
                SdkError::ServiceError(service) => format!(
                    "an answer that is not an AWS error (HTTP {}): is the endpoint an AWS one?",
                    service.raw().status().as_u16()
                ),
                SdkError::ResponseError(response) => format!(
                    "an unreadable answer (HTTP {})",
                    response.raw().status().as_u16()
                ),
                _ => shorten(&DisplayErrorContext(&err).to_string()),
            },
        };
        OpsError::Aws {
            operation,
            resource,
            message,
        }
    }
}

/// At most [`MAX_MESSAGE_CHARS`] characters of `text`.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

const MAX_MESSAGE_CHARS: usize = 160;

/// Shorthand for results of this crate.
pub type Result<T, E = OpsError> = std::result::Result<T, E>;
