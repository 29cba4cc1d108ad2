//! `synth diff`: what a template change will make CloudFormation do, resource by
//! resource, before anyone deploys it.
//!
//! A snapshot diff shows what changed; this says what it means: which resources are
//! added, removed or modified (with the property paths), which modification **replaces**
//! its resource (from the resource schemas' `createOnlyProperties`, committed in
//! `synth/data/create-only-properties.json`), which widens access, and which touches a
//! stateful resource, with what would happen to its data. Pure functions of two template
//! documents; `inputs` reads them, `report` words the result, and [`compare`] is the
//! `synth diff` command around them.

mod access;
mod acknowledgements;
pub mod inputs;
mod paths;
mod protection;
pub mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::render::Which;
use crate::SynthError;

pub use access::{AccessChange, Grant};
pub use acknowledgements::{Acknowledgement, Acknowledgements};

/// The resource types that hold data: every change to one is flagged.
pub const STATEFUL: [&str; 4] = [
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
];

/// Properties whose change replaces the resource though its registry schema does not
/// list them as create-only: the CloudFormation reference says "Update requires:
/// Replacement" for a table's `KeySchema` and `LocalSecondaryIndexes`, which DynamoDB
/// cannot change on an existing table.
const DOCUMENTED_REPLACEMENTS: [(&str, &str); 2] = [
    ("AWS::DynamoDB::Table", "KeySchema"),
    ("AWS::DynamoDB::Table", "LocalSecondaryIndexes"),
];

/// The create-only properties of each resource type our templates use.
#[derive(Clone, Debug, Deserialize)]
pub struct CreateOnly {
    types: BTreeMap<String, Vec<String>>,
}

impl CreateOnly {
    /// The committed table (`scripts/create_only_properties.py` writes it from cfn-lint's
    /// schemas; `make test` checks it is fresh), plus [`DOCUMENTED_REPLACEMENTS`].
    pub fn committed() -> CreateOnly {
        let text = include_str!("../../data/create-only-properties.json");
        let mut create_only: CreateOnly =
            serde_json::from_str(text).expect("the committed table is JSON: types, names to lists");
        for (kind, property) in DOCUMENTED_REPLACEMENTS {
            let properties = create_only.types.entry(kind.to_owned()).or_default();
            properties.push(property.to_owned());
        }
        create_only
    }

    pub fn knows(&self, kind: &str) -> bool {
        self.types.contains_key(kind)
    }

    fn replaces(&self, kind: &str, property: &str) -> bool {
        self.types
            .get(kind)
            .is_some_and(|properties| properties.iter().any(|p| p == property))
    }
}

/// What happens to one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Add,
    Remove,
    Modify,
}

/// What `--fail-on` can stop a change for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Finding {
    Replace,
    Remove,
    /// Access widens, or may: a change synth cannot read for access is one to look at.
    Widen,
    /// What protects data is weakened: a retention policy, deletion protection,
    /// point-in-time recovery, an index, a queue's or log group's retention.
    Weaken,
}

impl Finding {
    pub const ALL: [Finding; 4] = [
        Finding::Replace,
        Finding::Remove,
        Finding::Widen,
        Finding::Weaken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Finding::Replace => "replace",
            Finding::Remove => "remove",
            Finding::Widen => "widen",
            Finding::Weaken => "weaken",
        }
    }

    pub fn parse(text: &str) -> Option<Finding> {
        Finding::ALL
            .into_iter()
            .find(|finding| finding.as_str() == text)
    }
}

/// One resource's change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub logical_id: String,
    /// The resource type (the new one, for a resource whose type changed).
    pub kind: String,
    pub action: Action,
    /// The paths that changed (`Properties.KeySchema[0].AttributeName`, `DeletionPolicy`).
    pub paths: Vec<String>,
    /// The changed properties that make CloudFormation replace the resource (`Type` for
    /// a changed type); empty when it is updated in place.
    pub replaced_by: Vec<String>,
    pub access: AccessChange,
    /// What the change takes away from what protects the resource's data, in words.
    pub weakened: Vec<String>,
    /// What changed that synth cannot read for access (an unknown type, a rule's
    /// pattern, the template's conditions or parameter defaults): look at it.
    pub unread: Vec<String>,
    pub stateful: bool,
    /// Whether the resource as it is now outlives its removal (`DeletionPolicy: Retain`).
    pub retained: bool,
    /// Whether it outlives its replacement (`UpdateReplacePolicy: Retain`).
    pub retained_on_replace: bool,
    /// Its fixed physical name, if it has one (`outpost-dispatches`).
    pub name: Option<String>,
}

impl Change {
    pub fn findings(&self) -> Vec<Finding> {
        let replaced = !self.replaced_by.is_empty();
        let removed = self.action == Action::Remove;
        let widens = self.access.widens() || !self.unread.is_empty();
        let found = [replaced, removed, widens, !self.weakened.is_empty()];
        let found = Finding::ALL.into_iter().zip(found).filter(|(_, on)| *on);
        found.map(|(finding, _)| finding).collect()
    }
}

