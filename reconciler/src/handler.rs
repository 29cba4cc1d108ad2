//! One scheduled tick: a run, its figures as EMF lines, and its failure as the runtime's
//! error.

use dispatch_aws::emf;
use lambda_runtime::Diagnostic;
use reconcile::run::{run, Deps, Report, RunFailed};

/// A failed run, as Lambda reports it: the reconciler's errors alarm counts it.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct HandlerError(#[from] RunFailed);

impl From<HandlerError> for Diagnostic {
    fn from(HandlerError(err): HandlerError) -> Self {
        Diagnostic {
            error_type: err.error_type().to_owned(),
            error_message: err.to_string(),
        }
    }
}

/// Runs once at the time of the call and writes the run's metrics.
pub async fn handle(
    deps: &Deps,
    function_name: &str,
    request_id: &str,
) -> Result<Report, HandlerError> {
    let now = chrono::Utc::now();
    let report = run(deps, request_id, now).await.inspect_err(|err| {
        tracing::error!(error = %err, "{}", contract::logs::RECONCILER_RUN_FAILED);
    })?;
    emf::print(&reconcile::metrics::documents(&report, function_name, now));
    Ok(report)
}
