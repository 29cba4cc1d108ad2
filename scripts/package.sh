#!/usr/bin/env bash
# Builds the function for Lambda with cargo-lambda and packs it reproducibly.
#
#   scripts/package.sh [arm64|x86_64]        (default: arm64, as the stack deploys)
#
# Prints the paths of the two zips (dist/FUNCTION-ARCH-HASH.zip, the callback's, then the
# reconciler's; FUNCTION is the function's name) on its last two lines and records them
# in dist/ARCH.callback.zip-path and dist/ARCH.reconciler.zip-path for `make deploy`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
arch="${1:-arm64}"
case "$arch" in
  arm64) flag=--arm64 triple=aarch64-unknown-linux-gnu ;;
  x86_64) flag=--x86-64 triple=x86_64-unknown-linux-gnu ;;
  *) echo "package: unknown architecture '$arch' (arm64 or x86_64)" >&2; exit 2 ;;
esac
cd "$root"
export PATH="$root/.venv/tools/bin:$PATH"
# The zip is made from target/lambda/, wherever CARGO_TARGET_DIR points elsewhere.
export CARGO_TARGET_DIR="$root/target"

# cargo-lambda links with zig (from the ziglang package) against Lambda's glibc; the Rust
# standard library for the target comes from rustup.
if ! rustup target list --installed | grep -x "$triple" >/dev/null; then
  rustup target add "$triple" >&2
fi
cargo lambda build --release --locked "$flag" -p function --bin bootstrap -p reconciler --bin reconciler >&2

# One zip per function, each holding its binary as `bootstrap`. The function's name comes
# from the template that deploys it (synth's output), never from this script.
template="$(cargo run --locked -q -p synth)"
name_of() { printf '%s' "$template" | "$root/.venv/tools/bin/jp.py" "Resources.$1.Properties.FunctionName" | tr -d '"'; }
for function in callback:CallbackFunction:bootstrap reconciler:ReconcilerFunction:reconciler; do
  IFS=: read -r label logical_id bin <<<"$function"
  zip="$("$root/.venv/tools/bin/python" scripts/package.py "target/lambda/$bin/bootstrap" "$(name_of "$logical_id")" "$arch" dist)"
  printf '%s\n' "$zip" > "dist/$arch.$label.zip-path"
  ls -l "$zip" >&2
  printf '%s\n' "$zip"
done
