//! The template document: parameters, conditions, resources and outputs.

use std::collections::BTreeMap;

use serde::Serialize;

use super::intrinsic::{Condition, ConditionId, Expr, Id, ParameterId};
use super::resources::Properties;

/// The only template format version CloudFormation has ever defined.
const FORMAT_VERSION: &str = "2010-09-09";

/// A CloudFormation template.
///
/// Sections are `BTreeMap`s keyed by logical ID, so the rendered order is alphabetical
/// and never depends on the order the stack was built in.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    pub format_version: &'static str,
    pub description: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, Parameter>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<String, Condition>,
    pub resources: BTreeMap<String, Resource>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, Output>,
}

impl Template {
    pub fn new(description: impl Into<String>) -> Self {
        Template {
            format_version: FORMAT_VERSION,
            description: description.into(),
            parameters: BTreeMap::new(),
            conditions: BTreeMap::new(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }

    /// Declares a parameter and returns the handle that refers to it.
    pub fn parameter(&mut self, name: &str, parameter: Parameter) -> ParameterId {
        insert_new(&mut self.parameters, "parameter", name, parameter);
        ParameterId(name.to_owned())
    }

    /// Declares a condition and returns the handle that `Fn::If` takes.
    pub fn condition(&mut self, name: &str, condition: Condition) -> ConditionId {
        insert_new(&mut self.conditions, "condition", name, condition);
        ConditionId(name.to_owned())
    }

    /// Adds a resource with no resource attributes.
    pub fn add<R: Into<Properties>>(&mut self, logical_id: &str, properties: R) -> Id<R> {
        self.add_with(logical_id, properties, Attributes::default())
    }

    /// Adds a resource with resource attributes (retention, checkov metadata).
    pub fn add_with<R: Into<Properties>>(
        &mut self,
        logical_id: &str,
        properties: R,
        attributes: Attributes,
    ) -> Id<R> {
        let properties = properties.into();
        let resource = Resource {
            kind: properties.type_name(),
            attributes,
            properties,
        };
        insert_new(&mut self.resources, "resource", logical_id, resource);
        Id::new(logical_id)
    }

    /// Declares an output.
    pub fn output(&mut self, name: &str, description: &str, value: impl Into<Expr>) {
        let output = Output {
            description: description.to_owned(),
            value: value.into(),
        };
        insert_new(&mut self.outputs, "output", name, output);
    }
}

/// Inserts into a template section, refusing to silently replace an entry: two parts of
/// the stack claiming one logical ID is a bug in this crate, not a runtime condition.
fn insert_new<V>(section: &mut BTreeMap<String, V>, what: &str, name: &str, value: V) {
    let previous = section.insert(name.to_owned(), value);
    assert!(
        previous.is_none(),
        "the stack declares the {what} {name} twice"
    );
}

/// A template parameter.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    #[serde(rename = "Type")]
    kind: ParameterType,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Scalar>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_values: Vec<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    constraint_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_value: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_value: Option<u32>,
}

impl Parameter {
    /// A `String` parameter with no default and no constraints.
    pub fn string(description: impl Into<String>) -> Self {
        Parameter {
            kind: ParameterType::String,
            description: description.into(),
            ..Default::default()
        }
    }

    /// A `Number` parameter with no default and no constraints.
    pub fn number(description: impl Into<String>) -> Self {
        Parameter {
            kind: ParameterType::Number,
            ..Parameter::string(description)
        }
    }

    pub fn default(self, default: impl Into<Scalar>) -> Self {
        Parameter {
            default: Some(default.into()),
            ..self
        }
    }

    pub fn allowed_values<V: Into<Scalar>>(self, values: impl IntoIterator<Item = V>) -> Self {
        Parameter {
            allowed_values: values.into_iter().map(Into::into).collect(),
            ..self
        }
    }

    /// A `Number` parameter's bounds, both included.
    pub fn between(self, min: u32, max: u32) -> Self {
        Parameter {
            min_value: Some(min),
            max_value: Some(max),
            ..self
        }
    }

