//! The reconciler: a scheduled function that settles the dispatches whose task stopped
//! without a usable event, its log group, its least-privilege role and its schedule.

use contract::outputs;

use contract::env::{self, reconciler as vars};
use contract::{resources, table};

use crate::cfn::resources::dynamodb::Table;
use crate::cfn::resources::events::{Rule, RuleState, Target};
use crate::cfn::resources::iam::Role;
use crate::cfn::resources::lambda::{EventInvokeConfig, Function, Permission};
use crate::cfn::resources::logs::LogGroup;
use crate::cfn::{Condition, ConditionOperator, Expr, Id, Statement, Template};
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
        crate::cfn::Attributes::default(),
    );
    let sweep_table = super::table::add_sweep(template);
    let role = template.add(
        "ReconcilerRole",
        role(config, parameters, [table, &sweep_table], &log_group),
    );
    let spec = spec(config, parameters, table, &sweep_table);
    let function = template.add_with(
        outputs::RECONCILER_FUNCTION_NAME.logical_id,
        lambda::function(config, parameters, spec, &role, &log_group),
        lambda::checkov_skips(CHECKOV_REASONS),
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
    let every_minutes = parameters.reconciler.every_minutes.name();
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
                Expr::sub(format!("rate(${{{every_minutes}}} minutes)")),
            )),
            targets: vec![Target {
                id: resources::RECONCILER.to_owned(),
                arn: function.arn(),
                retry_policy: None,
                dead_letter_config: None,
            }],
        },
    );
    let permission = Permission::for_rule(&function, &schedule);
    template.add("ReconcilerSchedulePermission", permission);
    Reconciler {
        function,
        log_group,
        schedule,
    }
}

/// The function's own settings.
fn spec(
    config: &Config,
    parameters: &Parameters,
    table: &Id<Table>,
    sweep_table: &Id<Table>,
) -> FunctionSpec {
    let reconciler = &parameters.reconciler;
    FunctionSpec {
        name: resources::RECONCILER,
        description: format!(
            "Settles the dispatches in {} whose ECS task stopped without a usable event.",
            table::NAME
        ),
        memory_mb: config.reconciler.memory_mb,
        timeout_seconds: config.reconciler.timeout_seconds,
        code_key: reconciler.code_key.clone(),
        variables: vec![
            (vars::WATCHED_CLUSTER, parameters.watched_cluster()),
            (env::TABLE_NAME, table.name()),
            (env::WORKER_CONTAINER, parameters.worker_container.value()),
            (vars::STATUS_INDEX, Expr::lit(table::STATUS_INDEX.name)),
            (vars::STATUSES, reconciler.statuses.value()),
            (vars::EVERY_MINUTES, reconciler.every_minutes.value()),
            (vars::GRACE_MINUTES, reconciler.grace_minutes.value()),
            (vars::MAX_AGE_MINUTES, reconciler.max_age_minutes.value()),
            (vars::SWEEP_MINUTES, reconciler.sweep_minutes.value()),
            (vars::SWEEP_TABLE, sweep_table.name()),
        ],
    }
}

/// Exactly the calls the reconciler makes, on exactly what it makes them on.
fn role(
    config: &Config,
    parameters: &Parameters,
    [table, sweep_table]: [&Id<Table>; 2],
    log_group: &Id<LogGroup>,
) -> Role {
    let statements = vec![
        Statement::allow(
            "ListDispatches",
            &["dynamodb:Query"],
            vec![table.index_arn(config.table.status_index.index.name)],
        ),
        // The callback's own conditional write and its not-found check, and the read of
        // the stopped tasks' dispatches before anything is written.
        Statement::allow(
            "SettleDispatches",
            &[
                "dynamodb:UpdateItem",
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
            ],
            vec![table.arn().expr()],
        ),
        // The sweep's place: read at the start of a run, written (conditionally) at its end.
        Statement::allow(
            "KeepSweepPlace",
            &["dynamodb:GetItem", "dynamodb:PutItem"],
            vec![sweep_table.arn().expr()],
        ),
        // DescribeTasks on the tasks of the cluster the rule listens to (any cluster with
        // ClusterArn=*).
        cluster_tasks(
            "DescribeClusterTasks",
            "ecs:DescribeTasks",
            "task/*",
            parameters,
        ),
        // ListTasks (the stopped ones) there too; IAM authorizes it on the cluster's
        // container instances.
        cluster_tasks(
            "ListClusterTasks",
            "ecs:ListTasks",
            "container-instance/*",
            parameters,
        ),
        // With ClusterArn=*, the clusters to read are the account's: ListClusters takes
        // no resource, so it is granted on "*", and only then.
        Statement::allow("ListClusters", &["ecs:ListClusters"], vec![Expr::lit("*")])
            .only_if(&parameters.any_cluster),
        lambda::write_logs(log_group),
    ];
    lambda::execution_role(resources::RECONCILER, statements)
}

/// Allows `action` on the ECS resources `resource` (`task/*`, ...) of the watched cluster.
fn cluster_tasks(
    sid: &str,
    action: &'static str,
    resource: &str,
    parameters: &Parameters,
) -> Statement {
    let arn =
        format!("arn:${{AWS::Partition}}:ecs:${{AWS::Region}}:${{AWS::AccountId}}:{resource}");
    Statement::allow(sid, &[action], vec![Expr::sub(arn)]).when(
        ConditionOperator::ArnLike,
        "ecs:cluster",
        parameters.watched_cluster(),
    )
}

/// Why the reconciler does without what checkov asks of a function, in the order of
/// [`lambda::checkov_skips`].
const CHECKOV_REASONS: [&str; 4] = [
    "A failed run needs no dead-letter queue: the next scheduled run examines the \
     same dispatches again, and the errors alarm reports the failure.",
    "No reserved concurrency: new accounts have too little concurrency to reserve \
     any, and overlapping runs are harmless (each write is conditional).",
    "Not in a VPC: the reconciler only calls DynamoDB and ECS public endpoints \
     over TLS, and a VPC would need NAT or endpoints for no gain.",
    "Environment variables hold resource names and numbers only, no secrets; \
     Lambda encrypts them with its service key.",
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
