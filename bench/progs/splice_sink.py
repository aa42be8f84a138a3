"""Log benchmark floor: moves stdin (a pipe) into the file argv[1] with splice(2), the least work any
process can do to get those bytes from a pipe into a file (one kernel copy into the page cache, no
user-space copy). Prints the CPU seconds (user+sys) of the copy loop only."""
import os
import resource
import sys


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


out = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
start = cpu()
offset = 0
while True:
    moved = os.splice(0, out, 1 << 20, offset_dst=offset)
    if moved == 0:
        break
    offset += moved
print(f"{cpu() - start:.6f}")
