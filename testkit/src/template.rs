//! The synthesized template, as the tests read it: what the stack gives the function is
//! taken from here, never copied by hand.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The stack's template, as `synth` renders it.
pub fn stack() -> Value {
    serde_json::to_value(synth::stack::build(&synth::Config::runbook()))
        .expect("the template serializes")
}

/// The callback function's environment variables in the template, with every `Ref`
/// resolved as a deploy with default parameters would resolve it.
pub fn function_environment() -> BTreeMap<String, String> {
    environment_of(contract::resources::FUNCTION)
}

/// The same for the function named `function_name`.
pub fn environment_of(function_name: &str) -> BTreeMap<String, String> {
    let template = stack();
    let (_, function) = function(&template, function_name);
    function["Properties"]["Environment"]["Variables"]
        .as_object()
        .expect("the function has environment variables")
        .iter()
        .map(|(name, value)| (name.clone(), resolve(&template, value)))
        .collect()
}

/// The template's resources, by logical ID.
pub(crate) fn resources(template: &Value) -> &Map<String, Value> {
    template["Resources"]
        .as_object()
        .expect("the template has resources")
}

/// The logical ID and the resource of the function named `function_name`.
fn function<'a>(template: &'a Value, function_name: &str) -> (&'a String, &'a Value) {
    resources(template)
        .iter()
        .find(|(_, resource)| {
            resource["Type"] == "AWS::Lambda::Function"
                && resource["Properties"]["FunctionName"] == function_name
        })
        .unwrap_or_else(|| panic!("the template has no function {function_name}"))
}

/// A literal, or a `Ref` to a parameter (its default) or to a named resource (its name).
fn resolve(template: &Value, value: &Value) -> String {
    if let Some(text) = value.as_str() {
        return text.to_owned();
    }
    if let Some([condition, then, otherwise]) = value["Fn::If"].as_array().map(Vec::as_slice) {
        let name = condition.as_str().expect("Fn::If names a condition");
        let chosen = if holds(template, &template["Conditions"][name]) {
            then
        } else {
            otherwise
        };
        return resolve(template, chosen);
    }
    if let Some(text) = value["Fn::Sub"].as_str() {
        return substitute(template, text);
    }
    let Some(name) = value["Ref"].as_str() else {
        panic!("cannot resolve {value} without deploying");
    };
    reference(template, name)
}

/// What `Ref name` gives in a deploy with default parameters into moto's account.
fn reference(template: &Value, name: &str) -> String {
    let pseudo = [
        ("AWS::Partition", "aws"),
        ("AWS::Region", crate::server::REGION),
        ("AWS::AccountId", crate::server::ACCOUNT),
    ];
    if let Some((_, value)) = pseudo.iter().find(|(pseudo, _)| *pseudo == name) {
        return (*value).to_owned();
    }
    if let Some(parameter) = template["Parameters"].get(name) {
        return match &parameter["Default"] {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            _ => panic!("parameter {name} has no default"),
        };
    }
    let properties = &template["Resources"][name]["Properties"];
    ["TableName", "FunctionName", "LogGroupName", "Name"]
        .iter()
        .find_map(|key| properties[key].as_str())
        .unwrap_or_else(|| panic!("Ref {name} does not resolve to a fixed name"))
        .to_owned()
}

/// `Fn::Sub` of `text`, each `${Name}` resolved as a `Ref`.
fn substitute(template: &Value, text: &str) -> String {
    let mut resolved = String::new();
    let mut rest = text;
    while let Some((before, after)) = rest.split_once("${") {
        let (name, after) = after.split_once('}').expect("Fn::Sub closes each ${");
        resolved.push_str(before);
        resolved.push_str(&reference(template, name));
        rest = after;
    }
    resolved + rest
}

/// Whether a template condition holds with default parameters.
fn holds(template: &Value, condition: &Value) -> bool {
    let operands = |function: &str| condition[function].as_array().cloned();
    if let Some(pair) = operands("Fn::Equals") {
        return resolve(template, &pair[0]) == resolve(template, &pair[1]);
    }
    if let Some(negated) = operands("Fn::Not") {
        return !holds(template, &negated[0]);
    }
    if let Some(name) = condition["Condition"].as_str() {
        return holds(template, &template["Conditions"][name]);
    }
    panic!("cannot evaluate the condition {condition} without deploying");
}

/// The `Timeout` of the function named `function_name`.
pub fn timeout_of(function_name: &str) -> std::time::Duration {
    let template = stack();
    let (_, function) = function(&template, function_name);
    let seconds = function["Properties"]["Timeout"].as_u64();
    std::time::Duration::from_secs(
        seconds.unwrap_or_else(|| panic!("{function_name} has no Timeout")),
    )
}

/// How many times Lambda delivers a failed asynchronous invocation of the function named
/// `function_name` again (its `EventInvokeConfig`'s `MaximumRetryAttempts`).
pub fn async_retry_attempts(function_name: &str) -> u32 {
    let template = stack();
    let (logical_id, _) = function(&template, function_name);
    let retries = resources(&template)
        .values()
        .find(|resource| {
            resource["Type"] == "AWS::Lambda::EventInvokeConfig"
                && resource["Properties"]["FunctionName"]["Ref"] == logical_id.as_str()
        })
        .and_then(|config| config["Properties"]["MaximumRetryAttempts"].as_u64());
    let retries = retries.unwrap_or_else(|| panic!("{function_name} has no retry setting"));
    u32::try_from(retries).expect("a small number")
}
