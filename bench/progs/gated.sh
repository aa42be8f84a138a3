#!/bin/bash
# Start gate for the log benchmarks: waits until the harness writes a line into the FIFO $1, then
# execs the rest of the command line, so the daemon is idle and measured only during the transfer.
read -r _ < "$1"
shift
exec "$@"
