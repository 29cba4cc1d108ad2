//! Values that CloudFormation resolves at deploy time: literals, references, and the
//! intrinsic functions we use, plus typed handles that keep one resource's ARN from
//! being wired where another kind of ARN belongs.

use std::marker::PhantomData;

use serde::{Serialize, Serializer};

/// A string-valued (or list-valued) expression in a template.
///
/// Only the intrinsic functions the stack needs are modelled; each serializes to the
/// exact JSON shape the CloudFormation reference documents for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Expr {
    /// `{"Ref": "LogicalId"}`: a resource's primary identifier, a parameter's value or
    /// a pseudo parameter such as `AWS::Region`.
    Ref(String),
    /// `{"Fn::GetAtt": ["LogicalId", "Attribute"]}`.
    #[serde(rename = "Fn::GetAtt")]
    GetAtt(String, &'static str),
    /// `{"Fn::Sub": "..."}`: `${Name}` is replaced by the parameter, resource or pseudo
    /// parameter of that name.
    #[serde(rename = "Fn::Sub")]
    Sub(String),
    /// `{"Fn::If": ["Condition", then, else]}`.
    #[serde(rename = "Fn::If")]
    If(ConditionId, Box<Expr>, Box<Expr>),
    /// `{"exists": true}`: in an event pattern, matches any value of the field.
    #[serde(rename = "exists", serialize_with = "true_")]
    Exists,
    /// A plain string.
    #[serde(untagged)]
    Literal(String),
    /// A list of values, for properties that take one and may be switched off as a
    /// whole with `Fn::If` and `AWS::NoValue`.
    #[serde(untagged)]
    List(Vec<Expr>),
}

impl Expr {
    /// A plain string.
    pub fn lit(value: impl Into<String>) -> Self {
        Expr::Literal(value.into())
    }

    /// `Fn::Sub` with no variables of our own.
    pub fn sub(template: impl Into<String>) -> Self {
        Expr::Sub(template.into())
    }

    /// `Ref AWS::NoValue`: removes the property it stands for.
    pub fn no_value() -> Self {
        Expr::Ref("AWS::NoValue".to_owned())
    }

    /// `Fn::If`: `then` when `condition` holds, `otherwise` when it does not.
    pub fn if_(condition: &ConditionId, then: Expr, otherwise: Expr) -> Self {
        Expr::If(condition.clone(), Box::new(then), Box::new(otherwise))
    }
}

/// The value of [`Expr::Exists`].
fn true_<S: Serializer>(serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_bool(true)
}

/// The logical ID of a resource of kind `R` (one of the property structs in
/// [`crate::cfn::resources`]), handed out by [`crate::cfn::Template::add`].
///
/// Attribute accessors such as `arn()` live in `impl Id<Kind>` blocks next to each
/// resource type, so only attributes that kind of resource has can be asked for.
pub struct Id<R> {
    logical_id: String,
    kind: PhantomData<fn() -> R>,
}

impl<R> Id<R> {
    pub(crate) fn new(logical_id: impl Into<String>) -> Self {
        Id {
            logical_id: logical_id.into(),
            kind: PhantomData,
        }
    }

    /// The logical ID as written in the template.
    pub(crate) fn logical_id(&self) -> &str {
        &self.logical_id
    }

    /// `Ref` of the resource: what it returns depends on the kind (a name, a URL, ...),
    /// so kind-specific accessors wrap it with a meaningful name.
    pub(crate) fn reference(&self) -> Expr {
        Expr::Ref(self.logical_id.clone())
    }

    /// `Fn::GetAtt` of one of the resource's attributes.
    pub(crate) fn attribute(&self, attribute: &'static str) -> Expr {
        Expr::GetAtt(self.logical_id.clone(), attribute)
    }
}

/// A resource kind whose `Ref` returns its name.
pub trait NamedByRef {}

/// A resource kind with an `Arn` attribute.
pub trait HasArn {}

