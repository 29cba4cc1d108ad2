#!/usr/bin/env bash
# Whether what is deployed is what an environment file and this source say, changing
# nothing: the stack's parameters against environments/$ENV.json, each function's code
# against the local package (Lambda's CodeSha256), and CloudFormation's drift detection.
#
#   ENV=prod scripts/drift.sh        (what `make drift ENV=prod` runs)
#
# Exits 0 when everything matches, 1 naming each difference, 2 when it cannot tell (and
# says why). Settings (environment variables):
#   ENV               the environment file's name (required)
#   ENVIRONMENTS_DIR  where the files are             (default: environments)
#   ZIP, RECONCILER_ZIP  the local packages           (default: the ones `make package` made
#                                                      for the stack's Architecture)
#   DRIFT_WAIT        seconds to wait for drift detection (default 300)
#   Parameter=value   the one-off overrides the last deploy was given, as for make deploy
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -n "${ZIP:-}" ]] && ZIP="$(realpath -- "$ZIP")"
[[ -n "${RECONCILER_ZIP:-}" ]] && RECONCILER_ZIP="$(realpath -- "$RECONCILER_ZIP")"
cd "$root"
aws="${AWS_CLI:-$root/.venv/tools/bin/aws}"
# shellcheck source=scripts/cloudformation.sh
source scripts/cloudformation.sh
# shellcheck source=scripts/environment.sh
source scripts/environment.sh
load_environment drift || {
  echo "drift: name the environment: make drift ENV=name (environments/name.json)" >&2
  exit 2
}
stack="$ENV_STACK"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT

echo "==> stack $stack: its parameters"
if ! "$aws" cloudformation describe-stacks --stack-name "$stack" --output json >"$dir/stack.json" 2>"$dir/error.txt"; then
  echo "drift: cannot tell: stack $stack cannot be described: $(cat "$dir/error.txt")" >&2
  exit 2
fi
arch="$("$aws" cloudformation describe-stacks --stack-name "$stack" --output text \
  --query "Stacks[0].Parameters[?ParameterKey=='Architecture'].ParameterValue")"

echo "==> each function's code against the local package ($arch)"
# sha256_base64 FILE: Lambda's CodeSha256 of a zip.
sha256_base64() {
  "$root/.venv/tools/bin/python" -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1], "rb").read()).digest()).decode())' "$1"
}
: >"$dir/code.txt"
{ read -r callback; read -r reconciler; } < <(synth names function reconciler)
for pair in "$callback:callback:${ZIP:-}" "$reconciler:reconciler:${RECONCILER_ZIP:-}"; do
  IFS=: read -r function label zip <<<"$pair"
  [[ -n "$zip" || ! -f "dist/$arch.$label.zip-path" ]] || zip="$(cat "dist/$arch.$label.zip-path")"
  deployed="$("$aws" lambda get-function-configuration --function-name "$function" \
    --query CodeSha256 --output text 2>/dev/null || echo -)"
  local_hash=-
  [[ -n "$zip" && -f "$zip" ]] && local_hash="$(sha256_base64 "$zip")"
  echo "    $function: deployed $deployed, local $local_hash"
  echo "$function $deployed $local_hash" >>"$dir/code.txt"
done

echo "==> CloudFormation drift detection"
: >"$dir/detection.json"
: >"$dir/drifts.json"
if id="$("$aws" cloudformation detect-stack-drift --stack-name "$stack" \
  --query StackDriftDetectionId --output text 2>"$dir/error.txt")"; then
  waited=0
  while :; do
    "$aws" cloudformation describe-stack-drift-detection-status \
      --stack-drift-detection-id "$id" --output json >"$dir/detection.json"
    status="$(sed -n 's/.*"DetectionStatus": *"\([A-Z_]*\)".*/\1/p' "$dir/detection.json")"
    [[ "$status" == DETECTION_IN_PROGRESS && $waited -lt ${DRIFT_WAIT:-300} ]] || break
    sleep 5
    waited=$((waited + 5))
  done
  "$aws" cloudformation describe-stack-resource-drifts --stack-name "$stack" \
    --stack-resource-drift-status-filters MODIFIED DELETED --output json >"$dir/drifts.json" || true
else
  echo "{\"DetectionStatus\": \"NOT_STARTED\", \"DetectionStatusReason\": $("$root/.venv/tools/bin/python" -c 'import json, sys; print(json.dumps(sys.stdin.read().strip()))' <"$dir/error.txt")}" >"$dir/detection.json"
fi

synth drift "$ENV" --dir "${ENVIRONMENTS_DIR:-environments}" --stack "$dir/stack.json" \
  --code "$dir/code.txt" --detection "$dir/detection.json" --drifts "$dir/drifts.json" \
  ${ENV_OVERRIDES[@]+"${ENV_OVERRIDES[@]}"}
