//! Who may do what, read out of the policies in a resource, so a change can be told to
//! widen access (a new action, resource or principal allowed, or a guard denied no more).

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{json, Value};

use crate::cfn::text;

/// One action on one resource for one principal, allowed or denied.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub allow: bool,
    pub action: String,
    pub resource: String,
    pub principal: String,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let effect = if self.allow { "allow" } else { "deny" };
        write!(f, "{effect} {} on {}", self.action, self.resource)?;
        if !self.principal.is_empty() {
            write!(f, " to {}", self.principal)?;
        }
        Ok(())
    }
}

/// How a change moves access: grants that appear and grants that go.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessChange {
    pub added: Vec<Grant>,
    pub dropped: Vec<Grant>,
}

impl AccessChange {
    /// A new allow, or a deny that went away.
    pub fn widens(&self) -> bool {
        self.added.iter().any(|grant| grant.allow) || self.dropped.iter().any(|grant| !grant.allow)
    }
}

/// The access change between two versions of a resource (`None` where it does not exist).
pub fn access_change(kind: &str, before: Option<&Value>, after: Option<&Value>) -> AccessChange {
    let grants = |resource: Option<&Value>| resource.map(|r| grants(kind, r)).unwrap_or_default();
    let (before, after) = (grants(before), grants(after));
    AccessChange {
        added: after.difference(&before).cloned().collect(),
        dropped: before.difference(&after).cloned().collect(),
    }
}

/// The types that grant nothing: everything else either is read for grants below, or is
/// a type synth cannot read, whose change is one to look at ([`reads`]).
const GRANT_NOTHING: [&str; 10] = [
    "AWS::SQS::Queue",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
    "AWS::Lambda::Function",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::Lambda::Version",
];

/// The types whose grants [`grants`] reads.
const READ_FOR_GRANTS: [&str; 12] = [
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::KMS::Key",
    "AWS::Events::EventBusPolicy",
    "AWS::DynamoDB::Table",
    "AWS::Lambda::Permission",
    "AWS::Lambda::Url",
];

/// Whether synth knows what a resource of `kind` grants (nothing, or what [`grants`]
/// reads). A type it does not know may grant anything: its change is one to look at.
pub fn reads(kind: &str) -> bool {
    GRANT_NOTHING.contains(&kind) || READ_FOR_GRANTS.contains(&kind)
}

/// Every grant a resource makes, for the resource types that grant access.
fn grants(kind: &str, resource: &Value) -> BTreeSet<Grant> {
    let properties = &resource["Properties"];
    let mut documents: Vec<&Value> = Vec::new();
    match kind {
        "AWS::IAM::Role" => {
            documents.push(&properties["AssumeRolePolicyDocument"]);
            let policies = properties["Policies"].as_array().into_iter().flatten();
            documents.extend(policies.map(|policy| &policy["PolicyDocument"]));
        }
        "AWS::SQS::QueuePolicy"
        | "AWS::S3::BucketPolicy"
        | "AWS::SNS::TopicPolicy"
        | "AWS::IAM::Policy"
        | "AWS::IAM::RolePolicy"
        | "AWS::IAM::ManagedPolicy" => {
            documents.push(&properties["PolicyDocument"]);
        }
        "AWS::KMS::Key" => documents.push(&properties["KeyPolicy"]),
        "AWS::DynamoDB::Table" => documents.push(&properties["ResourcePolicy"]["PolicyDocument"]),
        // An event bus policy is one statement, as its properties.
        "AWS::Events::EventBusPolicy" => {
            let statement = properties.get("Statement").cloned().unwrap_or_else(|| {
                json!({"Effect": "Allow", "Action": properties["Action"],
                       "Principal": properties["Principal"], "Condition": properties["Condition"]})
            });
            let mut grants = statement_grants(&json!({"Statement": statement}));
            grants.retain(|grant| !grant.action.is_empty());
            return grants.into_iter().collect();
        }
        // A function URL with AuthType NONE lets anyone invoke the function.
        "AWS::Lambda::Url" => {
            return BTreeSet::from([Grant {
                allow: true,
                action: "lambda:InvokeFunctionUrl".to_owned(),
                resource: text(&properties["TargetFunctionArn"]),
                principal: format!("auth {}", text(&properties["AuthType"])),
            }]);
        }
        // A permission is one allow: its action, on its function, to its principal, as
        // narrowed by its source (losing one widens it).
        "AWS::Lambda::Permission" => {
            let source: String = ["SourceArn", "SourceAccount", "PrincipalOrgID"]
                .iter()
                .filter_map(|key| Some(format!(" {key} {}", text(properties.get(*key)?))))
                .collect();
            return BTreeSet::from([Grant {
                allow: true,
                action: text(&properties["Action"]),
                resource: text(&properties["FunctionName"]),
                principal: format!("{}{source}", text(&properties["Principal"])),
            }]);
        }
        _ => {}
    }
    let mut grants: BTreeSet<Grant> = documents.into_iter().flat_map(statement_grants).collect();
    // A managed policy attached to a role grants whatever it holds: each is one grant.
    for arn in list(&properties["ManagedPolicyArns"]) {
        grants.insert(Grant {
            allow: true,
            action: "the managed policy".to_owned(),
            resource: arn,
            principal: String::new(),
        });
    }
    grants
}

