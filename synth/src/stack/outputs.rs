//! The quick reference card of the runbook, as outputs.

use contract::outputs;

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
        outputs::RECONCILER_FUNCTION_NAME.key,
        "Name of the reconciler function.",
        reconciler.function.name(),
    );
    template.output(
        outputs::RECONCILER_LOG_GROUP_NAME.key,
        "Log group of the reconciler function.",
        reconciler.log_group.name(),
    );
    template.output(
        outputs::RECONCILER_SCHEDULE_NAME.key,
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
        outputs::FUNCTION_NAME.key,
        "Name of the callback function.",
        function.name(),
    );
    template.output(
        "RuleArn",
        "ARN of the ECS task completion rule.",
        completion.rule.arn(),
    );
    template.output(
        outputs::RULE_NAME.key,
        "Name of the ECS task completion rule.",
        completion.rule.name(),
    );
    template.output("TableArn", "ARN of the dispatch table.", table.arn());
    template.output(
        outputs::TABLE_NAME.key,
        "Name of the dispatch table.",
        table.name(),
    );
    template.output(
        outputs::LOG_GROUP_NAME.key,
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
        (outputs::FAILURE_QUEUE_URL.key, "FailureQueueArn"),
        &callback.failure_queue,
        "the function's on-failure destination",
    );
    queue(
        template,
        (outputs::DEAD_LETTER_QUEUE_URL.key, "DeadLetterQueueArn"),
        &completion.dead_letter_queue,
        "the rule's dead-letter queue",
    );
}

/// A queue's URL and ARN, under the given (URL, ARN) output keys.
fn queue(template: &mut Template, (url, arn): (&str, &str), queue: &Id<Queue>, what: &str) {
    template.output(url, &format!("URL of {what}."), queue.url());
    template.output(arn, &format!("ARN of {what}."), queue.arn());
}
