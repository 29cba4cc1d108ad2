#!/usr/bin/env bash
# The whole system on this machine, end to end:
#
#   1. start moto's server on loopback (our local AWS);
#   2. package the function's release binary, then bootstrap and deploy the synthesized
#      templates into moto through the same path as a real account (scripts/bootstrap.sh,
#      scripts/deploy.sh);
#   3. seed RUNNING dispatch records (examples/local/dispatches.json);
#   4. run the real function binary under a local Lambda Runtime API, with the deployed
#      function's own environment, fed with the sample ECS events in examples/local/events/
#      (one per status, a duplicate, a task found by its ARN, a task that is not a dispatch);
#   5. a lost event: a task stops in moto's ECS with no event for its dispatch, and one
#      run of the real reconciler binary, with its deployed environment, settles it;
#   6. print the records before and after;
#   7. the reconciler's scheduled run: moto's EventBridge starts no schedule and its Lambda
#      runs no code, so the real binary runs once more as the schedule would start it, and
#      its log lines go into its log group as Lambda would send them;
#   8. print `outpost-ops health` against the local stack, then stop everything it started.
#      What moto cannot answer (CloudWatch's alarms and metrics) shows as "not available
#      here", apart from what is off; the verdict rests on what could be checked.
#
#   scripts/local.sh            (what `make local` runs)
#   scripts/local.sh --check    (also fails unless the records end as examples/local/expected.json says)
#
# Every name comes from the deployed stack, never from this script.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
aws="$root/.venv/tools/bin/aws"
# shellcheck source=scripts/cloudformation.sh
source scripts/cloudformation.sh
# The paths below name target/; a CARGO_TARGET_DIR elsewhere would leave them stale.
export CARGO_TARGET_DIR="$root/target"

# The functions' binaries: the release build, or those of $FUNCTION_BINARIES (`make test`
# runs the debug build it has already made).
bin="${FUNCTION_BINARIES:-target/release}"
if [[ "${1:-}" != "--inside-moto" ]]; then
  echo "==> build the functions ($bin) and the test kit"
  if [[ -z "${FUNCTION_BINARIES:-}" ]]; then
    cargo build --locked --release -q -p function -p reconciler
  fi
  # The whole workspace, as `make build` does: one feature set, so the SDK is compiled once.
  cargo build --locked -q --workspace --bins --examples
  echo "==> start moto's server on loopback"
  exec target/debug/testkit with-moto "$root/scripts/local.sh" --inside-moto "$@"
fi
shift
stack="${STACK_NAME:-$(synth names stack)}"

# put_log_lines GROUP FILE: writes FILE's lines into GROUP, stamped now, in a new stream,
# as Lambda sends a function's output to CloudWatch Logs.
put_log_lines() {
  local group="$1" file="$2" stream events
  stream="local/$(date -u +%Y%m%dT%H%M%SZ)"
  events="$("$root/.venv/tools/bin/python" - "$file" <<'PY'
import json, sys, time

now = int(time.time() * 1000)
with open(sys.argv[1], encoding="utf-8") as lines:
    events = [{"timestamp": now, "message": line.rstrip("\n")} for line in lines if line.strip()]
print(json.dumps(events))
PY
)"
  [[ "$events" != "[]" ]] || return 0
  "$aws" logs create-log-stream --log-group-name "$group" --log-stream-name "$stream"
  "$aws" logs put-log-events --log-group-name "$group" --log-stream-name "$stream" \
    --log-events "$events" >/dev/null
}

# scheduled_run FUNCTION LOG_GROUP: one run of the reconciler binary as its schedule starts
# it (a Scheduled Event), with the deployed function's environment, under the local Lambda
# Runtime API; then its log lines go into LOG_GROUP, where `outpost-ops health` finds the
# run as it would on AWS.
scheduled_run() {
  local function="$1" group="$2" dir=dist/local/schedule
  mkdir -p "$dir/events"
  printf '%s\n' '{"version": "0", "id": "local-schedule", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}' \
    >"$dir/events/scheduled-event.json"
  printf '[]\n' >"$dir/no-dispatches.json"
  if ! target/debug/testkit local --binary "$bin/reconciler" --function-name "$function" \
    --env-file dist/local/reconciler-environment.json --dispatches "$dir/no-dispatches.json" \
    --events "$dir/events" --function-log "$dir/reconciler.log" >"$dir/run.txt"; then
    cat "$dir/run.txt" >&2
    return 1
  fi
  put_log_lines "$group" "$dir/reconciler.log"
  echo "    $(grep -c . "$dir/reconciler.log") log line(s) of the run written to $group"
}

expect=()
[[ "${1:-}" == "--check" ]] && expect=(--expect examples/local/expected.json)
echo "    moto is at $AWS_ENDPOINT_URL"

case "$(uname -m)" in
  x86_64) arch=x86_64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "local: unsupported machine $(uname -m)" >&2; exit 2 ;;
esac

echo
echo "==> package $bin/bootstrap and $bin/reconciler for $arch"
{ read -r function_name; read -r reconciler_name; } < <(synth names function reconciler)
zip="$("$root/.venv/tools/bin/python" scripts/package.py "$bin/bootstrap" "$function_name" "$arch" dist/local)"
reconciler_zip="$("$root/.venv/tools/bin/python" scripts/package.py "$bin/reconciler" "$reconciler_name" "$arch" dist/local)"
echo "    $zip"
echo "    $reconciler_zip"

echo
scripts/bootstrap.sh
STACK_NAME="$stack" ARCH="$arch" ZIP="$zip" RECONCILER_ZIP="$reconciler_zip" scripts/deploy.sh

echo
echo "==> the deployed function's name and environment (from stack $stack)"
function="$(stack_resource "$stack" CallbackFunction)"
"$aws" lambda get-function-configuration --function-name "$function" \
  --query Environment.Variables --output json >dist/local/environment.json
echo "    $function: $(tr -d ' \n' <dist/local/environment.json)"
reconciler="$(stack_resource "$stack" ReconcilerFunction)"
"$aws" lambda get-function-configuration --function-name "$reconciler" \
  --query Environment.Variables --output json >dist/local/reconciler-environment.json
echo "    $reconciler: $(tr -d ' \n' <dist/local/reconciler-environment.json)"

echo
target/debug/testkit local --binary "$bin/bootstrap" --function-name "$function" \
  --env-file dist/local/environment.json --dispatches examples/local/dispatches.json \
  --events examples/local/events --function-log dist/local/function.log \
  --reconciler "$bin/reconciler" --reconciler-function "$reconciler" \
  --reconciler-env-file dist/local/reconciler-environment.json "${expect[@]}"

echo
echo "==> the reconciler's scheduled run (moto's EventBridge starts no schedule, and its Lambda runs no code)"
scheduled_run "$reconciler" "$(stack_resource "$stack" ReconcilerLogGroup)"

echo
echo "==> outpost-ops health (on call starts here; README.md, \"On call\")"
echo "    moto answers no CloudWatch call and creates no alarm: those checks are \"not available here\","
echo "    shown apart from what is off; the verdict rests on the checks moto can answer"
health=0
target/debug/outpost-ops --stack-name "$stack" health </dev/null || health=$?
case "$health" in
  0) ;;
  3) echo "    (exit 3: nothing is off in what could be checked here; the rest is not available here)" ;;
  *)
    echo "    (outpost-ops health exited $health: something is off, or it could not run)"
    # With --check, the local flow must end with nothing off.
    if ((${#expect[@]} > 0)); then exit 1; fi
    ;;
esac
echo
echo "==> stopping moto"
