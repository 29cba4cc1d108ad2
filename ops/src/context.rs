//! What every subcommand starts from: the SDK configuration (profile, region, endpoint)
//! and the stack's resource names.

use std::process::ExitCode;

use aws_config::{Region, SdkConfig};
use dispatch_aws::sdk::{self, Caller};

use crate::cli::Global;
use crate::error::Result;
use crate::output::{self, Format, Report};
use crate::progress::Progress;
use crate::stack::{self, Names};

/// Built once per run.
pub struct Context {
    pub sdk: SdkConfig,
    pub names: Names,
    pub progress: Progress,
    pub format: Format,
}

impl Context {
    /// Loads the SDK configuration the AWS way (`--profile`, `--region`, else the SDK's
    /// own environment and files; `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`
    /// included) and reads the stack's names.
    pub async fn connect(global: &Global) -> Result<Context> {
        let progress = match global.output {
            Format::Table if !global.quiet => Progress::on_terminal(),
            _ => Progress::silent(),
        };
        // A person's budget: a two-day log search must not time out as a Lambda's would.
        let mut loader = sdk::loader(Caller::Person);
        if let Some(profile) = &global.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &global.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let sdk = loader.load().await;
        let cloudformation = aws_sdk_cloudformation::Client::new(&sdk);
        let described = stack::describe(&cloudformation, &global.stack_name, progress).await?;
        let names = stack::names(&global.stack_name, &described)?;
        Ok(Context {
            sdk,
            names,
            progress,
            format: global.output,
        })
    }

    /// Prints a subcommand's result in the chosen format; returns its exit code.
    pub fn finish<R: Report>(&self, result: Result<R>) -> ExitCode {
        output::finish(self.format, self.progress, result)
    }

    /// The stack's dispatch table, read as the functions read it (strongly consistent
    /// `GetItem`, every attribute kept).
    pub fn table(&self) -> dispatch_aws::table::DynamoStore {
        dispatch_aws::table::DynamoStore::new(
            self.dynamodb(),
            &self.names.table,
            contract::table::TASK_ARN_INDEX.name,
        )
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }
    pub fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.sdk)
    }
    pub fn events(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.sdk)
    }
    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::new(&self.sdk)
    }
    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.sdk)
    }
    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.sdk)
    }
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }
    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk)
    }
}
