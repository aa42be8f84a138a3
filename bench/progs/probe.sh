#!/bin/bash
# Restart probe for the benchmarks: appends "start <epoch>" to $1; unless $2 is 0, sleeps $2 seconds,
# appends "exit <epoch>" and exits 0. EPOCHREALTIME is a bash builtin, so no fork skews the stamps.
echo "start $EPOCHREALTIME" >> "$1"
if [ "$2" != 0 ]; then
    sleep "$2"
    echo "exit $EPOCHREALTIME" >> "$1"
fi
exit 0
