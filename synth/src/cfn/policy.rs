//! IAM policy documents, used by roles (identity policies) and queue policies
//! (resource policies).

use std::collections::BTreeMap;

use serde::Serialize;

use super::intrinsic::Expr;

/// The current (and only sensible) policy language version.
const POLICY_VERSION: &str = "2012-10-17";

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    version: &'static str,
    statement: Vec<Statement>,
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
#[serde(untagged)]
pub enum Principal {
    /// `{"Service": "lambda.amazonaws.com"}`.
    Service {
        #[serde(rename = "Service")]
        service: &'static str,
    },
    /// `"*"`.
    Anyone(&'static str),
}

impl Principal {
    pub fn service(service: &'static str) -> Self {
        Principal::Service { service }
    }

    pub fn anyone() -> Self {
        Principal::Anyone("*")
    }
}

/// The condition operators our policies use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum ConditionOperator {
    ArnEquals,
    Bool,
    ArnLike,
    StringEquals,
}
