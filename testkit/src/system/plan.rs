//! The fleet a system run launches and what goes wrong on its way, drawn from a seed, and
//! what each dispatch must end as: the runbook's status table applied to how its task
//! really stopped (never what the functions wrote).

use contract::DispatchStatus;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::reliability::STATUS_TABLE;

/// A span of fleet time, in minutes from the run's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub minutes: i64,
}

impl Window {
    pub fn holds(self, minute: i64) -> bool {
        (self.start..self.start + self.minutes).contains(&minute)
    }

    pub fn end(self) -> i64 {
        self.start + self.minutes
    }
}

/// How big a run is and how hard it is on the system.
#[derive(Clone, Debug, PartialEq)]
pub struct Knobs {
    pub dispatches: usize,
    pub seed: u64,
    /// Launches spread evenly over this many minutes.
    pub launch_minutes: i64,
    /// Shares of all stops whose event is dropped before the rule, delivered twice,
    /// delivered late (2 to 90 minutes), or followed by a RUNNING event of the same task.
    pub dropped: f64,
    pub twice: f64,
    pub late: f64,
    pub running_after: f64,
    /// Share of DynamoDB requests failed as AWS and networks fail them.
    pub dynamodb_faults: f64,
    /// Every n-th `ListTasks` and `DescribeTasks` is throttled (0: none).
    pub ecs_throttle_every: u64,
    /// ECS answers every question about the cluster with a server error.
    pub ecs_failing: Option<Window>,
    /// The callback's writes all fail (its events park in the failure queue) and the
    /// reconciler does not run; `outpost-ops replay` runs `replay_after` minutes after.
    pub outage: Option<Window>,
    pub replay_after: i64,
    /// The completion rule is disabled: events in it reach no one.
    pub rule_disabled: Option<Window>,
}

impl Knobs {
    /// CI's run: a few hundred tasks, one outage longer than ECS's memory.
    pub fn short(seed: u64) -> Knobs {
        Knobs {
            dispatches: 300,
            seed,
            launch_minutes: 180,
            dropped: 0.05,
            twice: 0.05,
            late: 0.05,
            running_after: 0.05,
            dynamodb_faults: 0.10,
            ecs_throttle_every: 9,
            ecs_failing: Some(Window {
                start: 200,
                minutes: 12,
            }),
            outage: Some(Window {
                start: 60,
                minutes: 90,
            }),
            replay_after: 20,
            rule_disabled: Some(Window {
                start: 170,
                minutes: 15,
            }),
        }
    }

    /// The benchmark's run: 5,000 tasks, one two-hour outage.
    pub fn long(seed: u64) -> Knobs {
        Knobs {
            dispatches: 5_000,
            launch_minutes: 360,
            outage: Some(Window {
                start: 120,
                minutes: 120,
            }),
            rule_disabled: Some(Window {
                start: 300,
                minutes: 20,
            }),
            ..Knobs::short(seed)
        }
    }
}

/// How a task names its dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    /// The worker container's `DISPATCH_ID` override.
    Environment,
    /// The task group `dispatch:ID`.
    Group,
    /// The tag `dispatch-id` (events carry no tags: the callback finds the dispatch by
    /// the task index, the reconciler by `DescribeTasks` with tags).
    Tag,
    /// Nothing: only the record names the task.
    IndexOnly,
}

/// What becomes of a stop's event on its way to the callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    OnTime,
    /// Never reaches the rule.
    Dropped,
    /// Delivered, and delivered again a minute later (EventBridge delivers at least once).
    Twice,
    /// Delivered this many minutes after the stop.
    Late(i64),
    /// Delivered, then a RUNNING event of the same task.
    RunningAfter,
}

/// One dispatch: its launch, its task, how that task stops and what its event meets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub dispatch_id: String,
    pub naming: Naming,
    pub launch_at: i64,
    pub runs_for: i64,
    /// The row of the status table its task stops by.
    pub stop: usize,
    /// The control plane's race: the record names its task this many minutes after the
    /// launch (0: at once).
    pub arn_after: i64,
    pub delivery: Delivery,
}

