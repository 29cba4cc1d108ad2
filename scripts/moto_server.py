"""moto's server, with each request handled to completion before the next one starts.

moto's own `moto_server` serves requests on many threads and its DynamoDB backend does
not make a conditional UpdateItem atomic: two racing writes can both pass the same
condition (seen in our 20-concurrent-deliveries test). Real DynamoDB never allows that.
Serializing requests restores the guarantee our exactly-once logic relies on, while
keeping moto's real API surface.

ECS answers are made to match ECS's documented types where moto's differ, and
`DescribeTasks` answers a task it does not know with the failure `MISSING`, as ECS does,
where moto leaves it out (see `ecs_as_documented`).

It also counts the requests it serves by AWS operation (the `X-Amz-Target` header, or
the `Action` of a query API), so benchmarks can check how many calls an event costs:
GET /_outpost/request-counts returns them as JSON; DELETE returns them and resets them.

Usage: python scripts/moto_server.py [-H HOST] [-p PORT]
"""

import argparse
import collections
import io
import json
import os
import signal
import sys
import threading

# moto reads the AWS variables too: a profile that names no configuration (even an empty
# AWS_PROFILE, as a Makefile's `export` leaves behind) makes every request fail with a
# 500. The server needs no profile, so it drops them before moto is imported.
for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(variable, None)

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def ecs_as_documented(backend, environ, start_response):
    """moto writes a task's container `cpu` and `memory` as numbers; ECS documents them
    as strings, and the Rust SDK refuses numbers there. And moto's `DescribeTasks` leaves
    out a task it does not know, where ECS lists it under `failures` with the reason
    `MISSING`. Rewrites those, and nothing else."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    request = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(request)
    status_headers = []
    body = b"".join(backend(environ, lambda status, headers, *_: status_headers.append((status, headers))))
    status, headers = status_headers[0]
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict):
        tasks = document.get("tasks", []) + ([document["task"]] if isinstance(document.get("task"), dict) else [])
        for task in tasks:
            for container in task.get("containers", []):
                for field in ("cpu", "memory", "memoryReservation"):
                    if isinstance(container.get(field), int):
                        container[field] = str(container[field])
        if environ.get("HTTP_X_AMZ_TARGET", "").endswith(".DescribeTasks") and "tasks" in document:
            asked = json.loads(request or b"{}").get("tasks", [])
            answered = {task.get("taskArn") for task in tasks}
            answered |= {failure.get("arn") for failure in document.get("failures", [])}
            missing = [{"arn": arn, "reason": "MISSING"} for arn in asked if arn not in answered]
            document["failures"] = document.get("failures", []) + missing
        body = json.dumps(document).encode()
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    start_response(status, headers + [("Content-Length", str(len(body)))])
    return [body]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()

    backend = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()
    counts = collections.Counter()

    def serialized(environ, start_response):
        if environ.get("PATH_INFO") == "/_outpost/request-counts":
            with lock:
                body = json.dumps(counts, sort_keys=True).encode()
                if environ["REQUEST_METHOD"] == "DELETE":
                    counts.clear()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            start_response("200 OK", headers)
            return [body]
        service, _, target = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")
        with lock:
            counts[target or environ.get("PATH_INFO", "")] += 1
            # Materialize the body inside the lock so the whole request is one step.
            if service.startswith("AmazonEC2ContainerService"):
                return ecs_as_documented(backend, environ, start_response)
            return list(backend(environ, start_response))

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(args.host, args.port, serialized, threaded=True)


if __name__ == "__main__":
    main()
