#!/bin/sh
# Runs the fuzz targets (`make fuzz`): each for FUZZ_SECONDS (default 600), one at a time at the
# lowest CPU priority, then merges what it found into the checked-in corpus, minimized (a
# smallest set of files that still covers every edge: -set_cover_merge=1 without hit counters
# keeps a few hundred files at most), and appends a dated line to fuzz/README.md.
# Usage: fuzz/run.sh [target ...]   (needs the nightly toolchain and `cargo install cargo-fuzz`)
set -eu
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-600}
targets=${*:-http_request xmlrpc_call xmlrpc_response config event_listener ctl_response}
# Bounds on one input: size, time, memory (a leak or a huge allocation is a finding).
limits="-max_len=4096 -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=256"
mkdir -p fuzz/work
for t in $targets; do
    work=fuzz/work/$t
    log=fuzz/work/$t.log
    rm -rf "$work" "$work.min"
    mkdir -p "$work" "$work.min"
    echo "fuzzing $t for ${secs}s (log: $log)"
    if ! nice -n 19 cargo +nightly fuzz run -O "$t" "$work" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" $limits -print_final_stats=1 >"$log" 2>&1; then
        echo "$t: FAILED; the input is in fuzz/artifacts/$t, the log in $log"
        exit 1
    fi
    nice -n 19 cargo +nightly fuzz run -O "$t" "$work.min" "fuzz/corpus/$t" "$work" -- \
        -set_cover_merge=1 -use_counters=0 $limits >>"$log" 2>&1
    rm -rf "fuzz/corpus/$t"
    mv "$work.min" "fuzz/corpus/$t"
    execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    rss=$(grep -m1 'stat::peak_rss_mb' "$log" | awk '{print $2}')
    files=$(ls "fuzz/corpus/$t" | wc -l)
    line="| $(date -u '+%Y-%m-%d %H:%M') | $t | $secs | $execs | $rss | $files | no crash, hang or OOM |"
    echo "$line"
    echo "$line" >>fuzz/README.md
done
