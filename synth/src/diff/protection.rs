//! What a change takes away from a resource's protection, and what it changes that synth
//! cannot read for access, so that neither passes as a mere "stateful" modification.

use std::collections::BTreeMap;

use serde_json::Value;

/// How strongly each `DeletionPolicy` or `UpdateReplacePolicy` keeps a resource (absent:
/// `Delete`, CloudFormation's default for most types).
fn keeps(policy: &Value) -> u8 {
    match policy.as_str() {
        Some("Retain") => 3,
        Some("RetainExceptOnCreate") => 2,
        Some("Snapshot") => 1,
        _ => 0,
    }
}

/// SQS keeps a message 4 days when a queue says nothing.
const SQS_DEFAULT_RETENTION: u64 = 345_600;

/// Each way the change from `before` to `after` (a resource of type `kind`) weakens what
/// protects its data, in words.
pub fn weakened(kind: &str, before: &Value, after: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
        if keeps(&after[policy]) < keeps(&before[policy]) {
            let now = after[policy].as_str().unwrap_or("none (Delete)");
            found.push(format!("{policy} {} -> {now}", text(&before[policy])));
        }
    }
    let (old, new) = (&before["Properties"], &after["Properties"]);
    match kind {
        "AWS::DynamoDB::Table" => {
            if old["DeletionProtectionEnabled"] == true && new["DeletionProtectionEnabled"] != true
            {
                found.push("deletion protection turned off".to_owned());
            }
            let recovery = |p: &Value| {
                p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] == true
            };
            if recovery(old) && !recovery(new) {
                found.push("point-in-time recovery turned off".to_owned());
            }
            let (was, is) = (indexes(old), indexes(new));
            for (name, shape) in &was {
                match is.get(name) {
                    None => found.push(format!("global secondary index {name} removed")),
                    Some(now) if now != shape => found.push(format!(
                        "global secondary index {name}: its keys or projection changed \
                         (CloudFormation drops and rebuilds it; readers of it fail meanwhile)"
                    )),
                    Some(_) => {}
                }
            }
        }
        "AWS::SQS::Queue" => {
            let retention = |p: &Value| {
                p["MessageRetentionPeriod"]
                    .as_u64()
                    .or_else(|| p["MessageRetentionPeriod"].as_str()?.parse().ok())
            };
            let (was, is) = (retention(old), retention(new));
            let was = was.unwrap_or(SQS_DEFAULT_RETENTION);
            let is = is.unwrap_or(SQS_DEFAULT_RETENTION);
            if is < was {
                found.push(format!("message retention lowered from {was} s to {is} s"));
            }
        }
        "AWS::Logs::LogGroup" => {
            // A number, or its text where a parameter's value was put in.
            let days = |p: &Value| {
                let days = &p["RetentionInDays"];
                days.as_u64().or_else(|| days.as_str()?.parse().ok())
            };
            if let (Some(was), Some(is)) = (days(old), days(new)) {
                if is < was {
                    found.push(format!("log retention lowered from {was} to {is} days"));
                }
            }
        }
        _ => {}
    }
    found
}

/// A table's global secondary indexes: name to keys and projection.
fn indexes(properties: &Value) -> BTreeMap<String, (Value, Value)> {
    let listed = properties["GlobalSecondaryIndexes"].as_array();
    listed
        .into_iter()
        .flatten()
        .map(|index| {
            let name = text(&index["IndexName"]);
            (
                name,
                (index["KeySchema"].clone(), index["Projection"].clone()),
            )
        })
        .collect()
}

/// The template-level changes that can widen access without a resource changing: its
/// `Conditions` (a rule's pattern or a role's grant under `Fn::If`) and its parameters'
/// defaults and constraints (what a deploy that gives no value gets). synth does not
/// evaluate them, so each is a change to look at, in words.
pub fn template_level(before: &Value, after: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if before["Conditions"] != after["Conditions"] {
        found.push(
            "Conditions changed: what each resource under Fn::If grants or matches may \
             change; look at it"
                .to_owned(),
        );
    }
    let parameters = |t: &Value| t["Parameters"].as_object().cloned().unwrap_or_default();
    let (old, new) = (parameters(before), parameters(after));
    for (name, was) in &old {
        let is = new.get(name).unwrap_or(&Value::Null);
        for key in [
            "Default",
            "AllowedValues",
            "AllowedPattern",
            "MinValue",
            "MaxValue",
        ] {
            if was[key] != is[key] {
                found.push(format!(
                    "parameter {name}: {key} {} -> {}: a deploy without a value gets what \
                     it now says; look at what it grants or matches",
                    text(&was[key]),
                    text(&is[key])
                ));
            }
        }
    }
    found
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "none".to_owned(),
        other => other.to_string(),
    }
}
