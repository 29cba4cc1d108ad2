//! `synth drift`: whether what is deployed is what an environment file and this source say:
//! the stack's parameters against the file's settings, each function's code against the
//! local package, and CloudFormation's drift detection against the template. The script
//! (`scripts/drift.sh`, `make drift ENV=name`) asks AWS; this compares what it got.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::stack::parameters::FROM_THE_BUILD;
use crate::SynthError;

/// One function's code: as deployed, and as the local package has it (both Lambda's
/// `CodeSha256`, the base64 SHA-256 of the zip).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    pub function: String,
    pub deployed: String,
    pub local: String,
}

/// What drift detection found, as `describe-stack-drift-detection-status` and
/// `describe-stack-resource-drifts` answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    pub status: Value,
    pub drifts: Value,
}

/// The outcome: what differs (exit 1), and what could not be told (exit 2 when nothing
/// differs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub differences: Vec<String>,
    pub unknown: Vec<String>,
}

/// Compares the stack as `describe-stacks` answered (`stack`) with `expected` (every
/// setting, as the environment file resolves it), `code` and `detection`.
pub fn compare(
    expected: &BTreeMap<String, String>,
    stack: &Value,
    code: &[Code],
    detection: &Detection,
    file: &str,
) -> Verdict {
    let mut verdict = Verdict::default();
    let deployed = stack_parameters(stack);
    if stack["Stacks"][0].is_null() {
        verdict
            .unknown
            .push("the stack was not described: nothing to compare".to_owned());
        return verdict;
    }
    for (name, want) in expected {
        match deployed.get(name) {
            None => verdict.differences.push(format!(
                "parameter {name}: not on the stack; {file} says {want:?}"
            )),
            Some(have) if have != want => verdict.differences.push(format!(
                "parameter {name}: the stack has {have:?}, {file} says {want:?}"
            )),
            Some(_) => {}
        }
    }
    for name in deployed.keys() {
        if !expected.contains_key(name) && !FROM_THE_BUILD.contains(&name.as_str()) {
            verdict.differences.push(format!(
                "parameter {name}: on the stack, not in {file} (a parameter this source no longer has?)"
            ));
        }
    }
    for each in code {
        if each.deployed.is_empty() {
            verdict.unknown.push(format!(
                "function {}: its deployed code could not be read",
                each.function
            ));
        } else if each.local.is_empty() {
            verdict.unknown.push(format!(
                "function {}: no local package to compare with (make package)",
                each.function
            ));
        } else if each.deployed != each.local {
            verdict.differences.push(format!(
                "function {}: deployed code {} is not the local package's {}",
                each.function, each.deployed, each.local
            ));
        }
    }
    detected(detection, &mut verdict);
    verdict
}

/// Drift detection's findings: each drifted resource with its changed properties, or why
/// it could not tell.
fn detected(detection: &Detection, verdict: &mut Verdict) {
    let status = detection.status["DetectionStatus"]
        .as_str()
        .unwrap_or("none");
    if status != "DETECTION_COMPLETE" {
        let reason = detection.status["DetectionStatusReason"]
            .as_str()
            .unwrap_or("no reason given");
        verdict.unknown.push(format!(
            "CloudFormation's drift detection did not complete ({status}): {reason}"
        ));
    }
    let drifts = detection.drifts["StackResourceDrifts"].as_array();
    for drift in drifts.into_iter().flatten() {
        let drift_status = drift["StackResourceDriftStatus"].as_str().unwrap_or("");
        if matches!(drift_status, "IN_SYNC" | "NOT_CHECKED" | "UNKNOWN") {
            continue;
        }
        let properties: Vec<String> = drift["PropertyDifferences"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                let text = |key: &str| d[key].as_str().unwrap_or_default().to_owned();
                format!(
                    "{} {} (expected {}, actual {})",
                    text("PropertyPath"),
                    text("DifferenceType"),
                    text("ExpectedValue"),
                    text("ActualValue")
                )
            })
            .collect();
        let detail = match properties.is_empty() {
            true => String::new(),
            false => format!(": {}", properties.join("; ")),
        };
        verdict.differences.push(format!(
            "resource {} ({}) {drift_status}{detail}",
            drift["LogicalResourceId"].as_str().unwrap_or("?"),
            drift["ResourceType"].as_str().unwrap_or("?"),
        ));
    }
}

/// The stack's parameters, by name, as `describe-stacks` answered (`stack`).
pub fn stack_parameters(stack: &Value) -> BTreeMap<String, String> {
    let listed = stack["Stacks"][0]["Parameters"].as_array();
    listed
        .into_iter()
        .flatten()
        .map(|p| {
            let text = |key: &str| p[key].as_str().unwrap_or_default().to_owned();
            (text("ParameterKey"), text("ParameterValue"))
        })
        .collect()
}

