//! What every subcommand starts from: the SDK configuration (profile, region, endpoint)
//! and the stack's resource names.

use std::process::ExitCode;

use aws_config::{Region, SdkConfig};
use chrono::{DateTime, Utc};
use dispatch::task_arn::Watched;
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
    /// The clusters the stack watches ([`stack::watched`]): which tasks ECS may be asked
    /// about from here, and the cluster an old-format task ARN means. `None` when the
    /// stack does not say.
    pub watched: Option<Watched>,
    /// When the stack was created or last updated ([`stack::deployed_at`]).
    pub deployed_at: Option<DateTime<Utc>>,
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
        let cluster_arn = described.parameters.get(stack::CLUSTER_ARN);
        let watched = described
            .stack_id
            .as_deref()
            .and_then(|id| stack::watched(id, cluster_arn.map(String::as_str)));
        Ok(Context {
            names: stack::names(&global.stack_name, &described)?,
            sdk,
            progress,
            format: global.output,
            watched,
            deployed_at: described.deployed_at,
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
