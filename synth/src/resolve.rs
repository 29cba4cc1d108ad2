//! A template under given parameter values: each `Ref` to a parameter replaced by its
//! value, each condition evaluated, each `Fn::If` decided and each resource whose
//! condition is false left out. `synth env plan` compares what two sets of settings make
//! of one template with `synth diff`'s own comparison, so that a setting that widens the
//! rule or a role (`ClusterArn` to `*`) is flagged as a template change would be.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::cfn::text;

/// `template` with `values` (parameter name to value; a parameter not given takes its
/// default), without its `Parameters` and `Conditions`, which it no longer needs.
pub fn resolve(template: &Value, values: &BTreeMap<String, String>) -> Value {
    let mut parameters = BTreeMap::new();
    for (name, parameter) in template["Parameters"].as_object().into_iter().flatten() {
        let given = values.get(name).cloned();
        let default = parameter.get("Default").map(text);
        if let Some(value) = given.or(default) {
            parameters.insert(name.clone(), value);
        }
    }
    let conditions = template["Conditions"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let scope = Scope {
        parameters,
        conditions,
    };
    let mut out = Map::new();
    for (key, section) in template.as_object().into_iter().flatten() {
        match key.as_str() {
            "Parameters" | "Conditions" => {}
            "Resources" => {
                let kept = section.as_object().into_iter().flatten().filter(|(_, r)| {
                    r["Condition"]
                        .as_str()
                        .is_none_or(|name| scope.condition(name))
                });
                let resources = kept
                    .filter_map(|(id, r)| Some((id.clone(), scope.value(r)?)))
                    .collect();
                out.insert(key.clone(), Value::Object(resources));
            }
            _ => {
                if let Some(value) = scope.value(section) {
                    out.insert(key.clone(), value);
                }
            }
        }
    }
    Value::Object(out)
}

struct Scope {
    parameters: BTreeMap<String, String>,
    conditions: Map<String, Value>,
}

impl Scope {
    /// Whether the named condition holds; an unknown one does not.
    fn condition(&self, name: &str) -> bool {
        self.conditions
            .get(name)
            .is_some_and(|expression| self.holds(expression))
    }

    fn holds(&self, expression: &Value) -> bool {
        if let Some(name) = expression["Condition"].as_str() {
            return self.condition(name);
        }
        let operands = |key: &str| expression[key].as_array().cloned().unwrap_or_default();
        if expression.get("Fn::Equals").is_some() {
            let sides: Vec<Option<Value>> = operands("Fn::Equals")
                .iter()
                .map(|side| self.value(side))
                .collect();
            return sides.len() == 2 && sides[0] == sides[1];
        }
        if expression.get("Fn::Not").is_some() {
            return !operands("Fn::Not").first().is_some_and(|c| self.holds(c));
        }
        if expression.get("Fn::And").is_some() {
            return operands("Fn::And").iter().all(|c| self.holds(c));
        }
        if expression.get("Fn::Or").is_some() {
            return operands("Fn::Or").iter().any(|c| self.holds(c));
        }
        false
    }

    /// `value` resolved; `None` where it is `AWS::NoValue` (the key or element goes).
    fn value(&self, value: &Value) -> Option<Value> {
        match value {
            Value::Object(object) => {
                if let Some(name) = object.get("Ref").and_then(Value::as_str) {
                    if name == "AWS::NoValue" {
                        return None;
                    }
                    if let Some(parameter) = self.parameters.get(name) {
                        return Some(Value::String(parameter.clone()));
                    }
                }
                if let Some(Value::Array(branches)) = object.get("Fn::If") {
                    let name = branches.first().and_then(Value::as_str).unwrap_or_default();
                    let chosen = if self.condition(name) { 1 } else { 2 };
                    return self.value(branches.get(chosen)?);
                }
                if let Some(Value::String(text)) = object.get("Fn::Sub") {
                    return Some(serde_json::json!({"Fn::Sub": self.substitute(text)}));
                }
                let resolved = object
                    .iter()
                    .filter_map(|(key, v)| Some((key.clone(), self.value(v)?)))
                    .collect();
                Some(Value::Object(resolved))
            }
            Value::Array(items) => Some(Value::Array(
                items.iter().filter_map(|item| self.value(item)).collect(),
            )),
            other => Some(other.clone()),
        }
    }

    /// `${Parameter}` replaced by its value; `${AWS::Region}` and the like stay.
    fn substitute(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (name, value) in &self.parameters {
            out = out.replace(&format!("${{{name}}}"), value);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::diff::{diff, CreateOnly, Finding};

    fn stack() -> Value {
        serde_json::to_value(crate::stack::build(&Config::runbook())).unwrap()
    }

    fn under(pairs: &[(&str, &str)]) -> Value {
        let values = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        resolve(&stack(), &values)
    }

    #[test]
    fn the_defaults_leave_no_condition_or_parameter_behind() {
        let resolved = under(&[]);
        let text = resolved.to_string();
        assert!(!text.contains("Fn::If") && !text.contains("\"Ref\":\"ClusterArn\""));
        assert!(resolved.get("Conditions").is_none() && resolved.get("Parameters").is_none());
    }

    #[test]
    fn every_cluster_widens_the_rule_and_the_reconcilers_role() {
        let before = under(&[]);
        let after = under(&[("ClusterArn", "*")]);
        let changes = diff(&before, &after, &CreateOnly::committed());
        let widened: Vec<&str> = changes
            .iter()
            .filter(|c| c.findings().contains(&Finding::Widen))
            .map(|c| c.logical_id.as_str())
            .collect();
        assert!(widened.contains(&"CompletionRule"), "{changes:#?}");
        assert!(widened.iter().any(|id| id.contains("Role")), "{widened:?}");
    }

    #[test]
    fn a_longer_log_retention_is_no_finding_and_a_shorter_one_weakens() {
        let (thirty, ninety) = (under(&[]), under(&[("LogRetentionDays", "90")]));
        let longer = diff(&thirty, &ninety, &CreateOnly::committed());
        assert!(
            longer.iter().all(|c| c.findings().is_empty()),
            "{longer:#?}"
        );
        let shorter = diff(&ninety, &thirty, &CreateOnly::committed());
        assert!(
            shorter.iter().any(|c| c.findings() == [Finding::Weaken]),
            "{shorter:#?}"
        );
    }
}
