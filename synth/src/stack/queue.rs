//! The queues where events wait for an operator: one for the function, one for the rule.

use crate::cfn::resources::sqs::Queue;
use crate::cfn::{Attributes, CheckovSkip, Id, Template};
use crate::config::QueueConfig;

pub(super) fn add(template: &mut Template, logical_id: &str, config: &QueueConfig) -> Id<Queue> {
    template.add_with(
        logical_id,
        Queue {
            queue_name: config.name.to_owned(),
            sqs_managed_sse_enabled: true,
            message_retention_period: config.retention_seconds,
        },
        Attributes::default().checkov_skips([CheckovSkip {
            id: "CKV_AWS_27",
            comment: "Encrypted with SQS managed keys (SqsManagedSseEnabled), which checkov \
                      does not recognise; a KMS key would need a customer managed key whose \
                      policy lets EventBridge send to the dead-letter queue.",
        }]),
    )
}
