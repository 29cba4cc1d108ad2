//! One scheduled tick: a run, its figures as EMF lines, and its failure as the runtime's
//! error.

use std::time::{Duration, Instant, SystemTime};

use dispatch_aws::emf;
use lambda_runtime::{Context, Diagnostic};
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

/// What a run leaves of the invocation's time for its last writes (the sweep's place, the
/// metrics): its sweep stops this long before the function's timeout.
const RESERVE: Duration = Duration::from_secs(15);

/// Runs once at the time of the call and writes the run's metrics.
pub async fn handle(
    deps: &Deps,
    function_name: &str,
    context: &Context,
) -> Result<Report, HandlerError> {
    let now = chrono::Utc::now();
    let stop_by = stop_by(context.deadline(), SystemTime::now(), Instant::now());
    let report = run(deps, &context.request_id, now, stop_by)
        .await
        .inspect_err(|err| {
            tracing::error!(error = %err, "{}", contract::logs::RECONCILER_RUN_FAILED);
        })?;
    emf::print(&reconcile::metrics::documents(&report, function_name, now));
    Ok(report)
}

/// When the sweep stops: [`RESERVE`] before the invocation's deadline (a wall-clock time),
/// on the monotonic clock.
fn stop_by(deadline: SystemTime, now: SystemTime, instant: Instant) -> Instant {
    let left = deadline.duration_since(now).unwrap_or_default();
    instant + left.saturating_sub(RESERVE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_stops_short_of_the_deadline() {
        let (now, instant) = (SystemTime::now(), Instant::now());
        let deadline = now + Duration::from_secs(120);
        assert_eq!(
            stop_by(deadline, now, instant),
            instant + Duration::from_secs(105)
        );
        let late = now + Duration::from_secs(3);
        assert_eq!(
            stop_by(late, now, instant),
            instant,
            "no time: the sweep walks nothing"
        );
        assert_eq!(stop_by(now - Duration::from_secs(1), now, instant), instant);
    }
}
