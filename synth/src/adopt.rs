//! Adopting the system that runs today: the runbook's table, log group and rule already
//! exist under their exact names, so a first deploy would fail on them, and deleting them
//! to make room would lose the production table. Instead they are imported into the
//! stack with a CloudFormation IMPORT change set, from two documents generated here from
//! the stack's own template:
//!
//! - the import template: those resources alone, each `DeletionPolicy: Retain` (import
//!   requires it, and a rollback must never delete them), without the properties that
//!   refer to resources the import does not bring (the rule's targets: they are set by
//!   the normal deploy that follows), with the parameters and conditions they still use;
//! - the resources to import: each one's type, logical ID and identifier (its name).
//!
//! `scripts/adopt.sh` (`make adopt`) runs the migration around them.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

/// What is imported: the logical ID, and the property that is its identifier.
pub const ADOPTED: [(&str, &str); 3] = [
    ("DispatchTable", "TableName"),
    ("CallbackLogGroup", "LogGroupName"),
    ("CompletionRule", "Name"),
];

/// The import template for `stack` (a template document).
pub fn import_template(stack: &Value) -> Value {
    let adopted: BTreeSet<&str> = ADOPTED.iter().map(|(id, _)| *id).collect();
    let mut resources = Map::new();
    for (id, _) in ADOPTED {
        let mut resource = stack["Resources"][id].clone();
        resource["DeletionPolicy"] = json!("Retain");
        resource["UpdateReplacePolicy"] = json!("Retain");
        if let Some(properties) = resource["Properties"].as_object_mut() {
            // A property that names a resource the import does not bring cannot be in
            // the template; the deploy after the import sets it.
            properties.retain(|_, value| {
                references(value)
                    .iter()
                    .all(|name| adopted.contains(name.as_str()) || is_parameter(stack, name))
            });
        }
        resources.insert(id.to_owned(), resource);
    }
    let resources = Value::Object(resources);
    // The conditions the kept properties use, and the parameters those and the
    // properties refer to.
    let conditions: Map<String, Value> = conditions_used(&resources)
        .into_iter()
        .filter_map(|name| Some((name.clone(), stack["Conditions"].get(&name)?.clone())))
        .collect();
    let mut used = references(&resources);
    used.extend(references(&Value::Object(conditions.clone())));
    let parameters: Map<String, Value> = used
        .into_iter()
        .filter_map(|name| Some((name.clone(), stack["Parameters"].get(&name)?.clone())))
        .collect();
    json!({
        "AWSTemplateFormatVersion": stack["AWSTemplateFormatVersion"],
        "Description": format!(
            "Imports the running system's table, log group and rule into the stack (make adopt). {}",
            stack["Description"].as_str().unwrap_or_default()
        ),
        "Parameters": parameters,
        "Conditions": conditions,
        "Resources": resources,
    })
}

/// The `--resources-to-import` document of the IMPORT change set.
pub fn resources_to_import(stack: &Value) -> Value {
    let resources: Vec<Value> = ADOPTED
        .iter()
        .map(|(id, identifier)| {
            let resource = &stack["Resources"][id];
            json!({
                "ResourceType": resource["Type"],
                "LogicalResourceId": id,
                "ResourceIdentifier": {*identifier: resource["Properties"][identifier]},
            })
        })
        .collect();
    Value::Array(resources)
}

fn is_parameter(stack: &Value, name: &str) -> bool {
    name.starts_with("AWS::") || stack["Parameters"].get(name).is_some()
}

/// Every name a value refers to: `Ref`, `Fn::GetAtt`, and `${Name}` in `Fn::Sub`.
fn references(value: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    collect(value, &mut names);
    names
}

fn collect(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("Ref", Value::String(name)) => {
                        names.insert(name.clone());
                    }
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        if let Some(name) = parts.first().and_then(Value::as_str) {
                            names.insert(name.to_owned());
                        }
                    }
                    ("Fn::Sub", Value::String(text)) => {
                        for piece in text.split("${").skip(1) {
                            let name = piece.split(['}', '.']).next().unwrap_or_default();
                            names.insert(name.to_owned());
                        }
                    }
                    _ => collect(inner, names),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect(item, names)),
        _ => {}
    }
}

/// The conditions `Fn::If` names in `value`, and those they name in turn.
fn conditions_used(value: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    fn walk(value: &Value, names: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    if let ("Fn::If", Some(name)) = (key.as_str(), inner[0].as_str()) {
                        names.insert(name.to_owned());
                    }
                    walk(inner, names);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, names)),
            _ => {}
        }
    }
    walk(value, &mut names);
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn stack() -> Value {
        serde_json::to_value(crate::stack::build(&Config::runbook())).unwrap()
    }

    #[test]
    fn the_import_names_each_resource_by_its_runbook_name() {
        let document = resources_to_import(&stack());
        assert_eq!(
            document,
            json!([
                {"ResourceType": "AWS::DynamoDB::Table", "LogicalResourceId": "DispatchTable",
                 "ResourceIdentifier": {"TableName": contract::table::NAME}},
                {"ResourceType": "AWS::Logs::LogGroup", "LogicalResourceId": "CallbackLogGroup",
                 "ResourceIdentifier": {"LogGroupName": contract::resources::LOG_GROUP}},
                {"ResourceType": "AWS::Events::Rule", "LogicalResourceId": "CompletionRule",
                 "ResourceIdentifier": {"Name": contract::resources::RULE}},
            ])
        );
    }

    #[test]
    fn the_import_template_holds_only_retained_adopted_resources_and_what_they_use() {
        let stack = stack();
        let template = import_template(&stack);
        let ids: Vec<&String> = template["Resources"].as_object().unwrap().keys().collect();
        assert_eq!(ids, ["CallbackLogGroup", "CompletionRule", "DispatchTable"]);
        for resource in template["Resources"].as_object().unwrap().values() {
            assert_eq!(resource["DeletionPolicy"], "Retain");
            assert_eq!(resource["UpdateReplacePolicy"], "Retain");
        }
        // The rule's targets name the function and the queue, which the deploy adds.
        let rule = &template["Resources"]["CompletionRule"]["Properties"];
        assert!(rule.get("Targets").is_none());
        assert_eq!(
            rule["EventPattern"],
            stack["Resources"]["CompletionRule"]["Properties"]["EventPattern"]
        );
        // The table keeps every property: its key and indexes must match the running one.
        assert_eq!(
            template["Resources"]["DispatchTable"]["Properties"],
            stack["Resources"]["DispatchTable"]["Properties"]
        );
        // Only the parameters and conditions still used, so the import needs no code keys.
        let parameters: Vec<&String> = template["Parameters"].as_object().unwrap().keys().collect();
        assert_eq!(parameters, ["ClusterArn", "LogRetentionDays"]);
        let conditions: Vec<&String> = template["Conditions"].as_object().unwrap().keys().collect();
        assert_eq!(conditions, ["AnyCluster", "ClusterArnGiven"]);
        // Every reference left resolves inside the import template.
        for name in references(&template["Resources"]) {
            assert!(
                name.starts_with("AWS::")
                    || template["Parameters"].get(&name).is_some()
                    || template["Resources"].get(&name).is_some(),
                "{name} does not resolve"
            );
        }
    }
}
