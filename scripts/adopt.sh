#!/usr/bin/env bash
# Adopts the system that runs today (the runbook's table, log group, rule and Node.js
# function, under the names `synth names` prints) into this repository's stack, without
# deleting or copying a record:
#
#   1. pre-checks, read-only: the stack does not exist yet; the table is the template's
#      (`synth adopt check`: key schema, key attribute types, both indexes with their keys
#      and projections, billing mode) and point-in-time recovery is on; the log group and
#      the rule exist; the old function is found;
#   2. an IMPORT change set brings the table, the log group and the rule into the stack,
#      each retained (dist/adopt/import-template.json, dist/adopt/resources-to-import.json,
#      written by `synth adopt`);
#   3. the old function is retired: its configuration and code are saved under
#      dist/adopt/old-function/ (for a rollback), then it is deleted, which frees its name;
#   4. a normal deploy (scripts/deploy.sh) brings the imported resources to the template's
#      configuration, creates our function, queues, alarms and reconciler, and points the
#      rule at our function;
#   5. a test dispatch (its record from `synth adopt test-record`) is settled end to end
#      through the deployed function, judged by `synth adopt test-settled`, then removed.
#
# Stopped tasks whose events arrive between 3 and 4 (the deploy takes minutes) find no
# function; the reconciler, deployed in 4, settles them on its first runs. README.md
# ("Adopting the running system") has the rollback.
#
#   DRY_RUN=1 scripts/adopt.sh   the pre-checks and the documents; prints every other
#                                command instead of running it
#   scripts/adopt.sh             (what `make adopt` runs) asks before steps 2 to 5
#   CHECK_ONLY=1 scripts/adopt.sh
#                                step 5 alone, against the stack deployed already: the
#                                check again once whatever failed it is mended (the whole
#                                script cannot run twice: step 1 refuses a stack that exists)
#
# Settings: STACK_NAME (default: `synth names stack`), YES=1 (do not ask), CHECK_ONLY=1, and
# everything scripts/deploy.sh reads (ARTIFACT_BUCKET, ARCH, CLUSTER_ARN, ...).
#
# This script is glue: AWS CLI calls and the files between them. What is compared, what a
# record holds and what counts as settled are decided in Rust (synth/src/adopt/), with the
# contract's names.
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
dry_run="${DRY_RUN:-}"
dir=dist/adopt

step() { printf '\n==> %s\n' "$*"; }
fail() {
  printf 'adopt: %s\n' "$*" >&2
  exit 1
}
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

# Every name comes from synth (the contract and the template), never from this script.
names="$(synth names stack table log-group rule function)"
{ read -r default_stack; read -r table; read -r log_group; read -r rule; read -r function; } <<<"$names"
stack="${STACK_NAME:-$default_stack}"
check_only="${CHECK_ONLY:-}"

# 1. Read-only: anything wrong stops the adoption before it changes anything.
prechecks() {
  step "1. pre-checks (read-only)"
  state="$(stack_state "$stack")"
  [[ -z "$state" ]] || fail "stack $stack already exists ($state): the system is adopted or deployed already (use make deploy)"
  printf '  ok: no stack %s yet\n' "$stack"
  mkdir -p "$dir/old-function"
  "$aws" dynamodb describe-table --table-name "$table" --output json >"$dir/table.json" ||
    fail "cannot read table $table (see above)"
  "$aws" dynamodb describe-continuous-backups --table-name "$table" --output json >"$dir/continuous-backups.json" ||
    fail "cannot read the continuous backups of $table (see above)"
  # Exits 1, listing every difference, unless the table is the template's with recovery on.
  synth adopt check --table "$dir/table.json" --continuous-backups "$dir/continuous-backups.json"
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
}

# The import template and the resources to import, written by synth and linted.
import_documents() {
  step "the import documents (synth adopt)"
  pattern="$("$aws" events describe-rule --name "$rule" --query EventPattern --output text)"
  synth adopt --out-dir "$dir" --rule-arn "$rule_arn" --rule-event-pattern "$pattern"
  "$tools/cfn-lint" --non-zero-exit-code warning -- "$dir/import-template.json"
  printf '  %s\n' "$dir/import-template.json" "$dir/resources-to-import.json"
  sed 's/^/    /' "$dir/resources-to-import.json"
}

