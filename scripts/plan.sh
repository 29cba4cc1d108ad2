#!/usr/bin/env bash
# What a deploy would change, without changing anything: a change set for the
# synthesized template, printed as a table (action, logical ID, type, replacement,
# properties), then deleted, and the stack too if the change set was its first.
#
#   scripts/plan.sh          (what `make plan` runs)
#   ENV=prod scripts/plan.sh (make plan ENV=prod: every setting from environments/prod.json,
#                             one-off overrides as Parameter=value, printed; the caller's
#                             account and region must be the file's)
#
# Settings (environment variables; `make plan VAR=...` passes them through):
#   STACK_NAME        the stack                          (default: `synth names stack`)
#   ENV, CLUSTER_ARN, ALARM_TOPIC_ARN, LIFT_STACK_POLICY as for make deploy
#   TEMPLATE          template file                      (default: synthesized from source)
#   AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL            read by the AWS CLI itself
#
# The code is not packaged: a deployed stack keeps its code keys, so the plan shows the
# infrastructure change; a stack that does not exist yet is planned with placeholder code
# keys (a change set never reads the code). Exits 1 when the change replaces or removes a
# stateful resource (what make deploy would ask about), or, with ENV, when the file's
# settings widen access, replace a resource or weaken what protects data against the
# stack's (`synth env plan`); 0 otherwise.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -n "${TEMPLATE:-}" ]] && TEMPLATE="$(realpath -- "$TEMPLATE")"
cd "$root"
aws="${AWS_CLI:-$root/.venv/tools/bin/aws}"
# shellcheck source=scripts/cloudformation.sh
source scripts/cloudformation.sh
# shellcheck source=scripts/environment.sh
source scripts/environment.sh
if load_environment plan; then
  stack="$ENV_STACK"
else
  stack="${STACK_NAME:-$(synth names stack)}"
fi

template="$(template_file stack "${TEMPLATE:-}")"

parameters=()
if [[ -z "$(stack_state "$stack")" ]]; then
  echo "==> stack $stack does not exist yet: planned with placeholder code keys"
  parameters+=("CodeBucket=plan-only" "CodeKey=plan-only" "ReconcilerCodeKey=plan-only")
fi
if [[ -n "${ENV:-}" ]]; then
  parameters+=("${ENV_PARAMETERS[@]}")
else
  [[ -n "${CLUSTER_ARN:-}" ]] && parameters+=("ClusterArn=$CLUSTER_ARN")
  [[ -n "${ALARM_TOPIC_ARN:-}" ]] && parameters+=("AlarmTopicArn=$ALARM_TOPIC_ARN")
fi

stack_policy_plan
# What the environment's settings do against the stack's, read as a template change: a
# setting that widens the rule or a role (ClusterArn to *), replaces a resource or weakens
# what protects data is flagged as synth diff flags a change to the template.
settings_flagged=0
if [[ -n "${ENV:-}" && -n "$(stack_state "$stack")" ]]; then
  echo "==> what the settings change against the stack's"
  described="$(mktemp)"
  "$aws" cloudformation describe-stacks --stack-name "$stack" --output json >"$described"
  synth env plan "$ENV" --dir "${ENVIRONMENTS_DIR:-environments}" --stack "$described" \
    ${ENV_OVERRIDES[@]+"${ENV_OVERRIDES[@]}"} | sed 's/^/    /' || settings_flagged=1
  rm -f "$described"
fi
cfn_change_set "$stack" "$template" ${parameters[@]+"${parameters[@]}"}
[[ -n "$CHANGE_SET" ]] || exit "$settings_flagged"
dangerous=0
cfn_show_change_set || dangerous=$?
cfn_discard_change_set "$stack"
echo "==> change set deleted; nothing was changed"
[[ $dangerous -ne 0 ]] && exit "$dangerous"
exit "$settings_flagged"
