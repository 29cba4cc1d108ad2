#!/usr/bin/env bash
# Deploys the whole stack with the AWS CLI: uploads the functions' zips when the bucket
# does not have them yet, then `aws cloudformation deploy` with the synthesized template.
#
#   ARTIFACT_BUCKET=my-artifacts scripts/deploy.sh
#   ENV=prod scripts/deploy.sh                   (make deploy ENV=prod: environments/prod.json)
#
# With ENV, every setting comes from environments/$ENV.json and is passed explicitly, so
# none keeps what the last deploy left; a one-off override is the parameter's name as a
# variable (make deploy ENV=prod LogRetentionDays=90); and the caller's account and region
# must be the file's before anything is uploaded (scripts/environment.sh).
#
# Settings (environment variables; `make deploy VAR=...` passes them through):
#   ARTIFACT_BUCKET   S3 bucket for the code zips        (default: the bootstrap stack's, see make bootstrap)
#   BOOTSTRAP_STACK_NAME  the bootstrap stack            (default: `synth names bootstrap-stack`)
#   STACK_NAME        CloudFormation stack name          (default: `synth names stack`)
#   ARCH              arm64 or x86_64                    (default arm64)
#   ZIP               the callback's code zip            (default: the one `make package` made for ARCH)
#   RECONCILER_ZIP    the reconciler's code zip          (default: the one `make package` made for ARCH)
#   ENV               an environment file's name          (default: none: the settings below)
#   CLUSTER_ARN       ECS cluster the rule listens to    (without ENV; default: what the stack has)
#   ALARM_TOPIC_ARN   SNS topic for alarm notifications  (without ENV; default: what the stack has)
#   TEMPLATE          template file to deploy            (default: synthesized from source into dist/stack.json;
#                     one over 51,200 bytes goes through the code bucket, as CloudFormation requires)
#   LIFT_STACK_POLICY 1: for this deploy only, the stack policy allows replacing or
#                     deleting the table and both queues of parked events (put back after)
#   AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL            read by the AWS CLI itself
#
# Every deploy leaves termination protection on and the stack policy that refuses
# replacing or deleting the table and both queues of parked events (`synth stack-policy`).
#
# A zip's name carries its content hash, so an unchanged function is neither uploaded
# nor updated, and a second run with nothing changed reports "No changes to deploy".
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Paths given by the caller are relative to the caller's directory, not to the repository.
[[ -n "${ZIP:-}" ]] && ZIP="$(realpath -- "$ZIP")"
[[ -n "${RECONCILER_ZIP:-}" ]] && RECONCILER_ZIP="$(realpath -- "$RECONCILER_ZIP")"
[[ -n "${TEMPLATE:-}" ]] && TEMPLATE="$(realpath -- "$TEMPLATE")"
cd "$root"
aws="${AWS_CLI:-$root/.venv/tools/bin/aws}"
# shellcheck source=scripts/cloudformation.sh
source scripts/cloudformation.sh
# shellcheck source=scripts/environment.sh
source scripts/environment.sh
if load_environment deploy; then
  stack="$ENV_STACK"
else
  stack="${STACK_NAME:-$(synth names stack)}"
fi
arch="${ARCH:-arm64}"
bucket="$(artifact_bucket)"
# A template too large to pass inline goes through the same bucket (cfn_change_set).
ARTIFACT_BUCKET="$bucket"
# The zip of one function: given, or the one `make package` made for ARCH.
zip_of() {
  local given="$1" label="$2"
  if [[ -n "$given" ]]; then printf '%s' "$given"; return; fi
  [[ -f "dist/$arch.$label.zip-path" ]] || { echo "deploy: no $label package for $arch; run 'make package ARCH=$arch'" >&2; exit 2; }
  cat "dist/$arch.$label.zip-path"
}
# Uploads a zip unless the bucket has it (its name is its content hash); prints its key.
upload() {
  local zip="$1" key
  [[ -f "$zip" ]] || { echo "deploy: $zip does not exist; run 'make package ARCH=$arch'" >&2; exit 2; }
  key="$(basename "$zip" .zip | sed 's/-[a-z0-9_]*-[0-9a-f]*$//')/$(basename "$zip")"
  echo "==> code s3://$bucket/$key" >&2
  if "$aws" s3api head-object --bucket "$bucket" --key "$key" >/dev/null 2>&1; then
    echo "    already uploaded (same content hash): not uploading" >&2
  else
    "$aws" s3api put-object --bucket "$bucket" --key "$key" --body "$zip" >/dev/null || exit
    echo "    uploaded $(wc -c <"$zip") bytes" >&2
  fi
  printf '%s' "$key"
}
callback_zip="$(zip_of "${ZIP:-}" callback)"
reconciler_zip="$(zip_of "${RECONCILER_ZIP:-}" reconciler)"
key="$(upload "$callback_zip")"
reconciler_key="$(upload "$reconciler_zip")"

template="$(template_file stack "${TEMPLATE:-}")"
echo "    template $template"

parameters=("CodeBucket=$bucket" "CodeKey=$key" "ReconcilerCodeKey=$reconciler_key" "Architecture=$arch")
if [[ -n "${ENV:-}" ]]; then
  parameters+=("${ENV_PARAMETERS[@]}")
  echo "==> every setting from ${ENVIRONMENTS_DIR:-environments}/$ENV.json: ${ENV_PARAMETERS[*]}"
else
  [[ -n "${CLUSTER_ARN:-}" ]] && parameters+=("ClusterArn=$CLUSTER_ARN")
  [[ -n "${ALARM_TOPIC_ARN:-}" ]] && parameters+=("AlarmTopicArn=$ALARM_TOPIC_ARN")
  given="${parameters[*]:4}"
  echo "==> settings given: ${given:-none}"
  echo "    (no ENV: every other parameter keeps the stack's current value, or the template's default on a new stack; make deploy ENV=name passes them all)"
fi

lift_stack_policy "$stack"
cfn_deploy "$stack" "$template" "${parameters[@]}"
protect_stack "$stack"
