//! The EventBridge rule that sends stopped ECS tasks to the function, its permission to
//! invoke it, and the dead-letter queue for events it could not deliver.

use contract::outputs;
use contract::{ecs, resources};

use crate::cfn::resources::events::{
    DeadLetterConfig, EventPattern, RetryPolicy, Rule, RuleState, Target, TaskDetailPattern,
};
use crate::cfn::resources::lambda::{Function, Permission};
use crate::cfn::resources::sqs::{Queue, QueuePolicy};
use crate::cfn::{ConditionOperator, Expr, Id, PolicyDocument, Principal, Statement, Template};
use crate::config::Config;

use super::parameters::Parameters;
use super::queue;

/// What other components wire to.
pub(super) struct Completion {
    pub rule: Id<Rule>,
    pub dead_letter_queue: Id<Queue>,
}

pub(super) fn add(
    template: &mut Template,
    config: &Config,
    parameters: &Parameters,
    function: &Id<Function>,
) -> Completion {
    let dead_letter_queue = queue::add(
        template,
        outputs::DEAD_LETTER_QUEUE_URL.logical_id,
        &config.dead_letter_queue,
    );
    // Adopted from the running system (`make adopt` imports it retained): a stack
    // deleted by mistake leaves the running rule in place, as the import made it.
    let rule = template.add_with(
        outputs::RULE_NAME.logical_id,
        rule(config, parameters, function, &dead_letter_queue),
        crate::cfn::Attributes::retained(),
    );
    let permission = Permission::for_rule(function, &rule);
    template.add("CompletionRulePermission", permission);
    template.add(
        "CompletionDeadLetterQueuePolicy",
        QueuePolicy {
            queues: vec![dead_letter_queue.url()],
            policy_document: PolicyDocument::new(vec![Statement::allow(
                "EventBridgeDeadLetters",
                &["sqs:SendMessage"],
                vec![dead_letter_queue.arn().expr()],
            )
            .principal(Principal::Service("events.amazonaws.com"))
            .when(
                ConditionOperator::ArnEquals,
                "aws:SourceArn",
                rule.arn().expr(),
            )]),
        },
    );
    Completion {
        rule,
        dead_letter_queue,
    }
}

fn rule(
    config: &Config,
    parameters: &Parameters,
    function: &Id<Function>,
    dead_letter_queue: &Id<Queue>,
) -> Rule {
    Rule {
        name: resources::RULE.to_owned(),
        description: format!(
            "Sends {} events with lastStatus {} to {}.",
            ecs::TASK_STATE_CHANGE,
            ecs::STOPPED,
            resources::FUNCTION
        ),
        state: RuleState::Enabled,
        schedule_expression: None,
        event_pattern: Some(EventPattern {
            source: vec![ecs::SOURCE.to_owned()],
            detail_type: vec![ecs::TASK_STATE_CHANGE.to_owned()],
            detail: TaskDetailPattern {
                last_status: vec![ecs::STOPPED.to_owned()],
                // Every ECS task event has a cluster ARN, so "exists" matches any cluster.
                cluster_arn: vec![Expr::if_(
                    &parameters.any_cluster,
                    Expr::Exists,
                    parameters.cluster(),
                )],
            },
        }),
        targets: vec![Target {
            id: resources::FUNCTION.to_owned(),
            arn: function.arn(),
            retry_policy: Some(RetryPolicy {
                maximum_retry_attempts: config.rule.retry_attempts,
                maximum_event_age_in_seconds: config.rule.max_event_age_seconds,
            }),
            dead_letter_config: Some(DeadLetterConfig {
                arn: dead_letter_queue.arn(),
            }),
        }],
    }
}
