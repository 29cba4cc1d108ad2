//! `AWS::IAM::Role`.

use serde::Serialize;

use crate::cfn::{Arn, Expr, Id, PolicyDocument};

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    pub role_name: Expr,
    pub description: String,
    pub assume_role_policy_document: PolicyDocument,
    pub policies: Vec<InlinePolicy>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    pub policy_name: String,
    pub policy_document: PolicyDocument,
}

impl Id<Role> {
    pub fn arn(&self) -> Arn<Role> {
        self.arn_attribute()
    }

    /// The role name (what `Ref` returns for a role).
    pub fn name(&self) -> Expr {
        self.reference()
    }
}
