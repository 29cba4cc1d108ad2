"""Packs a Lambda `bootstrap` binary into a zip whose bytes depend only on the binary.

    python scripts/package.py BINARY ARCH OUT_DIR

Writes OUT_DIR/outpost-dispatch-callback-ARCH-HASH.zip, where HASH is the start of the
zip's SHA-256, and prints that path. The zip holds one entry, `bootstrap`, with a fixed
timestamp (1980-01-01), fixed Unix permissions (0755, as Lambda needs to execute it) and
a fixed compression level, so the same binary always gives the same bytes, and the same
name: an unchanged function never triggers a code update on deploy.
"""

import hashlib
import os
import sys
import zipfile

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
EXECUTABLE = 0o100755  # a regular file, rwxr-xr-x


def pack(binary: str, arch: str, out_dir: str) -> str:
    with open(binary, "rb") as f:
        data = f.read()
    entry = zipfile.ZipInfo("bootstrap", date_time=FIXED_TIME)
    entry.create_system = 3  # Unix, so the permissions below are honoured
    entry.external_attr = EXECUTABLE << 16
    entry.compress_type = zipfile.ZIP_DEFLATED

    os.makedirs(out_dir, exist_ok=True)
    staging = os.path.join(out_dir, f".staging-{arch}.zip")
    with zipfile.ZipFile(staging, "w") as archive:
        archive.writestr(entry, data, compresslevel=9)
    with open(staging, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    final = os.path.join(out_dir, f"outpost-dispatch-callback-{arch}-{digest}.zip")
    os.replace(staging, final)
    return final


def main() -> None:
    if len(sys.argv) != 4 or sys.argv[2] not in ("arm64", "x86_64"):
        sys.exit("usage: package.py BINARY arm64|x86_64 OUT_DIR")
    print(pack(*sys.argv[1:]))


if __name__ == "__main__":
    main()
