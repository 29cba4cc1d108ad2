# shellcheck shell=bash
# Shell helpers for the scripts that deploy and read stacks; sourced, never run.
# They use "$aws" (the AWS CLI) and "$root" (the repository) from the sourcing script.
# shellcheck disable=SC2154 # $aws and $root are the sourcing script's

# A failure inside $(...) stops the script too (bash turns errexit off there otherwise),
# so a failed synth or upload can never hand on a stale file or key.
shopt -s inherit_errexit 2>/dev/null || true

# synth ARGS...: the `synth` command, built from source. Every name a script uses and
# every decision it acts on comes from it (`synth names`, `synth adopt check`, ...), so
# no script spells a stack, an attribute or a status.
synth() {
  (cd "$root" && cargo run --locked -q -p synth -- "$@")
}

# template_file WHICH GIVEN: GIVEN if set, else the `stack` or `bootstrap` template
# synthesized from source into dist/WHICH.json; prints the path.
template_file() {
  local which="$1" given="$2"
  if [[ -n "$given" ]]; then
    printf '%s' "$given"
    return
  fi
  echo "==> $which template (synthesized from source)" >&2
  mkdir -p "$root/dist"
  synth "$which" --out "dist/$which.json" || return
  printf '%s' "$root/dist/$which.json"
}

# artifact_bucket: the bucket for code and large templates: ARTIFACT_BUCKET, or the
# bootstrap stack's (make bootstrap); prints its name, or explains and fails.
artifact_bucket() {
  local bucket="${ARTIFACT_BUCKET:-}" bootstrap
  if [[ -z "$bucket" ]]; then
    bootstrap="${BOOTSTRAP_STACK_NAME:-$(synth names bootstrap-stack)}"
    bucket="$(stack_output "$bootstrap" ArtifactBucketName || true)"
    [[ -n "$bucket" ]] || bucket="$(stack_resource "$bootstrap" ArtifactBucket 2>/dev/null || true)"
    [[ -n "$bucket" ]] || {
      echo "deploy: no ARTIFACT_BUCKET given and no bootstrap stack $bootstrap found; run 'make bootstrap' first" >&2
      return 2
    }
    echo "==> code bucket $bucket (from stack $bootstrap)" >&2
  fi
  printf '%s' "$bucket"
}

# The most bytes CloudFormation takes as a template body (synth::render::INLINE_LIMIT); a
# larger template must be read from S3.
INLINE_LIMIT=51200

