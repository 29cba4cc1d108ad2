//! The one error the domain raises: input it cannot read.

/// An event, or a dispatch ID, that cannot be read. Retrying will not help; the event is
/// kept in the failure queue for a person. The message starts with the type because the
/// runbook's error table quotes it that way (`ValidationException: Missing task_arn`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("ValidationException: {0}")]
pub struct Invalid(pub String);
