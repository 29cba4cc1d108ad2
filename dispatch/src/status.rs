//! The status precedence table: what a stopped task means for its dispatch.

pub use contract::DispatchStatus;

use crate::event::EcsTaskDetail;

/// The stop code of a task that never started.
pub const TASK_FAILED_TO_START: &str = "TaskFailedToStart";
/// The stop code of a task stopped through StopTask.
pub const USER_INITIATED: &str = "UserInitiated";
/// Stop codes of a task that ECS or AWS stopped from outside: its work was interrupted,
/// whatever its exit code (a worker that handles SIGTERM cleanly exits 0).
pub const EXTERNAL_STOPS: [&str; 3] = [
    "SpotInterruption",
    "TerminationNotice",
    "ServiceSchedulerInitiated",
];

/// Which row of the precedence table decided; logged with the decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    FailedToStart,
    TimeoutReason,
    UserInitiated,
    StoppedFromOutside,
    ExitZero,
    ExitNonZero,
    NoExitCode,
}

/// The outcome of the table for one stopped task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub status: DispatchStatus,
    /// The worker's exit code when known, recorded whatever the row.
    pub exit_code: Option<i64>,
    pub rule: Rule,
}

/// Decides the status of a stopped task; the first matching row wins:
///
/// | # | condition                                    | status    |
/// |---|----------------------------------------------|-----------|
/// | 1 | stopCode = TaskFailedToStart                 | FAILED    |
/// | 2 | stoppedReason contains "timeout", any case   | TIMEOUT   |
/// | 3 | stopCode = UserInitiated                     | CANCELLED |
/// | 4 | stopCode = SpotInterruption, TerminationNotice or ServiceSchedulerInitiated | FAILED |
/// | 5 | the worker's exit code is 0                  | COMPLETED |
/// | 6 | the worker's exit code is non-zero           | FAILED    |
/// | 7 | no exit code known                           | FAILED    |
///
/// The dispatcher stops overdue tasks through StopTask with a reason that mentions the
/// timeout, which ECS reports as UserInitiated, so row 2 must come before row 3. A task
/// that never started can neither time out nor be cancelled mid-run, so row 1 is first.
/// A task stopped from outside (row 4) did not finish its work even when it exited 0 on
/// SIGTERM, and a COMPLETED written for it could never be corrected, so row 4 comes
/// before the exit codes.
pub fn decide(detail: &EcsTaskDetail, worker_container: &str) -> Decision {
    let exit_code = worker_exit_code(detail, worker_container);
    let stop_code = detail.stop_code.as_deref();
    let timed_out = detail
        .stopped_reason
        .as_deref()
        .is_some_and(|reason| reason.to_lowercase().contains("timeout"));

    let (status, rule) = if stop_code == Some(TASK_FAILED_TO_START) {
        (DispatchStatus::Failed, Rule::FailedToStart)
    } else if timed_out {
        (DispatchStatus::Timeout, Rule::TimeoutReason)
    } else if stop_code == Some(USER_INITIATED) {
        (DispatchStatus::Cancelled, Rule::UserInitiated)
    } else if stop_code.is_some_and(|code| EXTERNAL_STOPS.contains(&code)) {
        (DispatchStatus::Failed, Rule::StoppedFromOutside)
    } else {
        match exit_code {
            Some(0) => (DispatchStatus::Completed, Rule::ExitZero),
            Some(_) => (DispatchStatus::Failed, Rule::ExitNonZero),
            None => (DispatchStatus::Failed, Rule::NoExitCode),
        }
    };
    Decision {
        status,
        exit_code,
        rule,
    }
}

