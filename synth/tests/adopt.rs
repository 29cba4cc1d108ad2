//! `synth adopt check`, `synth adopt test-record`, `synth adopt test-settled` and
//! `synth names` as `scripts/adopt.sh` runs them: the real binary, the files the AWS CLI
//! writes, the exit codes the script acts on (0 go on, 1 stop on a finding, 2 could not
//! run) and what a person reads.

use std::path::PathBuf;
use std::process::{Command, Output};

use contract::table::{attr, NAME, STATUS_INDEX, TASK_ARN_INDEX};
use serde_json::{json, Value};

fn synth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synth"))
        .args(args)
        .output()
        .expect("synth runs")
}

/// `document` written where synth can read it, as the script saves an AWS CLI answer.
fn saved(name: &str, document: &Value) -> PathBuf {
    let path = std::env::temp_dir().join(format!("synth-adopt-{name}-{}.json", std::process::id()));
    std::fs::write(&path, document.to_string()).expect("write the answer");
    path
}

/// `describe-table`'s answer (the fields the pre-checks read) for the template's table,
/// with its task ARN index projecting `projection`.
fn described(projection: &str) -> Value {
    let key = |name: &str, kind: &str| json!({"AttributeName": name, "KeyType": kind});
    let definitions: Vec<Value> = [
        attr::DISPATCH_ID,
        attr::TASK_ARN,
        attr::STATUS,
        attr::CREATED_AT,
    ]
    .map(|name| json!({"AttributeName": name, "AttributeType": "S"}))
    .into();
    json!({"Table": {
        "TableName": NAME,
        "AttributeDefinitions": definitions,
        "KeySchema": [key(attr::DISPATCH_ID, "HASH")],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "GlobalSecondaryIndexes": [
            {"IndexName": TASK_ARN_INDEX.name, "KeySchema": [key(attr::TASK_ARN, "HASH")],
             "Projection": {"ProjectionType": projection}},
            {"IndexName": STATUS_INDEX.name,
             "KeySchema": [key(attr::STATUS, "HASH"), key(attr::CREATED_AT, "RANGE")],
             "Projection": {"ProjectionType": "ALL"}},
        ],
    }})
}

fn backups(status: &str) -> Value {
    json!({"ContinuousBackupsDescription": {
        "ContinuousBackupsStatus": status,
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": status},
    }})
}

/// Runs `synth adopt check` on the two answers; returns its exit code, stdout, stderr.
fn check(name: &str, table: &Value, recovery: &Value) -> (Option<i32>, String, String) {
    let (table, recovery) = (
        saved(&format!("{name}-table"), table),
        saved(&format!("{name}-backups"), recovery),
    );
    let output = synth(&[
        "adopt",
        "check",
        "--table",
        table.to_str().unwrap(),
        "--continuous-backups",
        recovery.to_str().unwrap(),
    ]);
    std::fs::remove_file(table).unwrap();
    std::fs::remove_file(recovery).unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_pre_checks_pass_a_table_that_is_the_templates_and_say_what_they_checked() {
    let (code, stdout, stderr) = check("same", &described("KEYS_ONLY"), &backups("ENABLED"));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        format!(
            "  ok: {NAME} key schema dispatchId (HASH)\n\
             \x20 ok: {NAME} key attribute types createdAt S, dispatchId S, status S, taskArn S\n\
             \x20 ok: {NAME} index status-createdAt-index: status (HASH), createdAt (RANGE), projection ALL\n\
             \x20 ok: {NAME} index task_arn-index: taskArn (HASH), projection KEYS_ONLY\n\
             \x20 ok: {NAME} billing mode PAY_PER_REQUEST\n\
             \x20 ok: {NAME} point-in-time recovery ENABLED\n"
        )
    );
}

#[test]
fn the_pre_checks_exit_1_listing_every_difference() {
    let (code, _, stderr) = check("differs", &described("ALL"), &backups("DISABLED"));
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        format!(
            "adopt: table {NAME}: index task_arn-index projection: the table has ALL, the template KEYS_ONLY\n\
             adopt: table {NAME}: point-in-time recovery is DISABLED on {NAME}; turn it on first: \
             aws dynamodb update-continuous-backups --table-name {NAME} \
             --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true\n\
             adopt: the table {NAME} is not the template's (above): nothing was changed\n"
        )
    );
}

