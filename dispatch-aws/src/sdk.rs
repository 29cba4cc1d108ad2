//! The AWS SDK configuration: built once per process and shared by every client, with the
//! time budget of the kind of caller that process is.

use std::time::Duration;

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::meta::region::ProvideRegion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_sdk_dynamodb::config::ProvideCredentials;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use crate::https;
use crate::roots::{self, Roots};

/// Attempts per call for a Lambda function, the first included. The standard retry mode
/// backs off with jitter and retries throttling (`ProvisionedThroughputExceededException`),
/// 5xx and transport errors.
pub const MAX_ATTEMPTS: u32 = 3;
/// Bounds one whole call of a Lambda function, retries included. A callback invocation
/// makes at most two DynamoDB calls (Query, UpdateItem) and one bounded metrics call, so
/// the worst case, 2 x 8 s + 2 s, stays well under the function's 30 s timeout: a stuck
/// call ends as a clean, typed error instead of a Lambda timeout.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(8);
/// Bounds one attempt of a Lambda function's call, so a hung connection leaves time for a
/// retry.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Who makes the calls, which sets how long they may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A Lambda function: every call fits the invocation's timeout (the constants above).
    Lambda,
    /// A person at a terminal (`outpost-ops`): a two-day log search or a slow link may
    /// take a minute, and Ctrl-C is always there.
    Person,
}

/// How long a caller's calls may take, and how often they are tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub max_attempts: u32,
    pub connect: Duration,
    pub attempt: Duration,
    pub operation: Duration,
}

impl Caller {
    pub const fn budget(self) -> Budget {
        match self {
            Caller::Lambda => Budget {
                max_attempts: MAX_ATTEMPTS,
                connect: CONNECT_TIMEOUT,
                attempt: ATTEMPT_TIMEOUT,
                operation: OPERATION_TIMEOUT,
            },
            Caller::Person => Budget {
                max_attempts: 4,
                connect: Duration::from_secs(5),
                attempt: Duration::from_secs(30),
                operation: Duration::from_secs(90),
            },
        }
    }
}

impl Caller {
    /// The roots a caller trusts unless told otherwise: a function, those compiled in (no
    /// file read, nothing parsed at start); a person, the system's store, since their
    /// machine may sit behind a company's proxy CA that only that store holds.
    pub const fn default_roots(self) -> Roots {
        match self {
            Caller::Lambda => Roots::Compiled,
            Caller::Person => Roots::System,
        }
    }
}

/// Loads region, credentials and endpoint (`AWS_ENDPOINT_URL` included) from the
/// environment, with an HTTPS client trusting `roots` and `caller`'s retries and timeouts.
///
/// The SDK's default chains for region and credentials try the environment first, and in
/// Lambda that is where both are; but the loader builds every provider of a chain before
/// asking the first: the web-identity provider builds an STS client (which parses the SDK's
/// whole partition table), the IMDS providers their clients. That was 0.6 of the 1.9 million
/// instructions of a function's init (issue #22). So a region or credentials the
/// environment holds are given to the loader as the chain's first provider would give them
/// (same values, same provider name); without them the whole chain is built, as before.
pub async fn load(caller: Caller, roots: Roots) -> SdkConfig {
    let mut loader = loader_with(caller, roots);
    if let Some(region) = EnvironmentVariableRegionProvider::new().region().await {
        loader = loader.region(region);
    }
    let environment = EnvironmentVariableCredentialsProvider::new();
    // Asked once now only to learn whether it has credentials (it reads the variables and
    // nothing else); the SDK asks it again, through its identity cache, on the first call.
    if environment.provide_credentials().await.is_ok() {
        loader = loader.credentials_provider(environment);
    }
    loader.load().await
}

/// The loader behind [`load`] with `caller`'s default roots, for callers (the CLI, tests,
/// benchmarks) that set the profile, endpoint, region or credentials themselves.
pub fn loader(caller: Caller) -> ConfigLoader {
    loader_with(caller, caller.default_roots())
}

/// The loader behind [`load`]: the one place both functions' SDK configuration is made,
/// which tests reach with roots of their own.
pub fn loader_with(caller: Caller, roots: Roots) -> ConfigLoader {
    let budget = caller.budget();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client(roots))
        .retry_config(RetryConfig::standard().with_max_attempts(budget.max_attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(budget.connect)
                .operation_attempt_timeout(budget.attempt)
                .operation_timeout(budget.operation)
                .build(),
        )
}

/// The HTTPS client that trusts `roots`. The system's store is the SDK's own client, exactly
/// as before issue #22 (it reads and parses the store when an SDK client is built); the
/// others are ours (`https`), whose rustls configuration is made here, once.
pub fn http_client(roots: Roots) -> SharedHttpClient {
    match roots {
        // rustls on ring: a smaller binary and a faster build than the default aws-lc.
        Roots::System => aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https(),
        Roots::Compiled => https::client(roots::client_config(roots::compiled())),
        Roots::Custom(store) => https::client(roots::client_config(store)),
    }
}
