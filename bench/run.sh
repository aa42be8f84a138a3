#!/usr/bin/env bash
# Entry point of `make bench`: runs bench/bench.py against the reference (.ref-venv) and our release
# binary, bounded in time; afterwards kills by pid anything still carrying this run's BENCH_TAG.
# Environment: BENCH_QUICK=1 for small sizes, BENCH_RESULTS=FILE (default bench/RESULTS.md for full
# runs, none for quick ones), BENCH_TIMEOUT seconds (default 840), BENCH_* sizes (see bench.py).
set -uo pipefail
cd "$(dirname "$0")/.."

TAG="svb$$-$(date +%s)"
PY=.ref-venv/bin/python
[ -x "$PY" ] || PY=python3
# Ours: the newer of the static build (`make static`) and the plain release build.
STATIC=target/x86_64-unknown-linux-gnu/release/supervisor
OURS=target/release/supervisor
if [ -x "$STATIC" ] && { [ ! -e "$OURS" ] || [ "$STATIC" -nt "$OURS" ]; }; then OURS=$STATIC; fi
ARGS=(--tag "$TAG" --ours "${OURS_BIN:-$OURS}" "$@")
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    ARGS+=(--quick)
    [ -n "${BENCH_RESULTS:-}" ] && ARGS+=(--results "$BENCH_RESULTS")
else
    ARGS+=(--results "${BENCH_RESULTS:-bench/RESULTS.md}")
fi

kill_tagged() {
    local pid
    for env in /proc/[0-9]*/environ; do
        pid=${env#/proc/}; pid=${pid%/environ}
        [ "$pid" = $$ ] && continue
        if grep -qzx "BENCH_TAG=$TAG" "$env" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null && echo "bench: killed leftover pid $pid" >&2
        fi
    done
}
trap kill_tagged EXIT

timeout --signal=TERM --kill-after=20 "${BENCH_TIMEOUT:-840}" "$PY" bench/bench.py "${ARGS[@]}"
