//! What to do with each dispatch the reconciler examines, from what ECS says of its task.
//! Pure: the run asks DynamoDB and ECS, then acts on these answers.

use chrono::{DateTime, Duration, Utc};
use contract::ecs::STOPPED;
use contract::resources::RECONCILER;
use dispatch::event::{EcsTaskDetail, StoppedTask};
use dispatch::record::DispatchRecord;

/// The stop code written when ECS no longer knows a dispatch's task: the guess, which
/// the task's own event may still correct.
pub use contract::status::GUESS_STOP_CODE as TASK_NOT_FOUND;

/// A dispatch the status index returned: not settled, and older than the grace period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub dispatch_id: String,
    pub task_arn: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Candidate {
    /// A listed record as a candidate; `None` when its `createdAt` is unreadable.
    pub fn of(record: &DispatchRecord) -> Option<Candidate> {
        Some(Candidate {
            dispatch_id: record.dispatch_id.clone(),
            task_arn: record.task().map(str::to_owned),
            created_at: record.created()?,
        })
    }
}

/// What ECS said of a candidate's task.
#[derive(Clone, Copy, Debug)]
pub enum Answer<'a> {
    /// `DescribeTasks` returned the task (read in the event's shape).
    Found(&'a EcsTaskDetail),
    /// `DescribeTasks` listed it under `failures` as `MISSING`: ECS keeps a stopped task
    /// for about an hour, then forgets it.
    Missing,
}

/// The reconciler's verdict on one dispatch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The task stopped: settle through the callback's own path.
    Settle(Box<StoppedTask>),
    /// The task still runs: its event will come.
    StillRunning,
    /// The task stopped within the grace period: its event may still be on its way, and a
    /// settle here would count as a lost event. The next run looks again.
    StoppedWithinGrace,
    /// ECS does not know the task, but the dispatch is younger than the maximum age:
    /// ECS may not list a task it only just launched, so wait.
    MissingTooYoung,
    /// The dispatch names no task: the control plane may never have launched it, so it is
    /// only reported, never settled.
    NoTask,
}

/// How long a dispatch or a stop is left to its event, and when a forgotten task's
/// dispatch is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ages {
    pub grace: Duration,
    pub max_age: Duration,
}

/// The verdict on `candidate`, given what ECS said of its task (`None` when it names no
/// task). A task that stopped within the grace period is left to its event. A task ECS
/// no longer knows, on a dispatch older than the maximum age, is settled FAILED with a
/// stop code and reason that say so.
pub fn verdict(
    candidate: &Candidate,
    answer: Option<Answer<'_>>,
    now: DateTime<Utc>,
    Ages { grace, max_age }: Ages,
) -> Verdict {
    let (Some(task_arn), Some(answer)) = (&candidate.task_arn, answer) else {
        return Verdict::NoTask;
    };
    match answer {
        Answer::Found(task) => match StoppedTask::from_detail(task.clone(), now) {
            // ECS always says when a stopped task stopped; an answer that does not is
            // taken as old enough, never as a reason to wait for ever.
            Some(_) if task.stopped_at.is_some_and(|at| now - at < grace) => {
                Verdict::StoppedWithinGrace
            }
            Some(stopped) => Verdict::Settle(Box::new(stopped)),
            None => Verdict::StillRunning,
        },
        Answer::Missing if now - candidate.created_at < max_age => Verdict::MissingTooYoung,
        Answer::Missing => Verdict::Settle(Box::new(missing_task(task_arn, now))),
    }
}

/// The stopped task that stands for one ECS has forgotten: no exit code, so the status
/// table settles it FAILED, and a stop code and reason that say plainly what happened.
fn missing_task(task_arn: &str, now: DateTime<Utc>) -> StoppedTask {
    StoppedTask {
        task_arn: task_arn.to_owned(),
        stopped_at: now,
        detail: EcsTaskDetail {
            task_arn: Some(task_arn.to_owned()),
            last_status: Some(STOPPED.to_owned()),
            stop_code: Some(TASK_NOT_FOUND.to_owned()),
            stopped_reason: Some(format!(
                "Closed by {RECONCILER}: ECS has no record of task {task_arn} (it keeps \
                 stopped tasks for about an hour), and no stop event settled this dispatch."
            )),
            ..EcsTaskDetail::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use dispatch::status::{decide, DispatchStatus};

    use super::*;

    const ARN: &str = "arn:aws:ecs:us-east-1:311493921645:task/outpost-dev/abc";

    fn now() -> DateTime<Utc> {
        "2026-01-15T20:00:00Z".parse().unwrap()
    }

    fn candidate(task_arn: Option<&str>, age_minutes: i64) -> Candidate {
        Candidate {
            dispatch_id: "d-1".into(),
            task_arn: task_arn.map(str::to_owned),
            created_at: now() - Duration::minutes(age_minutes),
        }
    }

    fn check(candidate: &Candidate, answer: Option<Answer<'_>>) -> Verdict {
        let ages = Ages {
            grace: Duration::minutes(10),
            max_age: Duration::hours(2),
        };
        verdict(candidate, answer, now(), ages)
    }

    #[test]
    fn a_stopped_task_is_settled_and_a_running_one_left_alone() {
        let task = |status: &str| EcsTaskDetail {
            task_arn: Some(ARN.to_owned()),
            last_status: Some(status.to_owned()),
            ..EcsTaskDetail::default()
        };
        let (stopped, running) = (task("STOPPED"), task("RUNNING"));
        let old = candidate(Some(ARN), 30);
        assert!(matches!(
            check(&old, Some(Answer::Found(&stopped))),
            Verdict::Settle(_)
        ));
        assert_eq!(
            check(&old, Some(Answer::Found(&running))),
            Verdict::StillRunning
        );
        // Stopped a minute ago: its event may be on its way.
        let just = EcsTaskDetail {
            stopped_at: Some(now() - Duration::minutes(1)),
            ..stopped.clone()
        };
        assert_eq!(
            check(&old, Some(Answer::Found(&just))),
            Verdict::StoppedWithinGrace
        );
        let long_ago = EcsTaskDetail {
            stopped_at: Some(now() - Duration::minutes(11)),
            ..stopped
        };
        assert!(matches!(
            check(&old, Some(Answer::Found(&long_ago))),
            Verdict::Settle(_)
        ));
    }

    #[test]
    fn a_forgotten_task_is_closed_only_past_the_maximum_age() {
        let young = candidate(Some(ARN), 119);
        assert_eq!(
            check(&young, Some(Answer::Missing)),
            Verdict::MissingTooYoung
        );
        let Verdict::Settle(task) = check(&candidate(Some(ARN), 121), Some(Answer::Missing)) else {
            panic!("a dispatch past the maximum age is settled");
        };
        assert_eq!(task.task_arn, ARN);
        assert_eq!(task.detail.stop_code.as_deref(), Some(TASK_NOT_FOUND));
        let reason = task.detail.stopped_reason.as_deref().unwrap();
        assert!(
            reason.contains("ECS has no record of task") && reason.contains(RECONCILER),
            "{reason}"
        );
        // Through the callback's own status table: no exit code, so FAILED.
        assert_eq!(
            decide(&task.detail, "worker").status,
            DispatchStatus::Failed
        );
    }

    #[test]
    fn a_dispatch_without_a_task_is_only_reported() {
        assert_eq!(check(&candidate(None, 600), None), Verdict::NoTask);
    }
}
