#!/usr/bin/env bash
# Checks the committed CloudFormation templates (templates/stack.json and
# templates/bootstrap.json, and the same as YAML) with the tools the field trusts, which
# are Python tools and so run here:
#
#   1. synth/data/create-only-properties.json (what `synth diff` calls a replacement)
#      matches the CloudFormation resource schemas of the pinned cfn-lint;
#   2. PyYAML, a YAML 1.1 reader, reads each YAML file synth writes exactly as its JSON
#      (the templates, and synth/tests/data/ambiguous-scalars.yaml: every kind of string
#      YAML 1.1 would type as something else);
#   3. cfn-lint: no errors and no warnings, on both forms;
#   4. checkov: no failed checks, on both forms (deliberate exceptions are skipped, with
#      a reason, in the resource's Metadata).
#
#   scripts/check-templates.sh
#
# What the templates deploy is checked in Rust, by testkit/tests/deployed.rs (`cargo
# test`, which `make test` runs first): both stacks deployed into moto through
# scripts/bootstrap.sh and scripts/deploy.sh (`aws cloudformation deploy`), each resource
# compared with its template, a second run that changes nothing, `make plan` and a
# refused `make deploy` of a change that removes data, `make adopt`'s dry run, and its
# last step alone (`CHECK_ONLY=1`) settling a test dispatch through the function's binary.
#
# Exits non-zero on the first failed check.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.venv/tools/bin"
checkov="$root/.venv/checkov/bin/checkov"
templates=(templates/stack.json templates/bootstrap.json templates/stack.yaml templates/bootstrap.yaml)

step() { printf '\n==> %s\n' "$*"; }
fail() {
  printf 'check-templates: FAILED: %s\n' "$*" >&2
  exit 1
}

cd "$root"
for file in "${templates[@]}"; do
  [[ -f "$file" ]] || fail "$file is missing; run 'make templates'"
done
for tool in "$tools/python" "$tools/cfn-lint" "$checkov"; do
  [[ -x "$tool" ]] || fail "$tool is missing; run 'make tools'"
done

step "synth diff's table of create-only properties is the one cfn-lint's schemas give"
"$tools/python" scripts/create_only_properties.py --check

step "PyYAML reads each YAML file as its JSON (types included)"
"$tools/python" scripts/yaml_reads_as_json.py \
  templates/stack.yaml templates/stack.json \
  templates/bootstrap.yaml templates/bootstrap.json \
  synth/tests/data/ambiguous-scalars.yaml synth/tests/data/ambiguous-scalars.json

for file in "${templates[@]}"; do
  step "cfn-lint $file (errors and warnings fail)"
  "$tools/cfn-lint" --non-zero-exit-code warning -- "$file"
  printf '  ok: no errors, no warnings\n'

  step "checkov $file"
  # --skip-download: checkov would otherwise try to reach Prisma Cloud for guidelines.
  "$checkov" -f "$file" --framework cloudformation --quiet --compact --skip-download
done

step "all template checks passed (the deployed stack: cargo test --workspace --test deployed)"
