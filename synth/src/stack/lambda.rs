//! What every function of the stack has: its log group, and an execution role that
//! Lambda may assume, with the function's own statements and its logs.

use crate::cfn::resources::iam::{InlinePolicy, Role};
use crate::cfn::resources::logs::LogGroup;
use crate::cfn::{
    Attributes, CheckovSkip, Expr, Id, PolicyDocument, Principal, Statement, Template,
};

use super::parameters::Parameters;

/// The function's log group, named as Lambda would name it, with the stack's retention.
pub(super) fn log_group(
    template: &mut Template,
    logical_id: &str,
    name: &str,
    parameters: &Parameters,
) -> Id<LogGroup> {
    template.add_with(
        logical_id,
        LogGroup {
            log_group_name: name.to_owned(),
            retention_in_days: parameters.log_retention_days.value(),
        },
        Attributes::default().checkov_skips(&[CheckovSkip {
            id: "CKV_AWS_158",
            comment: "Logs are encrypted with the CloudWatch Logs service key; they hold \
                      dispatch and task IDs, no secrets, so a customer key adds cost only.",
        }]),
    )
}

/// The statement that lets a function write its own logs.
pub(super) fn write_logs(log_group: &Id<LogGroup>) -> Statement {
    Statement::allow(
        "WriteLogs",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        vec![log_group.arn().expr(), log_group.log_streams_arn().expr()],
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
        .principal(Principal::service("lambda.amazonaws.com"))]),
        policies: vec![InlinePolicy {
            policy_name: function_name.to_owned(),
            policy_document: PolicyDocument::new(statements),
        }],
    }
}
