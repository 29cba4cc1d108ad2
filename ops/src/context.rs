//! What every subcommand starts from: the SDK configuration (profile, region, endpoint)
//! and the stack's resource names.

use std::process::ExitCode;

use aws_config::{Region, SdkConfig};
use dispatch_aws::sdk::{self, Caller};
use dispatch_aws::table::DynamoStore;

use crate::cli::Global;
use crate::error::Result;
use crate::output::{self, Format, Report};
use crate::progress::Progress;
use crate::stack::{self, Names};

/// Built once per run. Each AWS client is made from `sdk` where it is used.
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
        let progress = Progress::new(global.output == Format::Table && !global.quiet);
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
        Ok(Context {
            names: stack::names(&global.stack_name, &described)?,
            sdk,
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
    pub fn table(&self) -> DynamoStore {
        let client = aws_sdk_dynamodb::Client::new(&self.sdk);
        DynamoStore::new(
            client,
            &self.names.table,
            contract::table::TASK_ARN_INDEX.name,
        )
    }
}
