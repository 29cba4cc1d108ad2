//! `AWS::Lambda::Function`, `AWS::Lambda::EventInvokeConfig` and
//! `AWS::Lambda::Permission`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cfn::{Arn, Expr, HasArn, Id, NamedByRef};

use super::events::Rule;
use super::iam::Role;
use super::sqs::Queue;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Function {
    pub function_name: String,
    pub description: String,
    pub runtime: Runtime,
    pub handler: String,
    /// One architecture; an expression because the stack takes it from a parameter.
    pub architectures: Vec<Expr>,
    /// Megabytes.
    pub memory_size: u32,
    /// Seconds.
    pub timeout: u32,
    pub code: Code,
    pub role: Arn<Role>,
    pub environment: Environment,
    pub logging_config: LoggingConfig,
}

/// The runtimes we deploy on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Runtime {
    /// A custom runtime (our Rust binary named `bootstrap`) on Amazon Linux 2023.
    #[serde(rename = "provided.al2023")]
    ProvidedAl2023,
}

/// The instruction set architectures Lambda offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    Arm64,
    X86_64,
}

impl Architecture {
    pub const ALL: [Architecture; 2] = [Architecture::Arm64, Architecture::X86_64];

    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        }
    }
}

/// A deployment package in S3.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Code {
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Expr,
    #[serde(rename = "S3Key")]
    pub s3_key: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    pub variables: BTreeMap<String, Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    pub log_format: LogFormat,
    /// The log group name.
    pub log_group: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LogFormat {
    Text,
}

/// How Lambda handles asynchronous invocations (EventBridge invokes asynchronously).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventInvokeConfig {
    /// The function name or ARN.
    pub function_name: Expr,
    pub qualifier: String,
    pub maximum_retry_attempts: u32,
    pub maximum_event_age_in_seconds: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_config: Option<DestinationConfig>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationConfig {
    pub on_failure: OnFailure,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OnFailure {
    pub destination: Arn<Queue>,
}

/// A resource-based policy statement letting a service invoke the function.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Permission {
    pub action: &'static str,
    pub function_name: Arn<Function>,
    pub principal: &'static str,
    pub source_arn: Arn<Rule>,
}

impl Permission {
    /// Lets EventBridge invoke `function` for `rule`.
    pub fn for_rule(function: &Id<Function>, rule: &Id<Rule>) -> Self {
        Permission {
            action: "lambda:InvokeFunction",
            function_name: function.arn(),
            principal: "events.amazonaws.com",
            source_arn: rule.arn(),
        }
    }
}

impl NamedByRef for Function {}
impl HasArn for Function {}
