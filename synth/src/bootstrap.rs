//! The bootstrap stack: what must exist before the first `make deploy`, created once per
//! account and region by `make bootstrap` (as `cdk bootstrap` does for the CDK): an S3
//! bucket for the functions' code, whose name is the stack's output.
//!
//! The bucket keeps every version of every zip (a rollback redeploys an old key), so old
//! versions expire by a lifecycle rule rather than by hand; it is encrypted, private, and
//! refuses requests that do not use TLS.

use contract::resources;

use crate::cfn::resources::s3::{
    AbortIncompleteMultipartUpload, Bucket, BucketEncryption, BucketPolicy, LifecycleConfiguration,
    LifecycleRule, NoncurrentVersionExpiration, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryptionByDefault,
    ServerSideEncryptionRule, VersioningConfiguration, VersioningStatus,
};
use crate::cfn::{
    Attributes, CheckovSkip, ConditionOperator, Expr, PolicyDocument, Principal, Statement,
    Template,
};

/// The bucket's logical ID; scripts find the bucket by it where outputs are missing.
pub const BUCKET: &str = "ArtifactBucket";
/// The output that names the bucket, which `make deploy` reads.
pub const BUCKET_OUTPUT: &str = "ArtifactBucketName";
/// Days a replaced version of a code zip is kept, beyond the newest few.
const NONCURRENT_DAYS: u32 = 90;
/// Replaced versions kept whatever their age: rollback targets.
const NONCURRENT_VERSIONS_KEPT: u32 = 5;

/// The bootstrap template. It takes no configuration: one bucket serves every stack of
/// the account and region.
pub fn build() -> Template {
    let mut template = Template::new(format!(
        "{}: the S3 bucket that holds the functions' code, created once per account and \
         region by `make bootstrap`; `make deploy` finds it by this stack's output.",
        resources::BOOTSTRAP_STACK
    ));
    let bucket = Bucket {
        bucket_encryption: BucketEncryption {
            server_side_encryption_configuration: vec![ServerSideEncryptionRule {
                server_side_encryption_by_default: ServerSideEncryptionByDefault {
                    sse_algorithm: "aws:kms",
                },
                bucket_key_enabled: true,
            }],
        },
        versioning_configuration: VersioningConfiguration {
            status: VersioningStatus::Enabled,
        },
        public_access_block_configuration: PublicAccessBlockConfiguration {
            block_public_acls: true,
            block_public_policy: true,
            ignore_public_acls: true,
            restrict_public_buckets: true,
        },
        ownership_controls: OwnershipControls {
            rules: vec![OwnershipControlsRule {
                object_ownership: ObjectOwnership::BucketOwnerEnforced,
            }],
        },
        lifecycle_configuration: LifecycleConfiguration {
            rules: vec![LifecycleRule {
                id: "expire-replaced-code",
                status: "Enabled",
                noncurrent_version_expiration: Some(NoncurrentVersionExpiration {
                    noncurrent_days: NONCURRENT_DAYS,
                    newer_noncurrent_versions: NONCURRENT_VERSIONS_KEPT,
                }),
                abort_incomplete_multipart_upload: Some(AbortIncompleteMultipartUpload {
                    days_after_initiation: 7,
                }),
            }],
        },
    };
    // Retained: the code of running functions lives here, and CloudFormation cannot
    // delete a bucket that still holds objects anyway.
    let attributes = Attributes::retained().checkov_skips([CheckovSkip {
        id: "CKV_AWS_18",
        comment: "No access logging: the bucket holds only code zips, written by deploys \
                  that CloudTrail already records, and logging would need a second bucket.",
    }]);
    let bucket = template.add_with(BUCKET, bucket, attributes);
    let tls_only = Statement::deny(
        "DenyRequestsWithoutTls",
        &["s3:*"],
        vec![bucket.arn().expr(), bucket.objects_arn()],
    )
    .principal(Principal::Anyone)
    .when(
        ConditionOperator::Bool,
        "aws:SecureTransport",
        Expr::lit("false"),
    );
    template.add(
        "ArtifactBucketPolicy",
        BucketPolicy {
            bucket: bucket.name(),
            policy_document: PolicyDocument::new(vec![tls_only]),
        },
    );
    template.output(
        BUCKET_OUTPUT,
        "Name of the bucket that holds the functions' code (make deploy's ARTIFACT_BUCKET).",
        bucket.name(),
    );
    template
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scripts are shell: they take the bootstrap stack's name from `synth names`,
    /// never from a literal, and find the bucket by this template's output and logical ID
    /// (bootstrap.sh to print it, cloudformation.sh's `artifact_bucket` for deploy and for
    /// a large template).
    #[test]
    fn the_scripts_find_the_bucket_by_this_templates_names() {
        let scripts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts");
        for script in ["bootstrap.sh", "cloudformation.sh"] {
            let text = std::fs::read_to_string(scripts.join(script)).expect(script);
            assert!(
                text.contains("synth names bootstrap-stack")
                    && !text.contains(resources::BOOTSTRAP_STACK),
                "{script} does not take the stack's name from `synth names`"
            );
            for name in [BUCKET_OUTPUT, BUCKET] {
                assert!(text.contains(name), "{script} does not name {name}");
            }
        }
    }

    #[test]
    fn the_bucket_is_retained_private_and_named_by_the_output() {
        let template = serde_json::to_value(build()).unwrap();
        let bucket = &template["Resources"][BUCKET];
        assert_eq!(bucket["DeletionPolicy"], "Retain");
        assert_eq!(template["Outputs"][BUCKET_OUTPUT]["Value"]["Ref"], BUCKET);
        let blocks = bucket["Properties"]["PublicAccessBlockConfiguration"]
            .as_object()
            .unwrap();
        assert!(blocks.values().all(|on| on == true));
        let policy = &template["Resources"]["ArtifactBucketPolicy"]["Properties"];
        let statement = &policy["PolicyDocument"]["Statement"][0];
        assert_eq!(statement["Effect"], "Deny");
        assert_eq!(
            statement["Condition"]["Bool"]["aws:SecureTransport"],
            "false"
        );
    }
}
