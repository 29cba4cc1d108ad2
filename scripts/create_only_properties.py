"""Writes synth/data/create-only-properties.json: for each resource type our templates use,
the properties whose change makes CloudFormation replace the resource
(`createOnlyProperties` in the CloudFormation resource schemas that cfn-lint ships).

    python scripts/create_only_properties.py          # rewrite the file
    python scripts/create_only_properties.py --check  # fail if it is stale

`synth diff` reads the committed file, so it needs no Python at run time. Run it with the
tools virtualenv's Python (`make tools`), whose cfn-lint is pinned by requirements/tools.txt.
"""

import json
import sys
from importlib.metadata import version
from pathlib import Path

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "synth" / "data" / "create-only-properties.json"
# Schemas differ little by region; us-east-1 has every type first.
REGION = "us-east-1"


def resource_types():
    types = set()
    for template in sorted((ROOT / "templates").glob("*.json")):
        resources = json.loads(template.read_text())["Resources"].values()
        types.update(resource["Type"] for resource in resources)
    return sorted(types)


def table():
    types = {}
    for name in resource_types():
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, name).schema
        paths = schema.get("createOnlyProperties", [])
        types[name] = sorted(path.removeprefix("/properties/") for path in paths)
    return {"source": f"cfn-lint {version('cfn-lint')} resource schemas, {REGION}", "types": types}


def main():
    text = json.dumps(table(), indent=2, sort_keys=True) + "\n"
    if sys.argv[1:] == ["--check"]:
        if not OUT.exists() or OUT.read_text() != text:
            sys.exit(f"{OUT.relative_to(ROOT)} is stale: run `.venv/tools/bin/python {Path(__file__).relative_to(ROOT)}`")
        print(f"{OUT.relative_to(ROOT)} is fresh")
        return
    OUT.write_text(text)


if __name__ == "__main__":
    main()
