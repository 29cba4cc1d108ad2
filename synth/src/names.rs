//! `synth names`: the names the scripts need, so that no script spells one. The stacks'
//! names are the contract's (a stack names no resource of its own); every resource's is
//! read from the synthesized template, so a script acts on what deploys.

use std::fmt::Write as _;

use contract::outputs::{self, Output};
use contract::resources;
use serde_json::Value;

use crate::config::Config;

/// A name a script asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Name {
    /// The system's stack (`make deploy`'s default STACK_NAME).
    Stack,
    /// The bootstrap stack (`make bootstrap`'s default BOOTSTRAP_STACK_NAME).
    BootstrapStack,
    /// The dispatch table.
    Table,
    /// The callback function.
    Function,
    /// The callback's log group.
    LogGroup,
    /// The rule that sends stopped tasks to the callback.
    Rule,
    /// The reconciler function.
    Reconciler,
}

impl Name {
    pub const ALL: [Name; 7] = [
        Name::Stack,
        Name::BootstrapStack,
        Name::Table,
        Name::Function,
        Name::LogGroup,
        Name::Rule,
        Name::Reconciler,
    ];

    /// How the command line spells it.
    pub fn key(self) -> &'static str {
        match self {
            Name::Stack => "stack",
            Name::BootstrapStack => "bootstrap-stack",
            Name::Table => "table",
            Name::Function => "function",
            Name::LogGroup => "log-group",
            Name::Rule => "rule",
            Name::Reconciler => "reconciler",
        }
    }

    /// Its value, the resources' read from `template`.
    pub fn value(self, template: &Value) -> String {
        let resource = |output: Output, property: &str| {
            template["Resources"][output.logical_id]["Properties"][property]
                .as_str()
                .unwrap_or_else(|| panic!("the template's {} has no {property}", output.logical_id))
                .to_owned()
        };
        match self {
            Name::Stack => resources::STACK.to_owned(),
            Name::BootstrapStack => resources::BOOTSTRAP_STACK.to_owned(),
            Name::Table => resource(outputs::TABLE_NAME, "TableName"),
            Name::Function => resource(outputs::FUNCTION_NAME, "FunctionName"),
            Name::LogGroup => resource(outputs::LOG_GROUP_NAME, "LogGroupName"),
            Name::Rule => resource(outputs::RULE_NAME, "Name"),
            Name::Reconciler => resource(outputs::RECONCILER_FUNCTION_NAME, "FunctionName"),
        }
    }
}

/// What `synth names NAME...` prints: each value on a line of its own, in the order asked
/// (for `read` in a script); with no name, every name as `KEY VALUE` lines.
pub fn listing(asked: &[Name]) -> String {
    let template = serde_json::to_value(crate::stack::build(&Config::runbook()))
        .expect("the template serializes");
    let mut text = String::new();
    if asked.is_empty() {
        for name in Name::ALL {
            let _ = writeln!(text, "{} {}", name.key(), name.value(&template));
        }
    } else {
        for name in asked {
            let _ = writeln!(text, "{}", name.value(&template));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn every_name_is_the_contracts() {
        assert_eq!(
            listing(&[]),
            format!(
                "stack {}\nbootstrap-stack {}\ntable {}\nfunction {}\nlog-group {}\nrule {}\nreconciler {}\n",
                resources::STACK,
                resources::BOOTSTRAP_STACK,
                contract::table::NAME,
                resources::FUNCTION,
                resources::LOG_GROUP,
                resources::RULE,
                resources::RECONCILER,
            )
        );
        assert_eq!(
            listing(&[Name::Table, Name::Stack]),
            format!("{}\n{}\n", contract::table::NAME, resources::STACK)
        );
    }

    #[test]
    fn the_command_line_spells_each_name_by_its_key() {
        for name in Name::ALL {
            let spelled = name.to_possible_value().expect("every name is offered");
            assert_eq!(spelled.get_name(), name.key());
        }
        assert_eq!(Name::value_variants(), Name::ALL);
    }
}
