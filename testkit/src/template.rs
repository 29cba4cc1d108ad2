//! The synthesized template, as the tests read it: what the stack gives the function is
//! taken from here, never copied by hand.

use std::collections::BTreeMap;

use serde_json::Value;

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
    let function = resources(&template)
        .find(|resource| {
            resource["Type"] == "AWS::Lambda::Function"
                && resource["Properties"]["FunctionName"] == function_name
        })
        .unwrap_or_else(|| panic!("the template has no function {function_name}"));
    function["Properties"]["Environment"]["Variables"]
        .as_object()
        .expect("the function has environment variables")
        .iter()
        .map(|(name, value)| (name.clone(), resolve(&template, value)))
        .collect()
}

fn resources(template: &Value) -> impl Iterator<Item = &Value> {
    template["Resources"]
        .as_object()
        .expect("the template has resources")
        .values()
}

/// A literal, or a `Ref` to a parameter (its default) or to a named resource (its name).
fn resolve(template: &Value, value: &Value) -> String {
    if let Some(text) = value.as_str() {
        return text.to_owned();
    }
    let Some(name) = value["Ref"].as_str() else {
        panic!("cannot resolve {value} without deploying");
    };
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

/// How many times Lambda delivers a failed asynchronous invocation of the function named
/// `function_name` again (its `EventInvokeConfig`'s `MaximumRetryAttempts`).
pub fn async_retry_attempts(function_name: &str) -> u32 {
    let template = stack();
    let logical_id = template["Resources"]
        .as_object()
        .expect("the template has resources")
        .iter()
        .find(|(_, resource)| {
            resource["Type"] == "AWS::Lambda::Function"
                && resource["Properties"]["FunctionName"] == function_name
        })
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("the template has no function {function_name}"));
    let retries = resources(&template)
        .find(|resource| {
            resource["Type"] == "AWS::Lambda::EventInvokeConfig"
                && resource["Properties"]["FunctionName"]["Ref"] == logical_id.as_str()
        })
        .and_then(|config| config["Properties"]["MaximumRetryAttempts"].as_u64());
    let retries = retries.unwrap_or_else(|| panic!("{function_name} has no retry setting"));
    u32::try_from(retries).expect("a small number")
}
