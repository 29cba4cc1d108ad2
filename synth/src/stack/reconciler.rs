//! The reconciler: a scheduled function that settles the dispatches whose task stopped
//! without a usable event, its log group, its least-privilege role and its schedule.

use contract::outputs;
use std::collections::BTreeMap;

use contract::env::{self, reconciler as vars};
use contract::{resources, table};

use crate::cfn::resources::dynamodb::Table;
use crate::cfn::resources::events::{Rule, RuleState, Target};
use crate::cfn::resources::iam::Role;
use crate::cfn::resources::lambda::{EventInvokeConfig, Function, Permission};
use crate::cfn::resources::logs::LogGroup;
use crate::cfn::{
    Attributes, CheckovSkip, Condition, ConditionOperator, Expr, Id, Statement, Template,
};
use crate::config::Config;

use super::lambda::{self, FunctionSpec};
use super::parameters::Parameters;

/// What other components wire to.
pub(super) struct Reconciler {
    pub function: Id<Function>,
    pub log_group: Id<LogGroup>,
    pub schedule: Id<Rule>,
}

pub(super) fn add(
    template: &mut Template,
    config: &Config,
    parameters: &Parameters,
    table: &Id<Table>,
) -> Reconciler {
    let log_group = lambda::log_group(
        template,
        outputs::RECONCILER_LOG_GROUP_NAME.logical_id,
        resources::RECONCILER_LOG_GROUP,
        parameters,
    );
    let role = template.add(
        "ReconcilerRole",
        role(config, parameters, table, &log_group),
    );
    let function = template.add_with(
        outputs::RECONCILER_FUNCTION_NAME.logical_id,
        function(config, parameters, table, &role, &log_group),
        Attributes::default().checkov_skips(CHECKOV_SKIPS),
    );
    // A failed run is not retried: the next scheduled run starts from where the backlog
    // stands, and the errors alarm has seen the failure.
    template.add(
        "ReconcilerEventInvokeConfig",
        EventInvokeConfig {
            function_name: function.name(),
            qualifier: "$LATEST".to_owned(),
            maximum_retry_attempts: 0,
            maximum_event_age_in_seconds: 60 * config.reconciler.every_minutes[0],
            destination_config: None,
        },
    );
    // EventBridge takes `rate(1 minute)` and refuses `rate(1 minutes)`.
    let every_minute = template.condition(
        "ReconcileEveryMinute",
        Condition::Equals(parameters.reconciler.every_minutes.value(), Expr::lit("1")),
    );
    let schedule = template.add(
        outputs::RECONCILER_SCHEDULE_NAME.logical_id,
        Rule {
            name: resources::RECONCILER_SCHEDULE.to_owned(),
            description: format!("Runs {} on a schedule.", resources::RECONCILER),
            state: RuleState::Enabled,
            event_pattern: None,
            schedule_expression: Some(Expr::if_(
                &every_minute,
                Expr::lit("rate(1 minute)"),
                Expr::sub(format!(
                    "rate(${{{}}} minutes)",
                    parameters.reconciler.every_minutes.name()
                )),
            )),
            targets: vec![Target {
                id: resources::RECONCILER.to_owned(),
                arn: function.arn(),
                retry_policy: None,
                dead_letter_config: None,
            }],
        },
    );
    template.add(
        "ReconcilerSchedulePermission",
        Permission {
            action: "lambda:InvokeFunction",
            function_name: function.arn(),
            principal: "events.amazonaws.com",
            source_arn: schedule.arn(),
        },
    );
    Reconciler {
        function,
        log_group,
        schedule,
    }
}

fn function(
    config: &Config,
    parameters: &Parameters,
    table: &Id<Table>,
    role: &Id<Role>,
    log_group: &Id<LogGroup>,
) -> Function {
    let reconciler = &parameters.reconciler;
    // What the reconciler reads at start-up; `contract::env` names each variable.
    let variables = BTreeMap::from([
        (env::TABLE_NAME.name.to_owned(), table.name()),
        (
            env::WORKER_CONTAINER.name.to_owned(),
            parameters.worker_container.value(),
        ),
        (
            vars::STATUS_INDEX.name.to_owned(),
            Expr::lit(table::STATUS_INDEX.name),
        ),
        (vars::STATUSES.name.to_owned(), reconciler.statuses.value()),
        (
            vars::GRACE_MINUTES.name.to_owned(),
            reconciler.grace_minutes.value(),
        ),
        (
            vars::MAX_AGE_MINUTES.name.to_owned(),
            reconciler.max_age_minutes.value(),
        ),
        (
            vars::MAX_RECORDS.name.to_owned(),
            reconciler.max_records.value(),
        ),
    ]);
    lambda::function(
        config,
        parameters,
        FunctionSpec {
            name: resources::RECONCILER,
            description: format!(
                "Settles the dispatches in {} whose ECS task stopped without a usable event.",
                table::NAME
            ),
            memory_mb: config.reconciler.memory_mb,
            timeout_seconds: config.reconciler.timeout_seconds,
            code_key: reconciler.code_key.clone(),
            variables,
        },
        role,
        log_group,
    )
}

