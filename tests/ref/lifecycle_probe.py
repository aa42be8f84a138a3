"""Drives a running supervisord (ours or the reference) through process lifecycle edge cases and
prints a normalised transcript: after each step every process's getProcessInfo, the output and
exit code of the reference's `supervisorctl status`, and the faults of operations that fail in
these states. tests/lifecycle.rs runs it against both daemons and diffs the transcripts.

Lines starting with `VIOLATION` report an inconsistent info struct (times out of order, a
description that does not match the numbers it was made from); they must never appear.

usage: python lifecycle_probe.py unix:///path/to/sock /dir/of/the/test /path/to/supervisorctl
The config it expects is written by tests/lifecycle.rs.
"""

import os
import re
import subprocess
import sys
import threading
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

URL, DIR, CTL = sys.argv[1], sys.argv[2], sys.argv[3]
server = xmlrpc.client.ServerProxy(
    "http://127.0.0.1", transport=SupervisorTransport(None, None, URL)
)
rpc = server.supervisor

SETTLED = ("RUNNING", "STOPPED", "EXITED", "FATAL")
UPTIME = re.compile(r"^pid (\d+), uptime (?:(\d+) days?, )?(\d+):(\d\d):(\d\d)$")
STOPTIME = re.compile(r"^[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M$")

# Last pid seen per process, to report whether a step kept or replaced the child.
pids = {}


def out(text):
    print(text, flush=True)


def violation(name, what, info):
    out("VIOLATION %s: %s in %r" % (name, what, info))


def check(info):
    """Reports what is inconsistent inside one info struct."""
    name = info["name"]
    start, stop, now = info["start"], info["stop"], info["now"]
    if start > now or stop > now:
        violation(name, "start/stop after now", info)
    state = info["statename"]
    desc = info["description"]
    if state == "RUNNING":
        m = UPTIME.match(desc)
        if not m:
            violation(name, "running description shape", info)
        else:
            days = int(m.group(2) or 0)
            secs = days * 86400 + int(m.group(3)) * 3600 + int(m.group(4)) * 60 + int(m.group(5))
            if int(m.group(1)) != info["pid"]:
                violation(name, "description pid", info)
            if secs != max(0, now - start):
                violation(name, "uptime is not now - start", info)
        if info["pid"] == 0:
            violation(name, "running without pid", info)
    if state in ("STOPPED", "EXITED") and start:
        if desc != time.strftime("%b %d %I:%M %p", time.localtime(stop)):
            violation(name, "stop time text is not the local time of stop", info)
        # stop is 0 when no run of the process ever ended (stopped in BACKOFF after spawn errors).
        if stop and stop < start:
            violation(name, "stopped before it started", info)
    if state in ("STOPPED", "EXITED", "FATAL", "BACKOFF") and info["pid"] != 0:
        violation(name, "pid of a process that is not running", info)


def shape(value):
    """An int time: zero or not."""
    return "0" if value == 0 else "T"


def norm_text(text):
    text = text.replace(DIR, "<dir>")
    text = re.sub(r"---supervisor-[A-Za-z0-9_]+\.log", "---supervisor-<auto>.log", text)
    text = re.sub(r"pid \d+, uptime [0-9:, a-z]+", "pid <pid>, uptime <uptime>", text)
    text = re.sub(r"[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M", "<stoptime>", text)
    return text


def show(info):
    check(info)
    name = info["name"]
    pid = info["pid"]
    if pid == 0:
        pid_text = "0"
    elif pids.get(name) == pid:
        pid_text = "same"
    else:
        pid_text = "new"
    if pid:
        pids[name] = pid
    # Log file names are tests/rpc.rs's business; they would only make the lines long here.
    keys = ("group", "state", "statename", "spawnerr", "exitstatus")
    fields = " ".join("%s=%r" % (k, norm_text(info[k]) if isinstance(info[k], str) else info[k])
                      for k in keys)
    # Whether stop >= start after a restart depends on timing (the reference restarts on its
    # next 1-second tick, ours at once): only the invariants in check() are asserted.
    out("  %s: %s pid=%s start=%s stop=%s description=%r" % (
        name, fields, pid_text, shape(info["start"]), shape(info["stop"]),
        norm_text(info["description"])))


def status(*names):
    proc = subprocess.run([CTL, "-s", URL, "status"] + list(names), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=30)
    text = proc.stdout.decode("utf-8", "replace")
    # Only the daemon differs (both sides run this supervisorctl), so the layout is compared as is.
    lines = [norm_text(l) for l in text.splitlines()]
    out("  $ supervisorctl status %s -> rc %d" % (" ".join(names), proc.returncode))
    for l in lines:
        out("    " + l)


