"""Process plumbing for the benchmarks: implementations, daemons, a raw XML-RPC client, /proc counters, cleanup.

Everything the harness starts carries BENCH_TAG in its environment and is reaped or killed by pid;
the harness is a child subreaper, so grandchildren orphaned by a daemon come back to it.
"""

import ctypes
import os
import re
import select
import signal
import socket
import subprocess
import time

PR_SET_CHILD_SUBREAPER = 36


class BenchError(Exception):
    """A scenario could not measure something; the message becomes the table's "n/a" reason."""


def become_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except OSError:
        pass


# ---------------------------------------------------------------- /proc counters


def read_status(pid):
    """Fields of /proc/<pid>/status as strings."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def rss_kb(pid):
    return int(read_status(pid)["VmRSS"].split()[0])


def _tasks(pid):
    try:
        return os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []


def ctx_switches(pid):
    """Voluntary + involuntary context switches summed over the process's threads."""
    total = 0
    for tid in _tasks(pid):
        try:
            st = read_status(f"{pid}/task/{tid}")
        except OSError:
            continue
        total += int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])
    return total


def cpu_seconds(pid):
    """On-CPU time of the process's live threads in seconds (schedstat: nanoseconds)."""
    total = 0
    for tid in _tasks(pid):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


def is_static_elf(path):
    """True for a 64-bit little-endian ELF without a PT_INTERP header (no dynamic loader)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2:
                return False
            phoff = int.from_bytes(head[32:40], "little")
            phentsize = int.from_bytes(head[54:56], "little")
            phnum = int.from_bytes(head[56:58], "little")
            f.seek(phoff)
            table = f.read(phentsize * phnum)
        return all(int.from_bytes(table[i:i + 4], "little") != 3 for i in range(0, len(table), phentsize))
    except OSError:
        return False


def io_syscalls(pid):
    """read-like + write-like syscalls the process has made (/proc/<pid>/io syscr + syscw)."""
    total = 0
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("syscr", "syscw"):
                total += int(v)
    return total


def machine_description():
    cores = os.cpu_count()
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cores} cores ({model}), {mem_kb / 1024 / 1024:.1f} GiB RAM, Linux {os.uname().release}"


# ---------------------------------------------------------------- processes

# Popen objects the harness still owns (daemons, bounds); cleanup() stops them by pid.
_OWNED = {}


def spawn(argv, cwd=None, stdout=None, stderr=None, stdin=subprocess.DEVNULL, env=None):
    """Starts argv in its own session (so its pid is also its process group id)."""
    p = subprocess.Popen(argv, cwd=cwd, stdout=stdout, stderr=stderr, stdin=stdin, env=env,
                         start_new_session=True)
    _OWNED[p.pid] = p
    return p


def wait_exit(p, timeout):
    """Waits for Popen p with a deadline; returns (returncode, rusage) or raises BenchError."""
    try:
        fd = os.pidfd_open(p.pid)
    except (OSError, AttributeError):
        fd = None
    try:
        if fd is not None:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            if not poller.poll(max(0, timeout) * 1000):
                raise BenchError(f"{os.path.basename(p.args[0])} still running after {timeout:.0f}s")
            _, status, ru = os.wait4(p.pid, 0)
        else:
            deadline = time.monotonic() + timeout
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    raise BenchError(f"{os.path.basename(p.args[0])} still running after {timeout:.0f}s")
                time.sleep(0.001)
    finally:
        if fd is not None:
            os.close(fd)
    p.returncode = os.waitstatus_to_exitcode(status)
    _OWNED.pop(p.pid, None)
    return p.returncode, ru


def run_timed(argv, timeout, cwd=None, env=None):
    """Runs argv to completion; returns (wall seconds, rc, stdout bytes, rusage of the child)."""
    out_path = os.path.join(os.environ.get("BENCH_ROOT", "/tmp"), f"svb-out-{os.getpid()}")
    with open(out_path, "w+b") as out:
        t0 = time.monotonic()
        p = spawn(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            rc, ru = wait_exit(p, timeout)
        except BenchError:
            stop_pid(p)
            raise
        wall = time.monotonic() - t0
        out.seek(0)
        data = out.read()
    os.unlink(out_path)
    return wall, rc, data, ru


def stop_pid(p, grace=5.0):
    """SIGTERM p's process group, SIGKILL after `grace` seconds, reap it."""
    if p.returncode is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(p.pid, sig)
        try:
            wait_exit(p, wait)
            return
        except BenchError:
            continue
        except ChildProcessError:
            return


def descendants_by_tag(tag):
    """Pids of live processes other than the harness whose environment holds BENCH_TAG=tag."""
    needle = f"BENCH_TAG={tag}".encode()
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if needle in env:
            found.append(int(name))
    return found


