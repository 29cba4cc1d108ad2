"""Prints the dispatch records of a `aws dynamodb scan` (JSON on standard input) as a table.

    aws dynamodb scan --table-name outpost-dispatches | python scripts/records.py [--expect FILE]

With --expect, also compares dispatchId, status and exitCode with FILE (a JSON list of
records) and exits 1, naming each difference, when they differ.
"""

import json
import sys

COLUMNS = ["dispatchId", "status", "exitCode", "stopCode", "endedAt", "taskArn"]  # taskArn shows its task ID


def plain(item: dict) -> dict:
    return {key: next(iter(value.values())) for key, value in item.items()}


def main() -> None:
    records = sorted((plain(item) for item in json.load(sys.stdin)["Items"]), key=lambda r: r["dispatchId"])
    # A task ARN is long; its last part (the task ID) is what tells tasks apart.
    rows = [[str(r.get(c, "-")).rsplit("/", 1)[-1] for c in COLUMNS] for r in records]
    widths = [max(len(c), *(len(row[i]) for row in rows)) if rows else len(c) for i, c in enumerate(COLUMNS)]
    line = lambda cells: "  " + "  ".join(cell.ljust(w) for cell, w in zip(cells, widths))
    print(line(COLUMNS))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))

    if len(sys.argv) == 3 and sys.argv[1] == "--expect":
        with open(sys.argv[2]) as f:
            expected = json.load(f)
        actual = {r["dispatchId"]: {k: r.get(k) for k in ("dispatchId", "status", "exitCode")} for r in records}
        wanted = {r["dispatchId"]: r for r in expected}
        differences = [
            f"  {key}: expected {wanted.get(key)}, got {actual.get(key)}"
            for key in sorted(set(actual) | set(wanted))
            if actual.get(key) != wanted.get(key)
        ]
        if differences:
            print("\nrecords differ from " + sys.argv[2] + ":", file=sys.stderr)
            print("\n".join(differences), file=sys.stderr)
            sys.exit(1)
        print(f"\n  all {len(actual)} records are as expected ({sys.argv[2]})")


if __name__ == "__main__":
    main()
