//! `AWS::Events::Rule`.

use serde::Serialize;

use crate::cfn::{Arn, Expr, HasArn, NamedByRef};

use super::lambda::Function;
use super::sqs::Queue;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    pub name: String,
    pub description: String,
    pub state: RuleState,
    /// A rule matches events, or runs on a schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_pattern: Option<EventPattern>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_expression: Option<Expr>,
    pub targets: Vec<Target>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleState {
    Enabled,
}

/// The event pattern of ECS task state changes we match. Every field lists the values
/// that match; an event must match every field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventPattern {
    pub source: Vec<String>,
    #[serde(rename = "detail-type")]
    pub detail_type: Vec<String>,
    pub detail: TaskDetailPattern,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDetailPattern {
    pub last_status: Vec<String>,
    pub cluster_arn: Vec<Expr>,
}

/// A rule target; ours is always the callback function.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    pub id: String,
    pub arn: Arn<Function>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicy {
    pub maximum_retry_attempts: u32,
    pub maximum_event_age_in_seconds: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    pub arn: Arn<Queue>,
}

/// `Ref` returns a rule's name on the default event bus.
impl NamedByRef for Rule {}
impl HasArn for Rule {}
