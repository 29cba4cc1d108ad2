//! One struct per CloudFormation resource type the stack uses, grouped by service.
//!
//! Property names follow the CloudFormation reference (`rename_all = "PascalCase"`);
//! optional properties are `Option`s that are left out of the template when `None`.

pub mod cloudwatch;
pub mod dynamodb;
pub mod events;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod s3;
pub mod sqs;

use serde::Serialize;

/// Declares [`Properties`], the closed set of resource types a template may hold, with
/// each type's CloudFormation name.
macro_rules! resource_types {
    ($($variant:ident($ty:ty) => $name:literal,)*) => {
        /// The properties of any resource the stack may contain.
        #[derive(Debug, Serialize)]
        #[serde(untagged)]
        pub enum Properties {
            $($variant($ty),)*
        }

        impl Properties {
            /// The resource type, as written in the template's `Type` key.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(Properties::$variant(_) => $name,)*
                }
            }
        }

        $(
            impl From<$ty> for Properties {
                fn from(properties: $ty) -> Self {
                    Properties::$variant(properties)
                }
            }
        )*
    };
}

resource_types! {
    Alarm(cloudwatch::Alarm) => "AWS::CloudWatch::Alarm",
    Dashboard(cloudwatch::Dashboard) => "AWS::CloudWatch::Dashboard",
    Table(dynamodb::Table) => "AWS::DynamoDB::Table",
    Rule(events::Rule) => "AWS::Events::Rule",
    Role(iam::Role) => "AWS::IAM::Role",
    Function(lambda::Function) => "AWS::Lambda::Function",
    EventInvokeConfig(lambda::EventInvokeConfig) => "AWS::Lambda::EventInvokeConfig",
    Permission(lambda::Permission) => "AWS::Lambda::Permission",
    LogGroup(logs::LogGroup) => "AWS::Logs::LogGroup",
    Bucket(s3::Bucket) => "AWS::S3::Bucket",
    BucketPolicy(s3::BucketPolicy) => "AWS::S3::BucketPolicy",
    Queue(sqs::Queue) => "AWS::SQS::Queue",
    QueuePolicy(sqs::QueuePolicy) => "AWS::SQS::QueuePolicy",
}
