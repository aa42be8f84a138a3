#!/bin/bash
# Spawn bound: forks and execs $1 background `sleep`s from bash (a small process, like the daemon),
# printing each pid, then waits so that stopping bash's process group stops them all.
for _ in $(seq "$1"); do
    sleep 1000000 &
    echo $!
done
wait
