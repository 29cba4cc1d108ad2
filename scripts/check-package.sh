#!/usr/bin/env bash
# Checks `make package`: builds the arm64 packages (the callback's and the reconciler's)
# with cargo-lambda, then checks that packing the same binary again gives the same bytes
# and name, that each zip holds one executable `bootstrap` with a fixed timestamp, and that
# each stays within the 4 MB a cold start's download and unpacking are budgeted for
# (issue #22; BENCHMARKS.md has the figures).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="$root/.venv/tools/bin/python"
arch="${1:-arm64}"
max_zip_bytes=4000000

echo "==> make package ARCH=$arch"
scripts/package.sh "$arch" >/dev/null

# For each function's zip: packing the same binary again gives the same name and bytes,
# and the zip holds one executable `bootstrap` for the architecture.
for function in callback:bootstrap reconciler:reconciler; do
  IFS=: read -r label bin <<<"$function"
  first="$(cat "dist/$arch.$label.zip-path")"
  first_sum="$(sha256sum "$first" | cut -d' ' -f1)"
  size="$(wc -c <"$first")"
  echo "    $first ($size bytes, $((max_zip_bytes - size)) under $max_zip_bytes)"
  if ((size > max_zip_bytes)); then
    echo "check-package: FAILED: $first is $size bytes, over the $max_zip_bytes a function's package may take" >&2
    exit 1
  fi
  echo "==> pack the same $label binary again"
  name="$(basename "$first" | sed 's/-[a-z0-9_]*-[0-9a-f]*\.zip$//')"
  rm -f "$first"
  second="$("$python" scripts/package.py "target/lambda/$bin/bootstrap" "$name" "$arch" dist)"
  second_sum="$(sha256sum "$second" | cut -d' ' -f1)"
  if [[ "$first" != "$second" || "$first_sum" != "$second_sum" ]]; then
    echo "check-package: FAILED: packing the same binary twice gave $first ($first_sum) and $second ($second_sum)" >&2
    exit 1
  fi
  echo "    same name, same bytes: $second_sum"
  "$python" scripts/package.py --verify "$second" "$arch" | sed 's/^/    /'
done

echo "==> make deploy into moto, twice: the second run uploads nothing and changes nothing"
# shellcheck disable=SC2016 # expanded by the inner shell, inside moto's environment
target/debug/testkit with-moto bash -euo pipefail -c '
  .venv/tools/bin/aws s3api create-bucket --bucket outpost-ci-artifacts >/dev/null
  make --no-print-directory deploy ARTIFACT_BUCKET=outpost-ci-artifacts ARCH="$0" | sed "s/^/    /"
  second="$(make --no-print-directory deploy ARTIFACT_BUCKET=outpost-ci-artifacts ARCH="$0" 2>&1)"
  printf "%s\n" "$second" | sed "s/^/    /"
  if [[ "$second" != *"already uploaded"* || "$second" != *"No changes to deploy"* ]]; then
    echo "check-package: FAILED: the second make deploy uploaded or changed something" >&2
    exit 1
  fi' "$arch"