/// Every resource that differs between `before` and `after` (template documents), in
/// logical ID order.
pub fn diff(before: &Value, after: &Value, create_only: &CreateOnly) -> Vec<Change> {
    let empty = serde_json::Map::new();
    let resources = |template: &Value| template["Resources"].as_object().unwrap_or(&empty).clone();
    let (old, new) = (resources(before), resources(after));
    let ids: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut changes: Vec<Change> = ids
        .into_iter()
        .filter_map(|id| change(id, old.get(id), new.get(id), create_only))
        .collect();
    let unread = protection::template_level(before, after);
    if !unread.is_empty() {
        changes.push(Change {
            logical_id: TEMPLATE.to_owned(),
            kind: "Conditions and Parameters".to_owned(),
            action: Action::Modify,
            paths: Vec::new(),
            replaced_by: Vec::new(),
            access: AccessChange::default(),
            weakened: Vec::new(),
            unread,
            stateful: false,
            retained: false,
            retained_on_replace: false,
            name: None,
        });
    }
    changes
}

/// The name the template's own `Conditions` and `Parameters` go by in the report and in
/// an acknowledgement.
pub const TEMPLATE: &str = "Template";

fn change(
    logical_id: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    create_only: &CreateOnly,
) -> Option<Change> {
    let (action, paths) = match (before, after) {
        (Some(a), Some(b)) if a == b => return None,
        (Some(a), Some(b)) => (Action::Modify, paths::changed_paths("", a, b)),
        (None, Some(_)) => (Action::Add, Vec::new()),
        (Some(_), None) => (Action::Remove, Vec::new()),
        (None, None) => return None,
    };
    let kind = kind_of(after).or(kind_of(before)).unwrap_or("").to_owned();
    let mut replaced_by: Vec<String> = Vec::new();
    if action == Action::Modify {
        if kind_of(before) != kind_of(after) {
            replaced_by.push("Type".to_owned());
        }
        // Compared property by property, not from the paths, so a `Properties` block
        // added or removed as a whole counts for each property in it.
        let properties = |resource: Option<&Value>| {
            resource
                .and_then(|r| r["Properties"].as_object())
                .cloned()
                .unwrap_or_default()
        };
        let (old, new) = (properties(before), properties(after));
        let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for name in names {
            if old.get(name) != new.get(name) && create_only.replaces(&kind, name) {
                replaced_by.push(name.clone());
            }
        }
    }
    let (weakened, mut unread) = match (before, after) {
        (Some(a), Some(b)) => (protection::weakened(&kind, a, b), Vec::new()),
        _ => (Vec::new(), Vec::new()),
    };
    if after.is_some() && !access::reads(&kind) {
        unread.push(format!(
            "{kind} is not read for grants: look at what it allows"
        ));
    }
    if kind == "AWS::Events::Rule"
        && action == Action::Modify
        && before.map(|r| &r["Properties"]["EventPattern"])
            != after.map(|r| &r["Properties"]["EventPattern"])
    {
        unread.push("its event pattern changed: look at whether it matches more".to_owned());
    }
    let current = before.or(after).expect("one side exists");
    let name = [
        "TableName",
        "QueueName",
        "LogGroupName",
        "BucketName",
        "FunctionName",
        "Name",
    ]
    .iter()
    .find_map(|key| current["Properties"][key].as_str())
    .map(str::to_owned);
    Some(Change {
        logical_id: logical_id.to_owned(),
        access: access::access_change(&kind, before, after),
        weakened,
        unread,
        stateful: STATEFUL.contains(&kind.as_str()),
        retained: current["DeletionPolicy"] == "Retain",
        retained_on_replace: current["UpdateReplacePolicy"] == "Retain",
        kind,
        action,
        paths,
        replaced_by,
        name,
    })
}

fn kind_of(resource: Option<&Value>) -> Option<&str> {
    resource.and_then(|r| r["Type"].as_str())
}

/// `synth diff`: compares `which` template, as this source renders it, with `base` (a
/// file) or the committed template at `base_ref` (default: the merge base with main), and
/// prints the report. Returns the findings in `fail_on` that this change does not
/// acknowledge, one line each: the command fails when there are any.
pub fn compare(
    which: Which,
    base: Option<&Path>,
    base_ref: Option<&str>,
    fail_on: &[Finding],
) -> Result<Vec<String>, SynthError> {
    let repository = inputs::repository();
    let base = inputs::base(&repository, which.file(), base, base_ref)?;
    let head: Value = serde_json::from_str(&which.render()).expect("synth renders JSON");
    let changes = diff(&base.template, &head, &CreateOnly::committed());
    let head_acknowledgements = inputs::head_acknowledgements(&repository);
    let acknowledged = Acknowledgements::added(&base.acknowledgements, &head_acknowledgements);
    let acknowledged = acknowledged.map_err(SynthError::Acknowledgements)?;
    let (report, blocking) = report::render(&changes, fail_on, &acknowledged);
    println!("{} against {}:", which.file(), base.label);
    print!("{report}");
    Ok(blocking)
}

#[cfg(test)]
mod tests;
