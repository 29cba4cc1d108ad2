//! The rendered templates (the system's and the bootstrap stack's): insta snapshots, one
//! per resource, so a pull request names what changed (what reviewers read), and the
//! committed `templates/*.json` (what `aws cloudformation deploy` reads), which must be
//! exactly what `synth` prints.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;
use serde_json::Value;
use similar::TextDiff;
use synth::cfn::{Condition, Output, Parameter, Template};
use synth::Config;

/// The snapshot of everything but the resources, after a template's prefix. Logical IDs
/// are alphanumeric, so no resource's snapshot can take this name.
const REST: &str = "parameters-outputs";

/// Each template: its snapshots' prefix, its committed file, `synth`'s arguments for it,
/// and the template itself.
struct Rendered {
    prefix: &'static str,
    file: &'static str,
    yaml_file: &'static str,
    args: &'static [&'static str],
    template: Template,
}

fn templates() -> [Rendered; 2] {
    [
        Rendered {
            prefix: "stack",
            file: "templates/stack.json",
            yaml_file: "templates/stack.yaml",
            args: &[],
            template: synth::stack::build(&Config::runbook()),
        },
        Rendered {
            prefix: "bootstrap",
            file: "templates/bootstrap.json",
            yaml_file: "templates/bootstrap.yaml",
            args: &["bootstrap"],
            template: synth::bootstrap::build(),
        },
    ]
}

/// The repository's root: snapshots and templates live beside the crates, not in them.
fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every snapshot of this crate goes to the top-level `snapshots/` folder, named
/// explicitly, without the module path in the file name.
fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repository_root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

/// The snapshot name of a resource or of the rest.
fn snapshot_name(prefix: &str, name: &str) -> String {
    format!("{prefix}-{name}")
}

/// The template's sections other than `Resources`, in the template's order.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Rest<'a> {
    #[serde(rename = "AWSTemplateFormatVersion")]
    format_version: &'a str,
    description: &'a str,
    parameters: &'a BTreeMap<String, Parameter>,
    conditions: &'a BTreeMap<String, Condition>,
    outputs: &'a BTreeMap<String, Output>,
}

/// Pretty-printed (two-space indents), so a snapshot reads as its part of the template,
/// one field a line, where the committed template is compact.
fn pretty(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value).expect("the template serializes")
}

/// The marker of a JSON document that the template carries as a string (a dashboard
/// body), shown expanded in its snapshot so a review sees which line of it changed.
const EXPANDED: &str = "Fn::Sub (a JSON string, expanded for review)";

/// The resource with each `Fn::Sub` string that holds a JSON document shown as that
/// document, one field a line (its keys sorted), or `None` when it holds none, so every
/// other snapshot reads exactly like its part of the template.
fn readable(resource: &impl Serialize) -> Option<Value> {
    fn expand(value: &mut Value) -> bool {
        match value {
            Value::Object(map) => {
                let body = map.get("Fn::Sub").and_then(Value::as_str);
                if let Some(Ok(document)) = body.map(serde_json::from_str::<Value>) {
                    if document.is_object() {
                        *value = serde_json::json!({ EXPANDED: document });
                        return true;
                    }
                }
                map.values_mut().map(expand).fold(false, |a, b| a | b)
            }
            Value::Array(items) => items.iter_mut().map(expand).fold(false, |a, b| a | b),
            _ => false,
        }
    }
    let mut value = serde_json::to_value(resource).expect("the template serializes");
    expand(&mut value).then_some(value)
}

#[test]
fn template_snapshots_one_per_resource() {
    let mut snapshots: Vec<(String, String)> = Vec::new();
    for Rendered {
        prefix, template, ..
    } in templates()
    {
        snapshots.extend(template.resources.iter().map(|(logical_id, resource)| {
            let text = readable(resource).map_or_else(|| pretty(resource), |value| pretty(&value));
            (snapshot_name(prefix, logical_id), text)
        }));
        let rest = Rest {
            format_version: template.format_version,
            description: &template.description,
            parameters: &template.parameters,
            conditions: &template.conditions,
            outputs: &template.outputs,
        };
        snapshots.push((snapshot_name(prefix, REST), pretty(&rest)));
    }

    // Every snapshot is compared before failing, so the failure lists all that changed.
    let settings = snapshot_settings();
    let changed: Vec<String> = snapshots
        .into_iter()
        .filter(|(name, text)| {
            let compare = || settings.bind(|| insta::assert_snapshot!(name.as_str(), text));
            catch_unwind(AssertUnwindSafe(compare)).is_err()
        })
        .map(|(name, _)| name)
        .collect();
    assert!(
        changed.is_empty(),
        "changed snapshots: {}; review them with `make snapshots`",
        changed.join(", ")
    );
}

