//! One scheduled tick: a run, its figures as EMF lines, and its failure as the runtime's
//! error.

use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use dispatch_aws::emf;
use lambda_runtime::{Context, Diagnostic};
use reconcile::run::{run, Deps, Report, RunFailed};
use serde_json::Value;

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

/// Runs once at the time the schedule gives and writes the run's metrics.
pub async fn handle(
    deps: &Deps,
    function_name: &str,
    event: &Value,
    context: &Context,
) -> Result<Report, HandlerError> {
    let now = scheduled_time(event).unwrap_or_else(Utc::now);
    let stop_by = stop_by(context.deadline(), SystemTime::now(), Instant::now());
    let report = run(deps, &context.request_id, now, stop_by)
        .await
        .inspect_err(|err| {
            tracing::error!(error = %err, "{}", contract::logs::RECONCILER_RUN_FAILED);
        })?;
    emf::print(&reconcile::metrics::documents(&report, function_name, now));
    Ok(report)
}

/// The time the schedule fired, from its event's `time`: a run's ages and grace are
/// measured from it, so a run means the same whenever Lambda delivers it (and a test can
/// run hours of schedule in minutes). `None` for an invocation without one (by hand, with
/// `{}`); an unreadable one is logged, and the clock is used.
fn scheduled_time(event: &Value) -> Option<DateTime<Utc>> {
    let time = event.get("time")?;
    let parsed = time
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    if parsed.is_none() {
        tracing::warn!(%time, "the event's time is not RFC 3339; the run uses the clock");
    }
    parsed.map(|t| t.to_utc())
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
    fn a_run_is_at_the_time_the_schedule_fired() {
        let event = serde_json::json!({"detail-type": "Scheduled Event",
            "time": "2026-01-15T20:00:00Z", "detail": {}});
        let at = DateTime::parse_from_rfc3339("2026-01-15T20:00:00Z").unwrap();
        assert_eq!(scheduled_time(&event), Some(at.to_utc()));
        assert_eq!(scheduled_time(&serde_json::json!({})), None);
        assert_eq!(
            scheduled_time(&serde_json::json!({"time": "yesterday"})),
            None
        );
        assert_eq!(scheduled_time(&serde_json::json!({"time": 5})), None);
    }

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
