#!/usr/bin/env python3
"""Health checks at scale: HC_PROGRAMS (default 1000) programs, each with an http health check every
HC_INTERVAL seconds (default 1), all pointing at one small HTTP server in this harness (one
process, epoll, answers `200 OK` and records when each check's connection arrived).

Measures over HC_SECONDS (default 30) after a warm-up:
- daemon CPU per check: the daemon's user+system CPU time over the window / checks served;
- lateness: for each program, its checks should arrive on a fixed schedule (origin + k * interval);
  the origin is estimated as the earliest consistent one, so a check's lateness is how much later
  than that schedule it arrived. Two clocks: when this server accepted the connection (includes
  the server's own latency: Python, one process, sharing the machine) and the kernel's receive
  timestamp of the request (SO_TIMESTAMPNS: on loopback that is when the daemon sent it, right
  after its connect completed, whatever this server was doing). Reports p50/p99/max and how
  many were late by more than 10 ms, for both.
- checks missed: expected checks (window / interval per program) minus those served.

Usage: bench/health.py [path/to/supervisor]   (default target/release/supervisor)
Quick: HC_PROGRAMS=1000 HC_SECONDS=10 bench/health.py
bench/scenarios.py calls `run` for `make bench` (row "http health checks/s").
"""
import os
import select
import struct
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/supervisor")
PROGRAMS = int(os.environ.get("HC_PROGRAMS", "1000"))
INTERVAL = float(os.environ.get("HC_INTERVAL", "1"))
SECONDS = float(os.environ.get("HC_SECONDS", "30"))
WARMUP = float(os.environ.get("HC_WARMUP", "5"))
TICKS = os.sysconf("SC_CLK_TCK")
RESPONSE = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"
# Linux values (the socket module does not export them).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
CMSG_SPACE = socket.CMSG_SPACE(16)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def sched_counters(pid):
    """(seconds spent runnable but waiting for a CPU, involuntary context switches): how much
    the machine, not the daemon's own work, delayed it."""
    with open(f"/proc/{pid}/schedstat") as f:
        wait = int(f.read().split()[1]) / 1e9
    with open(f"/proc/{pid}/status") as f:
        invol = next(int(line.split()[1]) for line in f if line.startswith("nonvoluntary_ctxt_switches"))
    return wait, invol