impl<R: NamedByRef> Id<R> {
    /// The resource's name (what `Ref` returns for its kind).
    pub fn name(&self) -> Expr {
        self.reference()
    }
}

impl<R: HasArn> Id<R> {
    /// The `Fn::GetAtt` of the resource's `Arn` attribute, typed by its kind.
    pub fn arn(&self) -> Arn<R> {
        Arn::new(self.attribute("Arn"))
    }
}

/// An expression that resolves to the ARN of a resource of kind `R`.
///
/// Properties that need an ARN ask for `Arn<TheKind>`, so passing a rule's ARN where a
/// role's belongs does not compile.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Arn<R> {
    expr: Expr,
    #[serde(skip)]
    kind: PhantomData<fn() -> R>,
}

impl<R> Arn<R> {
    pub(crate) fn new(expr: Expr) -> Self {
        Arn {
            expr,
            kind: PhantomData,
        }
    }

    /// The untyped expression, for places that take ARNs of any kind (policy documents).
    pub fn expr(&self) -> Expr {
        self.expr.clone()
    }
}

impl<R> From<Arn<R>> for Expr {
    fn from(arn: Arn<R>) -> Self {
        arn.expr
    }
}

/// The name of a template parameter, handed out by [`crate::cfn::Template::parameter`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterId(pub(crate) String);

impl ParameterId {
    /// The parameter's name, as `Fn::Sub` writes it in `${Name}`.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// `Ref` of the parameter: its value.
    pub fn value(&self) -> Expr {
        Expr::Ref(self.0.clone())
    }
}

/// The name of a template condition, handed out by [`crate::cfn::Template::condition`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ConditionId(pub(crate) String);

/// A condition function, as found in the template's `Conditions` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Condition {
    /// `{"Fn::Equals": [a, b]}`.
    #[serde(rename = "Fn::Equals")]
    Equals(Expr, Expr),
    /// `{"Fn::Not": [condition]}`.
    #[serde(rename = "Fn::Not", serialize_with = "in_a_list")]
    Not(Box<Condition>),
}

impl Condition {
    /// True when the parameter was given a non-empty value.
    pub fn is_set(parameter: &ParameterId) -> Self {
        let empty = Condition::Equals(parameter.value(), Expr::lit(""));
        Condition::Not(Box::new(empty))
    }
}

/// `Fn::Not` takes its one condition in a list.
fn in_a_list<T: Serialize, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    [value].serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(expr: Expr, expected: serde_json::Value) {
        assert_eq!(serde_json::to_value(&expr).unwrap(), expected);
    }

    #[test]
    fn intrinsic_functions_serialize_to_their_documented_shapes() {
        let condition = ConditionId("Given".into());
        let cases = [
            (Expr::lit("x"), json!("x")),
            (Expr::Ref("Table".into()), json!({"Ref": "Table"})),
            (Expr::no_value(), json!({"Ref": "AWS::NoValue"})),
            (
                Expr::GetAtt("Table".into(), "Arn"),
                json!({"Fn::GetAtt": ["Table", "Arn"]}),
            ),
            (
                Expr::sub("${Table.Arn}/index/i"),
                json!({"Fn::Sub": "${Table.Arn}/index/i"}),
            ),
            (
                Expr::if_(
                    &condition,
                    Expr::List(vec![Expr::lit("a")]),
                    Expr::no_value(),
                ),
                json!({"Fn::If": ["Given", ["a"], {"Ref": "AWS::NoValue"}]}),
            ),
        ];
        for (expr, expected) in cases {
            check(expr, expected);
        }
    }

    #[test]
    fn is_set_compares_the_parameter_with_the_empty_string() {
        let condition = Condition::is_set(&ParameterId("Topic".into()));
        assert_eq!(
            serde_json::to_value(&condition).unwrap(),
            json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "Topic"}, ""]}]})
        );
    }
}