#[test]
fn the_pre_checks_exit_2_on_an_answer_they_cannot_read() {
    let (code, _, stderr) = check(
        "unreadable",
        &json!({"TableNames": []}),
        &backups("ENABLED"),
    );
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("synth: cannot read describe-table's answer"),
        "{stderr}"
    );
    let missing = synth(&[
        "adopt",
        "check",
        "--table",
        "/nonexistent/table.json",
        "--continuous-backups",
        "/nonexistent/backups.json",
    ]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn the_test_record_and_its_key_are_put_item_documents_under_the_contracts_names() {
    let item = synth(&[
        "adopt",
        "test-record",
        "--dispatch-id",
        "adopt-check-1",
        "--task-arn",
        "arn:aws:ecs:us-east-1:000000000000:task/adopt-check/adopt-check-1",
        "--created-at",
        "2026-01-15T19:39:31Z",
    ]);
    assert!(item.status.success());
    let item: Value = serde_json::from_slice(&item.stdout).expect("JSON");
    assert_eq!(
        item,
        json!({
            attr::DISPATCH_ID: {"S": "adopt-check-1"},
            attr::STATUS: {"S": contract::status::RUNNING},
            attr::TASK_ARN: {"S": "arn:aws:ecs:us-east-1:000000000000:task/adopt-check/adopt-check-1"},
            attr::CREATED_AT: {"S": "2026-01-15T19:39:31Z"},
        })
    );
    let key = synth(&[
        "adopt",
        "test-record",
        "--dispatch-id",
        "adopt-check-1",
        "--key",
    ]);
    assert!(key.status.success());
    let key: Value = serde_json::from_slice(&key.stdout).expect("JSON");
    assert_eq!(key, json!({attr::DISPATCH_ID: {"S": "adopt-check-1"}}));
    let incomplete = synth(&["adopt", "test-record", "--dispatch-id", "adopt-check-1"]);
    assert_eq!(
        incomplete.status.code(),
        Some(2),
        "a record needs its task and time"
    );
}

#[test]
fn test_settled_passes_only_the_record_the_event_settles() {
    let record = |status: &str| json!({"Item": {attr::DISPATCH_ID: {"S": "adopt-check-1"}, attr::STATUS: {"S": status}}});
    for (name, answer, code) in [
        ("completed", record("COMPLETED"), 0),
        ("running", record(contract::status::RUNNING), 1),
        ("missing", json!({}), 1),
    ] {
        let path = saved(name, &answer);
        let output = synth(&["adopt", "test-settled", "--item", path.to_str().unwrap()]);
        std::fs::remove_file(path).unwrap();
        assert_eq!(output.status.code(), Some(code), "{name}");
    }
}

#[test]
fn the_import_documents_are_still_synth_adopts_own_options() {
    let dir = std::env::temp_dir().join(format!("synth-adopt-documents-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = synth(&[
        "adopt",
        "--out-dir",
        dir.to_str().unwrap(),
        "--rule-arn",
        "arn:aws:events:us-east-1:311493921645:rule/outpost-dispatch-completion",
        "--rule-event-pattern",
        r#"{"source":["aws.ecs"]}"#,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.join("import-template.json").exists());
    assert!(dir.join("resources-to-import.json").exists());
    std::fs::remove_dir_all(dir).unwrap();
    let missing = synth(&["adopt", "--out-dir", "dist/adopt"]);
    assert_eq!(
        missing.status.code(),
        Some(2),
        "the rule's ARN and pattern are required"
    );
}

#[test]
fn names_prints_what_the_scripts_read() {
    let output = synth(&["names", "stack", "table", "rule"]);
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            "{}\n{NAME}\n{}\n",
            contract::resources::STACK,
            contract::resources::RULE
        )
    );
    let unknown = synth(&["names", "bucket"]);
    assert_eq!(unknown.status.code(), Some(2));
}
