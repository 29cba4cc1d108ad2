//! The errors one invocation can end in, and how each reaches the Lambda runtime.
//!
//! Every error is returned, never swallowed: the invocation fails, the `Errors` alarm sees
//! it, Lambda's async retries run, and the event finally rests in the on-failure queue
//! where it can be replayed. The `error_type` names what on-call will grep for.

use dispatch::Invalid;
use dispatch_aws::settle::{FindError, SettleError};
use dispatch_aws::AwsError;
use lambda_runtime::Diagnostic;

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// The event cannot be read as an ECS task state change (malformed JSON shape, a
    /// missing `taskArn`, a bad timestamp or dispatch ID). Retrying will not help, but the
    /// failure queue keeps the event for a person to look at. The message starts with the
    /// type because the runbook's error table quotes it that way
    /// (`ValidationException: Missing task_arn`).
    #[error("ValidationException: {0}")]
    Validation(String),

    /// The event names a dispatch that has no record. The control plane may not have
    /// written it yet, so this is retried; a record is never created here.
    #[error("dispatch {dispatch_id} not found in the table (task {task_arn})")]
    DispatchNotFound {
        dispatch_id: String,
        task_arn: String,
    },

    /// More than one dispatch record claims this task ARN in the `task_arn-index` GSI,
    /// so we cannot tell which one to settle.
    #[error("task {task_arn} is claimed by more than one dispatch: {dispatch_ids:?}")]
    AmbiguousDispatch {
        task_arn: String,
        dispatch_ids: Vec<String>,
    },

    /// The write's condition failed, yet the record as DynamoDB returned it passes the
    /// condition (an attribute of an unexpected type, say). A person must look at it.
    #[error("dispatch {dispatch_id}: the update's condition failed on a record that looks settleable: {record}")]
    UnexplainedConflict { dispatch_id: String, record: String },

    /// DynamoDB refused or failed the request after the SDK's retries.
    #[error(transparent)]
    Store(#[from] AwsError),
}

impl From<Invalid> for CallbackError {
    fn from(Invalid(why): Invalid) -> Self {
        CallbackError::Validation(why)
    }
}

impl From<FindError> for CallbackError {
    fn from(err: FindError) -> Self {
        match err {
            FindError::Invalid(invalid) => invalid.into(),
            FindError::Ambiguous {
                task_arn,
                dispatch_ids,
            } => CallbackError::AmbiguousDispatch {
                task_arn,
                dispatch_ids,
            },
            FindError::Aws(err) => CallbackError::Store(err),
        }
    }
}

impl From<SettleError> for CallbackError {
    fn from(err: SettleError) -> Self {
        match err {
            SettleError::DispatchNotFound {
                dispatch_id,
                task_arn,
            } => CallbackError::DispatchNotFound {
                dispatch_id,
                task_arn,
            },
            SettleError::UnexplainedConflict {
                dispatch_id,
                record,
            } => CallbackError::UnexplainedConflict {
                dispatch_id,
                record,
            },
            SettleError::Aws(err) => CallbackError::Store(err),
        }
    }
}

impl CallbackError {
    /// The `errorType` reported to Lambda: the runbook's error table names these.
    pub fn error_type(&self) -> String {
        match self {
            CallbackError::Validation(_) => "ValidationException".to_owned(),
            CallbackError::DispatchNotFound { .. } => "DispatchNotFound".to_owned(),
            CallbackError::AmbiguousDispatch { .. } => "AmbiguousDispatch".to_owned(),
            CallbackError::UnexplainedConflict { .. } => "UnexplainedConflict".to_owned(),
            CallbackError::Store(err) => err.code.clone(),
        }
    }
}

impl From<CallbackError> for Diagnostic {
    fn from(err: CallbackError) -> Self {
        Diagnostic {
            error_type: err.error_type(),
            error_message: err.to_string(),
        }
    }
}
