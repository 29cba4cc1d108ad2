//! Our stack: every resource of the dispatch callback system, wired together.
//!
//! [`build`] is a pure function of [`Config`]; the same config always gives the same
//! template. Logical IDs are fixed here and never derived from anything that changes.

use std::collections::BTreeMap;

use crate::cfn::resources::cloudwatch::{Alarm, Dashboard, Dimension};
use crate::cfn::resources::dynamodb::{
    AttributeDefinition, AttributeType, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, PointInTimeRecoverySpecification, Projection, SseSpecification, Table,
};
use crate::cfn::resources::events::{
    DeadLetterConfig, EventPattern, RetryPolicy, Rule, RuleState, Target, TaskDetailPattern,
};
use crate::cfn::resources::iam::{InlinePolicy, Role};
use crate::cfn::resources::lambda::{
    Architecture, Code, DestinationConfig, Environment, EventInvokeConfig, Function, LogFormat,
    LoggingConfig, OnFailure, Permission,
};
use crate::cfn::resources::logs::LogGroup;
use crate::cfn::resources::sqs::{Queue, QueuePolicy};
use crate::cfn::{
    Attributes, CheckovSkip, Condition, ConditionOperator, Expr, Id, Parameter, ParameterId,
    PolicyDocument, Principal, Statement, Template,
};
use crate::config::{AlarmConfig, Config, IndexConfig, QueueConfig};
use crate::dashboard;

/// The retention periods CloudWatch Logs accepts, in days.
pub const LOG_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The parameters the template takes.
struct Parameters {
    architecture: ParameterId,
    code_bucket: ParameterId,
    code_key: ParameterId,
    worker_container: ParameterId,
    log_retention_days: ParameterId,
    cluster_arn: ParameterId,
    alarm_topic_arn: ParameterId,
}

