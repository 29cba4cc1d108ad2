# Shell helpers for the scripts that deploy and read stacks; sourced, never run.
# They use "$aws" (the AWS CLI) from the sourcing script.

# cfn_deploy STACK TEMPLATE [KEY=VALUE ...]: `aws cloudformation deploy` with named IAM
# capabilities, its output indented; a template with nothing to change is success.
cfn_deploy() {
  local stack="$1" template="$2" status=0 output
  shift 2
  local overrides=()
  (($# > 0)) && overrides=(--parameter-overrides "$@")
  echo "==> aws cloudformation deploy --stack-name $stack"
  output="$("$aws" cloudformation deploy \
    --template-file "$template" \
    --stack-name "$stack" \
    --capabilities CAPABILITY_NAMED_IAM \
    --no-fail-on-empty-changeset \
    "${overrides[@]}" 2>&1)" || status=$?
  printf '%s\n' "$output" | sed 's/^/    /'
  if [[ $status -ne 0 ]]; then
    # moto refuses an empty change set outright where AWS creates one and marks it
    # FAILED; both mean the same thing.
    if [[ "$output" == *"No updates are to be performed"* ]]; then
      echo "    No changes to deploy. Stack $stack is up to date (moto's answer was: No updates are to be performed)"
    else
      echo "deploy: aws cloudformation deploy of $stack failed (exit status $status)" >&2
      return "$status"
    fi
  fi
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
