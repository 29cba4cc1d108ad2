//! `AWS::IAM::Role`.

use serde::Serialize;

use crate::cfn::{Expr, HasArn, NamedByRef, PolicyDocument};

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

impl NamedByRef for Role {}
impl HasArn for Role {}