    pub fn allowed_pattern(self, pattern: &str, explanation: &str) -> Self {
        Parameter {
            allowed_pattern: Some(pattern.to_owned()),
            constraint_description: Some(explanation.to_owned()),
            ..self
        }
    }
}

impl Parameter {
    /// Whether `value` is one CloudFormation would take for this parameter: of its type,
    /// within its bounds, among its allowed values and matching its pattern (the whole
    /// value, as CloudFormation matches). The error says what was expected.
    pub fn check(&self, value: &serde_json::Value) -> Result<(), String> {
        match self.kind {
            ParameterType::Number => {
                let Some(number) = value.as_u64() else {
                    return Err(format!(
                        "{value} is not a whole number (a Number parameter)"
                    ));
                };
                let below = self.min_value.is_some_and(|min| number < u64::from(min));
                let above = self.max_value.is_some_and(|max| number > u64::from(max));
                if below || above {
                    return Err(format!(
                        "{number} is outside {}..={}",
                        self.min_value.unwrap_or(0),
                        self.max_value.unwrap_or(u32::MAX)
                    ));
                }
                let allowed = self
                    .allowed_values
                    .iter()
                    .any(|allowed| matches!(allowed, Scalar::Number(n) if u64::from(*n) == number));
                if !self.allowed_values.is_empty() && !allowed {
                    return Err(format!("{number} is not one of {}", self.allowed_list()));
                }
            }
            ParameterType::String => {
                let Some(text) = value.as_str() else {
                    return Err(format!("{value} is not a string (a String parameter)"));
                };
                let allowed = self
                    .allowed_values
                    .iter()
                    .any(|allowed| matches!(allowed, Scalar::String(s) if s == text));
                if !self.allowed_values.is_empty() && !allowed {
                    return Err(format!("{text:?} is not one of {}", self.allowed_list()));
                }
                if let Some(pattern) = &self.allowed_pattern {
                    let whole = regex::Regex::new(&format!("^(?:{pattern})$"))
                        .map_err(|err| format!("the template's pattern {pattern:?}: {err}"))?;
                    if !whole.is_match(text) {
                        let expected = self.constraint_description.as_deref().unwrap_or(pattern);
                        return Err(format!("{text:?} is not {expected}"));
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether the parameter is a `Number`.
    pub fn is_number(&self) -> bool {
        self.kind == ParameterType::Number
    }

    fn allowed_list(&self) -> String {
        let values: Vec<String> = self
            .allowed_values
            .iter()
            .map(|value| match value {
                Scalar::String(text) => text.clone(),
                Scalar::Number(number) => number.to_string(),
            })
            .collect();
        values.join(", ")
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
enum ParameterType {
    #[default]
    String,
    Number,
}

/// A parameter default or allowed value: a string, or a number for `Number` parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    String(String),
    Number(u32),
}

impl From<&str> for Scalar {
    fn from(value: &str) -> Self {
        Scalar::String(value.to_owned())
    }
}

impl From<u32> for Scalar {
    fn from(value: u32) -> Self {
        Scalar::Number(value)
    }
}

/// A template output.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    description: String,
    value: Expr,
}

/// A resource: its type, its resource attributes and its typed properties, in the order
/// the CloudFormation documentation shows resources.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(flatten)]
    attributes: Attributes,
    properties: Properties,
}

/// Resource attributes: how CloudFormation treats the resource, beside its properties.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attributes {
    /// `Retain` when the resource outlives the stack (see [`Attributes::retained`]).
    /// Deletion is CloudFormation's default, so a resource that is not retained needs no
    /// policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_policy: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_replace_policy: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata>,
}

impl Attributes {
    /// Keeps the resource when it is removed from the stack, when the stack is deleted
    /// and when an update would replace it.
    pub fn retained() -> Self {
        Attributes {
            deletion_policy: Some("Retain"),
            update_replace_policy: Some("Retain"),
            ..Attributes::default()
        }
    }

    /// Records checkov checks this resource deliberately does not meet, with the reason.
    pub fn checkov_skips(mut self, skips: impl IntoIterator<Item = CheckovSkip>) -> Self {
        self.metadata = Some(Metadata {
            checkov: Checkov {
                skip: skips.into_iter().collect(),
            },
        });
        self
    }
}

/// Resource metadata; only checkov reads ours.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Metadata {
    checkov: Checkov,
}

/// The `checkov` metadata key, which checkov reads to skip checks on one resource.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Checkov {
    skip: Vec<CheckovSkip>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CheckovSkip {
    pub id: &'static str,
    pub comment: &'static str,
}
