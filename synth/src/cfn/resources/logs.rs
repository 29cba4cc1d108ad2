//! `AWS::Logs::LogGroup`.

use serde::Serialize;

use crate::cfn::{Arn, Expr, Id, NamedByRef};

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroup {
    pub log_group_name: String,
    /// A number of days; an expression because the stack takes it from a parameter.
    pub retention_in_days: Expr,
}

impl NamedByRef for LogGroup {}

impl Id<LogGroup> {
    /// The ARN of the log group itself, built from its name.
    ///
    /// Not `Fn::GetAtt Arn`: that attribute ends in `:*`, which would make
    /// `<arn>:log-stream:*` malformed and is broader than the group itself.
    pub fn arn(&self) -> Arn<LogGroup> {
        Arn::new(Expr::sub(format!(
            "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:${{{}}}",
            self.logical_id()
        )))
    }

    /// The ARN that matches every log stream of the log group, for stream-scoped IAM
    /// permissions.
    pub fn log_streams_arn(&self) -> Expr {
        Expr::sub(format!(
            "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:${{{}}}:log-stream:*",
            self.logical_id()
        ))
    }
}
