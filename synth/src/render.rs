//! Turns the stack into the text we ship.

use crate::cfn::Template;
use crate::config::Config;
use crate::{bootstrap, stack};

/// The template of the stack `config` describes, as pretty-printed JSON (two-space
/// indents) ending in a newline: the bytes of `templates/stack.json` for the runbook's
/// config.
pub fn render(config: &Config) -> String {
    text(&stack::build(config))
}

/// The bootstrap template, the bytes of `templates/bootstrap.json`.
pub fn render_bootstrap() -> String {
    text(&bootstrap::build())
}

fn text(template: &Template) -> String {
    // Serialization cannot fail: every map key in the model is a string and every
    // number is finite, which is all serde_json requires.
    let mut text = serde_json::to_string_pretty(template).expect("template serializes");
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
    fn json_is_pretty_with_two_space_indents_and_a_final_newline() {
        let json = render(&Config::runbook());
        assert!(json.starts_with("{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n"));
        assert!(json.ends_with("}\n") && !json.ends_with("\n\n"));
    }
}
