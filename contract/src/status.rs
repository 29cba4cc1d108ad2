//! The statuses a dispatch record can hold, and which of them are final.

use std::fmt;

/// The status the control plane writes when it launches a dispatch.
pub const RUNNING: &str = "RUNNING";

/// The stop code the reconciler writes when ECS no longer knows a dispatch's task and the
/// dispatch is past its maximum age. That closure is a guess, and the only provisional
/// terminal status: the task's own STOPPED event (live, late or replayed) replaces it
/// with the true outcome, once.
pub const GUESS_STOP_CODE: &str = "ReconcilerTaskNotFound";

/// The final status of a dispatch. Every one of them is terminal: once written it is
/// never overwritten, because ECS delivers events at least once and out of order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DispatchStatus {
    Completed,
    Failed,
    Timeout,
    Cancelled,
}

impl DispatchStatus {
    /// Every terminal status.
    pub const TERMINAL: [DispatchStatus; 4] = [
        DispatchStatus::Completed,
        DispatchStatus::Failed,
        DispatchStatus::Timeout,
        DispatchStatus::Cancelled,
    ];

    /// The value stored in the record's `status` attribute.
    pub const fn as_str(self) -> &'static str {
        match self {
            DispatchStatus::Completed => "COMPLETED",
            DispatchStatus::Failed => "FAILED",
            DispatchStatus::Timeout => "TIMEOUT",
            DispatchStatus::Cancelled => "CANCELLED",
        }
    }

    /// The terminal status a stored value names, if it names one.
    pub fn parse(stored: &str) -> Option<DispatchStatus> {
        Self::TERMINAL
            .into_iter()
            .find(|status| status.as_str() == stored)
    }

    /// Whether a stored status is terminal.
    pub fn is_terminal(stored: &str) -> bool {
        Self::parse(stored).is_some()
    }
}

impl fmt::Display for DispatchStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_terminal_status_parses_back_and_running_is_not_terminal() {
        for status in DispatchStatus::TERMINAL {
            assert_eq!(DispatchStatus::parse(status.as_str()), Some(status));
        }
        assert!(!DispatchStatus::is_terminal(RUNNING));
        assert!(!DispatchStatus::is_terminal("completed"));
    }
}
