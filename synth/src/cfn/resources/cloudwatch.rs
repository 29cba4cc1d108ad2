//! `AWS::CloudWatch::Alarm` and `AWS::CloudWatch::Dashboard`.

use serde::{Serialize, Serializer};

use crate::cfn::Expr;

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
    #[serde(serialize_with = "whole_numbers_as_integers")]
    pub threshold: f64,
    pub comparison_operator: ComparisonOperator,
    pub treat_missing_data: TreatMissingData,
    /// A list of ARNs, or `Fn::If` choosing between one and `AWS::NoValue`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm_actions: Option<Expr>,
    #[serde(rename = "OKActions", skip_serializing_if = "Option::is_none")]
    pub ok_actions: Option<Expr>,
}

/// Writes `0` rather than `0.0`, so thresholds read as the runbook writes them.
pub(crate) fn whole_numbers_as_integers<S: Serializer>(
    value: &f64,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    // The cast is exact: the value is whole and far inside i64's range.
    if value.fract() == 0.0 && value.abs() < 1e15 {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
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
    Average,
    Maximum,
    Minimum,
    SampleCount,
    Sum,
}

impl Statistic {
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::Average => "Average",
            Statistic::Maximum => "Maximum",
            Statistic::Minimum => "Minimum",
            Statistic::SampleCount => "SampleCount",
            Statistic::Sum => "Sum",
        }
    }
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
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TreatMissingData {
    Breaching,
    NotBreaching,
    Ignore,
    Missing,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dashboard {
    pub dashboard_name: String,
    /// The dashboard body: a JSON document in a string (built in `stack/dashboard.rs`).
    pub dashboard_body: Expr,
}

impl crate::cfn::Id<Dashboard> {
    /// The dashboard name (what `Ref` returns for a dashboard).
    pub fn name(&self) -> Expr {
        self.reference()
    }
}
