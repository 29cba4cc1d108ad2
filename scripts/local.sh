#!/usr/bin/env bash
# The whole system on this machine, end to end:
#
#   1. start moto's server on loopback (our local AWS);
#   2. package the function's release binary and deploy the synthesized template into
#      moto through the same deploy path as a real account (scripts/deploy.sh);
#   3. seed RUNNING dispatch records (examples/local/dispatches.json);
#   4. run the real function binary under a local Lambda Runtime API, fed with the sample
#      ECS events in examples/local/events/ (one per status, a duplicate, a task found
#      by its ARN, a task that is not a dispatch);
#   5. print the records before and after, then stop everything it started.
#
#   scripts/local.sh            (what `make local` runs)
#   scripts/local.sh --check    (also fails unless the records end as examples/local/expected.json says)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="$root/.venv/tools/bin/python"
aws="$root/.venv/tools/bin/aws"
table="outpost-dispatches"
# The paths below name target/; a CARGO_TARGET_DIR elsewhere would leave them stale.
export CARGO_TARGET_DIR="$root/target"

if [[ "${1:-}" != "--inside-moto" ]]; then
  echo "==> build the function (release) and the local Runtime API"
  cargo build --locked --release -q -p function
  cargo build --locked -q -p local-runtime
  echo "==> start moto's server on loopback"
  exec "$root/scripts/with-moto.sh" "$root/scripts/local.sh" --inside-moto "$@"
fi
shift
check="${1:-}"
echo "    moto is at $AWS_ENDPOINT_URL"

case "$(uname -m)" in
  x86_64) arch=x86_64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "local: unsupported machine $(uname -m)" >&2; exit 2 ;;
esac

echo
echo "==> package target/release/bootstrap for $arch"
zip="$("$python" scripts/package.py target/release/bootstrap "$arch" dist/local)"
echo "    $zip"

echo
"$aws" s3api create-bucket --bucket outpost-local-artifacts >/dev/null
ARTIFACT_BUCKET=outpost-local-artifacts ARCH="$arch" ZIP="$zip" scripts/deploy.sh

echo
echo "==> seed RUNNING dispatches from examples/local/dispatches.json"
"$python" - "$table" examples/local/dispatches.json <<'PY' | while read -r item; do "$aws" dynamodb put-item --table-name "$table" --item "$item"; done
import json, sys
for record in json.load(open(sys.argv[2])):
    print(json.dumps({k: {"S": v} for k, v in record.items()}))
PY

records() { "$aws" dynamodb scan --table-name "$table" --consistent-read --output json | "$python" scripts/records.py "$@"; }
echo
echo "==> records before"
records

echo
echo "==> invoke the function binary with each sample event, in order"
# The function's own JSON log lines go to local-runtime.log; one result line per event here.
target/debug/local-runtime \
  --function-name outpost-dispatch-callback \
  --env TABLE_NAME="$table" --env TASK_ARN_INDEX=task_arn-index --env WORKER_CONTAINER=worker \
  --binary target/release/bootstrap \
  examples/local/events/*.json 2>dist/local/function.log |
  "$python" scripts/results.py
echo "    (the function's log lines: dist/local/function.log)"

echo
echo "==> records after"
if [[ "$check" == "--check" ]]; then
  records --expect examples/local/expected.json
else
  records
fi
echo
echo "==> stopping moto"
