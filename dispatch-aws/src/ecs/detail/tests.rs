//! AWS-shaped `DescribeTasks` tasks, one per row of the status table, including the ones
//! moto's ECS cannot express (it keeps no stop code and every container exits 0).

use aws_sdk_ecs::types::{
    Container, ContainerOverride, KeyValuePair, Tag, Task, TaskOverride, TaskStopCode,
};
use aws_smithy_types::DateTime as AwsDateTime;
use dispatch::dispatch_id::{self, Source};
use dispatch::status::{decide, DispatchStatus, Rule};

use super::*;

const ARN: &str = "arn:aws:ecs:us-east-1:311493921645:task/outpost-dev/0f9b6d3b4c8a4e6f";

fn now() -> DateTime<Utc> {
    "2026-01-15T20:00:00Z".parse().unwrap()
}

/// A STOPPED task as `DescribeTasks` returns it, with a worker and a sidecar.
fn stopped(stop_code: TaskStopCode, reason: &str, worker_exit: Option<i32>) -> Task {
    let worker = Container::builder().name("worker").last_status("STOPPED");
    let worker = match worker_exit {
        Some(code) => worker.exit_code(code),
        None => worker,
    };
    Task::builder()
        .task_arn(ARN)
        .cluster_arn("arn:aws:ecs:us-east-1:311493921645:cluster/outpost-dev")
        .last_status("STOPPED")
        .desired_status("STOPPED")
        .stop_code(stop_code)
        .stopped_reason(reason)
        .stopped_at(AwsDateTime::from_secs(1_768_505_971))
        .version(5)
        .containers(worker.build())
        .containers(Container::builder().name("sidecar").exit_code(0).build())
        .build()
}

fn check(task: Task, expected: (DispatchStatus, Option<i64>, Rule)) {
    let stopped = stopped_task(&task, now()).expect("a stopped task");
    let decision = decide(&stopped.detail, "worker");
    assert_eq!(
        (decision.status, decision.exit_code, decision.rule),
        expected,
        "{task:?}"
    );
    assert_eq!(stopped.task_arn, ARN);
}

#[test]
fn every_row_of_the_status_table_from_a_described_task() {
    use DispatchStatus::*;
    use TaskStopCode::*;
    let failed_to_start = Task::builder()
        .task_arn(ARN)
        .last_status("STOPPED")
        .stop_code(TaskFailedToStart)
        .stopped_reason("CannotPullContainerError: i/o timeout")
        .build();
    check(failed_to_start, (Failed, None, Rule::FailedToStart));
    check(
        stopped(UserInitiated, "Dispatch timeout after 3600s", Some(143)),
        (Timeout, Some(143), Rule::TimeoutReason),
    );
    check(
        stopped(UserInitiated, "Cancelled by user", Some(143)),
        (Cancelled, Some(143), Rule::UserInitiated),
    );
    check(
        stopped(SpotInterruption, "Your Spot Task was interrupted.", Some(0)),
        (Failed, Some(0), Rule::StoppedFromOutside),
    );
    check(
        stopped(TerminationNotice, "Host EC2 terminated", Some(0)),
        (Failed, Some(0), Rule::StoppedFromOutside),
    );
    check(
        stopped(
            EssentialContainerExited,
            "Essential container in task exited",
            Some(0),
        ),
        (Completed, Some(0), Rule::ExitZero),
    );
    check(
        stopped(
            EssentialContainerExited,
            "Essential container in task exited",
            Some(1),
        ),
        (Failed, Some(1), Rule::ExitNonZero),
    );
    check(
        stopped(
            EssentialContainerExited,
            "Essential container in task exited",
            None,
        ),
        (Failed, None, Rule::NoExitCode),
    );
}

#[test]
fn the_record_gets_the_facts_the_event_would_have_given() {
    let stopped = stopped_task(
        &stopped(TaskStopCode::EssentialContainerExited, "exited", Some(0)),
        now(),
    )
    .unwrap();
    assert_eq!(
        stopped.stopped_at,
        "2026-01-15T19:39:31Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(
        stopped.detail.stop_code.as_deref(),
        Some("EssentialContainerExited")
    );
    assert_eq!(stopped.detail.stopped_reason.as_deref(), Some("exited"));
    assert_eq!(stopped.detail.version, Some(5));
    // Without stoppedAt, the moment ECS was asked stands in, as an event's time does.
    let no_time = Task::builder().task_arn(ARN).last_status("STOPPED").build();
    let stopped = stopped_task(&no_time, now()).unwrap();
    assert_eq!(stopped.stopped_at, now());
    assert_eq!(stopped.detail.version, None);
}

#[test]
fn the_dispatch_id_is_found_where_the_dispatcher_put_it() {
    let task = Task::builder()
        .task_arn(ARN)
        .last_status("STOPPED")
        .group("dispatch:d-1")
        .overrides(
            TaskOverride::builder()
                .container_overrides(
                    ContainerOverride::builder()
                        .name("worker")
                        .environment(
                            KeyValuePair::builder()
                                .name("DISPATCH_ID")
                                .value("d-1")
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .tags(Tag::builder().key("dispatch_id").value("d-1").build())
        .build();
    let stopped = stopped_task(&task, now()).unwrap();
    let (id, source) = dispatch_id::from_event(&stopped.detail).unwrap().unwrap();
    assert_eq!((id.as_str(), source), ("d-1", Source::ContainerEnvironment));
    // Tags come back from DescribeTasks (with `include TAGS`), unlike in events.
    let tagged = Task::builder()
        .task_arn(ARN)
        .last_status("STOPPED")
        .tags(Tag::builder().key("dispatch_id").value("d-2").build())
        .build();
    let stopped = stopped_task(&tagged, now()).unwrap();
    let (id, source) = dispatch_id::from_event(&stopped.detail).unwrap().unwrap();
    assert_eq!((id.as_str(), source), ("d-2", Source::TaskTag));
}

#[test]
fn a_task_that_has_not_stopped_is_left_alone() {
    for status in ["PROVISIONING", "PENDING", "RUNNING", "DEPROVISIONING"] {
        let task = Task::builder().task_arn(ARN).last_status(status).build();
        assert!(stopped_task(&task, now()).is_none(), "{status}");
    }
}
