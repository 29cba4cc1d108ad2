//! `AWS::CloudWatch::Alarm` and `AWS::CloudWatch::Dashboard`.

use serde::{Serialize, Serializer};

use crate::cfn::{Expr, NamedByRef};

/// A metric alarm on one metric.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alarm {
    pub alarm_name: String,
    pub alarm_description: String,
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<Dimension>,
    /// Either `Statistic` or `ExtendedStatistic`; CloudFormation takes exactly one.
    #[serde(flatten)]
    pub statistic: AlarmStatistic,
    /// Seconds.
    pub period: u32,
    pub evaluation_periods: u32,
    /// A whole number, as the runbook writes every threshold.
    pub threshold: u32,
    pub comparison_operator: ComparisonOperator,
    pub treat_missing_data: TreatMissingData,
    /// A list of ARNs, or `Fn::If` choosing between one and `AWS::NoValue`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm_actions: Option<Expr>,
    #[serde(rename = "OKActions", skip_serializing_if = "Option::is_none")]
    pub ok_actions: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    pub name: String,
    pub value: Expr,
}

/// The statistic an alarm evaluates: a plain one, or a percentile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AlarmStatistic {
    Statistic(Statistic),
    ExtendedStatistic(Percentile),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Statistic {
    Maximum,
    Minimum,
    Sum,
}

/// A percentile statistic, written `p95` and so on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Percentile(pub u8);

impl Percentile {
    pub fn label(self) -> String {
        format!("p{}", self.0)
    }
}

impl Serialize for Percentile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.label())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ComparisonOperator {
    GreaterThanThreshold,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TreatMissingData {
    NotBreaching,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dashboard {
    pub dashboard_name: String,
    /// The dashboard body: a JSON document in a string (built in `stack/dashboard.rs`).
    pub dashboard_body: Expr,
}

impl NamedByRef for Dashboard {}
