//! The contract's names are the runbook's: these literals are copied from
//! `runbook.md`, so a rename here fails until the runbook (and this list) agree.

use contract::{ecs, env, logs, metrics, resources, table, DispatchStatus};

#[test]
fn names_are_the_runbooks() {
    let names = [
        (resources::FUNCTION, "outpost-dispatch-callback"),
        (resources::RULE, "outpost-dispatch-completion"),
        (
            resources::LOG_GROUP,
            "/aws/lambda/outpost-dispatch-callback",
        ),
        (resources::DEFAULT_CLUSTER, "outpost-dev"),
        (
            resources::alarms::ERRORS,
            "outpost-dispatch-callback-errors",
        ),
        (
            resources::alarms::DURATION,
            "outpost-dispatch-callback-duration",
        ),
        (
            resources::alarms::THROTTLES,
            "outpost-dispatch-callback-throttles",
        ),
        (table::NAME, "outpost-dispatches"),
        (table::PARTITION_KEY, "dispatchId"),
        (table::TASK_ARN_INDEX.name, "task_arn-index"),
        (table::STATUS_INDEX.name, "status-createdAt-index"),
        (table::STATUS_INDEX.partition_key, "status"),
        (table::STATUS_INDEX.sort_key.unwrap(), "createdAt"),
        (table::attr::TASK_ARN, "taskArn"),
        (table::attr::ENDED_AT, "endedAt"),
        (metrics::NAMESPACE, "Outpost/Callbacks"),
        (metrics::CALLBACK_LATENCY_MS, "CallbackLatencyMs"),
        (metrics::UPDATES_SUCCESSFUL, "DispatchUpdatesSuccessful"),
        (metrics::UPDATES_SKIPPED, "DispatchUpdatesSkipped"),
        (metrics::UPDATES_FAILED, "DispatchUpdatesFailed"),
        (metrics::FUNCTION_NAME_DIMENSION, "FunctionName"),
        (logs::QUERYING_BY_TASK_ARN, "querying by task ARN"),
        (logs::NO_DISPATCH_ID_FOUND, "No dispatch ID found in task"),
        (ecs::SOURCE, "aws.ecs"),
        (ecs::TASK_STATE_CHANGE, "ECS Task State Change"),
        (ecs::STOPPED, "STOPPED"),
        (contract::dispatch_id::ENV_NAME, "DISPATCH_ID"),
        (contract::dispatch_id::GROUP_PREFIX, "dispatch:"),
        (contract::dispatch_id::TAG_KEY, "dispatch_id"),
        (contract::status::RUNNING, "RUNNING"),
    ];
    for (actual, runbook) in names {
        assert_eq!(actual, runbook);
    }
    let statuses = DispatchStatus::TERMINAL.map(DispatchStatus::as_str);
    assert_eq!(statuses, ["COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"]);
}

#[test]
fn every_environment_default_is_the_deployed_name() {
    assert_eq!(env::TABLE_NAME.default, table::NAME);
    assert_eq!(env::TASK_ARN_INDEX.default, table::TASK_ARN_INDEX.name);
    assert_eq!(env::LAMBDA_FUNCTION_NAME.default, resources::FUNCTION);
    let names: Vec<&str> = env::ALL.iter().map(|var| var.name).collect();
    assert_eq!(
        names,
        [
            "TABLE_NAME",
            "TASK_ARN_INDEX",
            "WORKER_CONTAINER",
            "METRICS_SINK"
        ]
    );
}
