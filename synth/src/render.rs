//! Turns the stack into the text we ship, and compares files with it.

use std::fs;
use std::path::Path;

use similar::TextDiff;

use crate::config::Config;
use crate::error::SynthError;
use crate::stack;

/// The text formats CloudFormation reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON, pretty-printed with two-space indents.
    Json,
    /// YAML, with intrinsic functions in their long form (`Fn::GetAtt:`).
    Yaml,
}

impl Format {
    /// The format a file name implies: YAML for `.yaml` and `.yml`, JSON otherwise.
    pub fn for_path(path: &Path) -> Format {
        match path.extension().and_then(|extension| extension.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            _ => Format::Json,
        }
    }
}

/// The template of the runbook's stack, as text ending in a newline.
pub fn render(format: Format) -> String {
    render_config(&Config::runbook(), format)
}

/// The template of the stack `config` describes, as text ending in a newline.
pub fn render_config(config: &Config, format: Format) -> String {
    let template = stack::build(config);
    // Serialization cannot fail: every map key in the model is a string and every
    // number is finite, which is all serde_json and serde_yaml require.
    match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&template).expect("template serializes");
            text.push('\n');
            text
        }
        Format::Yaml => serde_yaml::to_string(&template).expect("template serializes"),
    }
}

/// Writes the template to `path`.
pub fn write(path: &Path, format: Format) -> Result<(), SynthError> {
    fs::write(path, render(format)).map_err(|source| SynthError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Fails with a unified diff when `path` does not hold exactly what [`render`] gives.
pub fn check(path: &Path, format: Format) -> Result<(), SynthError> {
    let current = fs::read_to_string(path).map_err(|source| SynthError::Read {
        path: path.to_owned(),
        source,
    })?;
    check_text(path, &current, &render(format))
}

/// Compares a file's text with the expected text.
pub fn check_text(path: &Path, current: &str, expected: &str) -> Result<(), SynthError> {
    if current == expected {
        return Ok(());
    }
    let label = path.display().to_string();
    let diff = TextDiff::from_lines(current, expected)
        .unified_diff()
        .context_radius(3)
        .header(&label, "synth output")
        .to_string();
    Err(SynthError::Stale {
        path: path.to_owned(),
        diff,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_is_deterministic() {
        for format in [Format::Json, Format::Yaml] {
            assert_eq!(
                render(format),
                render(format),
                "{format:?} output differs between runs"
            );
        }
    }

    #[test]
    fn json_is_pretty_with_two_space_indents_and_a_final_newline() {
        let json = render(Format::Json);
        assert!(json.starts_with("{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n"));
        assert!(json.ends_with("}\n") && !json.ends_with("\n\n"));
    }

    #[test]
    fn yaml_and_json_describe_the_same_template() {
        let json: serde_json::Value = serde_json::from_str(&render(Format::Json)).unwrap();
        let yaml: serde_json::Value = serde_yaml::from_str(&render(Format::Yaml)).unwrap();
        assert_eq!(json, yaml);
    }

    #[test]
    fn format_follows_the_file_extension() {
        let cases = [
            ("templates/stack.json", Format::Json),
            ("templates/stack.yaml", Format::Yaml),
            ("stack.yml", Format::Yaml),
            ("stack", Format::Json),
        ];
        for (path, expected) in cases {
            assert_eq!(Format::for_path(Path::new(path)), expected, "{path}");
        }
    }

    #[test]
    fn a_stale_file_fails_with_a_diff_and_the_way_to_refresh_it() {
        let err = check_text(Path::new("stack.json"), "a\nb\n", "a\nc\n").unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("stack.json is stale; run `make templates`"),
            "{message}"
        );
        assert!(message.contains("-b\n+c\n"), "{message}");
        assert_eq!(err.exit_code(), 1);
    }

    #[test]
    fn a_fresh_file_passes() {
        assert!(check_text(Path::new("stack.json"), "a\n", "a\n").is_ok());
    }
}
