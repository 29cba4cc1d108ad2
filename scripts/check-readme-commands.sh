#!/usr/bin/env bash
# Runs the README's own commands that the other checks do not: the first command, and the
# review loop's targets, which must leave a clean clone unchanged.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mkdir -p dist

echo "==> cargo run -p synth > stack.json"
cargo run --locked -q -p synth > dist/stack-from-readme.json
cmp dist/stack-from-readme.json templates/stack.json
echo "    same bytes as templates/stack.json"

echo "==> make templates, make snapshots: nothing may change"
make --no-print-directory templates
make --no-print-directory snapshots
if ! git diff --exit-code --stat -- templates snapshots || [[ -n "$(find snapshots -name '*.snap.new')" ]]; then
  echo "check-readme-commands: FAILED: templates or snapshots are stale; run make templates / make snapshots" >&2
  exit 1
fi
echo "    templates/ and snapshots/ unchanged"

echo "==> make help"
make --no-print-directory help >/dev/null
echo "    ok"
