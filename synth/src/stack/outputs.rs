//! The quick reference card of the runbook, as outputs.

use crate::cfn::resources::cloudwatch::Dashboard;
use crate::cfn::resources::dynamodb::Table;
use crate::cfn::resources::sqs::Queue;
use crate::cfn::{Id, Template};

use super::callback::Callback;
use super::reconciler::Reconciler;
use super::rule::Completion;

pub(super) fn add(
    template: &mut Template,
    table: &Id<Table>,
    callback: &Callback,
    completion: &Completion,
    reconciler: &Reconciler,
    dashboard: &Id<Dashboard>,
) {
    template.output(
        "ReconcilerFunctionName",
        "Name of the reconciler function.",
        reconciler.function.name(),
    );
    template.output(
        "ReconcilerLogGroupName",
        "Log group of the reconciler function.",
        reconciler.log_group.name(),
    );
    template.output(
        "ReconcilerScheduleName",
        "Name of the reconciler's schedule rule.",
        reconciler.schedule.name(),
    );
    let function = &callback.function;
    template.output(
        "FunctionArn",
        "ARN of the callback function.",
        function.arn(),
    );
    template.output(
        "FunctionName",
        "Name of the callback function.",
        function.name(),
    );
    template.output(
        "RuleArn",
        "ARN of the ECS task completion rule.",
        completion.rule.arn(),
    );
    template.output(
        "RuleName",
        "Name of the ECS task completion rule.",
        completion.rule.name(),
    );
    template.output("TableArn", "ARN of the dispatch table.", table.arn());
    template.output("TableName", "Name of the dispatch table.", table.name());
    template.output(
        "LogGroupName",
        "Log group of the callback function.",
        callback.log_group.name(),
    );
    template.output(
        "RoleName",
        "Execution role of the callback function.",
        callback.role.name(),
    );
    template.output(
        "DashboardName",
        "CloudWatch dashboard of the system.",
        dashboard.name(),
    );
    queue(
        template,
        "Failure",
        &callback.failure_queue,
        "the function's on-failure destination",
    );
    queue(
        template,
        "DeadLetter",
        &completion.dead_letter_queue,
        "the rule's dead-letter queue",
    );
}

fn queue(template: &mut Template, prefix: &str, queue: &Id<Queue>, what: &str) {
    template.output(
        &format!("{prefix}QueueUrl"),
        &format!("URL of {what}."),
        queue.url(),
    );
    template.output(
        &format!("{prefix}QueueArn"),
        &format!("ARN of {what}."),
        queue.arn(),
    );
}
