//! Turns the stack into the text we ship.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::config::Config;
use crate::{bootstrap, stack, yaml, SynthError};

/// One of the two templates `synth` renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    /// The system (templates/stack.json).
    Stack,
    /// The bootstrap stack (templates/bootstrap.json).
    Bootstrap,
}

impl Which {
    /// Where the rendered template is committed.
    pub fn file(self) -> &'static str {
        match self {
            Which::Stack => "templates/stack.json",
            Which::Bootstrap => "templates/bootstrap.json",
        }
    }

    /// Where the template is committed as YAML.
    pub fn yaml_file(self) -> &'static str {
        match self {
            Which::Stack => "templates/stack.yaml",
            Which::Bootstrap => "templates/bootstrap.yaml",
        }
    }

    pub fn render(self) -> String {
        match self {
            Which::Stack => render(&Config::runbook()),
            Which::Bootstrap => render_bootstrap(),
        }
    }

    /// The template as `format` writes it.
    pub fn render_as(self, format: Format) -> Result<String, SynthError> {
        match (format, self) {
            (Format::Json, _) => Ok(self.render()),
            (Format::Yaml, Which::Stack) => Ok(yaml::to_string(&stack::build(&Config::runbook()))?),
            (Format::Yaml, Which::Bootstrap) => Ok(yaml::to_string(&bootstrap::build())?),
        }
    }
}

/// How a template is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Compact JSON, one line (templates/*.json): what the scripts deploy.
    #[default]
    Json,
    /// Block-style YAML that YAML 1.1 and 1.2 readers read exactly as the JSON
    /// (templates/*.yaml): for people who read templates that way.
    Yaml,
}

/// `synth [stack|bootstrap] [--format F] [--out FILE]`: the template, to `out` or
/// standard output.
pub fn print(which: Which, format: Format, out: Option<&Path>) -> Result<(), SynthError> {
    emit(&which.render_as(format)?, out)
}

/// `synth yaml FILE [--out FILE]`: a JSON document as YAML, its keys in the file's order
/// (serde_yaml_ng's value keeps it; serde_json's would sort them).
pub fn yaml_of(file: &Path, out: Option<&Path>) -> Result<(), SynthError> {
    let what = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|source| SynthError::Read {
        what: what.clone(),
        source,
    })?;
    let document: serde_yaml_ng::Value =
        serde_json::from_str(&text).map_err(|err| SynthError::Parse {
            what,
            reason: err.to_string(),
        })?;
    emit(&yaml::to_string(&document)?, out)
}

/// `text` to `out`, or to standard output.
fn emit(text: &str, out: Option<&Path>) -> Result<(), SynthError> {
    match out {
        Some(path) => std::fs::write(path, text).map_err(|source| SynthError::Write {
            path: path.to_owned(),
            source,
        }),
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(SynthError::Stdout),
    }
}

/// The template of the stack `config` describes, as compact JSON ending in a newline: the
/// bytes of `templates/stack.json` for the runbook's config.
pub fn render(config: &Config) -> String {
    text(&stack::build(config))
}

/// The bootstrap template, the bytes of `templates/bootstrap.json`.
pub fn render_bootstrap() -> String {
    text(&bootstrap::build())
}

/// The most bytes a template may have for `aws cloudformation deploy --template-file`
/// without a bucket.
pub const INLINE_LIMIT: usize = 51_200;

/// `document` as compact JSON ending in a newline.
///
/// Compact, not pretty: indentation was a third of the stack's template, which must stay
/// well under [`INLINE_LIMIT`] so the README's first flow (`cargo run -p synth >
/// stack.json`, then `aws cloudformation deploy`) works without a bucket. People read the
/// template resource by resource in the pretty snapshots (`snapshots/`), which is what a
/// pull request's review shows.
pub(crate) fn text(document: &impl Serialize) -> String {
    // Serialization cannot fail: every map key in our documents is a string and every
    // number is finite, which is all serde_json requires.
    let mut text = serde_json::to_string(document).expect("the document serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_is_deterministic() {
        let config = Config::runbook();
        assert_eq!(render(&config), render(&config));
    }

    #[test]
    fn json_is_compact_with_one_final_newline() {
        let json = render(&Config::runbook());
        assert!(json.starts_with("{\"AWSTemplateFormatVersion\":\"2010-09-09\","));
        assert_eq!(json.matches('\n').count(), 1, "one line");
        assert!(json.ends_with("}\n"));
    }
}