def children_of(pid):
    """Pids of the live (non-zombie) children of pid."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            out.append(int(name))
    return out


def reap_orphans():
    """Reaps zombies reparented to the harness (it is a subreaper) that no Popen owns."""
    me = str(os.getpid())
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in _OWNED:
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            try:
                os.waitpid(int(name), os.WNOHANG)
            except ChildProcessError:
                pass


def cleanup(tag):
    """Stops every process this run started: owned Popens first, then anything carrying the tag."""
    for p in list(_OWNED.values()):
        stop_pid(p, grace=2.0)
    for _ in range(10):
        reap_orphans()
        pids = [p for p in descendants_by_tag(tag) if p not in (os.getpid(), os.getppid())]
        if not pids:
            return 0
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
    reap_orphans()
    return len(descendants_by_tag(tag))


# ---------------------------------------------------------------- raw XML-RPC over the unix socket


def xml_param(v):
    if isinstance(v, bool):
        return f"<value><boolean>{int(v)}</boolean></value>"
    if isinstance(v, int):
        return f"<value><int>{v}</int></value>"
    return f"<value><string>{v}</string></value>"


def rpc_body(method, params=()):
    ps = "".join(f"<param>{xml_param(p)}</param>" for p in params)
    return (f"<?xml version='1.0'?>\n<methodCall>\n<methodName>{method}</methodName>\n"
            f"<params>\n{ps}</params>\n</methodCall>\n").encode()


class RpcConn:
    """One keep-alive HTTP/1.1 connection; no XML parsing so the client costs next to nothing."""

    def __init__(self, sock_path, timeout=30.0):
        self.sock_path = sock_path
        self.timeout = timeout
        self.sock = None
        self.reconnects = 0

    def _connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.sock_path)
        except OSError as e:
            s.close()
            raise BenchError(f"control socket: {e.strerror or e}") from e
        self.sock = s

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def call(self, method, params=()):
        """Returns the response body (bytes); raises BenchError on HTTP errors or faults."""
        for attempt in range(2):
            if self.sock is None:
                self._connect()
                if attempt:
                    self.reconnects += 1
            body = rpc_body(method, params)
            req = (b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
                   b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            try:
                self.sock.sendall(req)
                status, headers, data = self._read_response()
            except (ConnectionError, BrokenPipeError, EOFError):
                self.close()
                if attempt:
                    raise
                continue
            if headers.get("connection", "").lower() == "close":
                self.close()
            if status != 200:
                raise BenchError(f"{method}: HTTP {status}")
            if b"<fault>" in data:
                m = re.search(rb"<string>([^<]*)</string>", data)
                raise BenchError(f"{method}: fault {m.group(1).decode() if m else '?'}")
            return data
        raise BenchError(f"{method}: connection closed")

    def _read_response(self):
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            n = int(headers["content-length"])
            chunks = [rest]
            have = len(rest)
            while have < n:
                chunk = self.sock.recv(max(65536, n - have))
                if not chunk:
                    raise EOFError
                chunks.append(chunk)
                have += len(chunk)
            return status, headers, b"".join(chunks)[:n]
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return status, headers, self._read_chunked(rest)
        data = rest
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        self.close()
        return status, headers, data

    def _read_chunked(self, buf):
        out = []
        while True:
            while b"\r\n" not in buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError
                buf += chunk
            size_line, _, buf = buf.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(buf) < size + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError
                buf += chunk
            if size == 0:
                return b"".join(out)
            out.append(buf[:size])
            buf = buf[size + 2:]


STATENAME = re.compile(rb"<name>statename</name>\s*<value>(?:<string>)?([A-Z]+)")


def statenames(body):
    return [m.decode() for m in STATENAME.findall(body)]


# ---------------------------------------------------------------- implementations and daemons


class Impl:
    """One implementation under test: how to start its daemon and its client."""

    def __init__(self, name, supervisord, supervisorctl, unavailable=None):
        self.name = name
        self.supervisord = supervisord
        self.supervisorctl = supervisorctl
        self.unavailable = unavailable  # reason string when it cannot run at all


def write_config(workdir, programs, extra_global=""):
    """Writes supervisord.conf for `programs` [(name, {option: value})] into workdir; returns its path."""
    os.makedirs(os.path.join(workdir, "logs"), exist_ok=True)
    minfds = max(1024, 8 * len(programs) + 256)
    lines = [
        "[unix_http_server]",
        f"file={workdir}/s.sock",
        "",
        "[supervisord]",
        f"logfile={workdir}/supervisord.log",
        f"pidfile={workdir}/supervisord.pid",
        f"childlogdir={workdir}/logs",
        "logfile_maxbytes=0",
        f"minfds={minfds}",
        "nodaemon=true",
        extra_global,
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{workdir}/s.sock",
        "",
    ]
    for name, opts in programs:
        lines.append(f"[program:{name}]")
        for k, v in opts.items():
            lines.append(f"{k}={v}")
        lines.append("")
    path = os.path.join(workdir, "supervisord.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


class Daemon:
    """One supervisord (either implementation) on a generated config, in the foreground."""

    def __init__(self, impl, workdir, programs, extra_global=""):
        self.impl = impl
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.conf = write_config(workdir, programs, extra_global)
        self.sock_path = os.path.join(workdir, "s.sock")
        self.log_path = os.path.join(workdir, "supervisord.log")
        self.proc = None
        self.t_exec = None
        self._log_pos = 0
        self._log_tail = b""

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        self._stderr = open(os.path.join(self.workdir, "daemon.stderr"), "wb")
        self.t_exec = time.monotonic()
        self.proc = spawn(self.impl.supervisord + ["-n", "-c", self.conf], cwd=self.workdir,
                          stdout=subprocess.DEVNULL, stderr=self._stderr)
        return self

    def _died(self):
        if self.proc.poll() is None:
            return None
        _OWNED.pop(self.proc.pid, None)
        try:
            with open(os.path.join(self.workdir, "daemon.stderr"), "rb") as f:
                err = f.read().decode(errors="replace").strip().splitlines()
        except OSError:
            err = []
        tail = err[-1][:120] if err else "no stderr"
        return f"daemon exited rc={self.proc.returncode}: {tail}"

    def wait_answering(self, timeout, interval=0.002, socket_file_within=10.0):
        """Polls the control socket until supervisor.getState answers; returns seconds since exec.
        Gives up early when the socket file has not appeared `socket_file_within` s after exec."""
        deadline = time.monotonic() + timeout
        while True:
            why = self._died()
            if why:
                raise BenchError(why)
            if (time.monotonic() - self.t_exec > socket_file_within
                    and not os.path.exists(self.sock_path)):
                raise BenchError(f"no control socket file {socket_file_within:.0f}s after exec")
            try:
                c = RpcConn(self.sock_path, timeout=max(0.1, deadline - time.monotonic()))
                c.call("supervisor.getState")
                c.close()
                return time.monotonic() - self.t_exec
            except (OSError, EOFError, BenchError) as e:
                if time.monotonic() > deadline:
                    raise BenchError(f"control socket not answering after {timeout:.0f}s ({e})")
                time.sleep(interval)

    def rpc(self, method, params=(), timeout=60.0):
        c = RpcConn(self.sock_path, timeout=timeout)
        try:
            return c.call(method, params)
        finally:
            c.close()

    def states(self):
        return statenames(self.rpc("supervisor.getAllProcessInfo"))

    def count_log(self, needle):
        """Counts occurrences of `needle` (bytes) in the main log, reading only what is new."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_pos)
                data = f.read()
        except OSError:
            return getattr(self, "_log_count", 0)
        self._log_pos += len(data)
        data = self._log_tail + data
        cut = data.rfind(b"\n") + 1
        self._log_tail = data[cut:]
        self._log_count = getattr(self, "_log_count", 0) + data[:cut].count(needle)
        return self._log_count

    def wait_log_count(self, needle, n, timeout, interval=0.005):
        """Waits until the main log holds `n` lines with `needle`; returns seconds since exec."""
        deadline = time.monotonic() + timeout
        while True:
            if self.count_log(needle) >= n:
                return time.monotonic() - self.t_exec
            why = self._died()
            if why:
                raise BenchError(why)
            if time.monotonic() > deadline:
                raise BenchError(f"only {self.count_log(needle)}/{n} '{needle.decode()}' log lines "
                                 f"after {timeout:.0f}s")
            time.sleep(interval)

    def wait_states(self, want, n, timeout, interval=0.05):
        """Polls getAllProcessInfo until `n` processes are in state `want`."""
        deadline = time.monotonic() + timeout
        last = []
        while time.monotonic() < deadline:
            why = self._died()
            if why:
                raise BenchError(why)
            try:
                last = self.states()
                if sum(1 for s in last if s == want) >= n:
                    return time.monotonic() - self.t_exec
            except (OSError, EOFError, BenchError):
                pass
            time.sleep(interval)
        raise BenchError(f"{sum(1 for s in last if s == want)}/{n} {want} after {timeout:.0f}s")

    def ctl(self, args, timeout=120.0):
        """Runs the implementation's supervisorctl on this daemon's config."""
        return run_timed(self.impl.supervisorctl + ["-c", self.conf] + args, timeout, cwd=self.workdir)

    def terminate(self, timeout):
        """SIGTERM to the daemon pid; returns seconds until it was reaped (raises on timeout)."""
        t0 = time.monotonic()
        os.kill(self.proc.pid, signal.SIGTERM)
        wait_exit(self.proc, timeout)
        return time.monotonic() - t0

    def stop(self):
        """Stops the daemon (if still running) and whatever it left behind."""
        if self.proc is not None:
            stop_pid(self.proc, grace=10.0)
        if getattr(self, "_stderr", None):
            self._stderr.close()
            self._stderr = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
