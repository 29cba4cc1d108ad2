#!/usr/bin/env bash
# Checks `make package`: builds the arm64 package with cargo-lambda, then checks that
# packing the same binary again gives the same bytes and name, and that the zip holds
# one executable `bootstrap` with a fixed timestamp.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="$root/.venv/tools/bin/python"
arch="${1:-arm64}"

echo "==> make package ARCH=$arch"
first="$(scripts/package.sh "$arch" | tail -n 1)"
first_sum="$(sha256sum "$first" | cut -d' ' -f1)"
echo "    $first ($(wc -c <"$first") bytes)"

echo "==> pack the same binary again"
rm -f "$first"
second="$("$python" scripts/package.py target/lambda/bootstrap/bootstrap "$arch" dist)"
second_sum="$(sha256sum "$second" | cut -d' ' -f1)"
if [[ "$first" != "$second" || "$first_sum" != "$second_sum" ]]; then
  echo "check-package: FAILED: packing the same binary twice gave $first ($first_sum) and $second ($second_sum)" >&2
  exit 1
fi
echo "    same name, same bytes: $second_sum"

echo "==> the zip's one entry"
"$python" - "$second" "$arch" <<'PY'
import sys, zipfile
path, arch = sys.argv[1], sys.argv[2]
entries = zipfile.ZipFile(path).infolist()
problems = []
if [e.filename for e in entries] != ["bootstrap"]:
    problems.append(f"entries are {[e.filename for e in entries]}, not ['bootstrap']")
entry = entries[0]
if (entry.external_attr >> 16) & 0o777 != 0o755:
    problems.append(f"bootstrap mode is {oct((entry.external_attr >> 16) & 0o777)}, not 0o755")
if entry.date_time != (1980, 1, 1, 0, 0, 0):
    problems.append(f"bootstrap timestamp is {entry.date_time}")
data = zipfile.ZipFile(path).read("bootstrap")
machine = int.from_bytes(data[18:20], "little")  # ELF e_machine
want = {"arm64": 0xB7, "x86_64": 0x3E}[arch]
if data[:4] != b"\x7fELF" or machine != want:
    problems.append(f"bootstrap is not an ELF binary for {arch} (e_machine {machine:#x})")
if problems:
    sys.exit("check-package: FAILED: " + "; ".join(problems))
print(f"    bootstrap, mode 0755, 1980-01-01, ELF for {arch}, {len(data)} bytes unpacked")
PY

echo "==> make deploy into moto, twice: the second run uploads nothing and changes nothing"
# shellcheck disable=SC2016 # expanded by the inner shell, inside moto's environment
scripts/with-moto.sh bash -euo pipefail -c '
  .venv/tools/bin/aws s3api create-bucket --bucket outpost-ci-artifacts >/dev/null
  make --no-print-directory deploy ARTIFACT_BUCKET=outpost-ci-artifacts ARCH="$0" | sed "s/^/    /"
  second="$(make --no-print-directory deploy ARTIFACT_BUCKET=outpost-ci-artifacts ARCH="$0" 2>&1)"
  printf "%s\n" "$second" | sed "s/^/    /"
  if [[ "$second" != *"already uploaded"* || "$second" != *"No changes to deploy"* ]]; then
    echo "check-package: FAILED: the second make deploy uploaded or changed something" >&2
    exit 1
  fi' "$arch"
