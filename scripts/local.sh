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
#   7. print `outpost-ops health` against the local stack, then stop everything it started.
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
stack="${STACK_NAME:-outpost-dispatch-callback}"
# The paths below name target/; a CARGO_TARGET_DIR elsewhere would leave them stale.
export CARGO_TARGET_DIR="$root/target"

if [[ "${1:-}" != "--inside-moto" ]]; then
  echo "==> build the function (release) and the test kit"
  cargo build --locked --release -q -p function -p reconciler
  # The whole workspace, as `make build` does: one feature set, so the SDK is compiled once.
  cargo build --locked -q --workspace --bins --examples
  echo "==> start moto's server on loopback"
  exec target/debug/testkit with-moto "$root/scripts/local.sh" --inside-moto "$@"
fi
shift
expect=()
[[ "${1:-}" == "--check" ]] && expect=(--expect examples/local/expected.json)
echo "    moto is at $AWS_ENDPOINT_URL"

case "$(uname -m)" in
  x86_64) arch=x86_64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "local: unsupported machine $(uname -m)" >&2; exit 2 ;;
esac

echo
echo "==> package target/release/bootstrap and target/release/reconciler for $arch"
zip="$("$root/.venv/tools/bin/python" scripts/package.py target/release/bootstrap outpost-dispatch-callback "$arch" dist/local)"
reconciler_zip="$("$root/.venv/tools/bin/python" scripts/package.py target/release/reconciler outpost-dispatch-reconciler "$arch" dist/local)"
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
target/debug/testkit local --binary target/release/bootstrap --function-name "$function" \
  --env-file dist/local/environment.json --dispatches examples/local/dispatches.json \
  --events examples/local/events --function-log dist/local/function.log \
  --reconciler target/release/reconciler --reconciler-function "$reconciler" \
  --reconciler-env-file dist/local/reconciler-environment.json "${expect[@]}"
echo
echo "==> outpost-ops health (on call starts here; README.md, \"On call\")"
echo "    moto has no alarms and speaks no CloudWatch metrics protocol: those checks read as off here"
target/debug/outpost-ops --stack-name "$stack" health </dev/null || echo "    (outpost-ops health exited $?)"
echo
echo "==> stopping moto"
