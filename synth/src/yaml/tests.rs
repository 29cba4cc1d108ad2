use proptest::prelude::*;
use serde_json::{json, Value};

use super::{is_plain, to_string};

/// `document` written and checked.
fn yaml(document: &Value) -> String {
    to_string(document).unwrap_or_else(|err| panic!("{err}: {document}"))
}

/// Strings one YAML version or the other types as something else when plain, or that
/// YAML's syntax reads differently, by kind: each must be written quoted and read back as
/// itself. `scripts/check-templates.sh` has PyYAML read the same file as synth writes it
/// (`synth/tests/data/ambiguous-scalars.yaml`).
const CORPUS: &str = include_str!("../../tests/data/ambiguous-scalars.json");

pub(crate) fn ambiguous() -> Vec<String> {
    let corpus: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_str(CORPUS).expect("the corpus is a map of lists of strings");
    corpus.into_values().flatten().collect()
}

#[test]
fn every_ambiguous_string_is_quoted_and_reads_back_as_itself() {
    for text in ambiguous() {
        let text = text.as_str();
        assert!(!is_plain(text), "{text:?} must not be written plain");
        let document = json!({ "key": text, text: "value" });
        let yaml = to_string(&document).unwrap_or_else(|err| panic!("{text:?}: {err}"));
        let expected_start = if text.is_empty() { "\"\"" } else { "\"" };
        for line in yaml.lines() {
            let scalar = line
                .strip_prefix("key: ")
                .or_else(|| line.strip_suffix(": value"));
            if let Some(scalar) = scalar {
                assert!(
                    scalar.starts_with(expected_start),
                    "{text:?} written as {scalar}"
                );
            }
        }
    }
}

#[test]
fn names_arns_and_sentences_stay_plain() {
    for text in [
        "AWSTemplateFormatVersion",
        "AWS::Lambda::Function",
        "Fn::GetAtt",
        contract::table::NAME,
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "provided.al2023",
        "Dispatches stuck RUNNING (the reconciler settles them), by status.",
        "yesterday",
        "Nothing",
    ] {
        assert!(is_plain(text), "{text:?} can be written plain");
    }
}

#[test]
fn blocks_nest_as_a_person_writes_them() {
    // serde_json's maps keep keys sorted; a template's structs keep their own order
    // (the `templates` test).
    let document = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Role": {
                "Properties": {
                    "Enabled": true,
                    "Grid": [[1, 2], [3.5]],
                    "Missing": null,
                    "Policies": [
                        { "Actions": ["dynamodb:Query", "dynamodb:GetItem"], "PolicyName": "read" },
                        { "Actions": [], "PolicyName": "none" }
                    ],
                    "Tags": {}
                },
                "Type": "AWS::IAM::Role"
            }
        }
    });
    let expected = r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Role:
    Properties:
      Enabled: true
      Grid:
        -
          - 1
          - 2
        -
          - 3.5
      Missing: null
      Policies:
        - Actions:
            - dynamodb:Query
            - dynamodb:GetItem
          PolicyName: read
        - Actions: []
          PolicyName: none
      Tags: {}
    Type: AWS::IAM::Role
"#;
    assert_eq!(yaml(&document), expected);
}

#[test]
fn numbers_take_the_form_both_versions_read_alike() {
    let document = json!([0, -7, 18446744073709551615u64, 0.5, -2.25, 5.0, 1e-7, 1e21]);
    assert_eq!(
        yaml(&document),
        "- 0\n- -7\n- 18446744073709551615\n- 0.5\n- -2.25\n- 5.0\n- 0.0000001\n- 1000000000000000000000.0\n"
    );
}

#[test]
fn a_scalar_or_empty_document_is_one_line() {
    assert_eq!(yaml(&json!("yes")), "\"yes\"\n");
    assert_eq!(yaml(&json!({})), "{}\n");
    assert_eq!(yaml(&json!([])), "[]\n");
}

/// Any string at all: the tricky pieces above, joined with letters, digits, spaces and
/// punctuation, in any order.
fn any_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        proptest::sample::select(ambiguous()),
        "[a-zA-Z0-9 :#,._/()-]{0,8}",
        any::<String>(),
    ];
    proptest::collection::vec(piece, 0..4).prop_map(|pieces| pieces.concat())
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        any_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(any_string(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Whatever the document, what is written reads back (as YAML 1.2) as the document.
    #[test]
    fn any_document_reads_back_as_itself(document in any_json()) {
        let written = to_string(&document);
        prop_assert!(written.is_ok(), "{:?}", written.err());
    }

}
