//! Adopting the system that runs today: the runbook's table, log group and rule already
//! exist under their exact names, so a first deploy would fail on them, and deleting them
//! to make room would lose the production table. Instead they are imported into the
//! stack with a CloudFormation IMPORT change set, from two documents generated here from
//! the stack's own template:
//!
//! - the import template: those resources alone, each `DeletionPolicy: Retain` (import
//!   requires it, and a rollback must never delete them), with only the properties that
//!   describe what already exists (names, the table's keys, indexes and billing mode,
//!   which the pre-checks compare with the running table). CloudFormation changes nothing
//!   on import and later compares templates, not resources, so every other property
//!   (deletion protection, point-in-time recovery, retention, the rule's state and
//!   targets) is left out here for the deploy that follows to apply. The rule's event
//!   pattern cannot be left out (a rule needs one), so it is the running rule's own, and
//!   the deploy replaces it with ours;
//! - the resources to import: each one's type, logical ID and primary identifier (the
//!   rule's is its ARN, which only the account knows, so it is given).
//!
//! `scripts/adopt.sh` (`make adopt`) runs the migration around them. The decisions it
//! needs are made here too, so the script holds only AWS calls and files: [`precheck`]
//! compares the running table with the template's before anything changes, and
//! [`test_record`] writes the test dispatch that is settled once the stack is deployed,
//! and judges how it ended.

pub mod precheck;
pub mod test_record;

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::SynthError;

/// One imported resource.
pub struct Adopted {
    pub logical_id: &'static str,
    /// Its primary identifier in the CloudFormation resource schema.
    pub identifier: &'static str,
    /// The properties the import template keeps.
    pub kept: &'static [&'static str],
}

pub const ADOPTED: [Adopted; 3] = [
    Adopted {
        logical_id: "DispatchTable",
        identifier: "TableName",
        kept: &[
            "TableName",
            "KeySchema",
            "AttributeDefinitions",
            "GlobalSecondaryIndexes",
            "BillingMode",
        ],
    },
    Adopted {
        logical_id: "CallbackLogGroup",
        identifier: "LogGroupName",
        kept: &["LogGroupName"],
    },
    Adopted {
        logical_id: "CompletionRule",
        identifier: "Arn",
        kept: &["Name"],
    },
];

/// `synth adopt`: writes DIR/import-template.json and DIR/resources-to-import.json for
/// the running rule `rule_arn`, whose event pattern is `pattern` (JSON).
pub fn write(dir: &Path, rule_arn: &str, pattern: &str) -> Result<(), SynthError> {
    let stack = serde_json::to_value(crate::stack::build(&Config::runbook()))
        .expect("the template serializes");
    let pattern: Value = serde_json::from_str(pattern).map_err(|err| SynthError::Parse {
        what: "--rule-event-pattern".to_owned(),
        reason: err.to_string(),
    })?;
    let documents = [
        ("import-template.json", import_template(&stack, &pattern)),
        (
            "resources-to-import.json",
            resources_to_import(&stack, rule_arn),
        ),
    ];
    for (name, document) in documents {
        let path = dir.join(name);
        let text = crate::render::text(&document);
        std::fs::write(&path, text).map_err(|source| SynthError::Write { path, source })?;
    }
    Ok(())
}

/// A JSON document from `path` (an AWS CLI answer the script saved).
fn read_json(path: &Path) -> Result<Value, SynthError> {
    let what = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SynthError::Read {
        what: what.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|err| SynthError::Parse {
        what,
        reason: err.to_string(),
    })
}

