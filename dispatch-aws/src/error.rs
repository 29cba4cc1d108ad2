//! An AWS call that failed, told in one line: the operation, what it was on (a table, a
//! cluster), how many attempts the SDK made, AWS's error code and message, and the
//! request ID.
//!
//! That line lands in the log, in the invocation's error, in the on-failure queue's
//! message and on the on-call CLI's screen: both functions and `outpost-ops` word AWS
//! errors through [`AwsError::from_sdk`]. The SDK's full error (its raw response and
//! internal types) goes to the log at DEBUG only.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::RequestId;

/// An AWS call that failed after the SDK's retries.
#[derive(Debug, thiserror::Error)]
#[error(
    "{operation} on {resource} failed{}: {code}: {message}{}",
    after_attempts(*.attempts),
    .request_id.as_ref().map(|id| format!(" (request {id})")).unwrap_or_default()
)]
pub struct AwsError {
    /// `UpdateItem`, `GetItem`, `Query`, `DescribeTasks`, ...
    pub operation: &'static str,
    /// What the call was on: the table, the cluster.
    pub resource: String,
    /// How many attempts the SDK made, the first included; 0 when the call's attempts
    /// were not counted (a person's one-off call).
    pub attempts: u32,
    /// The AWS error code (`AccessDeniedException`, `ProvisionedThroughputExceededException`,
    /// ...), or the kind of transport failure (`TimeoutError`, `DispatchFailure`, ...).
    pub code: String,
    /// AWS's message, or the root cause of a transport failure.
    pub message: String,
    pub request_id: Option<String>,
}

/// " after N attempts" for a call whose attempts were counted.
fn after_attempts(attempts: u32) -> String {
    match attempts {
        0 => String::new(),
        1 => " after 1 attempt".to_owned(),
        n => format!(" after {n} attempts"),
    }
}

/// One call: which operation, on what, counting its attempts. Give [`Call::counter`] to
/// the request's `customize().interceptor(...)`, and turn its error with [`Call::failed`].
pub struct Call {
    operation: &'static str,
    resource: String,
    attempts: Attempts,
}

impl Call {
    pub fn new(operation: &'static str, resource: &str) -> Call {
        Call {
            operation,
            resource: resource.to_owned(),
            attempts: Attempts::default(),
        }
    }

    /// The interceptor that counts this call's attempts.
    pub fn counter(&self) -> Attempts {
        self.attempts.clone()
    }

    pub fn failed<E>(&self, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        AwsError::from_sdk(
            self.operation,
            &self.resource,
            self.attempts.0.load(Ordering::Relaxed),
            err,
        )
    }
}

/// Words a failed call of `operation` on `resource` whose attempts were not counted (see
/// [`Call`] for those that are), for `map_err`.
pub fn aws<E>(
    operation: &'static str,
    resource: impl Into<String>,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let resource = resource.into();
    move |err| AwsError::from_sdk(operation, &resource, 0, err)
}

impl AwsError {
    /// The SDK's error in one line: the service's code and message when it sent them;
    /// else what happened (a timeout, no connection, an answer that is not AWS's), as its
    /// innermost cause, never the whole chain with the raw response.
    pub fn from_sdk<E>(
        operation: &'static str,
        resource: &str,
        attempts: u32,
        err: SdkError<E, HttpResponse>,
    ) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        tracing::debug!(operation, error = %DisplayErrorContext(&err), "AWS call failed");
        let (code, message) = match &err {
            SdkError::ServiceError(service) => match service.err().code() {
                Some(code) => (
                    code,
                    service.err().message().unwrap_or("no message").to_owned(),
                ),
                None => (
                    "ServiceError",
                    format!(
                        "an answer that is not an AWS error (HTTP {}): is the endpoint an AWS one?",
                        service.raw().status().as_u16()
                    ),
                ),
            },
            SdkError::ResponseError(response) => (
                "ResponseError",
                format!(
                    "an unreadable answer (HTTP {})",
                    response.raw().status().as_u16()
                ),
            ),
            SdkError::TimeoutError(_) => ("TimeoutError", root_cause(&err)),
            SdkError::DispatchFailure(_) => ("DispatchFailure", root_cause(&err)),
            SdkError::ConstructionFailure(_) => ("ConstructionFailure", root_cause(&err)),
            _ => ("SdkError", root_cause(&err)),
        };
        AwsError {
            operation,
            resource: resource.to_owned(),
            attempts,
            code: code.to_owned(),
            message: shorten(&message),
            request_id: err.request_id().map(str::to_owned),
        }
    }

    /// An answer that came back but cannot be used (a field AWS always sends is missing).
    pub fn unusable(operation: &'static str, resource: &str, why: &str) -> AwsError {
        AwsError {
            operation,
            resource: resource.to_owned(),
            attempts: 0,
            code: "UnusableAnswer".to_owned(),
            message: why.to_owned(),
            request_id: None,
        }
    }
}

/// The most characters of a message kept: an error dump is cut, with an ellipsis.
const MAX_MESSAGE_CHARS: usize = 300;

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// The innermost error's message: "Connection refused (os error 111)" rather than every
/// layer that wraps it.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// Counts the attempts of one call, as an interceptor on that call alone.
#[derive(Clone, Debug, Default)]
pub struct Attempts(Arc<AtomicU32>);

impl Intercept for Attempts {
    fn name(&self) -> &'static str {
        "Attempts"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_one_line_with_code_message_attempts_and_request() {
        let error = AwsError {
            operation: "UpdateItem",
            resource: contract::table::NAME.into(),
            attempts: 3,
            code: "InternalServerError".into(),
            message: "Internal server error".into(),
            request_id: Some("4KBNVRGD".into()),
        };
        assert_eq!(
            error.to_string(),
            "UpdateItem on outpost-dispatches failed after 3 attempts: \
             InternalServerError: Internal server error (request 4KBNVRGD)"
        );
        let once = AwsError {
            attempts: 1,
            request_id: None,
            ..error
        };
        assert!(once.to_string().contains("after 1 attempt: "), "{once}");
        let uncounted = AwsError {
            attempts: 0,
            ..once
        };
        assert_eq!(
            uncounted.to_string(),
            "UpdateItem on outpost-dispatches failed: InternalServerError: Internal server error"
        );
    }
}
