//! `synth diff` (as CI runs it) and `synth change-set` (as `make plan` and `make deploy`
//! run it): the real binary, its exit codes and what it says.

use std::process::{Command, Output};

fn synth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synth"))
        .args(args)
        .output()
        .expect("synth runs")
}

/// The committed template with `edit` applied, written where `--base` can read it: the
/// base a pull request would be compared with, had it made the opposite change.
fn base_with(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("templates/stack.json")).unwrap();
    let mut template: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut template);
    let path = std::env::temp_dir().join(format!("synth-diff-{name}-{}.json", std::process::id()));
    std::fs::write(&path, template.to_string()).unwrap();
    path
}

#[test]
fn a_change_that_replaces_the_table_fails_with_what_happens_to_the_data() {
    let base = base_with("key", |t| {
        t["Resources"]["DispatchTable"]["Properties"]["KeySchema"][0]["AttributeName"] =
            "id".into();
    });
    let output = synth(&[
        "diff",
        "--base",
        base.to_str().unwrap(),
        "--fail-on",
        "replace,remove,widen",
    ]);
    std::fs::remove_file(&base).unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains("~ DispatchTable (AWS::DynamoDB::Table): replace, stateful"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "FAIL: DispatchTable would be replaced. `outpost-dispatches` would be replaced"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("`DispatchTable replace <why>`"), "{stderr}");

    // Without --fail-on the same change is reported, and passes.
    let base = base_with("key-report", |t| {
        t["Resources"]["DispatchTable"]["Properties"]["KeySchema"][0]["AttributeName"] =
            "id".into();
    });
    let output = synth(&["diff", "--base", base.to_str().unwrap()]);
    std::fs::remove_file(&base).unwrap();
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn the_same_template_passes_and_bad_input_exits_2() {
    let same = base_with("same", |_| {});
    let output = synth(&[
        "diff",
        "--base",
        same.to_str().unwrap(),
        "--fail-on",
        "replace,remove,widen",
    ]);
    std::fs::remove_file(&same).unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("0 resources changed"));

    assert_eq!(synth(&["diff", "--fail-on", "grow"]).status.code(), Some(2));
    let missing = synth(&["diff", "--base", "/nonexistent/stack.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/stack.json")
    );
}

#[test]
fn a_change_set_that_removes_the_table_exits_1_and_a_harmless_one_0() {
    let write = |name: &str, text: &str| {
        let path =
            std::env::temp_dir().join(format!("synth-cs-{name}-{}.json", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    };
    let removing = write(
        "remove",
        r#"{"Changes": [{"Type": "Resource", "ResourceChange": {"Action": "Remove",
            "LogicalResourceId": "DispatchTable", "PhysicalResourceId": "outpost-dispatches",
            "ResourceType": "AWS::DynamoDB::Table", "Scope": [], "Details": []}}],
            "Status": "CREATE_COMPLETE"}"#,
    );
    let output = synth(&["change-set", "--file", removing.to_str().unwrap()]);
    std::fs::remove_file(&removing).unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Remove  DispatchTable  AWS::DynamoDB::Table  - !"),
        "{stdout}"
    );

    let alarm = write(
        "alarm",
        r#"{"Changes": [{"ResourceChange": {"Action": "Modify", "Replacement": "False",
            "LogicalResourceId": "CallbackErrorsAlarm", "ResourceType": "AWS::CloudWatch::Alarm",
            "Details": [{"Target": {"Name": "Threshold", "RequiresRecreation": "Never"}}]}}]}"#,
    );
    let output = synth(&["change-set", "--file", alarm.to_str().unwrap()]);
    std::fs::remove_file(&alarm).unwrap();
    assert_eq!(output.status.code(), Some(0));

    let garbage = write("garbage", "not json");
    let output = synth(&["change-set", "--file", garbage.to_str().unwrap()]);
    std::fs::remove_file(&garbage).unwrap();
    assert_eq!(output.status.code(), Some(2));
}
