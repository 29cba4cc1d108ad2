//! What every function of the stack has: its log group, an execution role that Lambda
//! may assume, with the function's own statements and its logs, and the settings every
//! function shares (runtime, handler, architecture, code bucket, log format).

use contract::env::Var;

use crate::cfn::resources::iam::{InlinePolicy, Role};
use crate::cfn::resources::lambda::{Code, Environment, Function, LogFormat, LoggingConfig};
use crate::cfn::resources::logs::LogGroup;
use crate::cfn::{
    Attributes, CheckovSkip, Expr, Id, ParameterId, PolicyDocument, Principal, Statement, Template,
};
use crate::config::Config;

use super::parameters::Parameters;

/// What one function of the stack has of its own.
pub(super) struct FunctionSpec {
    pub name: &'static str,
    pub description: String,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    /// The parameter that names its code zip in the code bucket.
    pub code_key: ParameterId,
    /// What it reads at start-up, by the variables of `contract::env`.
    pub variables: Vec<(Var, Expr)>,
}

/// A function of the stack: `spec`, with the settings every function shares. It reserves
/// no concurrency: new accounts have too little concurrency to reserve any.
pub(super) fn function(
    config: &Config,
    parameters: &Parameters,
    spec: FunctionSpec,
    role: &Id<Role>,
    log_group: &Id<LogGroup>,
) -> Function {
    Function {
        function_name: spec.name.to_owned(),
        description: spec.description,
        runtime: config.function.runtime,
        handler: config.function.handler.to_owned(),
        architectures: vec![parameters.architecture.value()],
        memory_size: spec.memory_mb,
        timeout: spec.timeout_seconds,
        code: Code {
            s3_bucket: parameters.code_bucket.value(),
            s3_key: spec.code_key.value(),
        },
        role: role.arn(),
        environment: Environment {
            variables: spec
                .variables
                .into_iter()
                .map(|(var, value)| (var.name.to_owned(), value))
                .collect(),
        },
        // Text, not JSON: in JSON format Lambda writes its own lines (INIT_START, REPORT)
        // as JSON records, so the runbook's `--filter-pattern "INIT_START"` finds nothing;
        // and JSON format's log-level filtering would drop the metrics' EMF lines, which
        // carry no level (Lambda counts them as INFO). The functions' own lines are JSON
        // either way: they write them so.
        logging_config: LoggingConfig {
            log_format: LogFormat::Text,
            log_group: log_group.name(),
        },
    }
}

/// The function's log group, named as Lambda would name it, with the stack's retention;
/// `attributes` say whether it outlives the stack.
pub(super) fn log_group(
    template: &mut Template,
    logical_id: &str,
    name: &str,
    parameters: &Parameters,
    attributes: Attributes,
) -> Id<LogGroup> {
    template.add_with(
        logical_id,
        LogGroup {
            log_group_name: name.to_owned(),
            retention_in_days: parameters.log_retention_days.value(),
        },
        attributes.checkov_skips([CheckovSkip {
            id: "CKV_AWS_158",
            comment: "Logs are encrypted with the CloudWatch Logs service key; they hold \
                      dispatch and task IDs, no secrets, so a customer key adds cost only.",
        }]),
    )
}

/// What checkov asks of every function that the stack deliberately does without: a
/// dead-letter queue (CKV_AWS_116), reserved concurrency (CKV_AWS_115), a VPC
/// (CKV_AWS_117) and a customer managed key for the environment (CKV_AWS_173); `reasons`
/// says why, in that order.
pub(super) fn checkov_skips(reasons: [&'static str; 4]) -> Attributes {
    let ids = ["CKV_AWS_116", "CKV_AWS_115", "CKV_AWS_117", "CKV_AWS_173"];
    let skips = ids.into_iter().zip(reasons);
    Attributes::default().checkov_skips(skips.map(|(id, comment)| CheckovSkip { id, comment }))
}

/// The statement that lets a function write its own logs.
pub(super) fn write_logs(log_group: &Id<LogGroup>) -> Statement {
    Statement::allow(
        "WriteLogs",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        vec![log_group.arn().expr(), log_group.log_streams_arn()],
    )
}

/// The execution role of `function_name`: Lambda may assume it, and it allows exactly
/// `statements`.
pub(super) fn execution_role(function_name: &str, statements: Vec<Statement>) -> Role {
    Role {
        role_name: Expr::sub(format!("{function_name}-${{AWS::Region}}")),
        description: format!("Execution role of the {function_name} function."),
        // A trust policy names a principal and no resource.
        assume_role_policy_document: PolicyDocument::new(vec![Statement::allow(
            "LambdaAssumesRole",
            &["sts:AssumeRole"],
            Vec::new(),
        )
        .principal(Principal::Service("lambda.amazonaws.com"))]),
        policies: vec![InlinePolicy {
            policy_name: function_name.to_owned(),
            policy_document: PolicyDocument::new(statements),
        }],
    }
}
