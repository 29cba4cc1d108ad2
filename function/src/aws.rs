//! The AWS SDK configuration: built once during init and shared by every client.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// Attempts per call, the first included. The standard retry mode backs off with jitter
/// and retries throttling (`ProvisionedThroughputExceededException`), 5xx and transport
/// errors.
pub const MAX_ATTEMPTS: u32 = 3;
/// Bounds one whole call, retries included. An invocation makes at most two DynamoDB
/// calls (Query, UpdateItem) and one bounded metrics call (see `metrics`), so the worst
/// case, 2 x 8 s + 2 s, stays well under the function's 30 s timeout: a stuck call ends
/// as a clean, typed error instead of a Lambda timeout.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(8);
/// Bounds one attempt, so a hung connection leaves time for a retry.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Loads region, credentials and endpoint (`AWS_ENDPOINT_URL` included) from the
/// environment, with our HTTP client, retries and timeouts.
pub async fn load_sdk_config() -> SdkConfig {
    sdk_config_loader().load().await
}

/// The loader behind [`load_sdk_config`], for callers (tests, benchmarks) that set the
/// endpoint, region or credentials themselves instead of through the environment.
pub fn sdk_config_loader() -> ConfigLoader {
    // rustls on ring: a smaller binary and a faster build than the default aws-lc.
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
}
