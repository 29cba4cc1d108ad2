//! `AWS::SQS::Queue` and `AWS::SQS::QueuePolicy`.

use serde::Serialize;

use crate::cfn::{Expr, HasArn, Id, PolicyDocument};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Queue {
    pub queue_name: String,
    /// Encryption at rest with SQS-owned keys.
    pub sqs_managed_sse_enabled: bool,
    /// Seconds.
    pub message_retention_period: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueuePolicy {
    /// Queue URLs (see [`Id::url`]).
    pub queues: Vec<Expr>,
    pub policy_document: PolicyDocument,
}

impl HasArn for Queue {}

impl Id<Queue> {
    /// The queue URL (what `Ref` returns for a queue).
    pub fn url(&self) -> Expr {
        self.reference()
    }

    /// The queue name, as the `QueueName` dimension of SQS metrics wants it.
    pub fn name(&self) -> Expr {
        self.attribute("QueueName")
    }
}
