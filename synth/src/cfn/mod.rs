//! A typed model of the parts of CloudFormation this stack uses.
//!
//! Each resource type is a struct whose fields are its properties, typed (numbers as
//! numbers, fixed values as enums, ARNs as [`Arn`] of the right kind). Serializing a
//! [`Template`] gives the template document; there is no string templating anywhere.

pub mod intrinsic;
pub mod policy;
pub mod resources;
pub mod template;

pub use intrinsic::{Arn, Condition, ConditionId, Expr, HasArn, Id, NamedByRef, ParameterId};
pub use policy::{ConditionOperator, PolicyDocument, Principal, Statement};
pub use template::{Attributes, CheckovSkip, Output, Parameter, Resource, Scalar, Template};

/// A template value as text: a string as itself; anything else (a number, an intrinsic
/// function) as compact JSON, as the AWS CLI and a reader of the template would spell it.
pub fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
