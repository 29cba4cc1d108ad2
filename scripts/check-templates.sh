#!/usr/bin/env bash
# Checks the committed CloudFormation templates (templates/stack.json and
# templates/bootstrap.json):
#
#   1. synth/data/create-only-properties.json (what `synth diff` calls a replacement)
#      matches the CloudFormation resource schemas of the pinned cfn-lint; cfn-lint: no
#      errors and no warnings;
#   2. checkov: no failed checks (deliberate exceptions are skipped, with a reason, in
#      the resource's Metadata);
#   3. from an empty moto (our local AWS): the bootstrap stack through
#      scripts/bootstrap.sh (`make bootstrap`), then the system through scripts/deploy.sh
#      (`make deploy`), which finds the code bucket by itself; then the runbook's
#      read-only commands against what was deployed, each compared with the template (the
#      same JMESPath expression runs over the AWS answer with `--query` and over the
#      template with `jp.py`); then a second run of both that must find nothing to change.
#
#   scripts/check-templates.sh
#
# Exits non-zero on the first failed check. The values the runbook fixes (names,
# thresholds) are asserted by synth's tests; this script checks that what deploys is
# what the template says. Names come from the template, never from this script.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.venv/tools/bin"
checkov="$root/.venv/checkov/bin/checkov"
template="templates/stack.json"
bootstrap_template="templates/bootstrap.json"
stack="outpost-dispatch-callback-check"
bootstrap_stack="outpost-dispatch-bootstrap-check"
aws="$tools/aws"
# shellcheck source=scripts/cloudformation.sh
source "$root/scripts/cloudformation.sh"

step() { printf '\n==> %s\n' "$*"; }
fail() {
  printf 'check-templates: FAILED: %s\n' "$*" >&2
  exit 1
}
# compact JSON with sorted keys, so two documents compare as text
normal() { "$tools/python" -m json.tool --compact --sort-keys; }
# from_template EXPR: EXPR (JMESPath) over the template, as normal JSON
from_template() { "$tools/jp.py" "$1" <"$template" | normal; }
# text EXPR: a string of the template
text() { from_template "$1" | tr -d '"'; }
# same LABEL TEMPLATE_EXPR AWS_ARGS...: the AWS answer (JSON) equals the template's value
same() {
  local label="$1" expr="$2" actual expected
  shift 2
  expected="$(from_template "$expr")"
  actual="$("$tools/aws" "$@" --output json | normal)"
  [[ "$actual" == "$expected" ]] || fail "$label: the template says $expected, AWS has $actual"
  printf '  ok: %s = %s\n' "$label" "$actual"
}

# The checks that need AWS run inside `testkit with-moto`, which re-runs this script
# with --deploy (see the end of the file).
# The code bucket, compared with the bootstrap template. moto 5 applies only a bucket's
# encryption from a template (not its versioning, public access block, ownership
# controls, lifecycle rules or bucket policy), so those are checked on the template, by
# synth's tests, cfn-lint and checkov, and not here.
bucket_checks() {
  local template="$bootstrap_template" bucket="$1"
  "$aws" s3api head-bucket --bucket "$bucket" >/dev/null || fail "bucket $bucket does not exist"
  same "$bucket encryption" "Resources.ArtifactBucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm" \
    s3api get-bucket-encryption --bucket "$bucket" \
    --query 'ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm'
}