# cfn_change_set STACK TEMPLATE [KEY=VALUE ...]: creates a change set for TEMPLATE with
# `aws cloudformation deploy --no-execute-changeset` (which keeps the stack's other
# parameter values, and creates the stack in REVIEW_IN_PROGRESS if it does not exist),
# and sets CHANGE_SET to its ARN, or to nothing when there is nothing to change. A
# template over INLINE_LIMIT bytes goes through the artifact bucket (`--s3-bucket`: the
# CLI uploads it under templates/ and hands CloudFormation its URL).
cfn_change_set() {
  local stack="$1" template="$2" status=0 output size bucket
  shift 2
  local overrides=() through=()
  if (($# > 0)); then overrides=(--parameter-overrides "$@"); fi
  echo "==> change set for stack $stack"
  size="$(wc -c <"$template")"
  if ((size > INLINE_LIMIT)); then
    bucket="$(artifact_bucket)" || return
    through=(--s3-bucket "$bucket" --s3-prefix templates)
    echo "    the template is $size bytes, over the $INLINE_LIMIT CloudFormation takes inline: passed through s3://$bucket/templates/"
  fi
  output="$("$aws" cloudformation deploy \
    --template-file "$template" \
    ${through[@]+"${through[@]}"} \
    --stack-name "$stack" \
    --capabilities CAPABILITY_NAMED_IAM \
    --no-fail-on-empty-changeset \
    --no-execute-changeset \
    ${overrides[@]+"${overrides[@]}"} 2>&1)" || status=$?
  CHANGE_SET=""
  if [[ $status -ne 0 ]]; then
    printf '%s\n' "$output" | sed 's/^/    /'
    # moto refuses an empty change set outright where AWS creates one and marks it
    # FAILED; both mean the same thing.
    if [[ "$output" == *"No updates are to be performed"* ]]; then
      echo "    No changes to deploy. Stack $stack is up to date (moto's answer was: No updates are to be performed)"
      return 0
    fi
    echo "deploy: could not create a change set for $stack (exit status $status)" >&2
    return "$status"
  fi
  CHANGE_SET="$(sed -n 's/.*--change-set-name \(arn:[^ ]*\).*/\1/p' <<<"$output" | head -n 1)"
  [[ -n "$CHANGE_SET" ]] || printf '%s\n' "$output" | sed 's/^/    /'
}

# cfn_show_change_set: prints the table of CHANGE_SET (action, logical ID, type,
# replacement, properties); returns 1 when it replaces or removes a stateful resource.
cfn_show_change_set() {
  local described
  described="$(mktemp)"
  "$aws" cloudformation describe-change-set --change-set-name "$CHANGE_SET" --output json >"$described"
  local status=0
  synth change-set --file "$described" | sed 's/^/    /' || status=$?
  rm -f "$described"
  return "$status"
}

# cfn_discard_change_set STACK: deletes CHANGE_SET, and the stack too if the change set
# was its first (a stack in REVIEW_IN_PROGRESS has never been deployed).
cfn_discard_change_set() {
  "$aws" cloudformation delete-change-set --change-set-name "$CHANGE_SET" >/dev/null
  local state
  state="$("$aws" cloudformation describe-stacks --stack-name "$1" --query 'Stacks[0].StackStatus' --output text 2>/dev/null || true)"
  if [[ "$state" == REVIEW_IN_PROGRESS ]]; then
    "$aws" cloudformation delete-stack --stack-name "$1"
  fi
}

# cfn_deploy STACK TEMPLATE [KEY=VALUE ...]: a change set, its table, a confirmation when
# it replaces or removes a stateful resource (YES=1 gives it; without a terminal and
# without YES=1 it is refused), then executes it and waits for the stack. A template
# with nothing to change is success.
cfn_deploy() {
  local stack="$1"
  cfn_change_set "$@"
  [[ -n "$CHANGE_SET" ]] || return 0
  local dangerous=0
  cfn_show_change_set || dangerous=$?
  if [[ $dangerous -gt 1 ]]; then
    cfn_discard_change_set "$stack"
    echo "deploy: cannot read the change set of $stack" >&2
    return "$dangerous"
  fi
  if [[ $dangerous -eq 1 && "${YES:-}" != 1 ]]; then
    local answer=""
    if [[ -t 0 ]]; then
      read -r -p "    This change replaces or removes data. Type the stack name ($stack) to execute it: " answer || true
    fi
    if [[ "$answer" != "$stack" ]]; then
      cfn_discard_change_set "$stack"
      echo "deploy: not executed: the change set replaces or removes a stateful resource; rerun with YES=1 to execute it" >&2
      return 1
    fi
  fi
  local state wait=stack-update-complete
  state="$("$aws" cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].StackStatus' --output text)"
  [[ "$state" == REVIEW_IN_PROGRESS ]] && wait="stack-create-complete"
  "$aws" cloudformation execute-change-set --change-set-name "$CHANGE_SET"
  "$aws" cloudformation wait "$wait" --stack-name "$stack"
  echo "    Successfully created/updated stack - $stack"
}

# stack_state STACK: the stack's status, or nothing when it does not exist. A stack in
# REVIEW_IN_PROGRESS (a first change set that was never executed) was never deployed, and
# counts as absent.
stack_state() {
  local state
  state="$("$aws" cloudformation describe-stacks --stack-name "$1" --query 'Stacks[0].StackStatus' --output text 2>&1)" || {
    [[ "$state" == *"does not exist"* ]] && return 0
    echo "cannot read stack $1: $state" >&2
    return 1
  }
  [[ "$state" == REVIEW_IN_PROGRESS ]] || printf '%s' "$state"
}

# stack_output STACK KEY: an output's value, or nothing when the stack lacks it.
stack_output() {
  "$aws" cloudformation describe-stacks --stack-name "$1" --output text \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue" 2>/dev/null | sed 's/^None$//'
}

# stack_resource STACK LOGICAL_ID: the physical ID of one of the stack's resources. moto
# leaves a stack's Outputs empty after a change-set deploy (and fails
# describe-stack-resource), so a resource is found among the stack's resources.
stack_resource() {
  "$aws" cloudformation list-stack-resources --stack-name "$1" --output text \
    --query "StackResourceSummaries[?LogicalResourceId=='$2'].PhysicalResourceId"
}

# protect_stack STACK: the stack policy that refuses replacing or deleting the table and
# both queues of parked events (`synth stack-policy`), and termination protection. Every
# deploy of the system's stack ends with it, so a stack deployed before either existed
# gets both.
protect_stack() {
  local stack="$1"
  "$aws" cloudformation set-stack-policy --stack-name "$stack" --stack-policy-body "$(synth stack-policy)"
  "$aws" cloudformation update-termination-protection --enable-termination-protection \
    --stack-name "$stack" >/dev/null
  echo "==> stack $stack: termination protection on; its stack policy refuses replacing or deleting the table and both queues of parked events"
}

# lift_stack_policy STACK: with LIFT_STACK_POLICY=1 and a deployed STACK, sets the policy
# that allows every update for this one deploy, and puts the guarding policy back when the
# script exits, however it exits (success, failure, refusal, Ctrl-C).
lift_stack_policy() {
  local stack="$1"
  [[ "${LIFT_STACK_POLICY:-}" == 1 && -n "$(stack_state "$stack")" ]] || return 0
  # shellcheck disable=SC2064 # the stack's name now, not when the trap runs
  trap "restore_stack_policy '$stack'" EXIT
  trap 'exit 130' INT TERM HUP
  "$aws" cloudformation set-stack-policy --stack-name "$stack" --stack-policy-body "$(synth stack-policy --lifted)"
  echo "==> stack policy of $stack LIFTED for this deploy (LIFT_STACK_POLICY=1): the table and both queues may be replaced or deleted; it is put back when the deploy ends, however it ends"
}

restore_stack_policy() {
  "$aws" cloudformation set-stack-policy --stack-name "$1" --stack-policy-body "$(synth stack-policy)" &&
    echo "==> stack policy of $1 put back: replacing or deleting the table and both queues is refused again"
}

# stack_policy_plan STACK: what a deploy would do with the stack policy, for `make plan`.
stack_policy_plan() {
  if [[ "${LIFT_STACK_POLICY:-}" == 1 ]]; then
    echo "==> stack policy: LIFTED for the deploy (LIFT_STACK_POLICY=1): the change may replace or delete the table and both queues of parked events; put back after it"
  else
    echo "==> stack policy: refuses replacing or deleting the table and both queues of parked events (LIFT_STACK_POLICY=1 lifts it for one deploy)"
  fi
}
