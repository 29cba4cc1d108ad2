//! The `local-runtime` binary run against the `echo` example.

mod common;

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

/// A fresh directory for this test's event files.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-runtime-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_local-runtime"))
        .args(args)
        .output()
        .expect("run local-runtime");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("stdout lines are JSON"))
        .collect();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), lines, stderr)
}

#[test]
fn invokes_files_and_arrays_in_order_and_reports_errors_as_results() {
    let dir = scratch_dir("ok");
    let single = dir.join("single.json");
    let many = dir.join("many.json");
    std::fs::write(&single, r#"{"n": 1}"#).unwrap();
    std::fs::write(&many, r#"[{"n": 2}, {"fail": true}]"#).unwrap();
    let echo = common::echo_binary();
    let (code, lines, stderr) = run(&[
        "--function-name",
        "cli-test",
        "--env",
        "ECHO_UNUSED=x",
        "--binary",
        echo.to_str().unwrap(),
        single.to_str().unwrap(),
        many.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["event"], single.display().to_string());
    assert_eq!(lines[0]["ok"]["event"], json!({"n": 1}));
    assert_eq!(lines[0]["ok"]["function_name"], "cli-test");
    assert_eq!(lines[1]["event"], format!("{}#0", many.display()));
    assert_eq!(lines[1]["ok"]["event"], json!({"n": 2}));
    assert_eq!(lines[2]["event"], format!("{}#1", many.display()));
    assert_eq!(lines[2]["error"]["errorMessage"], "asked to fail");
    // The function's own output goes to stderr, untouched.
    assert!(stderr.contains("echo: starting"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn crash_and_bad_input_exit_non_zero_with_a_message() {
    let dir = scratch_dir("fail");
    let events = dir.join("events.json");
    std::fs::write(&events, r#"[{"n": 1}, {"exit": 7}, {"n": 3}]"#).unwrap();
    let echo = common::echo_binary();
    let (code, lines, stderr) =
        run(&["--binary", echo.to_str().unwrap(), events.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        lines.len(),
        1,
        "only the first event was answered: {lines:?}"
    );
    assert!(stderr.contains("exited before responding"), "{stderr}");

    let missing = dir.join("missing.json");
    let (code, lines, stderr) = run(&[
        "--binary",
        echo.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(lines.is_empty());
    assert!(stderr.contains("cannot read event file"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}