def dump(label):
    out("== " + label)
    infos = rpc.getAllProcessInfo()
    for info in sorted(infos, key=lambda i: i["name"]):
        show(info)
    for info in infos:
        single = rpc.getProcessInfo("%s:%s" % (info["group"], info["name"]))
        retrying = "BACKOFF" in (single["statename"], info["statename"])
        for k in ("statename", "pid", "description", "spawnerr", "exitstatus", "start", "stop"):
            # The uptime may have ticked between the two calls, and a process in BACKOFF may
            # have made its next attempt (a new start time) in between.
            if retrying and k in ("start", "stop"):
                continue
            if norm_text(str(single[k])) != norm_text(str(info[k])):
                out("VIOLATION %s: getProcessInfo %s %r != getAllProcessInfo %r"
                    % (info["name"], k, single[k], info[k]))
    status()


def call(name, *args):
    try:
        result = getattr(rpc, name)(*args)
        if isinstance(result, list):
            # Group operations list processes in the order they finished.
            result = sorted(result, key=lambda r: r["name"])
        text = repr(result)
    except xmlrpc.client.Fault as f:
        text = "FAULT %d %r" % (f.faultCode, norm_text(f.faultString))
    out("  %s%r -> %s" % (name, args, text))


def main_log_lines(pattern):
    """Main-log messages (after the timestamp) matching a regex, pids masked."""
    with open(os.path.join(DIR, "main.log"), errors="replace") as f:
        lines = [l[24:].rstrip("\n") for l in f]
    return [re.sub(r"\b\d{3,}\b", "<pid>", l) for l in lines if re.search(pattern, l)]


def log_count(pattern):
    out("  main log: %d x %s" % (len(main_log_lines(pattern)), pattern))


def log_has(pattern):
    found = main_log_lines(pattern)
    out("  main log: %s" % (found[0] if found else "nothing matches %s" % pattern))


