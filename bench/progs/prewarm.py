"""Log benchmark helper: touches argv[1] bytes of fresh memory, one write per page, then exits.

On VMs with free page reporting (Firecracker here: `page_reporting.page_reporting_order=11`), the
guest hands memory it has kept free for ~2 s back to the host; the next write to such a page
faults into the hypervisor, which makes the first pass over fresh page cache several times slower
(a 1 GiB capture swung between 0.54 s and 1.4 s of CPU with the same syscalls). Touching the
memory just before a transfer and freeing it leaves host-backed pages on the guest's free lists,
so every contender (bound, floor, reference, ours) writes into the same kind of memory. The bench
touches 2.5 x the transfer (scenarios.PREWARM_FACTOR)."""
import mmap
import sys

size = int(sys.argv[1])
page = mmap.PAGESIZE
m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for off in range(0, size, page):
    m[off] = 1
m.close()