impl Job {
    pub fn stops_at(&self) -> i64 {
        self.launch_at + self.runs_for
    }

    /// What the dispatch must end as: its status and exit code.
    pub fn truth(&self) -> (DispatchStatus, Option<i64>) {
        let (_, _, exit_code, status) = STATUS_TABLE[self.stop];
        (status, exit_code)
    }
}

/// The fleet, in launch order.
pub fn fleet(knobs: &Knobs) -> Vec<Job> {
    let mut rng = StdRng::seed_from_u64(knobs.seed);
    let count = knobs.dispatches.max(1);
    (0..count)
        .map(|index| {
            let launch_at = knobs.launch_minutes * index as i64 / count as i64;
            // Short jobs mostly; some long enough to outlive an outage.
            let runs_for = if rng.random_bool(0.7) {
                rng.random_range(1..15)
            } else {
                rng.random_range(30..240)
            };
            let naming = match index % 5 {
                0 | 1 => Naming::Environment,
                2 => Naming::Group,
                3 => Naming::Tag,
                _ => Naming::IndexOnly,
            };
            let arn_after = if rng.random_bool(0.1) {
                rng.random_range(1..4)
            } else {
                0
            };
            let roll: f64 = rng.random();
            let shares = [knobs.dropped, knobs.twice, knobs.late, knobs.running_after];
            let delivery = match pick(roll, shares) {
                Some(0) => Delivery::Dropped,
                Some(1) => Delivery::Twice,
                Some(2) => Delivery::Late(rng.random_range(2..90)),
                Some(3) => Delivery::RunningAfter,
                _ => Delivery::OnTime,
            };
            Job {
                dispatch_id: format!("sys-{index:05}"),
                naming,
                launch_at,
                runs_for,
                stop: index % STATUS_TABLE.len(),
                arn_after,
                delivery,
            }
        })
        .collect()
}

/// Which of the `shares` (each a probability, together under 1) `roll` (in 0..1) lands
/// in; `None` past them all.
fn pick(roll: f64, shares: [f64; 4]) -> Option<usize> {
    let mut edge = 0.0;
    for (index, share) in shares.into_iter().enumerate() {
        edge += share;
        if roll < edge {
            return Some(index);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_fleet_and_every_kind_is_in_it() {
        let knobs = Knobs::short(7);
        let fleet = fleet(&knobs);
        assert_eq!(fleet, super::fleet(&knobs));
        assert_eq!(fleet.len(), 300);
        for naming in [
            Naming::Environment,
            Naming::Group,
            Naming::Tag,
            Naming::IndexOnly,
        ] {
            assert!(fleet.iter().any(|job| job.naming == naming), "{naming:?}");
        }
        for row in 0..STATUS_TABLE.len() {
            assert!(fleet.iter().any(|job| job.stop == row), "row {row}");
        }
        let count = |wanted: fn(&Delivery) -> bool| {
            fleet.iter().filter(|job| wanted(&job.delivery)).count()
        };
        assert!(count(|d| *d == Delivery::Dropped) > 5);
        assert!(count(|d| matches!(d, Delivery::Late(_))) > 5);
        assert!(count(|d| *d == Delivery::Twice) > 5);
        assert!(count(|d| *d == Delivery::RunningAfter) > 5);
        assert!(fleet.iter().any(|job| job.arn_after > 0), "the launch race");
        assert!(fleet
            .iter()
            .any(|job| job.runs_for > knobs.outage.unwrap().minutes));
        assert!(fleet.last().unwrap().launch_at < knobs.launch_minutes);
    }

    #[test]
    fn shares_are_picked_in_order() {
        let shares = [0.1, 0.2, 0.0, 0.3];
        assert_eq!(pick(0.05, shares), Some(0));
        assert_eq!(pick(0.25, shares), Some(1));
        assert_eq!(pick(0.35, shares), Some(3));
        assert_eq!(pick(0.65, shares), None);
    }

    #[test]
    fn windows_hold_their_minutes() {
        let window = Window {
            start: 10,
            minutes: 5,
        };
        assert!(!window.holds(9) && window.holds(10) && window.holds(14) && !window.holds(15));
        assert_eq!(window.end(), 15);
    }
}
