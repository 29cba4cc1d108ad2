//! A CloudFormation change set, as `aws cloudformation describe-change-set` prints it,
//! read and shown as the table `make plan` and `make deploy` print: action, logical ID,
//! type, replacement, and the properties that changed. A change set that replaces or
//! removes a stateful resource (a table, a queue, a log group, a bucket) is *dangerous*:
//! `make deploy` asks before executing it.
//!
//! Only the fields the table needs are read; AWS adds fields freely, so unknown ones are
//! ignored, and missing ones are shown as `-`.

use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use crate::diff::STATEFUL;
use crate::SynthError;

/// The parts of a `DescribeChangeSet` answer the table shows.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "PascalCase")]
pub struct ChangeSet {
    pub changes: Vec<Change>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "PascalCase")]
pub struct Change {
    pub resource_change: Option<ResourceChange>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "PascalCase")]
pub struct ResourceChange {
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`.
    pub action: Option<String>,
    pub logical_resource_id: Option<String>,
    pub resource_type: Option<String>,
    /// `True`, `False` or `Conditional`; only for `Modify`.
    pub replacement: Option<String>,
    pub details: Vec<Detail>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "PascalCase")]
pub struct Detail {
    pub target: Option<Target>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "PascalCase")]
pub struct Target {
    pub name: Option<String>,
    /// `Never`, `Conditionally`, `Always`.
    pub requires_recreation: Option<String>,
}

impl ResourceChange {
    /// A replacement (certain or possible) or a removal of a stateful resource.
    pub fn is_dangerous(&self) -> bool {
        let stateful = STATEFUL.contains(&self.resource_type.as_deref().unwrap_or(""));
        let replaced = matches!(self.replacement.as_deref(), Some("True" | "Conditional"));
        let removed = self.action.as_deref() == Some("Remove");
        stateful && (replaced || removed)
    }

    /// The changed properties, each marked when it forces a replacement.
    fn properties(&self) -> String {
        let mut names: Vec<String> = self
            .details
            .iter()
            .filter_map(|detail| detail.target.as_ref())
            .filter_map(|target| {
                let name = target.name.as_deref()?;
                Some(match target.requires_recreation.as_deref() {
                    Some("Always") => format!("{name} (recreates)"),
                    Some("Conditionally") => format!("{name} (may recreate)"),
                    _ => name.to_owned(),
                })
            })
            .collect();
        names.dedup();
        names.join(", ")
    }
}

impl ChangeSet {
    pub fn parse(text: &str) -> Result<ChangeSet, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn resource_changes(&self) -> impl Iterator<Item = &ResourceChange> {
        self.changes
            .iter()
            .filter_map(|c| c.resource_change.as_ref())
    }

    /// The changes `make deploy` asks about before executing.
    pub fn dangerous(&self) -> Vec<&ResourceChange> {
        self.resource_changes()
            .filter(|c| c.is_dangerous())
            .collect()
    }

    /// The table: one row per resource change, then a line on the dangerous ones.
    pub fn table(&self) -> String {
        let dash = |value: Option<&String>| value.map_or("-".to_owned(), Clone::clone);
        let rows: Vec<[String; 5]> = self
            .resource_changes()
            .map(|change| {
                let mut replacement = dash(change.replacement.as_ref());
                if change.is_dangerous() {
                    replacement.push_str(" !");
                }
                [
                    dash(change.action.as_ref()),
                    dash(change.logical_resource_id.as_ref()),
                    dash(change.resource_type.as_ref()),
                    replacement,
                    change.properties(),
                ]
            })
            .collect();
        let header =
            ["action", "logical ID", "type", "replacement", "properties"].map(String::from);
        let mut widths = header.clone().map(|h| h.len());
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        }
        if rows.is_empty() {
            let _ = writeln!(out, "(no changes)");
        }
        let dangerous = self.dangerous();
        if !dangerous.is_empty() {
            let ids: Vec<&str> = dangerous
                .iter()
                .filter_map(|c| c.logical_resource_id.as_deref())
                .collect();
            let _ = writeln!(
                out,
                "! replaces or removes a stateful resource, with its data: {}",
                ids.join(", ")
            );
        }
        out
    }
}

/// `synth change-set`: reads a DescribeChangeSet answer from `file` (or standard input)
/// and prints it as a table; true when it replaces or removes a stateful resource.
pub fn show(file: Option<&Path>) -> Result<bool, SynthError> {
    let (what, text) = match file {
        Some(path) => (path.display().to_string(), std::fs::read_to_string(path)),
        None => (
            "standard input".to_owned(),
            std::io::read_to_string(std::io::stdin()),
        ),
    };
    let text = text.map_err(|source| SynthError::Read {
        what: what.clone(),
        source,
    })?;
    let change_set = ChangeSet::parse(&text).map_err(|err| SynthError::Parse {
        what,
        reason: format!("not a DescribeChangeSet answer: {err}"),
    })?;
    print!("{}", change_set.table());
    Ok(!change_set.dangerous().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape `aws cloudformation describe-change-set` prints on AWS (moto's change
    /// sets carry no `Replacement` or `Details`, so this is the only way to test them).
    fn replacing_the_table() -> String {
        serde_json::json!({
            "Changes": [
                {"Type": "Resource", "ResourceChange": {
                    "Action": "Modify", "LogicalResourceId": "DispatchTable",
                    "PhysicalResourceId": contract::table::NAME,
                    "ResourceType": "AWS::DynamoDB::Table",
                    "Replacement": "True", "Scope": ["Properties"],
                    "Details": [{"Target": {"Attribute": "Properties", "Name": "KeySchema",
                        "RequiresRecreation": "Always"}, "Evaluation": "Static",
                        "ChangeSource": "DirectModification"}]}},
                {"Type": "Resource", "ResourceChange": {
                    "Action": "Modify", "LogicalResourceId": "CallbackFunction",
                    "PhysicalResourceId": contract::resources::FUNCTION,
                    "ResourceType": "AWS::Lambda::Function",
                    "Replacement": "False", "Scope": ["Properties"],
                    "Details": [{"Target": {"Attribute": "Properties", "Name": "Code",
                        "RequiresRecreation": "Never"}, "Evaluation": "Static",
                        "ChangeSource": "DirectModification"}]}},
                {"Type": "Resource", "ResourceChange": {
                    "Action": "Add", "LogicalResourceId": "NewAlarm",
                    "ResourceType": "AWS::CloudWatch::Alarm", "Scope": [], "Details": []}}
            ],
            "ChangeSetName": "plan-1", "StackName": contract::resources::STACK,
            "ExecutionStatus": "AVAILABLE", "Status": "CREATE_COMPLETE",
            "Capabilities": ["CAPABILITY_NAMED_IAM"], "IncludeNestedStacks": false
        })
        .to_string()
    }

    #[test]
    fn a_replaced_table_is_shown_and_dangerous() {
        let change_set = ChangeSet::parse(&replacing_the_table()).unwrap();
        let table = change_set.table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "action  logical ID        type                    replacement  properties"
        );
        assert_eq!(
            lines[1],
            "Modify  DispatchTable     AWS::DynamoDB::Table    True !       KeySchema (recreates)"
        );
        assert_eq!(
            lines[2],
            "Modify  CallbackFunction  AWS::Lambda::Function   False        Code"
        );
        assert_eq!(
            lines[3],
            "Add     NewAlarm          AWS::CloudWatch::Alarm  -"
        );
        assert_eq!(
            lines[4],
            "! replaces or removes a stateful resource, with its data: DispatchTable"
        );
        assert_eq!(change_set.dangerous().len(), 1);
    }

    #[test]
    fn a_removed_queue_is_dangerous_and_an_empty_set_says_so() {
        let removed = r#"{"Changes": [{"ResourceChange": {"Action": "Remove",
            "LogicalResourceId": "CallbackFailureQueue", "ResourceType": "AWS::SQS::Queue"}}]}"#;
        assert_eq!(ChangeSet::parse(removed).unwrap().dangerous().len(), 1);
        let empty = ChangeSet::parse(r#"{"Changes": [], "Status": "FAILED"}"#).unwrap();
        assert!(empty.table().contains("(no changes)"));
        assert!(empty.dangerous().is_empty());
    }
}