/// Builds the template of the whole system from `config`.
pub fn build(config: &Config) -> Template {
    let mut template = Template::new(config.description);
    let parameters = parameters(&mut template, config);
    let cluster_arn_given = template.condition(
        "ClusterArnGiven",
        Condition::is_set(&parameters.cluster_arn),
    );
    let alarm_topic_given = template.condition(
        "AlarmTopicGiven",
        Condition::is_set(&parameters.alarm_topic_arn),
    );

    let table = template.add_with("DispatchTable", table(config), table_attributes());
    let log_group = template.add_with(
        "CallbackLogGroup",
        LogGroup {
            log_group_name: config.log_group.name.to_owned(),
            retention_in_days: parameters.log_retention_days.value(),
        },
        Attributes::default().checkov_skips(&[CheckovSkip {
            id: "CKV_AWS_158",
            comment: "Logs are encrypted with the CloudWatch Logs service key; they hold \
                      dispatch and task IDs, no secrets, so a customer key adds cost only.",
        }]),
    );
    let failure_queue = template.add_with(
        "CallbackFailureQueue",
        queue(&config.failure_queue),
        queue_attributes(),
    );
    let dead_letter_queue = template.add_with(
        "CompletionDeadLetterQueue",
        queue(&config.dead_letter_queue),
        queue_attributes(),
    );

    let role = template.add(
        "CallbackRole",
        role(config, &table, &log_group, &failure_queue),
    );
    let function = template.add_with(
        "CallbackFunction",
        Function {
            function_name: config.function.name.to_owned(),
            description: format!(
                "Settles the dispatch in {} when its ECS task stops (rule {}).",
                config.table.name, config.rule.name
            ),
            runtime: config.function.runtime,
            handler: config.function.handler.to_owned(),
            architectures: vec![parameters.architecture.value()],
            memory_size: config.function.memory_mb,
            timeout: config.function.timeout_seconds,
            code: Code {
                s3_bucket: parameters.code_bucket.value(),
                s3_key: parameters.code_key.value(),
            },
            role: role.arn(),
            environment: Environment {
                variables: BTreeMap::from([
                    ("TABLE_NAME".to_owned(), table.name()),
                    (
                        "TASK_ARN_INDEX".to_owned(),
                        Expr::lit(config.table.task_arn_index.name),
                    ),
                    (
                        "WORKER_CONTAINER".to_owned(),
                        parameters.worker_container.value(),
                    ),
                    (
                        "METRICS_SINK".to_owned(),
                        Expr::lit(config.function.metrics_sink),
                    ),
                ]),
            },
            logging_config: LoggingConfig {
                log_format: LogFormat::Json,
                log_group: log_group.name(),
            },
        },
        // No explicit DependsOn on the log group: the `Ref` in LoggingConfig already makes
        // CloudFormation create the group first (cfn-lint flags a DependsOn as redundant,
        // W3005). Were the function created first, Lambda would create the group itself
        // with no retention, and creating it in the stack would then fail.
        Attributes::default().checkov_skips(FUNCTION_CHECKOV_SKIPS),
    );
    template.add(
        "CallbackEventInvokeConfig",
        EventInvokeConfig {
            function_name: function.name(),
            qualifier: "$LATEST".to_owned(),
            maximum_retry_attempts: config.function.async_retry_attempts,
            maximum_event_age_in_seconds: config.function.async_max_event_age_seconds,
            destination_config: DestinationConfig {
                on_failure: OnFailure {
                    destination: failure_queue.arn(),
                },
            },
        },
    );

    let rule = template.add(
        "CompletionRule",
        Rule {
            name: config.rule.name.to_owned(),
            description: format!(
                "Sends {} events with lastStatus {} to {}.",
                config.rule.detail_type, config.rule.last_status, config.function.name
            ),
            state: RuleState::Enabled,
            event_pattern: EventPattern {
                source: vec![config.rule.source.to_owned()],
                detail_type: vec![config.rule.detail_type.to_owned()],
                detail: TaskDetailPattern {
                    last_status: vec![config.rule.last_status.to_owned()],
                    cluster_arn: vec![Expr::if_(
                        &cluster_arn_given,
                        parameters.cluster_arn.value(),
                        Expr::sub(format!(
                            "arn:${{AWS::Partition}}:ecs:${{AWS::Region}}:${{AWS::AccountId}}:cluster/{}",
                            config.rule.default_cluster_name
                        )),
                    )],
                },
            },
            targets: vec![Target {
                id: config.function.name.to_owned(),
                arn: function.arn(),
                retry_policy: RetryPolicy {
                    maximum_retry_attempts: config.rule.retry_attempts,
                    maximum_event_age_in_seconds: config.rule.max_event_age_seconds,
                },
                dead_letter_config: DeadLetterConfig { arn: dead_letter_queue.arn() },
            }],
        },
    );
    template.add(
        "CompletionRulePermission",
        Permission {
            action: "lambda:InvokeFunction",
            function_name: function.arn(),
            principal: "events.amazonaws.com",
            source_arn: rule.arn(),
        },
    );
    template.add(
        "CompletionDeadLetterQueuePolicy",
        QueuePolicy {
            queues: vec![dead_letter_queue.url()],
            policy_document: PolicyDocument::new(vec![Statement::allow(
                "EventBridgeDeadLetters",
                &["sqs:SendMessage"],
                vec![dead_letter_queue.arn().expr()],
            )
            .principal(Principal::service("events.amazonaws.com"))
            .when(
                ConditionOperator::ArnEquals,
                "aws:SourceArn",
                rule.arn().expr(),
            )]),
        },
    );

    let actions = Expr::if_(
        &alarm_topic_given,
        Expr::List(vec![parameters.alarm_topic_arn.value()]),
        Expr::no_value(),
    );
    // The runbook's alarms watch the function; ours watch the two dead-letter queues.
    let function_alarms = config
        .function_alarms
        .iter()
        .map(|alarm_config| (alarm_config, "FunctionName", function.name()));
    let queue_alarms = [
        (
            &config.queue_alarms.failure_queue,
            "QueueName",
            failure_queue.name(),
        ),
        (
            &config.queue_alarms.dead_letter_queue,
            "QueueName",
            dead_letter_queue.name(),
        ),
    ];
    for (alarm_config, dimension_name, value) in function_alarms.chain(queue_alarms) {
        let dimension = Dimension {
            name: dimension_name.to_owned(),
            value,
        };
        template.add(
            alarm_config.logical_id,
            alarm(alarm_config, dimension, &actions),
        );
    }
    let dashboard = template.add(
        "CallbackDashboard",
        Dashboard {
            dashboard_name: config.dashboard_name.to_owned(),
            dashboard_body: dashboard::body_expr(config),
        },
    );

    outputs(
        &mut template,
        &function,
        &rule,
        &table,
        &log_group,
        &role,
        &dashboard,
    );
    queue_outputs(
        &mut template,
        "Failure",
        &failure_queue,
        "the function's on-failure destination",
    );
    queue_outputs(
        &mut template,
        "DeadLetter",
        &dead_letter_queue,
        "the rule's dead-letter queue",
    );
    template
}

