#!/usr/bin/env bash
# Adopts the system that runs today (the runbook's table `outpost-dispatches`, log group
# `/aws/lambda/outpost-dispatch-callback`, rule `outpost-dispatch-completion` and the
# Node.js function `outpost-dispatch-callback`) into this repository's stack, without
# deleting or copying a record:
#
#   1. pre-checks, read-only: the stack does not exist yet; the table's key schema and
#      indexes match the template's, and point-in-time recovery is on; the log group and
#      the rule exist; the old function is found;
#   2. an IMPORT change set brings the table, the log group and the rule into the stack,
#      each retained (dist/adopt/import-template.json, dist/adopt/resources-to-import.json,
#      written by `synth adopt`);
#   3. the old function is retired: its configuration and code are saved under
#      dist/adopt/old-function/ (for a rollback), then it is deleted, which frees its name;
#   4. a normal deploy (scripts/deploy.sh) brings the imported resources to the template's
#      configuration, creates our function, queues, alarms and reconciler, and points the
#      rule at our function;
#   5. a test dispatch is settled end to end through the deployed function, then removed.
#
# Stopped tasks whose events arrive between 3 and 4 (the deploy takes minutes) find no
# function; the reconciler, deployed in 4, settles them on its first runs. README.md
# ("Adopting the running system") has the rollback.
#
#   DRY_RUN=1 scripts/adopt.sh   the pre-checks and the documents; prints every other
#                                command instead of running it
#   scripts/adopt.sh             (what `make adopt` runs) asks before steps 2 to 5
#
# Settings: STACK_NAME (default outpost-dispatch-callback), YES=1 (do not ask), and
# everything scripts/deploy.sh reads (ARTIFACT_BUCKET, ARCH, CLUSTER_ARN, ...).
#
# The import describes the resources as they exist (names, keys, indexes, billing mode);
# CloudFormation changes nothing on import and compares templates afterwards, so the
# deploy in 4 applies everything else: deletion protection, point-in-time recovery,
# retention, the rule's state, retry policy and targets, and our event pattern in place
# of the running one (which the import template carries, a rule needing one).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tools="$root/.venv/tools/bin"
aws="${AWS_CLI:-$tools/aws}"
# shellcheck source=scripts/cloudformation.sh
source scripts/cloudformation.sh
stack="${STACK_NAME:-outpost-dispatch-callback}"
dry_run="${DRY_RUN:-}"
dir=dist/adopt
template=templates/stack.json

step() { printf '\n==> %s\n' "$*"; }
fail() {
  printf 'adopt: %s\n' "$*" >&2
  exit 1
}
# text EXPR: a string of the template (names come from the template, never from here)
text() { "$tools/jp.py" "$1" <"$template" | tr -d '"'; }
normal() { "$tools/python" -m json.tool --compact --sort-keys; }
# run COMMAND...: runs it, or with DRY_RUN=1 prints it
run() {
  if [[ -n "$dry_run" ]]; then
    printf '    would run:'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}
# confirm WHAT: asks before a step that changes the account (YES=1 or DRY_RUN=1: no)
confirm() {
  [[ -n "$dry_run" || "${YES:-}" == 1 ]] && return 0
  local answer=""
  if [[ -t 0 ]]; then read -r -p "    $1 Type yes to go on: " answer || true; fi
  [[ "$answer" == yes ]] || fail "stopped before: $1 (nothing after this was done; YES=1 skips the questions)"
}

table="$(text Resources.DispatchTable.Properties.TableName)"
log_group="$(text Resources.CallbackLogGroup.Properties.LogGroupName)"
rule="$(text Resources.CompletionRule.Properties.Name)"
function="$(text Resources.CallbackFunction.Properties.FunctionName)"

step "1. pre-checks (read-only)"
state="$(stack_state "$stack")"
[[ -z "$state" ]] || fail "stack $stack already exists ($state): the system is adopted or deployed already (use make deploy)"
printf '  ok: no stack %s yet\n' "$stack"
"$aws" dynamodb describe-table --table-name "$table" >/dev/null 2>&1 || fail "table $table does not exist"
expected="$("$tools/jp.py" Resources.DispatchTable.Properties.KeySchema <"$template" | normal)"
actual="$("$aws" dynamodb describe-table --table-name "$table" --query Table.KeySchema --output json | normal)"
[[ "$actual" == "$expected" ]] || fail "table $table has the key $actual, the template $expected: an import cannot change a key"
printf '  ok: %s key schema %s\n' "$table" "$actual"
indexes='sort_by(@, &IndexName)[].{IndexName: IndexName, KeySchema: KeySchema}'
expected="$("$tools/jp.py" "Resources.DispatchTable.Properties.GlobalSecondaryIndexes | $indexes" <"$template" | normal)"
actual="$("$aws" dynamodb describe-table --table-name "$table" --query "Table.GlobalSecondaryIndexes | $indexes" --output json | normal)"
[[ "$actual" == "$expected" ]] || fail "table $table has the indexes $actual, the template $expected"
printf '  ok: %s indexes %s\n' "$table" "$actual"
expected="$(text Resources.DispatchTable.Properties.BillingMode)"
actual="$("$aws" dynamodb describe-table --table-name "$table" --query Table.BillingModeSummary.BillingMode --output text)"
# A table created on demand before billing-mode summaries existed reports none.
[[ "$actual" == "$expected" || ( "$actual" == None && "$expected" == PROVISIONED ) ]] ||
  fail "table $table bills $actual, the template $expected: change one of them first"
printf '  ok: %s billing mode %s\n' "$table" "$actual"
pitr="$("$aws" dynamodb describe-continuous-backups --table-name "$table" --output text \
  --query ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus)"
