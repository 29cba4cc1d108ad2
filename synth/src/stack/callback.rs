//! The callback function: its log group, execution role, asynchronous invocation settings
//! and the queue that catches the events it failed on.

use contract::outputs;

use contract::{env, metrics, resources, table};

use crate::cfn::resources::dynamodb::Table;
use crate::cfn::resources::iam::Role;
use crate::cfn::resources::lambda::{DestinationConfig, EventInvokeConfig, Function, OnFailure};
use crate::cfn::resources::logs::LogGroup;
use crate::cfn::resources::sqs::Queue;
use crate::cfn::Attributes;
use crate::cfn::{ConditionOperator, Expr, Id, Statement, Template};
use crate::config::Config;

use super::lambda::{self, FunctionSpec};
use super::parameters::Parameters;
use super::queue;

/// What other components wire to.
pub(super) struct Callback {
    pub function: Id<Function>,
    pub role: Id<Role>,
    pub log_group: Id<LogGroup>,
    /// The function's on-failure destination.
    pub failure_queue: Id<Queue>,
}

pub(super) fn add(
    template: &mut Template,
    config: &Config,
    parameters: &Parameters,
    table: &Id<Table>,
) -> Callback {
    let log_group = lambda::log_group(
        template,
        outputs::LOG_GROUP_NAME.logical_id,
        resources::LOG_GROUP,
        parameters,
        // Adopted from the running system (`make adopt` imports it retained): it keeps
        // the history on-call reads, and outlives the stack as the import made it.
        Attributes::retained(),
    );
    let failure_queue = queue::add(
        template,
        outputs::FAILURE_QUEUE_URL.logical_id,
        &config.failure_queue,
    );
    let role = template.add(
        "CallbackRole",
        role(config, table, &log_group, &failure_queue),
    );
    let spec = spec(config, parameters, table);
    let function = template.add_with(
        outputs::FUNCTION_NAME.logical_id,
        lambda::function(config, parameters, spec, &role, &log_group),
        // No explicit DependsOn on the log group: the `Ref` in LoggingConfig already makes
        // CloudFormation create the group first (cfn-lint flags a DependsOn as redundant,
        // W3005). Were the function created first, Lambda would create the group itself
        // with no retention, and creating it in the stack would then fail.
        lambda::checkov_skips(CHECKOV_REASONS),
    );
    template.add(
        "CallbackEventInvokeConfig",
        EventInvokeConfig {
            function_name: function.name(),
            qualifier: "$LATEST".to_owned(),
            maximum_retry_attempts: config.function.async_retry_attempts,
            maximum_event_age_in_seconds: config.function.async_max_event_age_seconds,
            destination_config: Some(DestinationConfig {
                on_failure: OnFailure {
                    destination: failure_queue.arn(),
                },
            }),
        },
    );
    Callback {
        function,
        role,
        log_group,
        failure_queue,
    }
}

/// The function's own settings.
fn spec(config: &Config, parameters: &Parameters, table: &Id<Table>) -> FunctionSpec {
    FunctionSpec {
        name: resources::FUNCTION,
        description: format!(
            "Settles the dispatch in {} when its ECS task stops (rule {}).",
            table::NAME,
            resources::RULE
        ),
        memory_mb: config.function.memory_mb,
        timeout_seconds: config.function.timeout_seconds,
        code_key: parameters.code_key.clone(),
        variables: vec![
            (env::TABLE_NAME, table.name()),
            (
                env::TASK_ARN_INDEX,
                Expr::lit(config.table.task_arn_index.index.name),
            ),
            (env::WORKER_CONTAINER, parameters.worker_container.value()),
            (env::METRICS_SINK, Expr::lit(env::metrics_sink::EMF)),
        ],
    }
}

/// The function's execution role: exactly the calls the function makes, on exactly the
/// resources it makes them on.
fn role(
    config: &Config,
    table: &Id<Table>,
    log_group: &Id<LogGroup>,
    failure_queue: &Id<Queue>,
) -> Role {
    let statements = vec![
        Statement::allow(
            "UpdateDispatches",
            // GetItem confirms a dispatch is missing when a failed condition returns no
            // record (see function/src/store.rs).
            &["dynamodb:UpdateItem", "dynamodb:GetItem"],
            vec![table.arn().expr()],
        ),
        Statement::allow(
            "FindDispatchByTaskArn",
            &["dynamodb:Query"],
            vec![table.index_arn(config.table.task_arn_index.index.name)],
        ),
        lambda::write_logs(log_group),
        // PutMetricData has no resource-level permissions, so the resource must be `*`;
        // the namespace condition keeps the function to its own metrics.
        Statement::allow(
            "PutCallbackMetrics",
            &["cloudwatch:PutMetricData"],
            vec![Expr::lit("*")],
        )
        .when(
            ConditionOperator::StringEquals,
            "cloudwatch:namespace",
            Expr::lit(metrics::NAMESPACE),
        ),
        // Lambda sends events that failed every retry with the function's role.
        Statement::allow(
            "SendFailedEvents",
            &["sqs:SendMessage"],
            vec![failure_queue.arn().expr()],
        ),
    ];
    lambda::execution_role(resources::FUNCTION, statements)
}

/// Why the function does without what checkov asks of a function, in the order of
/// [`lambda::checkov_skips`].
const CHECKOV_REASONS: [&str; 4] = [
    "Failed asynchronous events go to an on-failure destination (the \
     CallbackFailureQueue), which supersedes a dead-letter queue and keeps the \
     error context.",
    "No reserved concurrency: new accounts have a concurrency limit of 10, which \
     leaves nothing to reserve, and the throttles alarm watches for exhaustion.",
    "Not in a VPC: the function only calls DynamoDB, CloudWatch and SQS public \
     endpoints over TLS, and a VPC would need NAT or endpoints for no gain.",
    "Environment variables hold resource names only, no secrets; Lambda encrypts \
     them with its service key.",
];
