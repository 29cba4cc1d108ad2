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
        t["Resources"]["CallbackFailureQueue"]["Properties"]["MessageRetentionPeriod"] = json!(60);
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
