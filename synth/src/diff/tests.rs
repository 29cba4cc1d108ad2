use serde_json::{json, Value};

use super::*;
use crate::config::Config;

fn stack() -> Value {
    serde_json::to_value(crate::stack::build(&Config::runbook())).unwrap()
}

fn diff_of(edit: impl FnOnce(&mut Value)) -> Vec<Change> {
    let before = stack();
    let mut after = before.clone();
    edit(&mut after);
    diff(&before, &after, &CreateOnly::committed())
}

fn only(changes: &[Change]) -> &Change {
    assert_eq!(changes.len(), 1, "{changes:#?}");
    &changes[0]
}

#[test]
fn the_same_template_changes_nothing() {
    assert!(diff_of(|_| {}).is_empty());
}

#[test]
fn every_type_the_templates_use_is_in_the_table() {
    let create_only = CreateOnly::committed();
    let bootstrap = serde_json::to_value(crate::bootstrap::build()).unwrap();
    for template in [stack(), bootstrap] {
        for resource in template["Resources"].as_object().unwrap().values() {
            let kind = resource["Type"].as_str().unwrap();
            assert!(
                create_only.knows(kind),
                "{kind} is not in synth/data/create-only-properties.json: run scripts/create_only_properties.py"
            );
        }
    }
}

#[test]
fn a_new_table_key_replaces_the_table_and_says_what_happens_to_its_data() {
    let changes = diff_of(|t| {
        t["Resources"]["DispatchTable"]["Properties"]["KeySchema"][0]["AttributeName"] =
            json!("taskArn");
    });
    let change = only(&changes);
    assert_eq!(change.replaced_by, ["KeySchema"]);
    assert_eq!(change.findings(), [Finding::Replace]);
    assert!(change.stateful && change.retained);
    let (text, blocking) = report::render(&changes, &Finding::ALL, &Acknowledgements::default());
    assert!(text.contains("Properties.KeySchema[0].AttributeName  (replaces the resource)"));
    assert_eq!(blocking.len(), 1);
    assert!(
        blocking[0].contains("`outpost-dispatches`"),
        "{}",
        blocking[0]
    );
    assert!(blocking[0].contains("the update fails"), "{}", blocking[0]);

    let ack = Acknowledgements::added("", "DispatchTable replace new key, data copied").unwrap();
    let (text, blocking) = report::render(&changes, &Finding::ALL, &ack);
    assert!(blocking.is_empty());
    assert!(text.contains("acknowledged (replace): new key, data copied"));
}

#[test]
fn an_in_place_change_to_a_stateful_resource_is_flagged_but_not_a_replacement() {
    let changes = diff_of(|t| {
        t["Resources"]["CallbackFailureQueue"]["Properties"]["VisibilityTimeout"] = json!(60);
    });
    let change = only(&changes);
    assert!(change.stateful);
    assert!(change.findings().is_empty());
    let (text, blocking) = report::render(&changes, &Finding::ALL, &Acknowledgements::default());
    assert!(
        text.starts_with("~ CallbackFailureQueue (AWS::SQS::Queue): stateful\n"),
        "{text}"
    );
    assert!(blocking.is_empty());
}

/// The single finding and the words of one change.
fn weakening(edit: impl FnOnce(&mut Value)) -> Vec<String> {
    let changes = diff_of(edit);
    let change = only(&changes);
    assert_eq!(change.findings(), [Finding::Weaken], "{change:#?}");
    let (_, blocking) = report::render(&changes, &Finding::ALL, &Acknowledgements::default());
    assert_eq!(blocking.len(), 1, "{blocking:?}");
    assert!(
        blocking[0].contains("weaken what protects its data"),
        "{}",
        blocking[0]
    );
    change.weakened.clone()
}

#[test]
fn lowering_a_queues_retention_weakens_it_and_raising_it_does_not() {
    let found = weakening(|t| {
        t["Resources"]["CallbackFailureQueue"]["Properties"]["MessageRetentionPeriod"] = json!(60);
    });
    assert_eq!(found, ["message retention lowered from 1209600 s to 60 s"]);
    let raised = diff_of(|t| {
        t["Resources"]["CallbackFailureQueue"]["Properties"]["MessageRetentionPeriod"] =
            json!(1_209_601);
    });
    assert!(only(&raised).findings().is_empty());
}

#[test]
fn a_retention_policy_removed_or_weakened_is_a_weakening() {
    let table = |t: &mut Value| {
        t["Resources"]["DispatchTable"]
            .as_object_mut()
            .unwrap()
            .clone()
    };
    let mut probe = stack();
    let kept = table(&mut probe);
    assert_eq!(kept["DeletionPolicy"], "Retain");
    let found = weakening(|t| {
        t["Resources"]["DispatchTable"]
            .as_object_mut()
            .unwrap()
            .remove("DeletionPolicy");
    });
    assert_eq!(found, ["DeletionPolicy Retain -> none (Delete)"]);
    let found = weakening(|t| {
        t["Resources"]["DispatchTable"]["UpdateReplacePolicy"] = json!("Snapshot");
    });
    assert_eq!(found, ["UpdateReplacePolicy Retain -> Snapshot"]);
}

#[test]
fn deletion_protection_and_recovery_turned_off_are_weakenings() {
    let found = weakening(|t| {
        let table = &mut t["Resources"]["DispatchTable"]["Properties"];
        table["DeletionProtectionEnabled"] = json!(false);
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = json!(false);
    });
    assert_eq!(
        found,
        [
            "deletion protection turned off",
            "point-in-time recovery turned off"
        ]
    );
}

