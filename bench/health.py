#!/usr/bin/env python3
"""Health checks at scale: HC_PROGRAMS (default 1000) programs, each with an http health check every
HC_INTERVAL seconds (default 1), all pointing at one small HTTP server in this harness (one
process, epoll, answers `200 OK` and records when each check's connection arrived).

Measures over HC_SECONDS (default 30) after a warm-up:
- daemon CPU per check: the daemon's user+system CPU time over the window / checks served;
- lateness: for each program, its checks should arrive on a fixed schedule (origin + k * interval);
  the origin is estimated as the earliest consistent one, so a check's lateness is how much later
  than that schedule it arrived (this includes the harness server's own accept latency, so it is
  an upper bound of the daemon's). Reports p50/p99/max and how many were late by more than 10 ms.
- checks missed: expected checks (window / interval per program) minus those served.

Usage: bench/health.py [path/to/supervisor]   (default target/release/supervisor)
Quick: HC_PROGRAMS=1000 HC_SECONDS=10 bench/health.py
"""
import os
import select
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


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Server:
    """One listening socket; every connection: read the request line, answer 200, close."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.ep = select.epoll()
        self.ep.register(self.sock.fileno(), select.EPOLLIN)
        self.conns = {}  # fd -> (socket, accept time, bytes)
        self.arrivals = {}  # path -> [monotonic times]

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
            self.conns[conn.fileno()] = (conn, now, b"")
            self.ep.register(conn.fileno(), select.EPOLLIN)

    def _read(self, fd):
        conn, t, data = self.conns[fd]
        try:
            chunk = conn.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        data += chunk
        if chunk and b"\r\n\r\n" not in data:
            self.conns[fd] = (conn, t, data)
            return
        if chunk:
            path = data.split(b" ", 2)[1].decode() if data.count(b" ") >= 2 else "?"
            self.arrivals.setdefault(path, []).append(t)
            try:
                conn.send(RESPONSE)
            except OSError:
                pass
        self.ep.unregister(fd)
        del self.conns[fd]
        conn.close()


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"no binary at {BIN} (cargo build --release)")
    server = Server()
    with tempfile.TemporaryDirectory(prefix="hc-bench-") as dir:
        conf = os.path.join(dir, "s.conf")
        with open(conf, "w") as f:
            f.write(
                f"[supervisord]\nlogfile={dir}/s.log\npidfile={dir}/s.pid\nchildlogdir={dir}\nminfds=8192\n\n"
                f"[program:p]\nprocess_name=p%(process_num)s\nnumprocs={PROGRAMS}\n"
                "command=sleep 100000\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n"
                f"healthcheck=http://127.0.0.1:{server.port}/%(process_num)s\n"
                f"healthcheck_interval={INTERVAL}\nhealthcheck_timeout=2\n"
            )
        daemon = subprocess.Popen([BIN, "supervisord", "-n", "-c", conf],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            server.serve(time.monotonic() + WARMUP)
            started = len(server.arrivals)
            server.arrivals.clear()
            t0 = time.monotonic()
            cpu0 = cpu_seconds(daemon.pid)
            server.serve(t0 + SECONDS)
            cpu1 = cpu_seconds(daemon.pid)
            elapsed = time.monotonic() - t0
        finally:
            daemon.terminate()
            try:
                daemon.wait(60)
            except subprocess.TimeoutExpired:
                daemon.kill()
    checks = sum(len(v) for v in server.arrivals.values())
    late = []
    for times in server.arrivals.values():
        origin = min(t - k * INTERVAL for k, t in enumerate(times))
        late.extend(t - (origin + k * INTERVAL) for k, t in enumerate(times))
    late.sort()
    pct = lambda q: late[min(len(late) - 1, int(q * len(late)))] * 1000 if late else float("nan")
    over = sum(1 for x in late if x > 0.010)
    expected = PROGRAMS * elapsed / INTERVAL
    cpu = cpu1 - cpu0
    print(f"health bench: {PROGRAMS} programs, http check every {INTERVAL} s, {elapsed:.1f} s window "
          f"({started} programs checked during the {WARMUP:.0f} s warm-up)")
    print(f"  checks served {checks} (expected ~{expected:.0f}), daemon CPU {cpu:.2f} s "
          f"= {cpu / max(elapsed, 1e-9) * 100:.1f}% of a core, {cpu / max(checks, 1) * 1e6:.0f} us per check")
    print(f"  lateness vs the fixed schedule: p50 {pct(0.5):.2f} ms, p99 {pct(0.99):.2f} ms, "
          f"max {pct(1.0):.2f} ms; late by more than 10 ms: {over} of {len(late)}")
    return 0 if over == 0 and checks >= 0.95 * expected else 1


if __name__ == "__main__":
    sys.exit(main())
