"""Calls every XML-RPC method of a running supervisord (ours or the reference) with Python's
xmlrpc.client, and prints one normalised line per call, so the transcripts of both servers can be
compared line by line (tests/rpc.rs). Volatile values (pids, times, AUTO log names) are masked.

usage: python rpc_probe.py unix:///path/to/sock /dir/of/the/test
The config it expects is written by tests/rpc.rs (programs sleeper, quick, missing, catty,
logger and group grp = g1, g2).
"""

import re
import sys
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

URL, DIR = sys.argv[1], sys.argv[2]
server = xmlrpc.client.ServerProxy(
    "http://127.0.0.1", transport=SupervisorTransport(None, None, URL)
)

VOLATILE_INTS = {"start", "stop", "now", "pid"}


def norm(value, key=None):
    """Masks what differs between runs and servers but keeps types and shapes."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if key in VOLATILE_INTS and value != 0:
            return "<int>"
        return value
    if isinstance(value, str):
        text = value.replace(DIR, "<dir>")
        text = re.sub(r"---supervisor-[A-Za-z0-9_]+\.log", "---supervisor-<auto>.log", text)
        if key == "description":
            text = re.sub(r"^pid \d+, uptime .*$", "pid <pid>, uptime <uptime>", text)
            text = re.sub(r"^[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M$", "<stoptime>", text)
        return text
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, dict):
        return {k: norm(v, k) for k, v in value.items()}
    return value


def method(name):
    target = server
    for part in name.split("."):
        target = getattr(target, part)
    return target


def call(name, *args, label=None, sort=False, volatile=False):
    try:
        result = method(name)(*args)
        if sort and isinstance(result, list):
            result = sorted(result, key=repr)
        if volatile:
            result = "<%s>" % type(result).__name__
        text = "-> " + repr(norm(result))
    except xmlrpc.client.Fault as f:
        text = "-> FAULT %d %r" % (f.faultCode, norm(f.faultString))
    except xmlrpc.client.ProtocolError as e:
        text = "-> HTTP %d" % e.errcode
    shown = tuple("<binary>" if isinstance(a, xmlrpc.client.Binary) else a for a in args)
    print("%s%r %s" % (label or name, shown, text), flush=True)


def wait_until(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except xmlrpc.client.Fault:
            pass
        time.sleep(0.05)
    return False


def state(name):
    return server.supervisor.getProcessInfo(name)["statename"]


# The socket file appears at bind(), a moment before the server accepts connections.
deadline = time.time() + 10
while True:
    try:
        server.system.listMethods()
        break
    except (OSError, xmlrpc.client.ProtocolError):
        if time.time() > deadline:
            raise
        time.sleep(0.05)

# Let autostart settle: sleeper, catty, logger and grp:g2 RUNNING, logger's output written.
wait_until(lambda: all(state(n) == "RUNNING" for n in ("sleeper", "catty", "logger", "grp:g2")))
wait_until(lambda: len(server.supervisor.readProcessStdoutLog("logger", 0, 0)) >= 14)

# --- system.* ---
call("system.listMethods")
for m in server.system.listMethods():
    call("system.methodSignature", m)
call("system.methodSignature", "supervisor.nope")
call("system.methodSignature", "supervisor._update")
call("system.methodHelp", "nope.nope")
call("system.listMethods", 1)

# --- names and parameter counts ---
for bad in ("getPID", "supervisor.nope", "a.b.c", "supervisor._getAllProcesses", "nope.getPID"):
    call(bad)
call("supervisor.getPID", 1)
call("supervisor.getProcessInfo")
call("supervisor.startProcess", "sleeper", True, 1)

# --- supervisord itself ---
for m in ("getAPIVersion", "getVersion", "getSupervisorVersion", "getIdentification", "getState"):
    call("supervisor." + m)
call("supervisor.getPID", volatile=True)
call("supervisor.readLog", -1, 1)
call("supervisor.readLog", 0, -1)
call("supervisor.readLog", "0", "-1")
call("supervisor.readMainLog", -1, 1)

# --- process info ---
for name in ("sleeper", "sleeper:sleeper", "grp:g1", "grp:g2", "grp:*", "grp:", "grp", "nope", "missing"):
    call("supervisor.getProcessInfo", name)
call("supervisor.getAllProcessInfo")
call("supervisor.getAllConfigInfo")

# --- start ---
for name in ("nope", "nope:*", "missing", "sleeper", "grp:g2", "grp"):
    call("supervisor.startProcess", name)
call("supervisor.startProcess", "quick")
call("supervisor.startProcess", "grp:g1")
call("supervisor.startProcess", "grp:*")
call("supervisor.startProcessGroup", "grp")
call("supervisor.startProcessGroup", "nope")

# --- stop ---
call("supervisor.stopProcess", "grp:g1")
call("supervisor.stopProcess", "grp:g1")
call("supervisor.stopProcess", "nope")
call("supervisor.stopProcess", "quick")
call("supervisor.stopProcessGroup", "nope")
call("supervisor.stopProcessGroup", "grp")
call("supervisor.stopProcessGroup", "grp")
call("supervisor.startProcess", "grp:", False)
wait_until(lambda: state("grp:g1") == "RUNNING" and state("grp:g2") == "RUNNING")
call("supervisor.stopProcess", "grp:*", label="stopProcess(grp:*)", sort=True)
call("supervisor.startProcessGroup", "grp", True, label="startProcessGroup(wait)", sort=True)

# --- signals ---
for name, sig in (("nope", "FOO"), ("quick", "FOO"), ("sleeper", "FOO"), ("sleeper", "40"),
                  ("quick", "CONT"), ("sleeper", "CONT"), ("sleeper", "sigcont"),
                  ("sleeper", "18"), ("sleeper", 18), ("sleeper", "0")):
    call("supervisor.signalProcess", name, sig)
call("supervisor.signalProcess", "grp:*", "CONT")
call("supervisor.signalProcess", "grp:*", "FOO")
call("supervisor.signalProcessGroup", "grp", "CONT")
call("supervisor.signalProcessGroup", "nope", "CONT")
call("supervisor.signalProcessGroup", "quick", "FOO")
call("supervisor.signalAllProcesses", "CONT", sort=True)

# --- logs ---
for args in (("logger", 0, 5), ("logger", 0, 0), ("logger", -3, 0), ("logger", 100, 0),
             ("logger", -3, 1), ("logger", 0, -1), ("logger", "7", "0"), ("nope", 0, 0),
             ("grp:*", 0, 0)):
    call("supervisor.readProcessStdoutLog", *args)
call("supervisor.readProcessLog", "logger", 0, 5)
call("supervisor.readProcessStderrLog", "logger", 0, 0)
call("supervisor.readProcessStderrLog", "catty", 0, 0)
for args in (("logger", 0, 5), ("logger", 0, 1000), ("logger", 10000, 5), ("logger", -5, 5),
             ("logger", 0, -5), ("logger", 7, 7), ("nope", 0, 5)):
    call("supervisor.tailProcessStdoutLog", *args)
call("supervisor.tailProcessLog", "logger", 0, 5)
call("supervisor.tailProcessStderrLog", "logger", 0, 5)
call("supervisor.tailProcessStderrLog", "catty", 0, 5)
call("supervisor.clearProcessLogs", "nope")
call("supervisor.clearProcessLogs", "grp:*")
call("supervisor.clearProcessLog", "logger")
call("supervisor.readProcessStdoutLog", "logger", 0, 0)
call("supervisor.clearAllProcessLogs", label="clearAllProcessLogs", sort=True)
call("supervisor.clearLog", 1)

# --- stdin and events ---
call("supervisor.sendProcessStdin", "nope", 5)
call("supervisor.sendProcessStdin", "nope", "x")
call("supervisor.sendProcessStdin", "quick", "x")
call("supervisor.sendProcessStdin", "catty", "hello\n")
call("supervisor.sendProcessStdin", "catty", xmlrpc.client.Binary(b"bin\n"))
wait_until(lambda: "bin" in server.supervisor.readProcessStdoutLog("catty", 0, 0))
call("supervisor.readProcessStdoutLog", "catty", 0, 0)
call("supervisor.sendRemoteCommEvent", "type", "data")

# --- groups and config ---
call("supervisor.addProcessGroup", "grp")
call("supervisor.addProcessGroup", "nope")
call("supervisor.removeProcessGroup", "grp")
call("supervisor.removeProcessGroup", "nope")
call("supervisor.reloadConfig")
call("supervisor.stopProcessGroup", "grp", label="stopProcessGroup(grp)", sort=True)
call("supervisor.removeProcessGroup", "grp")
call("supervisor.getProcessInfo", "grp:g1")
call("supervisor.addProcessGroup", "grp")
call("supervisor.getProcessInfo", "grp:g1")

# --- multicall ---
call("system.multicall", [
    {"methodName": "supervisor.getAPIVersion"},
    {"methodName": "supervisor.nope", "params": []},
    {"params": []},
    {"methodName": "system.multicall", "params": [[]]},
    {"methodName": "supervisor.getProcessInfo", "params": ["nope"]},
    {"methodName": "supervisor.stopProcess", "params": ["grp:g1"]},
    {"methodName": "supervisor.startProcess", "params": ["grp:g1"]},
    {"methodName": "supervisor.stopProcess", "params": ["grp:g1"]},
    {"methodName": "supervisor.getProcessInfo", "params": ["grp:g1"]},
    {"methodName": 5},
    {"methodName": "supervisor.getPID", "params": 5},
])
call("system.multicall", [])

# --- stop everything, then shut down ---
call("supervisor.stopAllProcesses", label="stopAllProcesses", sort=True)
call("supervisor.stopAllProcesses")
# quick exits at once: whether startProcess(wait=False) already sees that is a race (the
# reference's slower spawn usually loses it), so it leaves before the wait=False runs.
call("supervisor.removeProcessGroup", "quick")
call("supervisor.startAllProcesses", False, label="startAllProcesses(False)", sort=True)
call("supervisor.stopAllProcesses", False, label="stopAllProcesses(False)", sort=True)
# stubborn ignores SIGTERM: the shutdown takes stopwaitsecs, long enough to probe SHUTDOWN_STATE.
# stopAllProcesses(False) left stubborn STOPPING (or already dead, depending on whether its
# trap was set in time): wait until it is down on both servers before starting it again.
wait_until(lambda: state("stubborn") in ("STOPPED", "EXITED", "FATAL"), timeout=20.0)
call("supervisor.startProcess", "stubborn")
call("supervisor.shutdown")
for m in ("getPID", "getState", "shutdown"):
    call("supervisor." + m)
call("supervisor.sendRemoteCommEvent", "type", "late")
call("system.methodSignature", "supervisor.getPID")
print("done", flush=True)