#[test]
fn an_index_removed_or_reshaped_is_a_weakening() {
    let found = weakening(|t| {
        let indexes = &mut t["Resources"]["DispatchTable"]["Properties"]["GlobalSecondaryIndexes"];
        indexes.as_array_mut().unwrap().remove(0);
    });
    assert_eq!(found.len(), 1);
    assert!(found[0].ends_with("removed"), "{found:?}");
    let found = weakening(|t| {
        let indexes = &mut t["Resources"]["DispatchTable"]["Properties"]["GlobalSecondaryIndexes"];
        indexes[0]["Projection"] = json!({"ProjectionType": "ALL"});
    });
    assert!(
        found[0].contains("its keys or projection changed"),
        "{found:?}"
    );
}

#[test]
fn conditions_and_parameter_defaults_are_changes_to_look_at() {
    let changes = diff_of(|t| {
        t["Conditions"]["AnyCluster"] = json!({"Fn::Equals": ["*", "*"]});
        t["Parameters"]["ClusterArn"]["Default"] = json!("*");
    });
    let change = only(&changes);
    assert_eq!(change.logical_id, TEMPLATE);
    assert_eq!(change.findings(), [Finding::Widen]);
    assert_eq!(change.unread.len(), 2, "{:?}", change.unread);
    assert!(change.unread[1].starts_with("parameter ClusterArn: Default  -> *"));
    let (text, blocking) = report::render(&changes, &Finding::ALL, &Acknowledgements::default());
    assert!(text.contains("look at: Conditions changed"), "{text}");
    assert!(
        blocking[0].starts_with("Template would widen access"),
        "{}",
        blocking[0]
    );
}

#[test]
fn every_policy_bearing_type_is_read_and_an_unknown_type_is_a_change_to_look_at() {
    let changes = diff_of(|t| {
        let resources = t["Resources"].as_object_mut().unwrap();
        resources.insert(
            "ExtraPolicy".into(),
            json!({"Type": "AWS::IAM::RolePolicy", "Properties": {"RoleName": "r",
                   "PolicyName": "p", "PolicyDocument": {"Statement": [
                       {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}}}),
        );
        resources.insert(
            "PublicUrl".into(),
            json!({"Type": "AWS::Lambda::Url", "Properties": {"AuthType": "NONE",
                   "TargetFunctionArn": "f"}}),
        );
        resources.insert(
            "Odd".into(),
            json!({"Type": "AWS::Odd::Thing", "Properties": {}}),
        );
    });
    let by_id = |id: &str| changes.iter().find(|c| c.logical_id == id).unwrap();
    assert_eq!(by_id("ExtraPolicy").access.added[0].action, "dynamodb:*");
    assert_eq!(by_id("PublicUrl").access.added[0].principal, "auth NONE");
    assert!(by_id("ExtraPolicy").unread.is_empty() && by_id("PublicUrl").unread.is_empty());
    let odd = by_id("Odd");
    assert_eq!(odd.findings(), [Finding::Widen]);
    assert!(odd.unread[0].contains("is not read for grants"));
}

#[test]
fn every_type_the_templates_use_is_read_for_grants() {
    let bootstrap = serde_json::to_value(crate::bootstrap::build()).unwrap();
    for template in [stack(), bootstrap] {
        for resource in template["Resources"].as_object().unwrap().values() {
            let kind = resource["Type"].as_str().unwrap();
            assert!(
                access::reads(kind),
                "{kind}: say what it grants in diff/access.rs"
            );
        }
    }
}

#[test]
fn a_rules_pattern_changed_is_a_change_to_look_at() {
    let changes = diff_of(|t| {
        t["Resources"]["CompletionRule"]["Properties"]["EventPattern"]["source"] =
            json!(["aws.ecs", "aws.batch"]);
    });
    let change = only(&changes);
    assert_eq!(change.findings(), [Finding::Widen]);
    assert!(change.unread[0].contains("event pattern changed"));
}

#[test]
fn renaming_a_queue_replaces_it_and_removing_one_is_a_removal() {
    let renamed = diff_of(|t| {
        t["Resources"]["CallbackFailureQueue"]["Properties"]["QueueName"] = json!("other");
    });
    assert_eq!(only(&renamed).replaced_by, ["QueueName"]);
    let removed = diff_of(|t| {
        t["Resources"]
            .as_object_mut()
            .unwrap()
            .remove("CompletionDeadLetterQueue");
    });
    let change = only(&removed);
    assert_eq!(change.action, Action::Remove);
    assert_eq!(change.findings(), [Finding::Remove]);
}

#[test]
fn a_new_action_on_the_role_widens_access() {
    let changes = diff_of(|t| {
        let statements = &mut t["Resources"]["CallbackRole"]["Properties"]["Policies"][0]
            ["PolicyDocument"]["Statement"];
        statements[0]["Action"]
            .as_array_mut()
            .unwrap()
            .push(json!("dynamodb:DeleteItem"));
    });
    let change = only(&changes);
    assert_eq!(change.findings(), [Finding::Widen]);
    let (text, blocking) =
        report::render(&changes, &[Finding::Replace], &Acknowledgements::default());
    assert!(
        text.contains("access + allow dynamodb:DeleteItem"),
        "{text}"
    );
    assert!(blocking.is_empty(), "widen is not failed on here");
}

#[test]
fn a_local_index_added_to_the_table_replaces_it() {
    let changes = diff_of(|t| {
        t["Resources"]["DispatchTable"]["Properties"]["LocalSecondaryIndexes"] = json!([{
            "IndexName": "by-created", "KeySchema": [], "Projection": {"ProjectionType": "KEYS_ONLY"}
        }]);
    });
    assert_eq!(only(&changes).replaced_by, ["LocalSecondaryIndexes"]);
}