class Server:
    """One listening socket; every connection: read the request line, answer 200, close."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # On the listener too: it turns on receive stamping before any request arrives, and
        # accepted sockets inherit it.
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.ep = select.epoll()
        self.ep.register(self.sock.fileno(), select.EPOLLIN)
        self.conns = {}  # fd -> (socket, accept time, bytes, kernel stamp of the first bytes)
        self.arrivals = {}  # path -> [monotonic accept times]
        self.sent = {}  # path -> [kernel receive stamps of the request (realtime)]

    def serve(self, until):
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            for fd, _ in self.ep.poll(min(left, 0.1)):
                if fd == self.sock.fileno():
                    self._accept()
                else:
                    self._read(fd)

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return
            now = time.monotonic()
            conn.setblocking(False)
            conn.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            self.conns[conn.fileno()] = (conn, now, b"", None)
            self.ep.register(conn.fileno(), select.EPOLLIN)

    def _read(self, fd):
        conn, t, data, stamp = self.conns[fd]
        try:
            chunk, ancillary, _, _ = conn.recvmsg(4096, CMSG_SPACE)
        except BlockingIOError:
            return
        except OSError:
            chunk, ancillary = b"", []
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(value) >= 16 and stamp is None:
                sec, nsec = struct.unpack("qq", value[:16])
                stamp = sec + nsec / 1e9
        data += chunk
        if chunk and b"\r\n\r\n" not in data:
            self.conns[fd] = (conn, t, data, stamp)
            return
        if chunk:
            path = data.split(b" ", 2)[1].decode() if data.count(b" ") >= 2 else "?"
            self.arrivals.setdefault(path, []).append(t)
            if stamp is not None:
                self.sent.setdefault(path, []).append(stamp)
            try:
                conn.send(RESPONSE)
            except OSError:
                pass
        self.ep.unregister(fd)
        del self.conns[fd]
        conn.close()


def lateness(series, interval):
    """Per program, how much later than its fixed schedule each check came (seconds, sorted)."""
    late = []
    for times in series.values():
        origin = min(t - k * interval for k, t in enumerate(times))
        late.extend(t - (origin + k * interval) for k, t in enumerate(times))
    late.sort()
    return late


def summary(late):
    """(p50 ms, p99 ms, max ms, count late by more than 10 ms)."""
    pct = lambda q: late[min(len(late) - 1, int(q * len(late)))] * 1000 if late else float("nan")
    return pct(0.5), pct(0.99), pct(1.0), sum(1 for x in late if x > 0.010)


def run(supervisord, programs=PROGRAMS, interval=INTERVAL, seconds=SECONDS, warmup=WARMUP, workdir=None):
    """Runs the daemon (argv prefix `supervisord`) on `programs` checked programs; returns a dict:
    checks, expected, cpu_s, us_per_check, elapsed, started, accept/sent = summary(...)."""
    server = Server()
    with tempfile.TemporaryDirectory(prefix="hc-bench-", dir=workdir) as dir:
        conf = os.path.join(dir, "s.conf")
        with open(conf, "w") as f:
            f.write(
                f"[supervisord]\nlogfile={dir}/s.log\npidfile={dir}/s.pid\nchildlogdir={dir}\nminfds=8192\n\n"
                f"[program:p]\nprocess_name=p%(process_num)s\nnumprocs={programs}\n"
                "command=sleep 100000\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n"
                f"healthcheck=http://127.0.0.1:{server.port}/%(process_num)s\n"
                f"healthcheck_interval={interval}\nhealthcheck_timeout=2\n"
            )
        daemon = subprocess.Popen(list(supervisord) + ["-n", "-c", conf],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            server.serve(time.monotonic() + warmup)
            started = len(server.arrivals)
            server.arrivals.clear()
            server.sent.clear()
            t0 = time.monotonic()
            cpu0, sched0 = cpu_seconds(daemon.pid), sched_counters(daemon.pid)
            server.serve(t0 + seconds)
            cpu1, sched1 = cpu_seconds(daemon.pid), sched_counters(daemon.pid)
            elapsed = time.monotonic() - t0
        finally:
            daemon.terminate()
            try:
                daemon.wait(60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
    checks = sum(len(v) for v in server.arrivals.values())
    cpu = cpu1 - cpu0
    return {
        "checks": checks,
        "expected": programs * elapsed / interval,
        "cpu_s": cpu,
        "us_per_check": cpu / max(checks, 1) * 1e6,
        "elapsed": elapsed,
        "started": started,
        "accept": summary(lateness(server.arrivals, interval)),
        "sent": summary(lateness(server.sent, interval)),
        "sent_checks": sum(len(v) for v in server.sent.values()),
        "runq_wait_s": sched1[0] - sched0[0],
        "preempted": sched1[1] - sched0[1],
    }


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"no binary at {BIN} (cargo build --release)")
    r = run([BIN, "supervisord"])
    print(f"health bench: {PROGRAMS} programs, http check every {INTERVAL} s, {r['elapsed']:.1f} s window "
          f"({r['started']} programs checked during the {WARMUP:.0f} s warm-up)")
    print(f"  checks served {r['checks']} (expected ~{r['expected']:.0f}), daemon CPU {r['cpu_s']:.2f} s "
          f"= {r['cpu_s'] / max(r['elapsed'], 1e-9) * 100:.1f}% of a core, {r['us_per_check']:.0f} us per check")
    print(f"  the daemon waited {r['runq_wait_s'] * 1000:.0f} ms for a CPU while runnable "
          f"(preempted {r['preempted']} times; load average {os.getloadavg()[0]:.2f})")
    for key, what in (("sent", "request sent (kernel stamp)"), ("accept", "accepted by this server")):
        p50, p99, top, over = r[key]
        n = r["sent_checks"] if key == "sent" else r["checks"]
        print(f"  lateness vs the fixed schedule, {what}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
              f"max {top:.2f} ms; late by more than 10 ms: {over} of {n}")
    return 0 if r["sent"][3] == 0 and r["checks"] >= 0.95 * r["expected"] else 1


if __name__ == "__main__":
    sys.exit(main())
