#!/usr/bin/env bash
# The official client's tests with `qdrant_client` swapped for aqdrant (README.md, part 3).
# Usage: run_swap.sh <aqdrant checkout with .venv> <copy of the upstream tests (holds tests/)>
#   env: SWAP_SUITES="direct congruence_rest congruence_grpc" (default: all three)
# Two fresh in-memory dev servers: 6333/6334 for the direct suites (their clients use the
# default address) and 16433/16434 for the congruence suites. Logs: <copy>/swap_results/<checkout>/.
# The checkout's aqdrant is imported from the checkout itself (PYTHONPATH), whatever its venv holds.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
CHECKOUT="$(cd "${1:?usage: run_swap.sh <checkout> <tests copy>}" && pwd)"
COPY="$(cd "${2:?usage: run_swap.sh <checkout> <tests copy>}" && pwd)"
PY="$CHECKOUT/.venv/bin/python"
OUT="$COPY/swap_results/$(basename "$CHECKOUT")" && mkdir -p "$OUT"
for p in 6333 6334 16433 16434; do
  if ss -ltn | awk '{print $4}' | grep -qE "[:.]$p\$"; then echo "port $p is busy"; exit 2; fi
done
PIDS=()
serve() {  # port grpc_port log
  PYTHONPATH="$CHECKOUT" "$PY" -m aqdrant serve --port "$1" --grpc-port "$2" >"$3" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do curl -sf "http://localhost:$1/" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "server on $1 did not answer"; exit 2
}
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done' EXIT
cd "$COPY" || exit 2
for suite in ${SWAP_SUITES:-direct congruence_rest congruence_grpc}; do
  case "$suite" in
    direct)  # import swapped: the shim first on the path
      serve 6333 6334 "$OUT/server_direct.log"
      PYTHONPATH="$HERE/shim:.:$CHECKOUT" "$PY" -m pytest -p no:cacheprovider -q -W ignore --timeout 120 -rfE --tb=short \
        tests/test_in_memory.py tests/test_local_persistence.py tests/test_qdrant_client.py \
        tests/test_context_manager.py tests/test_async_in_memory.py tests/test_create_collection_if_not_exists.py \
        >"$OUT/direct.log" 2>&1 ;;
    congruence_rest|congruence_grpc)  # real qdrant_client as oracle, aqdrant as the remote client
      t="${suite#congruence_}"; [ "$t" = rest ] && k="not True" || k="not False"
      serve 16433 16434 "$OUT/server_$suite.log"
      QDRANT_REMOTE_CLIENT=aqdrant QDRANT_PORT=16433 QDRANT_GRPC_PORT=16434 QDRANT_TRANSPORT="$t" \
        PYTHONPATH="$HERE:.:$CHECKOUT" "$PY" -m pytest tests/congruence_tests -p no:cacheprovider -q -W ignore -k "$k" \
        --timeout 120 -rfE --tb=short >"$OUT/$suite.log" 2>&1 ;;
  esac
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; PIDS=()
  echo "$suite: $(grep -E '(passed|failed|error).* in [0-9.]+s' "$OUT/$suite.log" | tail -1)"
done