fn statement_grants(document: &Value) -> Vec<Grant> {
    let statements = match &document["Statement"] {
        Value::Array(list) => list.iter().collect(),
        Value::Null => Vec::new(),
        single => vec![single],
    };
    // A statement under `Fn::If` grants what either branch grants, under its condition.
    let statements = statements
        .into_iter()
        .flat_map(|statement| match &statement["Fn::If"] {
            Value::Array(branches) => {
                let only_if = format!("if {}", text(&branches[0]));
                let granting = branches
                    .iter()
                    .skip(1)
                    .filter(|b| b.get("Action").is_some());
                granting
                    .map(|branch| (branch, Some(only_if.clone())))
                    .collect()
            }
            _ => vec![(statement, None)],
        });
    let mut grants = Vec::new();
    for (statement, only_if) in statements {
        let allow = statement["Effect"] != "Deny";
        let principal = statement.get("Principal").map(text).unwrap_or_default();
        let condition = statement
            .get("Condition")
            .map(text)
            .into_iter()
            .chain(only_if);
        let condition = condition.reduce(|a, b| format!("{a} {b}"));
        let principal = match condition {
            Some(condition) => format!("{principal} when {condition}").trim().to_owned(),
            None => principal,
        };
        // `NotAction` and `NotResource` grant everything but what they name: kept as
        // their own grants, so adding or changing one shows as new access.
        let but = |key| {
            list(&statement[key])
                .into_iter()
                .map(|name| format!("everything but {name}"))
        };
        let mut resources = list(&statement["Resource"]);
        resources.extend(but("NotResource"));
        if resources.is_empty() {
            resources.push(String::from("*"));
        }
        let mut actions = list(&statement["Action"]);
        actions.extend(but("NotAction"));
        for action in actions {
            for resource in &resources {
                grants.push(Grant {
                    allow,
                    action: action.clone(),
                    resource: resource.clone(),
                    principal: principal.clone(),
                });
            }
        }
    }
    grants
}

/// A value or each value of a list, as text.
fn list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().map(text).collect(),
        Value::Null => Vec::new(),
        other => vec![text(other)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role(actions: &[&str]) -> Value {
        json!({"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"}, "Action": ["sts:AssumeRole"]}]},
        "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": [{"Fn::GetAtt": ["T", "Arn"]}]}
        ]}}]}})
    }

    #[test]
    fn a_new_action_widens_and_a_dropped_one_does_not() {
        let before = role(&["dynamodb:UpdateItem"]);
        let after = role(&["dynamodb:UpdateItem", "dynamodb:DeleteItem"]);
        let change = access_change("AWS::IAM::Role", Some(&before), Some(&after));
        assert!(change.widens());
        assert_eq!(
            change.added[0].to_string(),
            r#"allow dynamodb:DeleteItem on {"Fn::GetAtt":["T","Arn"]}"#
        );
        let narrower = access_change("AWS::IAM::Role", Some(&after), Some(&before));
        assert!(!narrower.widens());
        assert_eq!(narrower.dropped.len(), 1);
    }

    #[test]
    fn losing_a_deny_widens_and_a_new_permission_widens() {
        let guard = json!({"Type": "AWS::S3::BucketPolicy", "Properties": {"PolicyDocument": {
            "Statement": [{"Effect": "Deny", "Principal": "*", "Action": ["s3:*"], "Resource": ["b"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}});
        assert!(access_change("AWS::S3::BucketPolicy", Some(&guard), None).widens());
        assert!(!access_change("AWS::S3::BucketPolicy", None, Some(&guard)).widens());
        let permission = json!({"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "F"},
            "Principal": "events.amazonaws.com", "SourceArn": {"Fn::GetAtt": ["R", "Arn"]}}});
        let added = access_change("AWS::Lambda::Permission", None, Some(&permission));
        assert!(added.widens());
        assert!(added.added[0]
            .to_string()
            .contains("to events.amazonaws.com SourceArn"));
    }

    #[test]
    fn managed_policies_not_actions_and_lost_source_conditions_widen() {
        let before = role(&["dynamodb:UpdateItem"]);
        let mut admin = before.clone();
        admin["Properties"]["ManagedPolicyArns"] =
            json!(["arn:aws:iam::aws:policy/AdministratorAccess"]);
        assert!(access_change("AWS::IAM::Role", Some(&before), Some(&admin)).widens());

        let mut not_action = before.clone();
        not_action["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0] =
            json!({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": ["*"]});
        assert!(access_change("AWS::IAM::Role", Some(&before), Some(&not_action)).widens());

        let narrow = json!({"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": "F",
            "Principal": "s3.amazonaws.com", "SourceAccount": "111122223333"}});
        let mut open = narrow.clone();
        open["Properties"]
            .as_object_mut()
            .unwrap()
            .remove("SourceAccount");
        assert!(access_change("AWS::Lambda::Permission", Some(&narrow), Some(&open)).widens());
    }
}