# 2. CloudFormation takes the three over as they are; nothing about them changes.
import_resources() {
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
}

# 3. The old function holds the name ours deploys under; it is saved before it goes.
retire_old_function() {
  step "3. retire the old function $function (saved to $dir/old-function/ first)"
  if [[ -n "$old_runtime" ]]; then
    confirm "Delete the old function $function (its code and configuration are saved first)?"
    "$aws" lambda get-function-configuration --function-name "$function" --output json >"$dir/old-function/configuration.json"
    code_url="$("$aws" lambda get-function --function-name "$function" --query Code.Location --output text)"
    run curl -fsS -o "$dir/old-function/code.zip" "$code_url"
    run "$aws" lambda delete-function --function-name "$function"
  fi
}

# 4. The deploy of any day, now over the imported resources.
deploy_stack() {
  step "4. deploy the stack (scripts/deploy.sh)"
  confirm "Deploy the whole stack now?"
  run env STACK_NAME="$stack" scripts/deploy.sh
}

# 5. Through the deployed function, as ECS would stop a task; the record it puts is removed
# on every exit path.
check_end_to_end() {
  step "5. a test dispatch settled end to end"
  mkdir -p "$dir"
  confirm "Put a test dispatch in $table, settle it through the deployed function, then delete it?"
  dispatch="adopt-check-$(date -u +%Y%m%d%H%M%S)"
  task="arn:aws:ecs:${AWS_REGION:-us-east-1}:000000000000:task/adopt-check/$dispatch"
  synth adopt test-record --dispatch-id "$dispatch" --task-arn "$task" \
    --created-at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$dir/check-item.json"
  synth adopt test-record --dispatch-id "$dispatch" --key >"$dir/check-key.json"
  sed -e "s|@DISPATCH_ID@|$dispatch|g" -e "s|@TASK_ARN@|$task|g" examples/adopt/stopped-event.json >"$dir/check-event.json"
  # The test record leaves the production table whatever happens next (a failed invoke, a
  # refused check, Ctrl-C): the trap deletes it on every exit path.
  remove_test_record() {
    "$aws" dynamodb delete-item --table-name "$table" --key "file://$dir/check-key.json" &&
      printf '  ok: test record %s removed\n' "$dispatch"
  }
  if [[ -z "$dry_run" ]]; then
    trap remove_test_record EXIT
    trap 'exit 130' INT TERM HUP
  fi
  run "$aws" dynamodb put-item --table-name "$table" --item "file://$dir/check-item.json"
  # fileb:// hands the event over as its bytes in AWS CLI v1 (pinned here) and v2 alike; v2's
  # --cli-binary-format is an unknown option to v1.
  run "$aws" lambda invoke --function-name "$function" \
    --payload "fileb://$dir/check-event.json" "$dir/check-response.json"
  if [[ -z "$dry_run" ]]; then
    "$aws" dynamodb get-item --table-name "$table" --consistent-read \
      --key "file://$dir/check-key.json" --output json >"$dir/check-record.json"
    synth adopt test-settled --item "$dir/check-record.json" || fail "see $dir/check-response.json"
  else
    run "$aws" dynamodb delete-item --table-name "$table" --key "file://$dir/check-key.json"
  fi
}

if [[ -n "$check_only" ]]; then
  state="$(stack_state "$stack")"
  [[ -n "$state" ]] || fail "no stack $stack: CHECK_ONLY=1 checks a stack adopted or deployed already"
  printf '  stack %s: %s; step 5 alone (CHECK_ONLY=1)\n' "$stack" "$state"
else
  prechecks
  import_documents
  import_resources
  retire_old_function
  deploy_stack
fi
check_end_to_end

outcome="adopted"
[[ -z "$check_only" ]] || outcome="checked"
step "$outcome${dry_run:+ (dry run: nothing was changed)}"