/// insta never deletes a snapshot nothing asserts any more; this test names them.
#[test]
fn every_snapshot_is_of_a_resource_its_template_has() {
    let templates = templates();
    let folder = repository_root().join("snapshots");
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(&folder).expect("snapshots/ is readable") {
        let file = entry.expect("snapshots/ is readable").file_name();
        let file = file.to_string_lossy();
        let Some(name) = file.strip_suffix(".snap") else {
            continue;
        };
        let owner = templates.iter().find_map(|rendered| {
            let id = name.strip_prefix(rendered.prefix)?.strip_prefix('-')?;
            Some((rendered, id))
        });
        let known = match owner {
            Some((rendered, id)) => id == REST || rendered.template.resources.contains_key(id),
            None => false,
        };
        if !known {
            stale.push(format!("snapshots/{file}"));
        }
    }
    assert!(
        stale.is_empty(),
        "no template has a resource for these snapshots; delete them: {}",
        stale.join(", ")
    );
}

/// The bytes `synth` prints with the arguments given.
fn run_synth(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_synth"))
        .args(args)
        .output()
        .expect("synth runs");
    assert!(
        output.status.success(),
        "synth {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("synth prints UTF-8")
}

/// A committed file, which `make templates` writes.
fn committed(file: &str) -> String {
    let path = repository_root().join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "cannot read {}: {err}; run `make templates`",
            path.display()
        )
    })
}

/// What the README's `cargo run -p synth > stack.json` gives must be the committed file,
/// and the same for the bootstrap template.
#[test]
fn committed_templates_are_what_synth_prints() {
    for Rendered { file, args, .. } in templates() {
        let committed = committed(file);
        let printed = run_synth(args);
        if committed != printed {
            // The files are compact JSON, one line: show the difference pretty-printed.
            let (committed, printed) = (pretty_text(&committed), pretty_text(&printed));
            let diff = TextDiff::from_lines(&committed, &printed)
                .unified_diff()
                .context_radius(3)
                .header(file, "synth output")
                .to_string();
            panic!("{file} is stale; run `make templates` to refresh it.\n{diff}");
        }
    }
}

/// `synth --format yaml` gives the committed YAML, which a YAML 1.2 reader (serde_yaml_ng)
/// reads as exactly the committed JSON; PyYAML's YAML 1.1 reading is checked by
/// `scripts/check-templates.sh`. The YAML keeps the template's field order.
#[test]
fn committed_yaml_is_what_synth_prints_and_reads_as_the_json() {
    for Rendered {
        file,
        yaml_file,
        args,
        ..
    } in templates()
    {
        let printed = run_synth(&[args, &["--format", "yaml"]].concat());
        let yaml = committed(yaml_file);
        if yaml != printed {
            let diff = TextDiff::from_lines(&yaml, &printed)
                .unified_diff()
                .context_radius(3)
                .header(yaml_file, "synth --format yaml")
                .to_string();
            panic!("{yaml_file} is stale; run `make templates` to refresh it.\n{diff}");
        }
        let read: Value = serde_yaml_ng::from_str(&yaml).expect("the YAML reads");
        let json: Value = serde_json::from_str(&committed(file)).expect("the JSON reads");
        assert_eq!(read, json, "{yaml_file} reads differently from {file}");
        assert!(
            yaml.starts_with("AWSTemplateFormatVersion: \"2010-09-09\"\nDescription: "),
            "{yaml_file} starts as the template's fields are ordered, the version quoted"
        );
    }
}

/// PyYAML (YAML 1.1) reads `synth/tests/data/ambiguous-scalars.yaml` as the JSON file
/// beside it (`scripts/check-templates.sh`); this keeps the YAML what synth writes of it.
#[test]
fn the_ambiguous_scalars_yaml_is_what_synth_writes() {
    let json = repository_root().join("synth/tests/data/ambiguous-scalars.json");
    let written = run_synth(&["yaml", json.to_str().expect("a UTF-8 path")]);
    assert_eq!(
        committed("synth/tests/data/ambiguous-scalars.yaml"),
        written,
        "synth/tests/data/ambiguous-scalars.yaml is stale; run `make templates`"
    );
}

/// `text` pretty-printed when it is JSON, as it is otherwise.
fn pretty_text(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .map(|value| pretty(&value))
        .unwrap_or_else(|_| text.to_owned())
}

/// The README's first flow, `cargo run -p synth > stack.json` then `aws cloudformation
/// deploy --template-file`, takes no bucket only while the template is under 51,200
/// bytes. The guard is 20% below, so that growth is seen (and a leaner rendering found)
/// long before a deploy breaks.
#[test]
fn the_stack_template_leaves_room_under_the_inline_limit() {
    let guard = synth::render::INLINE_LIMIT * 4 / 5;
    for Rendered { file, args, .. } in templates() {
        let size = run_synth(args).len();
        assert!(
            size < guard,
            "{file} is {size} bytes; keep it under {guard} (20% below the {} bytes \
             `aws cloudformation deploy --template-file` takes without a bucket)",
            synth::render::INLINE_LIMIT
        );
    }
}

#[test]
fn out_writes_what_synth_prints() {
    let path = std::env::temp_dir().join(format!("synth-out-{}.json", std::process::id()));
    let printed = run_synth(&["--out", path.to_str().expect("a UTF-8 temporary path")]);
    assert!(printed.is_empty(), "--out prints nothing");
    let written = std::fs::read_to_string(&path).expect("--out wrote the file");
    std::fs::remove_file(&path).expect("the file can be removed");
    assert_eq!(written, run_synth(&[]));
}
