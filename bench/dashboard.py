#!/usr/bin/env python3
"""The dashboard's live feed costs nothing when idle and does not grow the daemon's memory.

1. Idle: a daemon with 20 sleeping programs and DASH_CLIENTS (default 4) open `GET /events`
   streams; counts the daemon's context switches over DASH_IDLE seconds (default 30). Expected:
   0 (no keep-alive timer; the loop sleeps until something happens).
2. Long-running client: one `/events` stream and one `/logtail` stream stay open while a program
   flaps (exits and is restarted every ~0.3 s) and prints, for DASH_LONG seconds (default 120);
   the daemon's RSS is sampled after a warm-up and at the end, and the clients count the bytes
   they received. Expected: RSS flat (within a few hundred KiB of allocator noise).

Usage: bench/dashboard.py [path/to/supervisor]   (default target/release/supervisor)
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/supervisor")
CLIENTS = int(os.environ.get("DASH_CLIENTS", "4"))
IDLE = float(os.environ.get("DASH_IDLE", "30"))
LONG = float(os.environ.get("DASH_LONG", "120"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    raise KeyError(field)


def switches(pid):
    return status(pid, "voluntary_ctxt_switches:") + status(pid, "nonvoluntary_ctxt_switches:")


def start(dir, programs):
    port = free_port()
    conf = os.path.join(dir, "s.conf")
    with open(conf, "w") as f:
        f.write(f"[supervisord]\nlogfile={dir}/s.log\npidfile={dir}/s.pid\nchildlogdir={dir}\n\n"
                f"[inet_http_server]\nport=127.0.0.1:{port}\n\n"
                "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = "
                "supervisor.rpcinterface:make_main_rpcinterface\n\n" + programs)
    daemon = subprocess.Popen([BIN, "supervisord", "-n", "-c", conf],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    return daemon, port


class Stream(threading.Thread):
    """A client that keeps one streaming request open and counts what it receives."""

    def __init__(self, port, target):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        self.received = 0
        self.start()

    def run(self):
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return
                self.received += len(data)
        except OSError:
            return


def stop(daemon):
    daemon.terminate()
    try:
        daemon.wait(20)
    except subprocess.TimeoutExpired:
        daemon.kill()


def idle():
    with tempfile.TemporaryDirectory(prefix="dash-bench-") as dir:
        programs = "".join(f"[program:p{i}]\ncommand=sleep 100000\nstartsecs=0\n\n" for i in range(20))
        daemon, port = start(dir, programs)
        time.sleep(2)  # everything RUNNING
        streams = [Stream(port, "/events") for _ in range(CLIENTS)]
        time.sleep(1)
        first = sum(s.received for s in streams)
        before = switches(daemon.pid)
        time.sleep(IDLE)
        woke = switches(daemon.pid) - before
        later = sum(s.received for s in streams) - first
        print(f"idle: {CLIENTS} open /events streams, {IDLE:.0f} s: daemon context switches {woke}, "
              f"bytes sent {later} (the first table event was {first // max(CLIENTS, 1)} bytes each)")
        stop(daemon)
        return woke


def long_running():
    with tempfile.TemporaryDirectory(prefix="dash-bench-") as dir:
        programs = ("[program:flap]\ncommand=/bin/sh -c \"echo flap; sleep 0.3; exit 1\"\nstartsecs=0\n"
                    "autorestart=true\nstdout_logfile=%(here)s/flap.out\n\n"
                    + "".join(f"[program:p{i}]\ncommand=sleep 100000\nstartsecs=0\n\n" for i in range(20)))
        daemon, port = start(dir, programs)
        events = Stream(port, "/events")
        tail = Stream(port, "/logtail/flap")
        time.sleep(10)  # warm-up: buffers and allocator pools reach their working size
        rss0 = status(daemon.pid, "VmRSS:")
        t0 = time.time()
        samples = []
        while time.time() - t0 < LONG:
            time.sleep(LONG / 10)
            samples.append(status(daemon.pid, "VmRSS:"))
        rss1 = samples[-1]
        print(f"long-running: {LONG:.0f} s with a flapping program, one /events and one /logtail client: "
              f"daemon RSS {rss0} KiB -> {rss1} KiB (max {max(samples)}), "
              f"events stream {events.received} bytes, log stream {tail.received} bytes")
        stop(daemon)
        return rss1 - rss0


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"no binary at {BIN} (cargo build --release)")
    woke = idle()
    grew = long_running()
    ok = woke <= 2 and grew < 512
    print("dashboard bench:", "OK" if ok else "CHECK", f"(idle wakeups {woke}, RSS growth {grew} KiB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
