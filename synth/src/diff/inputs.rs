//! Where `synth diff` reads what it compares: the base template from a file or from git
//! (by default the committed template at the merge base with `main`), and the
//! acknowledgements file on both sides.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::acknowledgements::FILE as ACKNOWLEDGEMENTS;
use crate::SynthError;

/// The branch a change is compared with when no base is given: the local branch, else
/// the remote's (a CI checkout may have only one of them).
pub const MAIN: [&str; 2] = ["main", "origin/main"];

/// The template and acknowledgements a change starts from.
#[derive(Debug)]
pub struct Base {
    /// What the base is, for the report (`main at 1a2b3c4`, a file's path).
    pub label: String,
    pub template: Value,
    /// The acknowledgements file as the base has it ("" when it has none).
    pub acknowledgements: String,
}

/// Reads `template` (a path in the repository, such as `templates/stack.json`) from the
/// file `base`, or from git at `base_ref`, or at the merge base of `HEAD` and `main`.
pub fn base(
    repository: &Path,
    template: &str,
    base: Option<&Path>,
    base_ref: Option<&str>,
) -> Result<Base, SynthError> {
    if let Some(path) = base {
        let text = std::fs::read_to_string(path).map_err(|source| SynthError::Read {
            what: path.display().to_string(),
            source,
        })?;
        return Ok(Base {
            label: path.display().to_string(),
            template: parse(&path.display().to_string(), &text)?,
            acknowledgements: String::new(),
        });
    }
    let commit = match base_ref {
        Some(reference) => git(repository, &["rev-parse", "--verify", reference])?,
        None => MAIN
            .iter()
            .find_map(|main| git(repository, &["merge-base", "HEAD", main]).ok())
            .ok_or_else(|| SynthError::Base {
                what: "the merge base of HEAD and main".to_owned(),
                reason: "neither main nor origin/main is known here; give --base-ref".to_owned(),
            })?,
    };
    let commit = commit.trim().to_owned();
    let short: String = commit.chars().take(12).collect();
    let reference = base_ref.unwrap_or("the merge base with main");
    let label = format!("{reference} at {short}");
    let at = format!("{commit}:{template}");
    // A template the base did not have yet: everything in it is added.
    if git(repository, &["cat-file", "-e", &at]).is_err() {
        return Ok(Base {
            label: format!("{label} (which has no {template})"),
            template: serde_json::json!({"Resources": {}}),
            acknowledgements: String::new(),
        });
    }
    let text = git(repository, &["show", &at])?;
    // A base from before the acknowledgements file existed has none.
    let acknowledgements = git(
        repository,
        &["show", &format!("{commit}:{ACKNOWLEDGEMENTS}")],
    )
    .unwrap_or_default();
    Ok(Base {
        template: parse(&format!("{template} at {short}"), &text)?,
        label,
        acknowledgements,
    })
}

/// The acknowledgements file of the working tree ("" when there is none).
pub fn head_acknowledgements(repository: &Path) -> String {
    std::fs::read_to_string(repository.join(ACKNOWLEDGEMENTS)).unwrap_or_default()
}

/// The repository `synth` was built from, where `templates/` is.
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn parse(what: &str, text: &str) -> Result<Value, SynthError> {
    serde_json::from_str(text).map_err(|err| SynthError::Base {
        what: what.to_owned(),
        reason: format!("not a JSON template: {err}"),
    })
}

fn git(repository: &Path, args: &[&str]) -> Result<String, SynthError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(repository)
        .args(args)
        .output()
        .map_err(|source| SynthError::Read {
            what: "git".to_owned(),
            source,
        })?;
    if !output.status.success() {
        return Err(SynthError::Base {
            what: format!("git {}", args.join(" ")),
            reason: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
