"""Packs a Lambda `bootstrap` binary into a zip whose bytes depend only on the binary.

    python scripts/package.py BINARY NAME ARCH OUT_DIR
    python scripts/package.py --verify ZIP ARCH

Writes OUT_DIR/NAME-ARCH-HASH.zip (NAME is the function's, as `synth names function`
prints it), where HASH is the start of the zip's SHA-256, and prints that
path. The zip holds one entry, `bootstrap`, with a fixed
timestamp (1980-01-01), fixed Unix permissions (0755, as Lambda needs to execute it) and
a fixed compression level, so the same binary always gives the same bytes, and the same
name: an unchanged function never triggers a code update on deploy. `--verify` checks
that a zip is such a package (one entry, its mode and timestamp, an ELF binary for ARCH)
and exits 1, naming each problem, when it is not.
"""

import hashlib
import os
import sys
import zipfile

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
EXECUTABLE = 0o100755  # a regular file, rwxr-xr-x


def pack(binary: str, name: str, arch: str, out_dir: str) -> str:
    with open(binary, "rb") as f:
        data = f.read()
    entry = zipfile.ZipInfo("bootstrap", date_time=FIXED_TIME)
    entry.create_system = 3  # Unix, so the permissions below are honoured
    entry.external_attr = EXECUTABLE << 16
    entry.compress_type = zipfile.ZIP_DEFLATED

    os.makedirs(out_dir, exist_ok=True)
    staging = os.path.join(out_dir, f".staging-{name}-{arch}.zip")
    with zipfile.ZipFile(staging, "w") as archive:
        archive.writestr(entry, data, compresslevel=9)
    with open(staging, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    final = os.path.join(out_dir, f"{name}-{arch}-{digest}.zip")
    os.replace(staging, final)
    return final


# ELF e_machine of each architecture Lambda runs.
ELF_MACHINE = {"arm64": 0xB7, "x86_64": 0x3E}


def verify(path: str, arch: str) -> list:
    """The ways the zip at `path` differs from what `pack` makes for `arch`."""
    archive = zipfile.ZipFile(path)
    entries = archive.infolist()
    if [e.filename for e in entries] != ["bootstrap"]:
        return [f"entries are {[e.filename for e in entries]}, not ['bootstrap']"]
    entry, data = entries[0], archive.read("bootstrap")
    problems = []
    if entry.external_attr >> 16 != EXECUTABLE:
        problems.append(f"bootstrap mode is {oct(entry.external_attr >> 16)}, not {oct(EXECUTABLE)}")
    if entry.date_time != FIXED_TIME:
        problems.append(f"bootstrap timestamp is {entry.date_time}, not {FIXED_TIME}")
    machine = int.from_bytes(data[18:20], "little")
    if data[:4] != b"\x7fELF" or machine != ELF_MACHINE[arch]:
        problems.append(f"bootstrap is not an ELF binary for {arch} (e_machine {machine:#x})")
    return problems


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--verify" and sys.argv[3] in ELF_MACHINE:
        problems = verify(sys.argv[2], sys.argv[3])
        if problems:
            sys.exit(f"{sys.argv[2]}: " + "; ".join(problems))
        print(f"{sys.argv[2]}: one bootstrap, mode 0755, 1980-01-01, ELF for {sys.argv[3]}")
    elif len(sys.argv) == 5 and sys.argv[3] in ELF_MACHINE:
        print(pack(*sys.argv[1:]))
    else:
        sys.exit("usage: package.py BINARY NAME arm64|x86_64 OUT_DIR | package.py --verify ZIP arm64|x86_64")


if __name__ == "__main__":
    main()