/// The exit code that speaks for the task: the worker container's when the task has one
/// of that name; otherwise the first non-zero exit code of any container, else 0 when
/// every container that reports one exited 0, else none.
fn worker_exit_code(detail: &EcsTaskDetail, worker_container: &str) -> Option<i64> {
    let containers = detail.containers();
    if let Some(worker) = containers
        .iter()
        .find(|container| container.name.as_deref() == Some(worker_container))
    {
        return worker.exit_code;
    }
    let mut codes = containers
        .iter()
        .filter_map(|container| container.exit_code)
        .peekable();
    codes.peek()?;
    Some(codes.find(|code| *code != 0).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use DispatchStatus::*;

    fn check(detail: serde_json::Value, expected: (DispatchStatus, Option<i64>, Rule)) {
        let parsed: EcsTaskDetail = serde_json::from_value(detail.clone()).unwrap();
        let decision = decide(&parsed, "worker");
        assert_eq!(
            (decision.status, decision.exit_code, decision.rule),
            expected,
            "{detail}"
        );
    }

    fn worker(exit_code: serde_json::Value) -> serde_json::Value {
        json!([{"name": "worker", "exitCode": exit_code}, {"name": "sidecar", "exitCode": 0}])
    }

    #[test]
    fn every_row_of_the_table() {
        use Rule::*;
        check(
            json!({"stopCode": "TaskFailedToStart", "stoppedReason": "CannotPullContainerError: timeout", "containers": []}),
            (Failed, None, FailedToStart),
        );
        check(
            json!({"stopCode": "UserInitiated", "stoppedReason": "Dispatch TIMEOUT after 3600s", "containers": worker(json!(143))}),
            (Timeout, Some(143), TimeoutReason),
        );
        check(
            json!({"stopCode": "EssentialContainerExited", "stoppedReason": "Task timeout", "containers": worker(json!(0))}),
            (Timeout, Some(0), TimeoutReason),
        );
        check(
            json!({"stopCode": "UserInitiated", "stoppedReason": "Cancelled by user", "containers": worker(json!(137))}),
            (Cancelled, Some(137), UserInitiated),
        );
        check(
            json!({"stopCode": "EssentialContainerExited", "containers": worker(json!(0))}),
            (Completed, Some(0), ExitZero),
        );
        check(
            json!({"stopCode": "EssentialContainerExited", "containers": worker(json!(1))}),
            (Failed, Some(1), ExitNonZero),
        );
        check(
            json!({"stopCode": "SpotInterruption", "containers": worker(json!(137))}),
            (Failed, Some(137), StoppedFromOutside),
        );
        check(
            json!({"stopCode": "SpotInterruption", "containers": [{"name": "worker"}]}),
            (Failed, None, StoppedFromOutside),
        );
        // A worker that handled SIGTERM cleanly did not finish its work.
        for code in EXTERNAL_STOPS {
            check(
                json!({"stopCode": code, "containers": worker(json!(0))}),
                (Failed, Some(0), StoppedFromOutside),
            );
        }
        // A timeout or a cancellation says more than the stop code.
        check(
            json!({"stopCode": "TerminationNotice", "stoppedReason": "Dispatch timeout", "containers": worker(json!(0))}),
            (Timeout, Some(0), TimeoutReason),
        );
        check(json!({}), (Failed, None, NoExitCode));
    }

    #[test]
    fn without_a_worker_container_every_exit_code_counts() {
        use Rule::*;
        check(
            json!({"containers": [{"name": "a", "exitCode": 0}, {"name": "b", "exitCode": 0}]}),
            (Completed, Some(0), ExitZero),
        );
        check(
            json!({"containers": [{"name": "a", "exitCode": 0}, {"name": "b", "exitCode": 2}]}),
            (Failed, Some(2), ExitNonZero),
        );
        check(
            json!({"containers": [{"name": "a"}, {"name": "b", "exitCode": 0}]}),
            (Completed, Some(0), ExitZero),
        );
        check(
            json!({"containers": [{"name": "a"}]}),
            (Failed, None, NoExitCode),
        );
    }

    #[test]
    fn the_worker_speaks_for_the_task_even_when_a_sidecar_failed() {
        check(
            json!({"containers": [{"name": "sidecar", "exitCode": 1}, {"name": "worker", "exitCode": 0}]}),
            (Completed, Some(0), Rule::ExitZero),
        );
    }
}