def wait_until(what, predicate, timeout=20.0):
    """Polls until predicate() holds; a timeout is reported in the transcript (and fails the
    comparison) rather than raised, so the rest still runs."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except xmlrpc.client.Fault as f:
            last = f
        time.sleep(0.05)
    out("TIMEOUT waiting for %s (%r)" % (what, last))
    states = {i["name"]: (i["statename"], i["description"]) for i in rpc.getAllProcessInfo()}
    out("  states: %r" % states)
    return False


def state(name):
    return rpc.getProcessInfo(name)["statename"]


def states_are(want):
    infos = {i["name"]: i for i in rpc.getAllProcessInfo()}
    return all(infos[n]["statename"] == s for n, s in want.items())


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


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

# --- after autostart, once everything has settled ---
wait_until("autostart to settle", lambda: states_are({
    "long": "RUNNING", "okexit": "EXITED", "restarted": "RUNNING", "badexit": "EXITED",
    "quick": "FATAL", "missing": "FATAL", "notexec": "FATAL", "stubborn": "RUNNING",
    "grouped": "RUNNING", "manual": "STOPPED", "stoppable": "RUNNING", "usr1": "RUNNING",
    "killme": "RUNNING", "killed": "RUNNING", "slowstart": "STARTING", "backoffer": "BACKOFF",
    "trapexit": "RUNNING", "instant": "EXITED", "quickok": "FATAL", "orphaner": "RUNNING",
    "bgexit": "EXITED", "hupstop": "RUNNING", "a": "RUNNING", "b": "STOPPED", "slowstart2": "STOPPED",
    "flappy": "STOPPED",
}) and os.path.exists(os.path.join(DIR, "restarted.marker")), timeout=25.0)
dump("settled after autostart")
status("long", "usr1")
status("long", "quick")
status("manual")
status("nosuch")
status("long", "nosuch")
status("pool:*")
status("pool:a")

# --- operations that fail in these states ---
out("== faults")
call("startProcess", "long")
call("startProcess", "long", False)
call("startProcess", "missing")
call("startProcess", "notexec", False)
call("stopProcess", "manual")
call("stopProcess", "quick")
call("stopProcess", "okexit")
call("stopProcess", "badexit")
call("stopProcess", "missing")
call("signalProcess", "manual", "HUP")
call("signalProcess", "quick", "HUP")
call("signalProcess", "okexit", "USR1")
call("signalProcess", "missing", "USR1")
call("signalProcessGroup", "manual", "HUP")
call("startProcess", "slowstart")
call("startProcess", "backoffer")
call("signalProcess", "backoffer", "CONT")
call("signalProcess", "slowstart", "CONT")
out("  signalAllProcesses:")
for r in sorted(rpc.signalAllProcesses("CONT"), key=lambda r: r["name"]):
    out("    %s %s %s" % (r["name"], r["status"], r["description"]))
wait_until("spawn errors to settle", lambda: states_are({"missing": "FATAL", "notexec": "FATAL"}))
dump("after failed starts of missing and notexec")

# --- a FATAL program that exits too quickly, started again ---
out("== restart quick")
# The state right after the fault is not compared: the reference answers on its 1-second tick,
# often after the next retry already made quick STARTING again.
call("startProcess", "quick")
wait_until("quick to give up again", lambda: state("quick") == "FATAL")
dump("quick gave up again")

# --- stopProcess ---
out("== stop stoppable, slowstart (STARTING), backoffer (BACKOFF) and trapexit (exits 7)")
call("stopProcess", "slowstart")
call("stopProcess", "backoffer")
call("stopProcess", "trapexit")
call("stopProcess", "stoppable")
call("stopProcess", "stoppable")
call("signalProcess", "stoppable", "USR1")
call("signalProcessGroup", "stoppable", "USR1")
dump("stoppable stopped")

# --- a stop that needs SIGKILL, and one for a process group ---
out("== stop stubborn and grouped")
with open(os.path.join(DIR, "grouped.child")) as f:
    grandchild = int(f.read().strip())
out("  grandchild alive before stop: %s" % pid_alive(grandchild))
call("stopProcess", "stubborn", False)
show(rpc.getProcessInfo("stubborn"))
call("startProcess", "stubborn", False)
call("startProcess", "stubborn")
call("stopProcess", "stubborn")
call("signalProcess", "stubborn", "CONT")
wait_until("stubborn to stop", lambda: state("stubborn") == "STOPPED")
log_count(r"process 'stubborn' already running")
log_has(r"killing 'stubborn' \(\d+\) with SIGKILL")
log_has(r"stopped: stubborn")
call("stopProcess", "grouped")
# Without stopasgroup only the shell gets SIGTERM; its child keeps the output pipes open.
call("stopProcess", "orphaner")
wait_until("the grandchild of grouped to die", lambda: not pid_alive(grandchild))
out("  grandchild alive after stop: %s" % pid_alive(grandchild))
dump("stubborn killed, grouped stopped")

# --- signals ---
out("== signals")
call("signalProcess", "usr1", "USR1")
call("signalProcess", "usr1", "SIGUSR1")
call("signalProcess", "killme", "KILL")
call("signalProcess", "killed", "9")
wait_until("usr1 to note the signal",
           lambda: os.path.exists(os.path.join(DIR, "usr1.got")))
wait_until("killme to restart and killed to exit", lambda: states_are({
    "killme": "RUNNING", "killed": "EXITED", "usr1": "RUNNING",
}) and rpc.getProcessInfo("killme")["pid"] != pids["killme"])
dump("after signals")

# --- start what is stopped ---
out("== starts")
call("startProcess", "manual")
call("startProcess", "stoppable", False)
call("startProcess", "badexit", False)
wait_until("starts to settle", lambda: states_are({
    "manual": "RUNNING", "stoppable": "RUNNING", "badexit": "EXITED",
}))
dump("after starts")

# --- a start that waits for RUNNING, interrupted by a stop from another client ---
out("== start slowstart2 and wait, stop it meanwhile")
waiting = {}


def start_and_wait():
    other = xmlrpc.client.ServerProxy(
        "http://127.0.0.1", transport=SupervisorTransport(None, None, URL))
    try:
        waiting["result"] = repr(other.supervisor.startProcess("slowstart2", True))
    except xmlrpc.client.Fault as f:
        waiting["result"] = "FAULT %d %r" % (f.faultCode, f.faultString)


thread = threading.Thread(target=start_and_wait)
thread.start()
wait_until("slowstart2 to be STARTING", lambda: state("slowstart2") == "STARTING")
call("stopProcess", "slowstart2")
thread.join(20)
out("  the waiting startProcess('slowstart2') -> %s" % waiting.get("result", "still waiting"))

# --- BACKOFF after exits too quickly, with retries left ---
out("== flappy in BACKOFF")
call("startProcess", "flappy", False)
call("startProcess", "flappy")
# The first BACKOFF lasts 1 s: the next two calls land in it.
wait_until("flappy to back off", lambda: state("flappy") == "BACKOFF")
call("signalProcess", "flappy", "CONT")
call("stopProcess", "flappy")
show(rpc.getProcessInfo("flappy"))

# --- a group with one process running and one not started ---
out("== pool")
call("stopProcess", "hupstop")
call("startProcessGroup", "pool", False)
call("stopProcessGroup", "pool")
call("stopProcessGroup", "pool")
call("signalProcessGroup", "pool", "CONT")
call("startProcess", "pool:b")
call("startProcess", "pool:*")
dump("after pool")

out("== stop all")
infos = rpc.stopAllProcesses()
for r in sorted(infos, key=lambda r: r["name"]):
    out("  %s %s %s" % (r["name"], r["status"], r["description"]))
dump("all stopped")
# The children that outlived their shells (they hold the output pipes of orphaner and bgexit).
for name in ("orphaner.child", "bgexit.child"):
    with open(os.path.join(DIR, name)) as f:
        leftover = int(f.read().strip())
    out("  %s alive: %s" % (name, pid_alive(leftover)))
    os.kill(leftover, 9)
out("done")
