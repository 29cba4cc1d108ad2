"""Prints `local-runtime`'s result lines (JSON, one per invocation) as a readable table."""

import json
import sys

for line in sys.stdin:
    result = json.loads(line)
    name = result["event"].rsplit("/", 1)[-1]
    if "ok" in result:
        ok = result["ok"]
        what = ok["result"] + " " + (ok.get("status") or ok.get("reason", ""))
        print(f"    {name:38} {what:24} {ok.get('dispatchId', '')}")
    else:
        error = result["error"]
        print(f"    {name:38} error {error['errorType']}: {error['errorMessage']}")
