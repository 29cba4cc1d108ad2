//! `sdk::load`, the functions' SDK configuration, finds region and credentials where the
//! SDK's default chains would: the environment's when it holds them (handed to the loader
//! directly, issue #22), otherwise the whole chains (here, a profile file).
//!
//! One test, since it sets this process's environment: a second test in this binary would
//! race it.

use std::path::PathBuf;

use aws_sdk_dynamodb::config::ProvideCredentials;
use dispatch_aws::roots::Roots;
use dispatch_aws::sdk::{self, Caller};

const ENVIRONMENT_VARIABLES: [&str; 9] = [
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_EC2_METADATA_DISABLED",
];

/// Region and access key as the loaded configuration gives them.
async fn loaded() -> (Option<String>, Option<String>) {
    let config = sdk::load(Caller::Lambda, Roots::Compiled).await;
    let region = config.region().map(|region| region.to_string());
    let key = match config.credentials_provider() {
        Some(provider) => provider
            .provide_credentials()
            .await
            .ok()
            .map(|credentials| credentials.access_key_id().to_owned()),
        None => None,
    };
    (region, key)
}

fn profile_files() -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("sdk-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let config = dir.join("config");
    let credentials = dir.join("credentials");
    std::fs::write(&config, "[profile on-call]\nregion = eu-west-3\n").expect("config file");
    std::fs::write(
        &credentials,
        "[on-call]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = secret\n",
    )
    .expect("credentials file");
    (config, credentials)
}

#[tokio::test]
async fn region_and_credentials_come_from_the_environment_else_from_the_default_chains() {
    for name in ENVIRONMENT_VARIABLES {
        std::env::remove_var(name);
    }
    // Never ask an instance metadata service this machine may sit on.
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let (config, credentials) = profile_files();
    std::env::set_var("AWS_CONFIG_FILE", &config);
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &credentials);
    std::env::set_var("AWS_PROFILE", "on-call");

    // Nothing in the environment: the default chains find the profile's.
    assert_eq!(
        loaded().await,
        (Some("eu-west-3".to_owned()), Some("AKIDPROFILE".to_owned()))
    );

    // As in Lambda: the environment's come first, over the profile's.
    std::env::set_var("AWS_REGION", "ap-southeast-2");
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDENVIRONMENT");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret");
    std::env::set_var("AWS_SESSION_TOKEN", "token");
    assert_eq!(
        loaded().await,
        (
            Some("ap-southeast-2".to_owned()),
            Some("AKIDENVIRONMENT".to_owned())
        )
    );

    // A region in the environment but no credentials: the credentials chain, whole.
    std::env::remove_var("AWS_ACCESS_KEY_ID");
    assert_eq!(
        loaded().await,
        (
            Some("ap-southeast-2".to_owned()),
            Some("AKIDPROFILE".to_owned())
        )
    );

    std::fs::remove_dir_all(config.parent().expect("its directory")).expect("clean up");
}
