#!/usr/bin/env bash
# Creates (or updates) the bootstrap stack, once per account and region: the S3 bucket
# that holds the functions' code (templates/bootstrap.json, rendered by `synth bootstrap`).
# `make deploy` then finds the bucket by this stack's output, with no ARTIFACT_BUCKET.
#
#   scripts/bootstrap.sh        (what `make bootstrap` runs)
#   ENV=prod scripts/bootstrap.sh   (make bootstrap ENV=prod: refused, before anything is
#                                    created, unless the caller is environments/prod.json's
#                                    account and region)
#
# Settings (environment variables):
#   BOOTSTRAP_STACK_NAME   the bootstrap stack's name   (default: `synth names bootstrap-stack`)
#   BOOTSTRAP_TEMPLATE     template file to deploy      (default: synthesized from source)
#   AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL           read by the AWS CLI itself
#
# A second run with nothing changed reports "No changes to deploy".
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -n "${BOOTSTRAP_TEMPLATE:-}" ]] && BOOTSTRAP_TEMPLATE="$(realpath -- "$BOOTSTRAP_TEMPLATE")"
cd "$root"
aws="${AWS_CLI:-$root/.venv/tools/bin/aws}"
# shellcheck source=scripts/cloudformation.sh
source scripts/cloudformation.sh
# shellcheck source=scripts/environment.sh
source scripts/environment.sh
load_environment bootstrap || true
stack="${BOOTSTRAP_STACK_NAME:-$(synth names bootstrap-stack)}"

template="$(template_file bootstrap "${BOOTSTRAP_TEMPLATE:-}")"
cfn_deploy "$stack" "$template"

bucket="$(stack_output "$stack" ArtifactBucketName || true)"
[[ -n "$bucket" ]] || bucket="$(stack_resource "$stack" ArtifactBucket)"
echo "==> the code bucket is $bucket (make deploy finds it by itself)"
