//! Where the sweep stands in its walk of one status's dispatches, kept between runs, and
//! how much of the walk a run takes on. Pure: `store` reads and writes it.
//!
//! A cycle is one walk of the status index from the oldest dispatch past the grace period
//! to the newest. Each run resumes where the last one stopped and walks its share, so
//! every dispatch is listed once a cycle however many cannot be settled, and a backlog
//! never hides a newer dispatch. The share is cut so that a cycle ends within the sweep
//! period: about n ÷ (sweep period ÷ schedule) dispatches a run.

use chrono::{DateTime, Duration, Utc};
use dispatch_aws::status_index::Position;

pub mod store;

/// The least a run's share is: a fleet this small is walked whole by every run, at the
/// cost of one `Query` page.
pub const MIN_SHARE: usize = 500;

/// One status's walk, as it stood after the last run that moved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub status: String,
    /// Where the walk resumes; `None` at the start of a cycle.
    pub after: Option<Position>,
    pub cycle_started: DateTime<Utc>,
    /// Dispatches listed so far in this cycle.
    pub cycle_walked: u64,
    /// Dispatches the last whole cycle listed; before the first cycle ends, a count of
    /// the index taken when it began; `None` before that.
    pub last_cycle: Option<u64>,
    /// The stored item's version (0: there is none yet).
    pub version: u64,
}

/// The sweep's period and the schedule's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pace {
    pub sweep: Duration,
    pub every: Duration,
}

impl Pace {
    /// The runs a cycle is planned over: those in one sweep period but the last, kept
    /// spare so that a fleet that grew during the cycle still ends it within the period.
    pub fn runs_per_cycle(self) -> u64 {
        let runs = self.sweep.num_seconds() / self.every.num_seconds().max(1);
        u64::try_from(runs - 1).unwrap_or(0).max(1)
    }
}

impl Cursor {
    /// The start of a status's first cycle.
    pub fn fresh(status: &str, now: DateTime<Utc>) -> Cursor {
        Cursor {
            status: status.to_owned(),
            after: None,
            cycle_started: now,
            cycle_walked: 0,
            last_cycle: None,
            version: 0,
        }
    }

    /// Whether the cycle has begun: a run walked some of it.
    fn begun(&self) -> bool {
        self.after.is_some() || self.cycle_walked > 0
    }

    /// How many dispatches this run walks, given `size`: the dispatches the cycle holds
    /// (the last cycle's count, or a count of the index before the first cycle ends).
    /// What is left of the cycle, spread over the runs left before its planned end, and
    /// never less than the steady pace (size ÷ runs per cycle) or [`MIN_SHARE`]: a cycle
    /// that ran late catches up at once.
    pub fn share(&self, size: u64, now: DateTime<Utc>, pace: Pace) -> usize {
        let planned_runs = pace.runs_per_cycle();
        // A cycle not begun yet (the last ended) begins with this run.
        let runs_done = if self.begun() {
            let elapsed = (now - self.cycle_started).num_seconds().max(0);
            u64::try_from(elapsed / pace.every.num_seconds().max(1)).unwrap_or(0)
        } else {
            0
        };
        let runs_left = planned_runs.saturating_sub(runs_done).max(1);
        let left = size.saturating_sub(self.cycle_walked);
        let share = left
            .div_ceil(runs_left)
            .max(size.div_ceil(planned_runs))
            .max(MIN_SHARE as u64);
        usize::try_from(share).unwrap_or(usize::MAX)
    }

    /// The cursor after a run walked `walked` more dispatches and stopped before `next`
    /// (`None`: it reached the end, and the next run starts a new cycle).
    pub fn advanced(&self, walked: u64, next: Option<Position>, now: DateTime<Utc>) -> Cursor {
        let cycle_walked = self.cycle_walked + walked;
        match next {
            Some(after) => Cursor {
                after: Some(after),
                // The cycle began with the run that walked its first page.
                cycle_started: if self.begun() {
                    self.cycle_started
                } else {
                    now
                },
                cycle_walked,
                version: self.version + 1,
                ..self.clone()
            },
            None => Cursor {
                status: self.status.clone(),
                after: None,
                cycle_started: now,
                cycle_walked: 0,
                last_cycle: Some(cycle_walked),
                version: self.version + 1,
            },
        }
    }
}

#[cfg(test)]
mod tests;
