//! The reconciler's last run, as its log tells it: the newest line that ends a run
//! (`reconciler run done`, with its counts, or `reconciler run failed`, with the error),
//! judged fine only when that run succeeded and left nothing unchecked. A stack deployed
//! too recently to have run yet is not off for it.

use chrono::{DateTime, Duration, Utc};
use contract::logs::{RECONCILER_RUN_DONE, RECONCILER_RUN_FAILED};
use serde_json::Value;

use crate::commands::stuck::age;
use crate::logs::Line;

/// How a run ended, as its last line says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It finished, leaving this many dispatches unchecked.
    Done { unchecked: u64 },
    /// It failed, with this error.
    Failed { error: String },
}

/// CloudWatch Logs' filter pattern for either line: one quoted term per phrase, each
/// optional (`?`), which CloudWatch reads as OR. Not every local AWS reads it (moto
/// answers every line), so each line found is read again ([`ended`]).
pub fn pattern() -> String {
    format!("?\"{RECONCILER_RUN_DONE}\" ?\"{RECONCILER_RUN_FAILED}\"")
}

/// How the run whose last line is `line` ended; `None` when `line` does not end a run
/// (its message is neither phrase, or it is not one of the reconciler's JSON lines). Pure.
pub fn ended(line: &Line) -> Option<Ended> {
    let Ok(Value::Object(json)) = serde_json::from_str::<Value>(&line.raw) else {
        return None;
    };
    match json.get("message").and_then(Value::as_str)? {
        RECONCILER_RUN_DONE => Some(Ended::Done {
            unchecked: left_unchecked(&line.message),
        }),
        RECONCILER_RUN_FAILED => {
            let error = match json.get("error") {
                Some(Value::String(error)) => error.clone(),
                Some(other) => other.to_string(),
                None => "its line gives no error".to_owned(),
            };
            Some(Ended::Failed { error })
        }
        _ => None,
    }
}

/// How many dispatches a run left unchecked, from its `reconciler run done` line as read
/// (`... unchecked=N ...`); a line that does not say counts as none.
pub fn left_unchecked(message: &str) -> u64 {
    let count = message
        .split_whitespace()
        .find_map(|field| field.strip_prefix("unchecked="));
    count.and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// What the check shows, and whether it is fine, from the last run found within the
/// window (`last`, with how it ended), the time the stack was deployed, and the window:
/// `expected` (two schedule periods), plus the five minutes read beyond it. A run that
/// failed, or left dispatches unchecked, is off; so is no run at all, unless the stack
/// was deployed less than `expected` ago, when none may have come yet. Pure.
pub fn judge(
    last: Option<(&Line, Ended)>,
    deployed_at: Option<DateTime<Utc>>,
    expected: Duration,
    now: DateTime<Utc>,
) -> (String, bool) {
    match last {
        Some((line, Ended::Done { unchecked })) => {
            (format!("{}  {}", line.time, line.message), unchecked == 0)
        }
        Some((line, Ended::Failed { error })) => (format!("{}  failed: {error}", line.time), false),
        None => match deployed_at.map(|at| now - at) {
            Some(since) if since < expected => (
                format!("no run yet (stack deployed {} ago)", age(since)),
                true,
            ),
            _ => {
                let minutes = expected.num_minutes() + 5;
                (format!("none in the last {minutes}m"), false)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{read, Source};
    use serde_json::json;

    fn line(json: Value) -> Line {
        read(Source::Reconciler, 0, &json.to_string())
    }

    fn judged(last: &Line, deployed_minutes_ago: Option<i64>) -> (String, bool) {
        let now = Utc::now();
        let deployed = deployed_minutes_ago.map(|m| now - Duration::minutes(m));
        let found = ended(last).map(|how| (last, how));
        judge(found, deployed, Duration::minutes(10), now)
    }

    #[test]
    fn a_run_that_left_dispatches_unchecked_is_off() {
        let done = "reconciler run done  examined=4 settled=1 unchecked=0";
        assert_eq!(left_unchecked(done), 0);
        assert_eq!(left_unchecked("reconciler run done unchecked=3 x=1"), 3);
        let clean = line(
            json!({"level": "INFO", "message": RECONCILER_RUN_DONE, "examined": 4, "unchecked": 0}),
        );
        assert_eq!(ended(&clean), Some(Ended::Done { unchecked: 0 }));
        let (value, ok) = judged(&clean, None);
        assert!(ok, "{value}");
        assert!(
            value.ends_with("reconciler run done  examined=4 unchecked=0"),
            "{value}"
        );
        let left = line(json!({"level": "INFO", "message": RECONCILER_RUN_DONE, "unchecked": 2}));
        assert!(!judged(&left, Some(1)).1, "fresh or not, unchecked is off");
    }

    #[test]
    fn a_failed_last_run_is_off_and_shows_its_error() {
        let failed = line(json!({"level": "ERROR", "message": RECONCILER_RUN_FAILED,
            "error": "nothing could be checked: DescribeTasks failed", "span": {"request_id": "r"}}));
        assert_eq!(
            ended(&failed),
            Some(Ended::Failed {
                error: "nothing could be checked: DescribeTasks failed".into()
            })
        );
        let (value, ok) = judged(&failed, Some(1));
        assert!(!ok, "a failure is off even on a fresh stack");
        assert_eq!(
            value,
            "1970-01-01T00:00:00.000Z  failed: nothing could be checked: DescribeTasks failed"
        );
        let bare = line(json!({"level": "ERROR", "message": RECONCILER_RUN_FAILED}));
        assert_eq!(
            ended(&bare),
            Some(Ended::Failed {
                error: "its line gives no error".into()
            })
        );
    }

    #[test]
    fn no_run_is_off_unless_the_stack_is_younger_than_two_periods() {
        let none = |deployed_minutes_ago: Option<i64>| {
            let now = Utc::now();
            let deployed = deployed_minutes_ago.map(|m| now - Duration::minutes(m));
            judge(None, deployed, Duration::minutes(10), now)
        };
        assert_eq!(
            none(Some(3)),
            ("no run yet (stack deployed 3m ago)".to_owned(), true)
        );
        assert_eq!(none(Some(10)), ("none in the last 15m".to_owned(), false));
        assert_eq!(none(None), ("none in the last 15m".to_owned(), false));
    }

    #[test]
    fn only_a_run_s_last_line_counts() {
        for other in [
            line(json!({"level": "INFO", "message": contract::logs::RECONCILER_SETTLED})),
            line(json!({"level": "ERROR", "message": "x", "error": RECONCILER_RUN_FAILED})),
            read(Source::Reconciler, 0, RECONCILER_RUN_DONE),
            read(Source::Reconciler, 0, "START RequestId: r"),
        ] {
            assert_eq!(ended(&other), None, "{other:?}");
        }
    }
}
