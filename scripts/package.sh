#!/usr/bin/env bash
# Builds the function for Lambda with cargo-lambda and packs it reproducibly.
#
#   scripts/package.sh [arm64|x86_64]        (default: arm64, as the stack deploys)
#
# Prints the path of the zip (dist/outpost-dispatch-callback-ARCH-HASH.zip) on its last
# line and records it in dist/ARCH.zip-path for `make deploy`.
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
cargo lambda build --release --locked "$flag" -p function --bin bootstrap >&2

binary="target/lambda/bootstrap/bootstrap"
zip="$("$root/.venv/tools/bin/python" scripts/package.py "$binary" "$arch" dist)"
printf '%s\n' "$zip" > "dist/$arch.zip-path"
ls -l "$zip" >&2
printf '%s\n' "$zip"
