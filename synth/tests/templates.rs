//! The rendered template: insta snapshots (what reviewers read in pull requests) and the
//! committed copies in `templates/` (what `aws cloudformation deploy` reads).

use std::path::{Path, PathBuf};

use synth::render::{check_text, render};
use synth::Format;

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

#[test]
fn template_json_snapshot() {
    snapshot_settings().bind(|| insta::assert_snapshot!("stack.json", render(Format::Json)));
}

#[test]
fn template_yaml_snapshot() {
    snapshot_settings().bind(|| insta::assert_snapshot!("stack.yaml", render(Format::Yaml)));
}

/// Fails when a committed template differs from what `synth` renders now; the message
/// shows the diff and says to run `make templates`.
fn check_committed(file: &str, format: Format) {
    let path = repository_root().join("templates").join(file);
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "cannot read {}: {err}; run `make templates`",
            path.display()
        )
    });
    if let Err(err) = check_text(
        Path::new("templates").join(file).as_path(),
        &committed,
        &render(format),
    ) {
        panic!("{err}");
    }
}

#[test]
fn committed_json_template_is_fresh() {
    check_committed("stack.json", Format::Json);
}

#[test]
fn committed_yaml_template_is_fresh() {
    check_committed("stack.yaml", Format::Yaml);
}