[[ "$pitr" == ENABLED ]] ||
  fail "point-in-time recovery is $pitr on $table; turn it on first: aws dynamodb update-continuous-backups --table-name $table --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true"
printf '  ok: %s point-in-time recovery ENABLED\n' "$table"
"$aws" logs describe-log-groups --log-group-name-prefix "$log_group" --query 'logGroups[0].logGroupName' --output text |
  grep -qx -- "$log_group" || fail "log group $log_group does not exist"
printf '  ok: log group %s\n' "$log_group"
rule_arn="$("$aws" events describe-rule --name "$rule" --query Arn --output text 2>/dev/null)" || fail "rule $rule does not exist"
printf '  ok: rule %s, targets: %s\n' "$rule" \
  "$("$aws" events list-targets-by-rule --rule "$rule" --query 'Targets[].[Id, Arn]' --output text | tr '\t\n' ' ,')"
old_runtime=""
if ! old_runtime="$("$aws" lambda get-function-configuration --function-name "$function" --query Runtime --output text 2>&1)"; then
  # Only a function that is not there is nothing to retire; anything else (a denied or
  # throttled call) must not let the import go ahead and the deploy fail on its name.
  [[ "$old_runtime" == *ResourceNotFoundException* ]] || fail "cannot read function $function: $old_runtime"
  old_runtime=""
fi
if [[ -n "$old_runtime" ]]; then
  printf '  ok: old function %s (%s) will be retired\n' "$function" "$old_runtime"
else
  printf '  ok: no function %s: nothing to retire\n' "$function"
fi

step "the import documents (synth adopt)"
mkdir -p "$dir/old-function"
pattern="$("$aws" events describe-rule --name "$rule" --query EventPattern --output text)"
cargo run --locked -q -p synth -- adopt --out-dir "$dir" --rule-arn "$rule_arn" --rule-event-pattern "$pattern"
"$tools/cfn-lint" --non-zero-exit-code warning -- "$dir/import-template.json"
printf '  %s\n' "$dir/import-template.json" "$dir/resources-to-import.json"
sed 's/^/    /' "$dir/resources-to-import.json"

step "2. import the table, the log group and the rule into stack $stack (retained)"
confirm "Import them with an IMPORT change set?"
change_set="adopt-$(date -u +%Y%m%d%H%M%S)"
run "$aws" cloudformation create-change-set --stack-name "$stack" --change-set-name "$change_set" \
  --change-set-type IMPORT --template-body "file://$dir/import-template.json" \
  --resources-to-import "file://$dir/resources-to-import.json"
run "$aws" cloudformation wait change-set-create-complete --stack-name "$stack" --change-set-name "$change_set"
if [[ -z "$dry_run" ]]; then
  CHANGE_SET="$("$aws" cloudformation describe-change-set --stack-name "$stack" --change-set-name "$change_set" --query ChangeSetId --output text)"
  cfn_show_change_set || true
fi
run "$aws" cloudformation execute-change-set --stack-name "$stack" --change-set-name "$change_set"
run "$aws" cloudformation wait stack-import-complete --stack-name "$stack"

step "3. retire the old function $function (saved to $dir/old-function/ first)"
if [[ -n "$old_runtime" ]]; then
  confirm "Delete the old function $function (its code and configuration are saved first)?"
  "$aws" lambda get-function-configuration --function-name "$function" --output json >"$dir/old-function/configuration.json"
  code_url="$("$aws" lambda get-function --function-name "$function" --query Code.Location --output text)"
  run curl -fsS -o "$dir/old-function/code.zip" "$code_url"
  run "$aws" lambda delete-function --function-name "$function"
fi

step "4. deploy the stack (scripts/deploy.sh)"
confirm "Deploy the whole stack now?"
run env STACK_NAME="$stack" scripts/deploy.sh

step "5. a test dispatch settled end to end"
confirm "Put a test dispatch in $table, settle it through the deployed function, then delete it?"
dispatch="adopt-check-$(date -u +%Y%m%d%H%M%S)"
task="arn:aws:ecs:${AWS_REGION:-us-east-1}:000000000000:task/adopt-check/$dispatch"
item="{\"dispatchId\":{\"S\":\"$dispatch\"},\"status\":{\"S\":\"RUNNING\"},\"taskArn\":{\"S\":\"$task\"},\"createdAt\":{\"S\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}}"
sed -e "s|@DISPATCH_ID@|$dispatch|g" -e "s|@TASK_ARN@|$task|g" examples/adopt/stopped-event.json >"$dir/check-event.json"
run "$aws" dynamodb put-item --table-name "$table" --item "$item"
run "$aws" lambda invoke --function-name "$function" --cli-binary-format raw-in-base64-out \
  --payload "file://$dir/check-event.json" "$dir/check-response.json"
if [[ -z "$dry_run" ]]; then
  status="$("$aws" dynamodb get-item --table-name "$table" --consistent-read \
    --key "{\"dispatchId\":{\"S\":\"$dispatch\"}}" --query Item.status.S --output text)"
  "$aws" dynamodb delete-item --table-name "$table" --key "{\"dispatchId\":{\"S\":\"$dispatch\"}}"
  [[ "$status" == COMPLETED ]] || fail "the test dispatch ended $status, not COMPLETED: see $dir/check-response.json"
  printf '  ok: %s settled COMPLETED by the deployed function, and removed\n' "$dispatch"
else
  run "$aws" dynamodb delete-item --table-name "$table" --key "{\"dispatchId\":{\"S\":\"$dispatch\"}}"
fi

step "adopted${dry_run:+ (dry run: nothing was changed)}"