/// The import template for `stack` (a template document); `rule_pattern` is the running
/// rule's event pattern.
pub fn import_template(stack: &Value, rule_pattern: &Value) -> Value {
    let mut resources = Map::new();
    for adopted in &ADOPTED {
        let resource = &stack["Resources"][adopted.logical_id];
        let mut properties: Map<String, Value> = adopted
            .kept
            .iter()
            .filter_map(|name| Some((name.to_string(), resource["Properties"].get(*name)?.clone())))
            .collect();
        if resource["Type"] == "AWS::Events::Rule" {
            properties.insert("EventPattern".to_owned(), rule_pattern.clone());
        }
        resources.insert(
            adopted.logical_id.to_owned(),
            json!({
                "Type": resource["Type"],
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": properties,
            }),
        );
    }
    json!({
        "AWSTemplateFormatVersion": stack["AWSTemplateFormatVersion"],
        "Description": format!(
            "Imports the running system's table, log group and rule into the stack (make adopt). {}",
            stack["Description"].as_str().unwrap_or_default()
        ),
        "Resources": resources,
    })
}

/// The `--resources-to-import` document of the IMPORT change set; `rule_arn` is the
/// running rule's ARN.
pub fn resources_to_import(stack: &Value, rule_arn: &str) -> Value {
    ADOPTED
        .iter()
        .map(|adopted| {
            let resource = &stack["Resources"][adopted.logical_id];
            let value = match adopted.identifier {
                "Arn" => json!(rule_arn),
                property => resource["Properties"][property].clone(),
            };
            json!({
                "ResourceType": resource["Type"],
                "LogicalResourceId": adopted.logical_id,
                "ResourceIdentifier": {adopted.identifier: value},
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn stack() -> Value {
        serde_json::to_value(crate::stack::build(&Config::runbook())).unwrap()
    }

    const RULE_ARN: &str = "arn:aws:events:us-east-1:311493921645:rule/outpost-dispatch-completion";

    #[test]
    fn the_import_names_each_resource_by_its_primary_identifier() {
        assert_eq!(
            resources_to_import(&stack(), RULE_ARN),
            json!([
                {"ResourceType": "AWS::DynamoDB::Table", "LogicalResourceId": "DispatchTable",
                 "ResourceIdentifier": {"TableName": contract::table::NAME}},
                {"ResourceType": "AWS::Logs::LogGroup", "LogicalResourceId": "CallbackLogGroup",
                 "ResourceIdentifier": {"LogGroupName": contract::resources::LOG_GROUP}},
                {"ResourceType": "AWS::Events::Rule", "LogicalResourceId": "CompletionRule",
                 "ResourceIdentifier": {"Arn": RULE_ARN}},
            ])
        );
    }

    #[test]
    fn the_import_template_describes_what_exists_and_leaves_the_settings_to_the_deploy() {
        let stack = stack();
        let running = json!({"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"]});
        let template = import_template(&stack, &running);
        let resources = template["Resources"].as_object().unwrap();
        let ids: Vec<&String> = resources.keys().collect();
        assert_eq!(ids, ["CallbackLogGroup", "CompletionRule", "DispatchTable"]);
        for resource in resources.values() {
            assert_eq!(resource["DeletionPolicy"], "Retain");
            assert_eq!(resource["UpdateReplacePolicy"], "Retain");
        }
        let table = &template["Resources"]["DispatchTable"]["Properties"];
        let full = &stack["Resources"]["DispatchTable"]["Properties"];
        assert_eq!(table["KeySchema"], full["KeySchema"]);
        assert_eq!(
            table["GlobalSecondaryIndexes"],
            full["GlobalSecondaryIndexes"]
        );
        // Left for the deploy, which then sees them as changes and applies them.
        assert!(full.get("DeletionProtectionEnabled").is_some());
        assert!(table.get("DeletionProtectionEnabled").is_none());
        assert!(table.get("PointInTimeRecoverySpecification").is_none());
        let rule = &template["Resources"]["CompletionRule"]["Properties"];
        assert_eq!(
            rule,
            &json!({"Name": contract::resources::RULE, "EventPattern": running})
        );
        // Nothing refers to anything: no parameters are needed, no reference dangles.
        let text = template.to_string();
        assert!(
            !text.contains("\"Ref\"") && !text.contains("Fn::"),
            "{text}"
        );
    }
}