fn parameters(template: &mut Template, config: &Config) -> Parameters {
    let arn_or_empty = |service: &str, resource: &str| {
        format!("^$|^arn:aws[a-z-]*:{service}:[a-z0-9-]+:[0-9]{{12}}:{resource}$")
    };
    Parameters {
        architecture: template.parameter(
            "Architecture",
            Parameter::string("Instruction set of the function's bootstrap binary.")
                .default(config.function.default_architecture.as_str())
                .allowed_values(Architecture::ALL.map(Architecture::as_str)),
        ),
        code_bucket: template.parameter(
            "CodeBucket",
            Parameter::string("S3 bucket holding the function's deployment package (zip).")
                .allowed_pattern("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", "an S3 bucket name"),
        ),
        code_key: template.parameter(
            "CodeKey",
            Parameter::string("S3 key of the function's deployment package (zip).")
                .allowed_pattern("^.+$", "a non-empty S3 object key"),
        ),
        worker_container: template.parameter(
            "WorkerContainer",
            Parameter::string("Name of the ECS container whose exit code settles a dispatch.")
                .default(config.function.default_worker_container)
                .allowed_pattern("^[A-Za-z0-9_-]{1,255}$", "an ECS container name"),
        ),
        log_retention_days: template.parameter(
            "LogRetentionDays",
            Parameter::number("Days CloudWatch Logs keeps the function's logs.")
                .default(config.log_group.default_retention_days)
                .allowed_values(LOG_RETENTION_DAYS),
        ),
        cluster_arn: template.parameter(
            "ClusterArn",
            Parameter::string(format!(
                "ARN of the ECS cluster whose stopped tasks settle dispatches; empty means the \
                 {} cluster in this account and region.",
                config.rule.default_cluster_name
            ))
            .default("")
            .allowed_pattern(
                &arn_or_empty("ecs", "cluster/.+"),
                "empty, or an ECS cluster ARN",
            ),
        ),
        alarm_topic_arn: template.parameter(
            "AlarmTopicArn",
            Parameter::string(
                "ARN of the SNS topic alarms notify (alarm and OK); empty means no notifications.",
            )
            .default("")
            .allowed_pattern(
                &arn_or_empty("sns", "[A-Za-z0-9_-]+(\\.fifo)?"),
                "empty, or an SNS topic ARN",
            ),
        ),
    }
}

fn table(config: &Config) -> Table {
    let table = &config.table;
    let indexes = [&table.task_arn_index, &table.status_index];
    // Every attribute any key schema uses, once, and nothing else.
    let mut key_attributes = vec![table.partition_key];
    for index in indexes {
        key_attributes.extend(
            [Some(index.partition_key), index.sort_key]
                .into_iter()
                .flatten(),
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    key_attributes.retain(|name| seen.insert(*name));
    Table {
        table_name: table.name.to_owned(),
        billing_mode: BillingMode::PayPerRequest,
        attribute_definitions: key_attributes
            .into_iter()
            .map(|name| AttributeDefinition {
                attribute_name: name.to_owned(),
                attribute_type: AttributeType::S,
            })
            .collect(),
        key_schema: vec![key(table.partition_key, KeyType::Hash)],
        global_secondary_indexes: indexes.into_iter().map(index).collect(),
        point_in_time_recovery_specification: PointInTimeRecoverySpecification {
            point_in_time_recovery_enabled: true,
        },
        deletion_protection_enabled: true,
        sse_specification: SseSpecification { sse_enabled: true },
    }
}

/// The table holds the only state of the system: it survives the stack's deletion and
/// any update that would replace it.
fn table_attributes() -> Attributes {
    Attributes::retained().checkov_skips(&[CheckovSkip {
        id: "CKV_AWS_119",
        comment: "Encrypted with the AWS managed key (SSEEnabled); dispatch records hold no \
                  secrets, so a customer managed key adds cost and key administration only.",
    }])
}

fn key(attribute: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement {
        attribute_name: attribute.to_owned(),
        key_type,
    }
}

fn index(index: &IndexConfig) -> GlobalSecondaryIndex {
    let mut key_schema = vec![key(index.partition_key, KeyType::Hash)];
    key_schema.extend(index.sort_key.map(|sort_key| key(sort_key, KeyType::Range)));
    GlobalSecondaryIndex {
        index_name: index.name.to_owned(),
        key_schema,
        projection: Projection {
            projection_type: index.projection,
            non_key_attributes: Vec::new(),
        },
    }
}

fn queue(config: &QueueConfig) -> Queue {
    Queue {
        queue_name: config.name.to_owned(),
        sqs_managed_sse_enabled: true,
        message_retention_period: config.retention_seconds,
    }
}

fn queue_attributes() -> Attributes {
    Attributes::default().checkov_skips(&[CheckovSkip {
        id: "CKV_AWS_27",
        comment: "Encrypted with SQS managed keys (SqsManagedSseEnabled), which checkov does not \
                  recognise; a KMS key would need a customer managed key whose policy lets \
                  EventBridge send to the dead-letter queue.",
    }])
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
            &["dynamodb:UpdateItem"],
            vec![table.arn().expr()],
        ),
        Statement::allow(
            "FindDispatchByTaskArn",
            &["dynamodb:Query"],
            vec![table.index_arn(config.table.task_arn_index.name).expr()],
        ),
        Statement::allow(
            "WriteLogs",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            vec![log_group.arn().expr(), log_group.log_streams_arn().expr()],
        ),
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
            Expr::lit(config.metrics.namespace),
        ),
        // Lambda sends events that failed every retry with the function's role.
        Statement::allow(
            "SendFailedEvents",
            &["sqs:SendMessage"],
            vec![failure_queue.arn().expr()],
        ),
    ];
    Role {
        role_name: Expr::sub(format!("{}-${{AWS::Region}}", config.function.name)),
        description: format!("Execution role of the {} function.", config.function.name),
        // A trust policy names a principal and no resource.
        assume_role_policy_document: PolicyDocument::new(vec![Statement::allow(
            "LambdaAssumesRole",
            &["sts:AssumeRole"],
            Vec::new(),
        )
        .principal(Principal::service("lambda.amazonaws.com"))]),
        policies: vec![InlinePolicy {
            policy_name: config.function.name.to_owned(),
            policy_document: PolicyDocument::new(statements),
        }],
    }
}