/// Reads a JSON document the AWS CLI wrote; an empty file is `null` (a call that failed).
pub fn read_json(path: &Path) -> Result<Value, SynthError> {
    let text = std::fs::read_to_string(path).map_err(|source| SynthError::Read {
        what: path.display().to_string(),
        source,
    })?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).map_err(|err| SynthError::Parse {
        what: path.display().to_string(),
        reason: err.to_string(),
    })
}

/// Reads the functions file the script writes: `NAME DEPLOYED LOCAL` a line, an unknown
/// hash as `-`.
pub fn read_code(path: &Path) -> Result<Vec<Code>, SynthError> {
    let text = std::fs::read_to_string(path).map_err(|source| SynthError::Read {
        what: path.display().to_string(),
        source,
    })?;
    let known = |hash: Option<&str>| hash.filter(|h| *h != "-").unwrap_or_default().to_owned();
    Ok(text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut words = line.split_whitespace();
            Code {
                function: words.next().unwrap_or_default().to_owned(),
                deployed: known(words.next()),
                local: known(words.next()),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn expected() -> BTreeMap<String, String> {
        [("LogRetentionDays", "30"), ("ClusterArn", "")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into()
    }

    fn stack(retention: &str) -> Value {
        json!({"Stacks": [{"Parameters": [
            {"ParameterKey": "LogRetentionDays", "ParameterValue": retention},
            {"ParameterKey": "ClusterArn", "ParameterValue": ""},
            {"ParameterKey": "CodeKey", "ParameterValue": "x.zip"}]}]})
    }

    fn in_sync() -> Detection {
        Detection {
            status: json!({"DetectionStatus": "DETECTION_COMPLETE", "StackDriftStatus": "IN_SYNC"}),
            drifts: json!({"StackResourceDrifts": []}),
        }
    }

    fn code(deployed: &str) -> Vec<Code> {
        vec![Code {
            function: "f".into(),
            deployed: deployed.into(),
            local: "abc=".into(),
        }]
    }

    #[test]
    fn what_matches_is_the_same() {
        let verdict = compare(
            &expected(),
            &stack("30"),
            &code("abc="),
            &in_sync(),
            "e.json",
        );
        assert_eq!(verdict, Verdict::default());
    }

    #[test]
    fn a_parameter_changed_out_of_band_and_other_code_are_named() {
        let verdict = compare(
            &expected(),
            &stack("14"),
            &code("zzz="),
            &in_sync(),
            "e.json",
        );
        assert_eq!(
            verdict.differences,
            [
                "parameter LogRetentionDays: the stack has \"14\", e.json says \"30\"",
                "function f: deployed code zzz= is not the local package's abc="
            ]
        );
        assert!(verdict.unknown.is_empty());
    }

    #[test]
    fn a_drifted_resource_is_named_with_its_properties() {
        let detection = Detection {
            status: json!({"DetectionStatus": "DETECTION_COMPLETE", "StackDriftStatus": "DRIFTED"}),
            drifts: json!({"StackResourceDrifts": [{
                "LogicalResourceId": "CallbackFailureQueue", "ResourceType": "AWS::SQS::Queue",
                "StackResourceDriftStatus": "MODIFIED",
                "PropertyDifferences": [{"PropertyPath": "/MessageRetentionPeriod",
                    "ExpectedValue": "1209600", "ActualValue": "60",
                    "DifferenceType": "NOT_EQUAL"}]}]}),
        };
        let verdict = compare(
            &expected(),
            &stack("30"),
            &code("abc="),
            &detection,
            "e.json",
        );
        assert_eq!(
            verdict.differences,
            ["resource CallbackFailureQueue (AWS::SQS::Queue) MODIFIED: \
              /MessageRetentionPeriod NOT_EQUAL (expected 1209600, actual 60)"]
        );
    }

    #[test]
    fn a_detection_that_did_not_complete_is_said_as_unknown() {
        let detection = Detection {
            status: json!({"DetectionStatus": "DETECTION_FAILED",
                           "DetectionStatusReason": "Failed to detect drift on resources [X]"}),
            drifts: Value::Null,
        };
        let verdict = compare(
            &expected(),
            &stack("30"),
            &code("abc="),
            &detection,
            "e.json",
        );
        assert!(verdict.differences.is_empty());
        assert_eq!(
            verdict.unknown,
            [
                "CloudFormation's drift detection did not complete (DETECTION_FAILED): \
              Failed to detect drift on resources [X]"
            ]
        );
    }
}
