#!/usr/bin/env bash
# Checks the committed CloudFormation templates (templates/stack.json and stack.yaml):
#
#   1. cfn-lint: no errors and no warnings;
#   2. checkov: no failed checks (deliberate exceptions are skipped, with a reason, in
#      the resource's Metadata);
#   3. a deploy into moto (our local AWS) with the AWS CLI, then the runbook's own
#      read-only commands against what was deployed, then a second deploy that must
#      find nothing to change.
#
#   scripts/check-templates.sh
#
# Exits non-zero on the first failed check. The templates are rendered by `make
# templates`; `cargo test -p synth` checks that they are fresh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.venv/tools/bin"
checkov="$root/.venv/checkov/bin/checkov"
json="templates/stack.json"
yaml="templates/stack.yaml"
stack="outpost-dispatch-callback"
bucket="outpost-dispatch-callback-artifacts"

step() { printf '\n==> %s\n' "$*"; }
ok() { printf '  ok: %s\n' "$*"; }
note() { printf '  note: %s\n' "$*"; }
fail() {
  printf 'check-templates: FAILED: %s\n' "$*" >&2
  exit 1
}
# expect LABEL EXPECTED ACTUAL
expect() {
  if [[ "$2" == "$3" ]]; then ok "$1 = $2"; else fail "$1: expected '$2', got '$3'"; fi
}