/// Checks on the function that the stack deliberately does not meet.
const FUNCTION_CHECKOV_SKIPS: &[CheckovSkip] = &[
    CheckovSkip {
        id: "CKV_AWS_116",
        comment: "Failed asynchronous events go to an on-failure destination (the \
                  CallbackFailureQueue), which supersedes a dead-letter queue and keeps the \
                  error context.",
    },
    CheckovSkip {
        id: "CKV_AWS_115",
        comment: "No reserved concurrency: new accounts have a concurrency limit of 10, which \
                  leaves nothing to reserve, and the throttles alarm watches for exhaustion.",
    },
    CheckovSkip {
        id: "CKV_AWS_117",
        comment: "Not in a VPC: the function only calls DynamoDB, CloudWatch and SQS public \
                  endpoints over TLS, and a VPC would need NAT or endpoints for no gain.",
    },
    CheckovSkip {
        id: "CKV_AWS_173",
        comment: "Environment variables hold resource names only, no secrets; Lambda encrypts \
                  them with its service key.",
    },
];

fn alarm(config: &AlarmConfig, dimension: Dimension, actions: &Expr) -> Alarm {
    Alarm {
        alarm_name: config.name.to_owned(),
        alarm_description: config.description.to_owned(),
        namespace: config.namespace.to_owned(),
        metric_name: config.metric.to_owned(),
        dimensions: vec![dimension],
        statistic: config.statistic,
        period: config.period_seconds,
        evaluation_periods: config.evaluation_periods,
        threshold: config.threshold,
        comparison_operator: config.comparison,
        treat_missing_data: config.treat_missing_data,
        alarm_actions: Some(actions.clone()),
        ok_actions: Some(actions.clone()),
    }
}

/// The quick reference card of the runbook, as outputs.
fn outputs(
    template: &mut Template,
    function: &Id<Function>,
    rule: &Id<Rule>,
    table: &Id<Table>,
    log_group: &Id<LogGroup>,
    role: &Id<Role>,
    dashboard: &Id<Dashboard>,
) {
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
        rule.arn(),
    );
    template.output(
        "RuleName",
        "Name of the ECS task completion rule.",
        rule.name(),
    );
    template.output("TableArn", "ARN of the dispatch table.", table.arn());
    template.output("TableName", "Name of the dispatch table.", table.name());
    template.output(
        "LogGroupName",
        "Log group of the callback function.",
        log_group.name(),
    );
    template.output(
        "RoleName",
        "Execution role of the callback function.",
        role.name(),
    );
    template.output(
        "DashboardName",
        "CloudWatch dashboard of the system.",
        dashboard.name(),
    );
}

fn queue_outputs(template: &mut Template, prefix: &str, queue: &Id<Queue>, what: &str) {
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

#[cfg(test)]
mod tests;
