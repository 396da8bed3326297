#!/usr/bin/env bash
# Conformance run of an aqdrant checkout's dev server against two external suites:
#   1. Qdrant's own REST behaviour tests (qdrant/qdrant tests/openapi, copied to qdrant-openapi-tests/)
#   2. the official client's congruence tests (qdrant/qdrant-client tests/congruence_tests, copied to
#      qdrant-client-tests/), once with every remote client on REST and once on gRPC.
# Usage: run.sh <aqdrant checkout with .venv built> [rest_port grpc_port]
#   env: CONGRUENCE_TRANSPORTS="rest grpc" (default; "rest" halves the time), TIMEOUT_OPENAPI=60, TIMEOUT_CONGRUENCE=120
# Prints the pass rate of the servable REST behaviour tests, the number of congruence tests failing
# over REST and over gRPC, and one line per failure with its category. Results: results/<name>/.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
CHECKOUT="$(cd "${1:?usage: run.sh <aqdrant checkout> [rest_port grpc_port]}" && pwd)"
PY="$CHECKOUT/.venv/bin/python"
PORT="${2:-16333}"
GRPC_PORT="${3:-16334}"
TIMEOUT_OPENAPI="${TIMEOUT_OPENAPI:-60}"
TIMEOUT_CONGRUENCE="${TIMEOUT_CONGRUENCE:-120}"
NAME="$(basename "$CHECKOUT")"
OUT="$HERE/results/$NAME"
SPEC="$CHECKOUT/qdrant-api/v1.19/openapi.json"
mkdir -p "$OUT" && rm -f "$OUT/commits.txt"
[ -x "$PY" ] || { echo "no $PY: build the checkout's venv first (python3 tools/dev.py check)"; exit 2; }

# The openapi suite needs schemathesis 3.x etc.; it talks HTTP only, so it gets its own venv.
VENV_OA="$HERE/venv-openapi"
if [ ! -x "$VENV_OA/bin/python" ]; then
  python3 -m venv "$VENV_OA" && "$VENV_OA/bin/pip" install -q "schemathesis<4" retry requests pytest pytest-timeout jsonschema pytest-cases jsons || exit 2
fi

for p in "$PORT" "$GRPC_PORT"; do
  if ss -ltn | awk '{print $4}' | grep -qE "[:.]$p\$"; then echo "port $p is busy; pass other ports"; exit 2; fi
done

SERVER_PID=""
start_server() {  # a fresh in-memory server for each suite, so one suite's leftovers cannot leak
  echo "server for $1 runs $(git -C "$CHECKOUT" rev-parse --short HEAD 2>/dev/null)$( [ -n "$(git -C "$CHECKOUT" status --porcelain 2>/dev/null)" ] && echo " + uncommitted changes")" | tee -a "$OUT/commits.txt"
  "$PY" -m aqdrant serve --port "$PORT" --grpc-port "$GRPC_PORT" >"$OUT/server_$1.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -sf "http://localhost:$PORT/" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died, see $OUT/server_$1.log"; exit 2; }
    sleep 0.2
  done
  echo "server did not answer"; exit 2
}
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; }
trap stop_server EXIT

T0=$(date +%s)
echo "== $CHECKOUT ($(git -C "$CHECKOUT" rev-parse --short HEAD 2>/dev/null)) ports $PORT/$GRPC_PORT"

start_server openapi
(cd "$HERE/qdrant-openapi-tests" && QDRANT_HOST="http://localhost:$PORT" OPENAPI_FILE="$SPEC" \
  "$VENV_OA/bin/python" -m pytest tests/openapi -q -p no:cacheprovider -W ignore \
  --timeout "$TIMEOUT_OPENAPI" --junitxml "$OUT/openapi.xml" >"$OUT/openapi.log" 2>&1)
stop_server
echo "openapi suite done in $(( $(date +%s) - T0 ))s"

for transport in ${CONGRUENCE_TRANSPORTS:-rest grpc}; do
  # each parametrised prefer_grpc test runs once: the variant whose id matches the transport
  if [ "$transport" = rest ]; then K="not True"; else K="not False"; fi
  start_server "congruence_$transport"
  (cd "$HERE/qdrant-client-tests" && QDRANT_PORT="$PORT" QDRANT_GRPC_PORT="$GRPC_PORT" QDRANT_TRANSPORT="$transport" \
    "$PY" -m pytest tests/congruence_tests -q -p no:cacheprovider -W ignore -k "$K" \
    --timeout "$TIMEOUT_CONGRUENCE" --junitxml "$OUT/congruence_$transport.xml" >"$OUT/congruence_$transport.log" 2>&1)
  stop_server
  echo "congruence ($transport) done in $(( $(date +%s) - T0 ))s"
done

python3 "$HERE/summarize.py" "$OUT" | tee "$OUT/summary.txt"
