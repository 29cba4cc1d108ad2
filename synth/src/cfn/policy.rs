//! IAM policy documents, used by roles (identity policies) and queue policies
//! (resource policies).

use std::collections::BTreeMap;

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

use super::intrinsic::{ConditionId, Expr};

/// The current (and only sensible) policy language version.
const POLICY_VERSION: &str = "2012-10-17";

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    version: &'static str,
    #[serde(serialize_with = "statements")]
    statement: Vec<Statement>,
}

/// The statements, each granted only under its condition wrapped in `Fn::If` (with
/// `AWS::NoValue` otherwise, which removes it).
fn statements<S: Serializer>(statements: &[Statement], serializer: S) -> Result<S::Ok, S::Error> {
    let mut list = serializer.serialize_seq(Some(statements.len()))?;
    for statement in statements {
        match &statement.only_if {
            None => list.serialize_element(statement)?,
            Some(condition) => {
                let branches = (condition, statement, Expr::no_value());
                list.serialize_element(&BTreeMap::from([("Fn::If", branches)]))?
            }
        }
    }
    list.end()
}

impl PolicyDocument {
    pub fn new(statement: Vec<Statement>) -> Self {
        PolicyDocument {
            version: POLICY_VERSION,
            statement,
        }
    }
}

/// One policy statement. `Resource` is left out for trust policies, which name a
/// principal instead.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    sid: String,
    effect: Effect,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<Principal>,
    action: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resource: Vec<Expr>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    condition: BTreeMap<ConditionOperator, BTreeMap<&'static str, Expr>>,
    /// The template condition under which the statement is part of the policy at all.
    #[serde(skip)]
    only_if: Option<ConditionId>,
}

impl Statement {
    /// Allows `action` on `resource`, with no principal and no condition.
    pub fn allow(sid: &str, action: &[&'static str], resource: Vec<Expr>) -> Self {
        Statement {
            sid: sid.to_owned(),
            effect: Effect::Allow,
            principal: None,
            action: action.to_vec(),
            resource,
            condition: BTreeMap::new(),
            only_if: None,
        }
    }

    /// Denies `action` on `resource`: a guard that no grant can override, such as
    /// refusing requests that do not use TLS.
    pub fn deny(sid: &str, action: &[&'static str], resource: Vec<Expr>) -> Self {
        Statement {
            effect: Effect::Deny,
            ..Statement::allow(sid, action, resource)
        }
    }

    /// Names the principal the statement applies to (resource and trust policies).
    pub fn principal(self, principal: Principal) -> Self {
        Statement {
            principal: Some(principal),
            ..self
        }
    }

    /// Makes the statement part of the policy only when the template's `condition` holds.
    pub fn only_if(self, condition: &ConditionId) -> Self {
        Statement {
            only_if: Some(condition.clone()),
            ..self
        }
    }

    /// Adds one condition key test.
    pub fn when(mut self, operator: ConditionOperator, key: &'static str, value: Expr) -> Self {
        self.condition
            .entry(operator)
            .or_default()
            .insert(key, value);
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
enum Effect {
    Allow,
    Deny,
}

/// Who a statement applies to: an AWS service, or (in a `Deny` guard) anyone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Principal {
    /// `{"Service": "lambda.amazonaws.com"}`.
    Service(&'static str),
    /// `"*"`.
    #[serde(untagged, serialize_with = "star")]
    Anyone,
}

/// The value of [`Principal::Anyone`].
fn star<S: Serializer>(serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str("*")
}

/// The condition operators our policies use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum ConditionOperator {
    ArnEquals,
    Bool,
    ArnLike,
    StringEquals,
}
