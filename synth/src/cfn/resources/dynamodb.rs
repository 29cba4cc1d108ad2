//! `AWS::DynamoDB::Table`.

use serde::Serialize;

use crate::cfn::{Expr, HasArn, Id, NamedByRef};

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Table {
    pub table_name: String,
    pub billing_mode: BillingMode,
    /// Only attributes used in the table's or an index's key schema belong here;
    /// CloudFormation rejects definitions that no key uses.
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeySchemaElement>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    pub point_in_time_recovery_specification: PointInTimeRecoverySpecification,
    pub deletion_protection_enabled: bool,
    #[serde(rename = "SSESpecification")]
    pub sse_specification: SseSpecification,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillingMode {
    /// Capacity follows the traffic, so there is none to plan and none to pay for while
    /// no task stops.
    PayPerRequest,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: AttributeType,
}

/// DynamoDB scalar types a key attribute may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AttributeType {
    /// A string; every key attribute of ours is one.
    S,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaElement {
    pub attribute_name: String,
    pub key_type: KeyType,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyType {
    /// The partition key.
    Hash,
    /// The sort key.
    Range,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GlobalSecondaryIndex {
    pub index_name: String,
    pub key_schema: Vec<KeySchemaElement>,
    pub projection: Projection,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    pub projection_type: ProjectionType,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProjectionType {
    All,
    KeysOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PointInTimeRecoverySpecification {
    pub point_in_time_recovery_enabled: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SseSpecification {
    #[serde(rename = "SSEEnabled")]
    pub sse_enabled: bool,
}

impl NamedByRef for Table {}
impl HasArn for Table {}

impl Id<Table> {
    /// The ARN of one of the table's indexes, `<table ARN>/index/<name>`, for
    /// index-scoped IAM permissions.
    pub fn index_arn(&self, index_name: &str) -> Expr {
        Expr::sub(format!("${{{}.Arn}}/index/{index_name}", self.logical_id()))
    }
}
