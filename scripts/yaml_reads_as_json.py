"""Checks that PyYAML, a YAML 1.1 reader (the one cfn-lint and the AWS CLI use), reads each
YAML file synth writes exactly as the JSON file beside it: same keys, same values, same
types (a string read as a date, a boolean or a number is a failure; Python's `True == 1`
and `1 == 1.0` are not allowed to hide one).

    python scripts/yaml_reads_as_json.py YAML JSON [YAML JSON ...]

Both of PyYAML's loaders are checked: the pure-Python SafeLoader and libyaml's
CSafeLoader. The YAML 1.2 reading is synth's own (`synth::yaml::to_string` reads back
every file it writes through serde_yaml_ng). Exits 1 naming each difference.
"""

import json
import sys

import yaml


def differences(read, expected, path="$"):
    """Each place where `read` is not `expected`, type included."""
    if type(read) is not type(expected):
        yield f"{path}: read as {type(read).__name__} {read!r}, the JSON has {type(expected).__name__} {expected!r}"
    elif isinstance(expected, dict):
        for key in sorted(set(read) | set(expected), key=repr):
            if key not in read:
                yield f"{path}: missing key {key!r}"
            elif key not in expected:
                yield f"{path}: unexpected key {key!r}"
            else:
                yield from differences(read[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        if len(read) != len(expected):
            yield f"{path}: {len(read)} items, the JSON has {len(expected)}"
        for index, (item, want) in enumerate(zip(read, expected)):
            yield from differences(item, want, f"{path}[{index}]")
    elif read != expected:
        yield f"{path}: read as {read!r}, the JSON has {expected!r}"


def main(arguments):
    if not arguments or len(arguments) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    failed = False
    loaders = [yaml.SafeLoader, yaml.CSafeLoader]
    for yaml_file, json_file in zip(arguments[::2], arguments[1::2]):
        with open(json_file, encoding="utf-8") as handle:
            expected = json.load(handle)
        with open(yaml_file, encoding="utf-8") as handle:
            text = handle.read()
        for loader in loaders:
            found = list(differences(yaml.load(text, Loader=loader), expected))
            for line in found:
                print(f"{yaml_file} ({loader.__name__}): {line}", file=sys.stderr)
            failed = failed or bool(found)
        if not failed:
            print(f"  ok: PyYAML {yaml.__version__} reads {yaml_file} as {json_file}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