/// Exactly the calls the reconciler makes, on exactly what it makes them on.
fn role(
    config: &Config,
    parameters: &Parameters,
    table: &Id<Table>,
    log_group: &Id<LogGroup>,
) -> Role {
    let any_cluster = Expr::sub(
        "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/*".to_owned(),
    );
    let statements = vec![
        Statement::allow(
            "ListDispatches",
            &["dynamodb:Query"],
            vec![table.index_arn(config.table.status_index.index.name).expr()],
        ),
        // The callback's own conditional write, and its not-found check.
        Statement::allow(
            "SettleDispatches",
            &["dynamodb:UpdateItem", "dynamodb:GetItem"],
            vec![table.arn().expr()],
        ),
        // DescribeTasks on the tasks of the cluster the rule listens to (any cluster with
        // ClusterArn=*).
        Statement::allow(
            "DescribeClusterTasks",
            &["ecs:DescribeTasks"],
            vec![Expr::sub(
                "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/*".to_owned(),
            )],
        )
        .when(
            ConditionOperator::ArnLike,
            "ecs:cluster",
            Expr::if_(&parameters.any_cluster, any_cluster, parameters.cluster()),
        ),
        lambda::write_logs(log_group),
    ];
    lambda::execution_role(resources::RECONCILER, statements)
}

/// Checks on the reconciler that the stack deliberately does not meet.
const CHECKOV_SKIPS: &[CheckovSkip] = &[
    CheckovSkip {
        id: "CKV_AWS_116",
        comment: "A failed run needs no dead-letter queue: the next scheduled run examines the \
                  same dispatches again, and the errors alarm reports the failure.",
    },
    CheckovSkip {
        id: "CKV_AWS_115",
        comment: "No reserved concurrency: new accounts have too little concurrency to reserve \
                  any, and overlapping runs are harmless (each write is conditional).",
    },
    CheckovSkip {
        id: "CKV_AWS_117",
        comment: "Not in a VPC: the reconciler only calls DynamoDB and ECS public endpoints \
                  over TLS, and a VPC would need NAT or endpoints for no gain.",
    },
    CheckovSkip {
        id: "CKV_AWS_173",
        comment: "Environment variables hold resource names and numbers only, no secrets; \
                  Lambda encrypts them with its service key.",
    },
];

#[cfg(test)]
mod tests {
    use crate::config::Config;

    /// The schedule expression for each allowed value of `ReconcileEveryMinutes`, resolved
    /// as CloudFormation would.
    fn schedules() -> Vec<String> {
        let template = serde_json::to_value(crate::stack::build(&Config::runbook())).unwrap();
        let parameter = &template["Parameters"]["ReconcileEveryMinutes"];
        let condition = &template["Conditions"]["ReconcileEveryMinute"]["Fn::Equals"];
        let expression = &template["Resources"]["ReconcilerSchedule"]["Properties"]
            ["ScheduleExpression"]["Fn::If"];
        assert_eq!(expression[0], "ReconcileEveryMinute");
        let every: Vec<String> = parameter["AllowedValues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value.to_string().trim_matches('"').to_owned())
            .collect();
        every
            .iter()
            .map(|minutes| {
                let chosen = if minutes == condition[1].as_str().unwrap() {
                    &expression[1]
                } else {
                    &expression[2]["Fn::Sub"]
                };
                let text = chosen.as_str().unwrap();
                text.replace("${ReconcileEveryMinutes}", minutes)
            })
            .collect()
    }

    #[test]
    fn every_allowed_schedule_is_an_expression_eventbridge_takes() {
        let schedules = schedules();
        assert!(
            schedules.contains(&"rate(1 minute)".to_owned()),
            "{schedules:?}"
        );
        for schedule in &schedules {
            let minutes: u32 = schedule
                .trim_start_matches("rate(")
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{schedule}"));
            let unit = if minutes == 1 { "minute" } else { "minutes" };
            assert_eq!(*schedule, format!("rate({minutes} {unit})"));
        }
    }
}
