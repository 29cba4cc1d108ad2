//! The stack policy a deploy sets: CloudFormation refuses any update that would replace or
//! delete the table or either queue that holds parked events (the function's on-failure
//! queue and the rule's dead-letter queue), whatever the change set says; everything else
//! may be updated. `make deploy LIFT_STACK_POLICY=1` lifts it for that one deploy
//! ([`lifted`]) and puts it back on every exit path (scripts/protection.sh).

use contract::outputs;
use serde_json::{json, Value};

/// The resources no update may replace or delete: what holds data a person needs.
pub const GUARDED: [&str; 3] = [
    outputs::TABLE_NAME.logical_id,
    outputs::FAILURE_QUEUE_URL.logical_id,
    outputs::DEAD_LETTER_QUEUE_URL.logical_id,
];

/// The policy every deploy leaves on the stack.
pub fn guarding() -> Value {
    let guarded: Vec<String> = GUARDED
        .iter()
        .map(|logical_id| format!("LogicalResourceId/{logical_id}"))
        .collect();
    json!({"Statement": [
        {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["Update:Replace", "Update:Delete"], "Principal": "*",
         "Resource": guarded}
    ]})
}

/// The policy during a deploy that lifts the guard: every update allowed.
pub fn lifted() -> Value {
    json!({"Statement": [
        {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}
    ]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_guard_denies_replacing_or_deleting_the_table_and_both_queues_and_nothing_else() {
        let policy = guarding();
        let deny = &policy["Statement"][1];
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(deny["Action"], json!(["Update:Replace", "Update:Delete"]));
        assert_eq!(
            deny["Resource"],
            json!([
                "LogicalResourceId/DispatchTable",
                "LogicalResourceId/CallbackFailureQueue",
                "LogicalResourceId/CompletionDeadLetterQueue"
            ])
        );
        assert_eq!(policy["Statement"][0]["Action"], "Update:*");
        assert_eq!(lifted()["Statement"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn every_guarded_resource_is_in_the_template_as_what_it_should_be() {
        let template = serde_json::to_value(crate::stack::build(&Config::runbook())).unwrap();
        let kinds = GUARDED.map(|id| template["Resources"][id]["Type"].as_str().unwrap_or("none"));
        assert_eq!(
            kinds,
            ["AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SQS::Queue"]
        );
    }
}
