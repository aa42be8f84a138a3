"""Prints the reference supervisor's resolved view of a config file as JSON, in the same shape and
key order as `supervisor check-config --dump`, so the two can be compared as text.

usage: python dump_config.py CONFIG
On a config error prints `ERROR: <message>` (the text supervisord shows after `Error: `), exit 1.
"""
import json
import os
import pwd
import signal
import sys

from supervisor import datatypes
from supervisor.options import (ClientOptions, EventListenerPoolConfig,
                                FastCGIGroupConfig, ServerOptions)

LEVELS = {3: "blather", 5: "trace", 10: "debug", 20: "info", 30: "warn",
          40: "error", 50: "critical"}


def user(uid):
    if uid is None:
        return None
    try:
        rec = pwd.getpwuid(uid)
        return {"name": rec.pw_name, "uid": uid, "gid": rec.pw_gid}
    except KeyError:
        return {"name": None, "uid": uid, "gid": None}


def owner(o):
    if o is None or tuple(o) == (-1, -1):
        return None
    uid, gid = o
    return [uid, None if gid == -1 else gid]


def logfile(v):
    if v is datatypes.Automatic:
        return "AUTO"
    return v


def autorestart(v):
    if v is datatypes.RestartUnconditionally:
        return "true"
    if v is datatypes.RestartWhenExitUnexpected:
        return "unexpected"
    return "false"


def signal_name(num):
    try:
        return signal.Signals(num).name
    except ValueError:
        return str(num)


def process(p):
    d = {
        "name": p.name,
        "section": None,
        "program_name": None,
        "process_num": None,
        "command": p.command,
        "priority": p.priority,
        "autostart": p.autostart,
        "startsecs": p.startsecs,
        "startretries": p.startretries,
        "autorestart": autorestart(p.autorestart),
        "exitcodes": list(p.exitcodes),
        "stopsignal": signal_name(p.stopsignal),
        "stopwaitsecs": p.stopwaitsecs,
        "stopasgroup": p.stopasgroup,
        "killasgroup": p.killasgroup,
        "user": user(p.uid),
        "redirect_stderr": p.redirect_stderr,
    }
    for ch in ("stdout", "stderr"):
        d[ch + "_logfile"] = logfile(getattr(p, ch + "_logfile"))
        d[ch + "_logfile_maxbytes"] = getattr(p, ch + "_logfile_maxbytes")
        d[ch + "_logfile_backups"] = getattr(p, ch + "_logfile_backups")
        d[ch + "_capture_maxbytes"] = getattr(p, ch + "_capture_maxbytes")
        d[ch + "_events_enabled"] = getattr(p, ch + "_events_enabled")
        d[ch + "_syslog"] = getattr(p, ch + "_syslog")
    d["environment"] = dict(sorted((p.environment or {}).items()))
    d["directory"] = p.directory
    d["umask"] = p.umask
    d["serverurl"] = "AUTO" if p.serverurl is None else p.serverurl
    return d


def group(g):
    d = {"name": g.name, "priority": g.priority}
    if isinstance(g, EventListenerPoolConfig):
        d["kind"] = "eventlistener"
        d["events"] = sorted(name_of_event(e) for e in g.pool_events)
        d["buffer_size"] = g.buffer_size
        d["result_handler"] = "supervisor.dispatchers:default_handler"
    elif isinstance(g, FastCGIGroupConfig):
        d["kind"] = "fcgi-program"
        sc = g.socket_config
        d["socket"] = sc.url
        d["socket_backlog"] = sc.backlog
        d["socket_owner"] = owner(getattr(sc, "owner", None))
        mode = getattr(sc, "mode", None)
        d["socket_mode"] = 0o700 if mode is None else mode
    else:
        d["kind"] = "program"
    procs = []
    for p in g.process_configs:
        pd = process(p)
        # The reference does not keep which section and process_num made a process; the
        # comparing test drops these three keys from both sides.
        procs.append(pd)
    d["processes"] = procs
    return d


def name_of_event(e):
    from supervisor.events import EventTypes
    for k in dir(EventTypes):
        if getattr(EventTypes, k) is e:
            return k
    return str(e)


def main():
    path = sys.argv[1]
    opts = ServerOptions()
    opts.configfile = path
    opts.here = os.path.abspath(os.path.dirname(path))
    try:
        s = opts.read_config(path)
    except ValueError as e:
        print("ERROR: %s" % e)
        return 1
    try:
        uid = None if s.user is None else datatypes.name_to_uid(s.user)
    except ValueError as e:
        print("ERROR: %s" % e)
        return 1
    unix, inet = [], []
    for c in s.server_configs:
        if c["family"] == __import__("socket").AF_UNIX:
            unix.append({"section": c["section"], "file": c["file"],
                         "chmod": c["chmod"], "chown": owner(c["chown"]),
                         "username": c["username"], "password": c["password"]})
        else:
            inet.append({"section": c["section"], "host": c["host"],
                         "port": c["port"], "username": c["username"],
                         "password": c["password"],
                         # Ours only (docs/extensions.md); the reference checks
                         # neither, these are our defaults.
                         "allowed_hosts": [], "protected_mode": True})
    ctl = None
    with open(path) as f:
        has_ctl = any(line.strip().startswith("[supervisorctl]") for line in f)
    if has_ctl:
        co = ClientOptions()
        c = co.read_config(path)
        ctl = {"serverurl": c.serverurl, "username": c.username,
               "password": c.password, "prompt": c.prompt,
               "history_file": c.history_file}
    files = [path] + [i.split('"')[1] for i in opts.parse_infos]
    seen = []
    for f in files:
        if f not in seen:
            seen.append(f)
    out = {
        "path": path,
        "files": seen,
        "supervisord": {
            "logfile": s.logfile,
            "logfile_maxbytes": s.logfile_maxbytes,
            "logfile_backups": s.logfile_backups,
            "loglevel": LEVELS[s.loglevel],
            "pidfile": s.pidfile,
            "umask": s.umask,
            "nodaemon": s.nodaemon,
            "silent": s.silent,
            "minfds": s.minfds,
            "minprocs": s.minprocs,
            "nocleanup": s.nocleanup,
            "childlogdir": s.childlogdir,
            "user": user(uid),
            "directory": s.directory,
            "strip_ansi": s.strip_ansi,
            "environment": dict(sorted(s.environment.items())),
            "identifier": s.identifier,
        },
        "unix_http_servers": unix,
        "inet_http_servers": inet,
        "supervisorctl": ctl,
        "rpcinterfaces": [
            {"name": name, "factory": "%s:%s" % (fac.__module__, fac.__name__)}
            for name, fac, _ in s.rpcinterface_factories
        ],
        "groups": [group(g) for g in s.process_group_configs],
        "warnings": list(opts.parse_warnings),
        "infos": list(opts.parse_infos),
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
