#!/usr/bin/env bash
# Runs a command with moto's server (our local AWS, scripts/moto_server.py) listening on a free loopback port.
#
#   scripts/with-moto.sh CMD [ARGS...]
#
# The command sees AWS_ENDPOINT_URL pointing at the server, dummy credentials and
# AWS_REGION, so the AWS CLI and the SDKs talk to moto and never to a real account.
# The server is stopped when the command ends, whatever its exit status.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="$root/.venv/tools/bin/python"
if [[ ! -x "$python" ]]; then
  echo "with-moto: $python not found; run 'make tools' first" >&2
  exit 2
fi

# Ask the kernel for a free port, then give it to moto.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log="$(mktemp -t moto.XXXXXX.log)"
# Requests are serialized so conditional writes are atomic, as in DynamoDB.
"$python" "$root/scripts/moto_server.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -f "$log"' EXIT

ready=""
for _ in $(seq 1 300); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null; then
    ready=yes
    break
  fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then
    echo "with-moto: moto_server exited during start-up:" >&2
    cat "$log" >&2
    exit 2
  fi
  sleep 0.1
done
if [[ -z "$ready" ]]; then
  echo "with-moto: moto_server did not answer within 30 s:" >&2
  cat "$log" >&2
  exit 2
fi

export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID="testing" AWS_SECRET_ACCESS_KEY="testing" AWS_SESSION_TOKEN="testing"
# moto is one region; us-east-1 is the one where S3 needs no location constraint.
export AWS_REGION="us-east-1" AWS_DEFAULT_REGION="us-east-1"
export AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_DEFAULT_PROFILE
"$@"