deploy_checks() {
  # awscli v1 pins SQS commands to its legacy endpoint and ignores AWS_ENDPOINT_URL for
  # them, so SQS calls name the endpoint explicitly.
  local sqs=(--endpoint-url "$AWS_ENDPOINT_URL")

  step "bootstrap $bootstrap_template as stack $bootstrap_stack (scripts/bootstrap.sh, the path of make bootstrap)"
  local bootstrap=(env BOOTSTRAP_STACK_NAME="$bootstrap_stack" BOOTSTRAP_TEMPLATE="$bootstrap_template" "$root/scripts/bootstrap.sh")
  "${bootstrap[@]}"
  local bucket
  bucket="$(stack_resource "$bootstrap_stack" ArtifactBucket)"
  [[ -n "$bucket" ]] || fail "the bootstrap stack has no bucket"
  bucket_checks "$bucket"

  step "deploy $template as stack $stack (scripts/deploy.sh, the path of make deploy; no ARTIFACT_BUCKET)"
  # moto never runs the code; the release binaries, packed as `make package` packs them,
  # will do.
  local dir zip reconciler_zip
  dir="$(mktemp -d)"
  zip="$("$tools/python" scripts/package.py target/release/bootstrap "$(text Resources.CallbackFunction.Properties.FunctionName)" x86_64 "$dir")"
  reconciler_zip="$("$tools/python" scripts/package.py target/release/reconciler "$(text Resources.ReconcilerFunction.Properties.FunctionName)" x86_64 "$dir")"
  local deploy_env=(STACK_NAME="$stack" BOOTSTRAP_STACK_NAME="$bootstrap_stack" ARCH=x86_64 ZIP="$zip"
    RECONCILER_ZIP="$reconciler_zip")
  local deploy=(env "${deploy_env[@]}" TEMPLATE="$template" "$root/scripts/deploy.sh")
  "${deploy[@]}"
  [[ "$("$aws" cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].StackStatus' --output text)" == CREATE_COMPLETE ]] ||
    fail "stack $stack is not CREATE_COMPLETE"
  local pending
  pending="$("$aws" cloudformation list-stack-resources --stack-name "$stack" \
    --query 'StackResourceSummaries[?ResourceStatus!=`CREATE_COMPLETE`].LogicalResourceId' --output text)"
  [[ -z "$pending" ]] || fail "resources not created: $pending"
  printf '  ok: stack and every resource CREATE_COMPLETE\n'

  step "DynamoDB table (runbook: describe-table)"
  local table
  table="$(text Resources.DispatchTable.Properties.TableName)"
  same "$table key schema" Resources.DispatchTable.Properties.KeySchema \
    dynamodb describe-table --table-name "$table" --query Table.KeySchema
  local indexes='sort_by(@, &IndexName)[].{IndexName: IndexName, KeySchema: KeySchema, ProjectionType: Projection.ProjectionType}'
  same "$table indexes" "Resources.DispatchTable.Properties.GlobalSecondaryIndexes | $indexes" \
    dynamodb describe-table --table-name "$table" --query "Table.GlobalSecondaryIndexes | $indexes"
  same "$table billing mode" Resources.DispatchTable.Properties.BillingMode \
    dynamodb describe-table --table-name "$table" --query Table.BillingModeSummary.BillingMode
  same "$table deletion protection" Resources.DispatchTable.Properties.DeletionProtectionEnabled \
    dynamodb describe-table --table-name "$table" --query Table.DeletionProtectionEnabled

  step "EventBridge rule (runbook: describe-rule, list-targets-by-rule)"
  local rule
  rule="$(text Resources.CompletionRule.Properties.Name)"
  same "$rule state" Resources.CompletionRule.Properties.State \
    events describe-rule --name "$rule" --query State
  same "$rule target retry policy" 'Resources.CompletionRule.Properties.Targets[0].RetryPolicy' \
    events list-targets-by-rule --rule "$rule" --query 'Targets[0].RetryPolicy'

  step "Lambda function (runbook: get-function)"
  local function settings='{Runtime: Runtime, Handler: Handler, MemorySize: MemorySize, Timeout: Timeout}'
  function="$(text Resources.CallbackFunction.Properties.FunctionName)"
  same "$function settings" "Resources.CallbackFunction.Properties.$settings" \
    lambda get-function --function-name "$function" --query "Configuration.$settings"
  same "$function environment variables" 'sort(keys(Resources.CallbackFunction.Properties.Environment.Variables))' \
    lambda get-function --function-name "$function" --query 'sort(keys(Configuration.Environment.Variables))'
  local role
  role="$("$aws" lambda get-function --function-name "$function" --query Configuration.Role --output text)"
  same "$function role's inline policies (runbook: list-role-policies)" 'Resources.CallbackRole.Properties.Policies[].PolicyName' \
    iam list-role-policies --role-name "${role##*/}" --query PolicyNames

  step "reconciler function and its schedule"
  local reconciler schedule
  reconciler="$(text Resources.ReconcilerFunction.Properties.FunctionName)"
  same "$reconciler settings" "Resources.ReconcilerFunction.Properties.$settings" \
    lambda get-function --function-name "$reconciler" --query "Configuration.$settings"
  same "$reconciler environment variables" 'sort(keys(Resources.ReconcilerFunction.Properties.Environment.Variables))' \
    lambda get-function --function-name "$reconciler" --query 'sort(keys(Configuration.Environment.Variables))'
  schedule="$(text Resources.ReconcilerSchedule.Properties.Name)"
  same "$schedule state" Resources.ReconcilerSchedule.Properties.State \
    events describe-rule --name "$schedule" --query State
  [[ "$("$aws" events describe-rule --name "$schedule" --query ScheduleExpression --output text)" == "rate($(text Parameters.ReconcileEveryMinutes.Default) minutes)" ]] ||
    fail "$schedule does not run every $(text Parameters.ReconcileEveryMinutes.Default) minutes"
  printf '  ok: %s runs every %s minutes\n' "$schedule" "$(text Parameters.ReconcileEveryMinutes.Default)"

  step "log group (retention: the parameter's default)"
  local log_group
  log_group="$(text Resources.CallbackLogGroup.Properties.LogGroupName)"
  same "$log_group retention" Parameters.LogRetentionDays.Default \
    logs describe-log-groups --log-group-name-prefix "$log_group" --query 'logGroups[0].retentionInDays'

  step "SQS queues"
  local queue name url
  for queue in CallbackFailureQueue CompletionDeadLetterQueue; do
    name="$(text "Resources.$queue.Properties.QueueName")"
    url="$("$aws" sqs get-queue-url "${sqs[@]}" --queue-name "$name" --query QueueUrl --output text)"
    same "$name retention" "to_string(Resources.$queue.Properties.MessageRetentionPeriod)" \
      sqs get-queue-attributes "${sqs[@]}" --queue-url "$url" --attribute-names All --query Attributes.MessageRetentionPeriod
  done

  step "a second bootstrap and a second deploy of the same templates change nothing"
  local output
  output="$("${bootstrap[@]}" 2>&1)"
  printf '%s\n' "$output" | sed 's/^/  | /'
  [[ "$output" == *"No changes to deploy"* ]] || fail "the second bootstrap did not report 'No changes to deploy'"
  output="$("${deploy[@]}" 2>&1)"
  printf '%s\n' "$output" | sed 's/^/  | /'
  [[ "$output" == *"already uploaded"* ]] || fail "the second deploy uploaded the unchanged code again"
  [[ "$output" == *"No changes to deploy"* ]] || fail "the second deploy did not report 'No changes to deploy'"
  printf '  ok: code not uploaded again; no changes to deploy\n'

  # A change that would drop the table and the queues: the system stack given the
  # bootstrap template (moto's change sets carry no replacement data, so a removal is
  # the dangerous change moto can show; replacements are tested on AWS-shaped answers in
  # synth's change_set tests).
  step "make plan shows a change that removes data, flags it, and changes nothing"
  local before after status=0
  before="$("$aws" cloudformation list-stack-resources --stack-name "$stack" --query 'length(StackResourceSummaries)')"
  output="$(env STACK_NAME="$stack" TEMPLATE="$bootstrap_template" "$root/scripts/plan.sh" 2>&1)" || status=$?
  printf '%s\n' "$output" | sed 's/^/  | /'
  [[ $status -eq 1 ]] || fail "plan exited $status, not 1, for a change that removes the table"
  [[ "$output" == *"Remove  DispatchTable"*"AWS::DynamoDB::Table"*"!"* ]] || fail "the plan does not flag the table's removal"
  # moto lists executed change sets too, and other stacks' (AWS deletes them on execution).
  [[ "$("$aws" cloudformation list-change-sets --stack-name "$stack" \
    --query "length(Summaries[?StackName=='$stack' && ExecutionStatus=='AVAILABLE'])")" == 0 ]] ||
    fail "the plan left its change set behind"
  after="$("$aws" cloudformation list-stack-resources --stack-name "$stack" --query 'length(StackResourceSummaries)')"
  [[ "$before" == "$after" ]] || fail "the plan changed the stack ($before resources, now $after)"
  printf '  ok: exit 1, the removal flagged, the change set deleted, the stack unchanged\n'

  step "make deploy refuses the same change without YES=1"
  status=0
  output="$(env "${deploy_env[@]}" TEMPLATE="$bootstrap_template" "$root/scripts/deploy.sh" </dev/null 2>&1)" || status=$?
  printf '%s\n' "$output" | sed 's/^/  | /'
  [[ $status -eq 1 && "$output" == *"not executed"*"YES=1"* ]] || fail "deploy did not refuse (exit $status)"
  after="$("$aws" cloudformation list-stack-resources --stack-name "$stack" --query 'length(StackResourceSummaries)')"
  [[ "$before" == "$after" ]] || fail "the refused deploy changed the stack"
  printf '  ok: refused, the stack unchanged\n'

  # moto has no IMPORT change sets: the adoption's pre-checks run for real against the
  # resources deployed above (they carry the runbook's names), the documents are
  # generated, and every command that would change the account is printed, not run.
  step "make adopt, dry run: pre-checks, the import documents, the commands"
  local adopted="outpost-dispatch-adopt-check"
  # moto does not apply the template's point-in-time recovery, which lets the pre-check
  # be seen refusing a table without it; then it is turned on as the message says.
  status=0
  output="$(env STACK_NAME="$adopted" DRY_RUN=1 "$root/scripts/adopt.sh" </dev/null 2>&1)" || status=$?
  [[ $status -eq 1 && "$output" == *"point-in-time recovery is DISABLED"* ]] ||
    fail "adopt did not refuse a table without point-in-time recovery (exit $status)"
  printf '  ok: refused a table without point-in-time recovery\n'
  "$aws" dynamodb update-continuous-backups --table-name "$(text Resources.DispatchTable.Properties.TableName)" \
    --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true >/dev/null
  status=0
  output="$(env STACK_NAME="$adopted" DRY_RUN=1 "$root/scripts/adopt.sh" </dev/null 2>&1)" || status=$?
  printf '%s\n' "$output" | sed 's/^/  | /'
  [[ $status -eq 0 ]] || fail "the adoption's dry run failed (exit $status)"
  [[ "$output" == *"point-in-time recovery ENABLED"* ]] || fail "the dry run did not check point-in-time recovery"
  [[ "$output" == *"would run:"*"create-change-set"*"--change-set-type IMPORT"* ]] || fail "the dry run does not import"
  [[ "$output" == *"would run:"*"lambda delete-function"* ]] || fail "the dry run does not retire the old function"
  "$aws" cloudformation describe-stacks --stack-name "$adopted" >/dev/null 2>&1 && fail "the dry run created a stack"
  printf '  ok: pre-checks passed, the import and the retirement printed, nothing created\n'

  step "make adopt refuses a stack that exists, before anything else"
  status=0
  output="$(env STACK_NAME="$stack" DRY_RUN=1 "$root/scripts/adopt.sh" </dev/null 2>&1)" || status=$?
  [[ $status -eq 1 && "$output" == *"already exists"* ]] || fail "adopt did not refuse an existing stack (exit $status)"
  printf '  ok: refused: %s\n' "$(tail -n 1 <<<"$output")"
}

cd "$root"
if [[ "${1:-}" == "--deploy" ]]; then
  deploy_checks
  exit 0
fi

for file in "$template" "$bootstrap_template"; do
  [[ -f "$file" ]] || fail "$file is missing; run 'make templates'"
done
for tool in "$tools/cfn-lint" "$tools/aws" "$tools/jp.py" "$checkov" target/debug/testkit target/release/bootstrap target/release/reconciler; do
  [[ -x "$tool" ]] || fail "$tool is missing; run 'make tools build'"
done

step "synth diff's table of create-only properties is the one cfn-lint's schemas give"
"$tools/python" scripts/create_only_properties.py --check

for file in "$template" "$bootstrap_template"; do
  step "cfn-lint $file (errors and warnings fail)"
  "$tools/cfn-lint" --non-zero-exit-code warning -- "$file"
  printf '  ok: no errors, no warnings\n'

  step "checkov $file"
  # --skip-download: checkov would otherwise try to reach Prisma Cloud for guidelines.
  "$checkov" -f "$file" --framework cloudformation --quiet --compact --skip-download
done

step "deploy into moto"
target/debug/testkit with-moto "$root/scripts/check-templates.sh" --deploy

step "all template checks passed"
