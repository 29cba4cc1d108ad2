//! ECS's `DescribeTasks` task, read as the task detail of an ECS Task State Change event,
//! so the reconciler settles a dispatch exactly as the callback would have.

use aws_sdk_ecs::types::{Container, ContainerOverride, KeyValuePair, Tag, Task};
use chrono::{DateTime, Utc};
use dispatch::event::{self, EcsTaskDetail, StoppedTask};

/// The task as the callback would read it from its STOPPED event, or `None` when the task
/// has not stopped (see [`StoppedTask::from_detail`]; `now` is the moment ECS was asked).
pub fn stopped_task(task: &Task, now: DateTime<Utc>) -> Option<StoppedTask> {
    StoppedTask::from_detail(detail(task), now)
}

/// Every field the callback reads, from the API's shape to the event's.
pub fn detail(task: &Task) -> EcsTaskDetail {
    let text = |value: Option<&str>| value.map(str::to_owned);
    EcsTaskDetail {
        cluster_arn: text(task.cluster_arn()),
        task_arn: text(task.task_arn()),
        last_status: text(task.last_status()),
        desired_status: text(task.desired_status()),
        group: text(task.group()),
        stop_code: task.stop_code().map(|code| code.as_str().to_owned()),
        stopped_reason: text(task.stopped_reason()),
        stopped_at: task
            .stopped_at()
            .and_then(|at| DateTime::from_timestamp(at.secs(), at.subsec_nanos())),
        // The API's version starts at 1; 0 is the SDK's "absent".
        version: u64::try_from(task.version())
            .ok()
            .filter(|version| *version > 0),
        containers: Some(task.containers().iter().map(container).collect()),
        overrides: task.overrides().map(|overrides| event::Overrides {
            container_overrides: Some(
                overrides
                    .container_overrides()
                    .iter()
                    .map(container_override)
                    .collect(),
            ),
        }),
        tags: Some(task.tags().iter().map(tag).collect()),
    }
}

fn container(container: &Container) -> event::Container {
    event::Container {
        name: container.name().map(str::to_owned),
        exit_code: container.exit_code().map(i64::from),
        last_status: container.last_status().map(str::to_owned),
        reason: container.reason().map(str::to_owned),
    }
}

fn container_override(item: &ContainerOverride) -> event::ContainerOverride {
    event::ContainerOverride {
        name: item.name().map(str::to_owned),
        environment: Some(item.environment().iter().map(pair).collect()),
    }
}

fn pair(pair: &KeyValuePair) -> event::KeyValuePair {
    event::KeyValuePair {
        name: pair.name().map(str::to_owned),
        value: pair.value().map(str::to_owned),
    }
}

fn tag(tag: &Tag) -> event::Tag {
    event::Tag {
        key: tag.key().map(str::to_owned),
        value: tag.value().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests;
