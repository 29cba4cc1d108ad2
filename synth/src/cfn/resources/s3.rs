//! `AWS::S3::Bucket` and `AWS::S3::BucketPolicy`.

use serde::Serialize;

use crate::cfn::{Expr, HasArn, Id, NamedByRef, PolicyDocument};

/// A bucket whose name CloudFormation picks (bucket names are global, so a fixed one
/// could collide with any account's), configured property by property.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Bucket {
    pub bucket_encryption: BucketEncryption,
    pub versioning_configuration: VersioningConfiguration,
    pub public_access_block_configuration: PublicAccessBlockConfiguration,
    pub ownership_controls: OwnershipControls,
    pub lifecycle_configuration: LifecycleConfiguration,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketEncryption {
    pub server_side_encryption_configuration: Vec<ServerSideEncryptionRule>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerSideEncryptionRule {
    pub server_side_encryption_by_default: ServerSideEncryptionByDefault,
    /// Fewer KMS requests for SSE-KMS: one data key per bucket rather than per object.
    pub bucket_key_enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServerSideEncryptionByDefault {
    /// `aws:kms` with no key ID is the account's AWS managed key `aws/s3`.
    #[serde(rename = "SSEAlgorithm")]
    pub sse_algorithm: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum VersioningStatus {
    Enabled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersioningConfiguration {
    pub status: VersioningStatus,
}

/// All four public-access switches; ours are always all on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlockConfiguration {
    pub block_public_acls: bool,
    pub block_public_policy: bool,
    pub ignore_public_acls: bool,
    pub restrict_public_buckets: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControls {
    pub rules: Vec<OwnershipControlsRule>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControlsRule {
    pub object_ownership: ObjectOwnership,
}

/// `BucketOwnerEnforced` turns ACLs off: the bucket's owner owns every object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ObjectOwnership {
    BucketOwnerEnforced,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleConfiguration {
    pub rules: Vec<LifecycleRule>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleRule {
    pub id: &'static str,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noncurrent_version_expiration: Option<NoncurrentVersionExpiration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort_incomplete_multipart_upload: Option<AbortIncompleteMultipartUpload>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NoncurrentVersionExpiration {
    pub noncurrent_days: u32,
    /// Versions kept whatever their age, so a rollback target is never expired.
    pub newer_noncurrent_versions: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AbortIncompleteMultipartUpload {
    pub days_after_initiation: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketPolicy {
    /// The bucket's name (see [`Id::name`]).
    pub bucket: Expr,
    pub policy_document: PolicyDocument,
}

impl NamedByRef for Bucket {}
impl HasArn for Bucket {}

impl Id<Bucket> {
    /// Every object in the bucket, for policy statements.
    pub fn objects_arn(&self) -> Expr {
        Expr::sub(format!("${{{}.Arn}}/*", self.logical_id()))
    }
}