# The checks that need AWS run inside scripts/with-moto.sh, which re-runs this script
# with --deploy (see the end of the file).
deploy_checks() {
  local aws="$tools/aws" python="$tools/python"
  # awscli v1 pins SQS commands to its legacy endpoint and ignores AWS_ENDPOINT_URL for
  # them, so SQS calls name the endpoint explicitly when one is set.
  local sqs_endpoint=()
  if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then sqs_endpoint=(--endpoint-url "$AWS_ENDPOINT_URL"); fi

  step "deploy $json as stack $stack (scripts/deploy.sh, the path of make deploy)"
  local zip
  zip="$(mktemp -d)/bootstrap.zip"
  # The code is never run by moto; any zip holding a bootstrap file will do.
  "$python" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("bootstrap", "#!/bin/sh\n")' "$zip"
  "$aws" s3api create-bucket --bucket "$bucket" >/dev/null
  local deploy=(env STACK_NAME="$stack" ARTIFACT_BUCKET="$bucket" ARCH=arm64 ZIP="$zip" TEMPLATE="$json"
    "$root/scripts/deploy.sh")
  "${deploy[@]}"
  expect "stack status" "CREATE_COMPLETE" \
    "$("$aws" cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].StackStatus' --output text)"

  step "DynamoDB table outpost-dispatches"
  local table
  table="$("$aws" dynamodb describe-table --table-name outpost-dispatches --output json)"
  # query EXPR [ARG]: prints the Python expression EXPR evaluated with `t` bound to the
  # JSON document on standard input (and ARG as sys.argv[2]).
  query() { "$python" -c 'import json, sys; print(eval(sys.argv[1], {"t": json.load(sys.stdin), "json": json, "sys": sys}))' "$@"; }
  expect "billing mode" "PAY_PER_REQUEST" "$(query 't["Table"]["BillingModeSummary"]["BillingMode"]' <<<"$table")"
  expect "key schema" "dispatchId:HASH" \
    "$(query '" ".join(k["AttributeName"] + ":" + k["KeyType"] for k in t["Table"]["KeySchema"])' <<<"$table")"
  expect "GSIs and their key schemas" \
    "status-createdAt-index=status:HASH,createdAt:RANGE task_arn-index=taskArn:HASH" \
    "$(query '" ".join(sorted(i["IndexName"] + "=" + ",".join(k["AttributeName"] + ":" + k["KeyType"] for k in i["KeySchema"]) for i in t["Table"]["GlobalSecondaryIndexes"]))' <<<"$table")"
  expect "deletion protection" "True" "$(query 't["Table"]["DeletionProtectionEnabled"]' <<<"$table")"

  step "EventBridge rule outpost-dispatch-completion (runbook: describe-rule)"
  local rule
  rule="$("$aws" events describe-rule --name outpost-dispatch-completion --output json)"
  expect "state" "ENABLED" "$(query 't["State"]' <<<"$rule")"
  expect "event pattern" \
    '{"detail": {"clusterArn": ["arn:aws:ecs:us-east-1:123456789012:cluster/outpost-dev"], "lastStatus": ["STOPPED"]}, "detail-type": ["ECS Task State Change"], "source": ["aws.ecs"]}' \
    "$(query 'json.dumps(json.loads(t["EventPattern"]), sort_keys=True)' <<<"$rule" | sed 's/[0-9]\{12\}/123456789012/')"
  local targets
  targets="$("$aws" events list-targets-by-rule --rule outpost-dispatch-completion --output json)"
  expect "target" "arn:aws:lambda:us-east-1:123456789012:function:outpost-dispatch-callback" \
    "$(query 't["Targets"][0]["Arn"]' <<<"$targets" | sed 's/[0-9]\{12\}/123456789012/')"
  expect "target retry policy" "185/86400" \
    "$(query '"%(MaximumRetryAttempts)s/%(MaximumEventAgeInSeconds)s" % t["Targets"][0]["RetryPolicy"]' <<<"$targets")"
  expect "target dead-letter queue" "outpost-dispatch-completion-dlq" \
    "$(query 't["Targets"][0]["DeadLetterConfig"]["Arn"].split(":")[-1]' <<<"$targets")"

  step "Lambda function outpost-dispatch-callback (runbook: get-function)"
  expect "runtime/handler/memory/timeout" "provided.al2023 bootstrap 256 30" \
    "$("$aws" lambda get-function --function-name outpost-dispatch-callback \
      --query 'join(`" "`, [Configuration.Runtime, Configuration.Handler, to_string(Configuration.MemorySize), to_string(Configuration.Timeout)])' \
      --output text)"
  expect "environment" "METRICS_SINK=emf TABLE_NAME=outpost-dispatches TASK_ARN_INDEX=task_arn-index WORKER_CONTAINER=worker" \
    "$("$aws" lambda get-function-configuration --function-name outpost-dispatch-callback --output json |
      query '" ".join(k + "=" + v for k, v in sorted(t["Environment"]["Variables"].items()))')"
  local policy
  policy="$("$aws" lambda get-policy --function-name outpost-dispatch-callback --query Policy --output text)"
  expect "invoke permission (principal, action, source is the rule)" "events.amazonaws.com lambda:InvokeFunction True" \
    "$(query '" ".join(str(x) for x in [t["Statement"][0]["Principal"]["Service"], t["Statement"][0]["Action"], any(v.endswith(":rule/outpost-dispatch-completion") for c in t["Statement"][0]["Condition"].values() for v in c.values())])' <<<"$policy")"
  local role
  role="$("$aws" lambda get-function --function-name outpost-dispatch-callback --query 'Configuration.Role' --output text | sed 's/.*\///')"
  expect "execution role inline policies (runbook: list-role-policies)" "outpost-dispatch-callback" \
    "$("$aws" iam list-role-policies --role-name "$role" --query 'PolicyNames[0]' --output text)"

  step "log group /aws/lambda/outpost-dispatch-callback"
  expect "retention in days" "30" \
    "$("$aws" logs describe-log-groups --log-group-name-prefix /aws/lambda/outpost-dispatch-callback \
      --query 'logGroups[0].retentionInDays' --output text)"

  step "SQS queues"
  local name url
  for name in outpost-dispatch-callback-failures outpost-dispatch-completion-dlq; do
    url="$("$aws" sqs get-queue-url "${sqs_endpoint[@]}" --queue-name "$name" --query QueueUrl --output text)"
    expect "$name retention/encryption" "1209600 true" \
      "$("$aws" sqs get-queue-attributes "${sqs_endpoint[@]}" --queue-url "$url" --attribute-names All \
        --query 'join(`" "`, [Attributes.MessageRetentionPeriod, Attributes.SqsManagedSseEnabled])' --output text)"
  done

  step "alarms (runbook section 3)"
  # moto's CloudFormation does not create AWS::CloudWatch::Alarm resources. Where the
  # alarms do not exist, their definitions are read from the template the stack was
  # deployed with instead, so the runbook's values are still checked end to end.
  local alarms source
  alarms="$("$aws" cloudwatch describe-alarms --alarm-name-prefix outpost-dispatch-callback- --output json)"
  source="describe-alarms"
  if [[ "$(query 'len(t["MetricAlarms"])' <<<"$alarms")" == "0" ]]; then
    note "no alarms exist (moto does not implement AWS::CloudWatch::Alarm in CloudFormation);"
    note "checking the alarms of the deployed stack's template (get-template) instead"
    alarms="$("$aws" cloudformation get-template --stack-name "$stack" --output json |
      query 'json.dumps({"MetricAlarms": [r["Properties"] for r in (json.loads(t["TemplateBody"]) if isinstance(t["TemplateBody"], str) else t["TemplateBody"])["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]})')"
    source="get-template"
  fi
  local alarm fields
  # Name, namespace, metric, dimension, statistic, period, evaluation periods, threshold,
  # comparison, missing data: exactly the runbook's YAML.
  for alarm in \
    "outpost-dispatch-callback-errors AWS/Lambda Errors FunctionName Sum 300 1 0 GreaterThanThreshold notBreaching" \
    "outpost-dispatch-callback-duration AWS/Lambda Duration FunctionName p95 300 2 500 GreaterThanThreshold notBreaching" \
    "outpost-dispatch-callback-throttles AWS/Lambda Throttles FunctionName Sum 60 1 0 GreaterThanThreshold notBreaching"; do
    fields="$(query '" ".join(str(x) for x in next(([a["AlarmName"], a["Namespace"], a["MetricName"], a["Dimensions"][0]["Name"], a.get("Statistic") or a.get("ExtendedStatistic"), a["Period"], a["EvaluationPeriods"], int(float(a["Threshold"])), a["ComparisonOperator"], a["TreatMissingData"]] for a in t["MetricAlarms"] if a["AlarmName"] == sys.argv[2]), ["missing"]))' "${alarm%% *}" <<<"$alarms")"
    expect "${alarm%% *} ($source)" "$alarm" "$fields"
  done

  step "second deploy of the same template changes nothing"
  local output
  output="$("${deploy[@]}" 2>&1)"
  printf '%s\n' "$output" | sed 's/^/  | /'
  [[ "$output" == *"already uploaded"* ]] || fail "the second deploy uploaded the unchanged code again"
  [[ "$output" == *"No changes to deploy"* ]] || fail "the second deploy did not report 'No changes to deploy'"
  ok "code not uploaded again; no changes to deploy"
}

cd "$root"
if [[ "${1:-}" == "--deploy" ]]; then
  deploy_checks
  exit 0
fi

for file in "$json" "$yaml"; do
  [[ -f "$file" ]] || fail "$file is missing; run 'make templates'"
done
for tool in "$tools/cfn-lint" "$tools/aws" "$checkov"; do
  [[ -x "$tool" ]] || fail "$tool is missing; run 'make tools'"
done

step "cfn-lint $json $yaml (errors and warnings fail)"
"$tools/cfn-lint" --non-zero-exit-code warning -- "$json" "$yaml"
ok "no errors, no warnings"

for file in "$json" "$yaml"; do
  step "checkov $file"
  # --skip-download: checkov would otherwise try to reach Prisma Cloud for guidelines.
  "$checkov" -f "$file" --framework cloudformation --quiet --compact --skip-download
done

step "deploy into moto"
"$root/scripts/with-moto.sh" "$root/scripts/check-templates.sh" --deploy

step "all template checks passed"
