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
