//! How an event ended without error: settled, or skipped and why. It is also the
//! function's response payload.

use chrono::{DateTime, Utc};
pub use contract::metrics::SkipReason;
use serde::{Serialize, Serializer};

use crate::status::DispatchStatus;

/// How an invocation ended without error; also the function's response payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum Outcome {
    #[serde(rename_all = "camelCase")]
    Updated {
        dispatch_id: String,
        task_arn: String,
        #[serde(serialize_with = "status_text")]
        status: DispatchStatus,
        #[serde(skip_serializing_if = "Option::is_none")]
        exit_code: Option<i64>,
        #[serde(skip)]
        stopped_at: DateTime<Utc>,
        /// The write replaced the reconciler's provisional guess with this outcome.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        corrected: bool,
    },
    #[serde(rename_all = "camelCase")]
    Skipped {
        /// As the metrics' `SkipReason` dimension spells it.
        #[serde(serialize_with = "skip_reason_text")]
        reason: SkipReason,
        #[serde(skip_serializing_if = "Option::is_none")]
        dispatch_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        task_arn: Option<String>,
    },
}

fn status_text<S: Serializer>(status: &DispatchStatus, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(status.as_str())
}

fn skip_reason_text<S: Serializer>(reason: &SkipReason, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(reason.as_str())
}
