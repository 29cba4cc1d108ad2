//! `synth names`: the names the scripts need, so that no script spells one. The stacks'
//! names are the contract's (a stack names no resource of its own); every resource's is
//! read from the synthesized template, so a script acts on what deploys.

use clap::ValueEnum;
use contract::{outputs, resources};
use serde_json::Value;

use crate::config::Config;

/// A name a script asks for; the command line spells it in kebab case (`log-group`).
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
    /// Its value, the resources' read from `template`.
    pub fn value(self, template: &Value) -> String {
        let (output, property) = match self {
            Name::Stack => return resources::STACK.to_owned(),
            Name::BootstrapStack => return resources::BOOTSTRAP_STACK.to_owned(),
            Name::Table => (outputs::TABLE_NAME, "TableName"),
            Name::Function => (outputs::FUNCTION_NAME, "FunctionName"),
            Name::LogGroup => (outputs::LOG_GROUP_NAME, "LogGroupName"),
            Name::Rule => (outputs::RULE_NAME, "Name"),
            Name::Reconciler => (outputs::RECONCILER_FUNCTION_NAME, "FunctionName"),
        };
        let id = output.logical_id;
        let value = template["Resources"][id]["Properties"][property].as_str();
        let missing = || panic!("the template's {id} has no {property}");
        value.unwrap_or_else(missing).to_owned()
    }
}

/// What `synth names NAME...` prints: each value on a line of its own, in the order asked
/// (for `read` in a script); with no name, every name as `KEY VALUE` lines.
pub fn listing(asked: &[Name]) -> String {
    let template = serde_json::to_value(crate::stack::build(&Config::runbook()))
        .expect("the template serializes");
    let value = |name: &Name| name.value(&template);
    if asked.is_empty() {
        let key = |name: &Name| name.to_possible_value().expect("every name is offered");
        let line = |name: &Name| format!("{} {}\n", key(name).get_name(), value(name));
        Name::value_variants().iter().map(line).collect()
    } else {
        asked.iter().map(|name| value(name) + "\n").collect()
    }
}

#[cfg(test)]
mod tests {
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
        let keys: Vec<String> = Name::value_variants()
            .iter()
            .map(|name| {
                let spelled = name.to_possible_value().expect("every name is offered");
                spelled.get_name().to_owned()
            })
            .collect();
        assert_eq!(
            keys,
            [
                "stack",
                "bootstrap-stack",
                "table",
                "function",
                "log-group",
                "rule",
                "reconciler"
            ]
        );
    }
}
