//! Health checks (`healthcheck=` and its options, an extension) with real processes: an http
//! check restarting a failing server, a hanging exec check killed with its process group, tcp
//! checks, the idle daemon's wake-ups, check-config errors, `update`, and the reference
//! ignoring the keys.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{
    Daemon, RPC_SECTIONS, TempDir, WAIT, free_port, pid_alive, require_reference, spawn_foreground,
    terminate, voluntary_switches, wait_for,
};

/// A tiny HTTP server: 200 on every GET, 503 while the file `fail` exists next to it.
const WEB_PY: &str = r#"import http.server, os, sys
port, flag = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503 if os.path.exists(flag) else 200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
"#;

fn config(dir: &TempDir, programs: &str) -> PathBuf {
    dir.write(
        "s.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\nchildlogdir=%(here)s\nloglevel=debug\n\n\
             {RPC_SECTIONS}[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n\n{programs}"
        ),
    )
}

fn main_log(dir: &TempDir) -> String {
    dir.read("s.log")
}

fn wait_log(dir: &TempDir, needle: &str) -> bool {
    wait_for(WAIT, || main_log(dir).contains(needle))
}

/// Waits for `needle` in the main log; fails with the whole log when it does not come.
#[track_caller]
fn expect_log(dir: &TempDir, needle: &str) {
    assert!(
        wait_log(dir, needle),
        "{needle:?} not logged:\n{}",
        main_log(dir)
    );
}

fn count(dir: &TempDir, needle: &str) -> usize {
    main_log(dir).matches(needle).count()
}

/// `supervisorctl -c s.conf ARGS`, stdout.
fn ctl(dir: &TempDir, args: &[&str]) -> String {
    let out = Command::new(dir.applet("supervisorctl"))
        .arg("-c")
        .arg(dir.join("s.conf"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The python that runs helper servers (the reference venv's when present).
fn python() -> PathBuf {
    let venv = crate::util::reference_bin().map(|b| b.join("python"));
    venv.filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// Pids of live processes in process group `pgid`.
fn group_members(pgid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After `(comm)`: state ppid pgrp ...
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, r)| r.split_whitespace().collect())
            .unwrap_or_default();
        if fields.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(pgid)
            && fields.first() != Some(&"Z")
        {
            out.push(pid);
        }
    }
    out
}

#[test]
fn http_check_that_starts_failing_restarts_the_program() {
    let dir = TempDir::new("hc-http");
    dir.write("web.py", WEB_PY);
    let port = free_port();
    let py = python();
    let conf = config(
        &dir,
        &format!(
            "[program:web]\ncommand={} %(here)s/web.py {port} %(here)s/fail\nstartsecs=0\n\
             healthcheck=http://127.0.0.1:{port}/health\nhealthcheck_interval=0.3\n\
             healthcheck_retries=2\nhealthcheck_start_period=3\nhealthcheck_action=restart\n\n\
             [program:plain]\ncommand=sleep 1000\nstartsecs=0\n",
            py.display()
        ),
    );
    let mut d = Daemon::start(&dir, &conf);
    expect_log(&dir, "health: web healthy (http 200)");
    let status = ctl(&dir, &["status"]);
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("web ") && l.ends_with(", healthy")),
        "{status}"
    );
    // A program without a check shows the reference's description, nothing appended.
    let plain = status
        .lines()
        .find(|l| l.starts_with("plain "))
        .unwrap_or("");
    assert!(
        plain
            .trim_end()
            .rsplit(", ")
            .next()
            .unwrap_or("")
            .starts_with("uptime "),
        "{status}"
    );
    let first_spawns = count(&dir, "spawned: 'web'");
    dir.write("fail", "");
    expect_log(
        &dir,
        "health: web unhealthy (http 503 after 2 checks), restarting",
    );
    std::fs::remove_file(dir.join("fail")).unwrap();
    assert!(wait_for(WAIT, || count(&dir, "spawned: 'web'") > first_spawns));
    assert!(wait_for(WAIT, || count(
        &dir,
        "health: web healthy (http 200)"
    ) >= 2));
    let log = main_log(&dir);
    let unhealthy = log.find("health: web unhealthy").unwrap();
    let stopped = log[unhealthy..].find("stopped: web (terminated by SIGTERM)");
    assert!(stopped.is_some(), "{log}");
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn exec_check_that_hangs_is_killed_with_its_group_at_the_timeout() {
    let dir = TempDir::new("hc-exec");
    // The check records its pid (its process group), the program's directory and environment,
    // starts a background sleeper in its group, then hangs.
    let conf = config(
        &dir,
        "[program:app]\ncommand=sleep 1000\nstartsecs=0\ndirectory=%(here)s\nenvironment=MARK=from-app\n\
         healthcheck=exec:sh -c 'echo $$ $MARK $(pwd) > check.txt; sleep 1000 & sleep 1000'\n\
         healthcheck_interval=60\nhealthcheck_timeout=0.5\nhealthcheck_retries=1\n",
    );
    let mut d = Daemon::start(&dir, &conf);
    assert!(wait_for(WAIT, || dir.read("check.txt").ends_with('\n')));
    let text = dir.read("check.txt");
    let mut words = text.split_whitespace();
    let pgid: i32 = words.next().unwrap().parse().unwrap();
    assert_eq!(words.next(), Some("from-app"));
    assert_eq!(
        words.next().map(Path::new),
        Some(dir.path.canonicalize().unwrap().as_path())
    );
    expect_log(
        &dir,
        "health: app unhealthy (timeout (0.5 s) after 1 check)",
    );
    assert!(
        wait_for(WAIT, || group_members(pgid).is_empty()),
        "the check's process group survived: {:?}",
        group_members(pgid)
    );
    // The check's exit is reaped as a check, never as a program.
    assert!(wait_for(WAIT, || !pid_alive(pgid)));
    let log = main_log(&dir);
    assert!(!log.contains("reaped unknown pid"), "{log}");
    assert!(!log.contains("exited: app"), "{log}");
    let status = ctl(&dir, &["status", "app"]);
    assert!(status.trim_end().ends_with(", unhealthy"), "{status}");
    assert_eq!(d.stop(WAIT), Some(0));
}

/// A failed exec check's output (stdout and stderr, trimmed, bounded, quoted) is in its reason:
/// the `unhealthy` line and each failed check's debug line.
#[test]
fn exec_check_output_is_logged_when_it_fails() {
    let dir = TempDir::new("hc-exec-out");
    let conf = config(
        &dir,
        "[program:app]\ncommand=sleep 1000\nstartsecs=0\n\
         healthcheck=exec:sh -c 'echo \"db not ready\"; echo retry later >&2; exit 3'\n\
         healthcheck_interval=60\nhealthcheck_timeout=30\nhealthcheck_retries=1\n\n\
         [program:chatty]\ncommand=sleep 1000\nstartsecs=0\n\
         healthcheck=exec:sh -c 'head -c 300000 /dev/zero | tr \"\\\\0\" x; exit 1'\n\
         healthcheck_interval=60\nhealthcheck_timeout=30\nhealthcheck_retries=2\n\n\
         [program:quiet]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=exec:sh -c 'exit 4'\n\
         healthcheck_interval=60\nhealthcheck_retries=1\n",
    );
    let mut d = Daemon::start(&dir, &conf);
    expect_log(
        &dir,
        r#"health: app unhealthy (exec exit status 3, output "db not ready\nretry later" after 1 check)"#,
    );
    // 300 kB (more than a pipe holds) does not block the check; 200 characters are shown.
    let shown = format!(r#"output "{}..."#, "x".repeat(200));
    let line = format!("health: chatty check failed (exec exit status 1, {shown}\", 1 in a row)");
    expect_log(&dir, &line);
    expect_log(
        &dir,
        "health: quiet unhealthy (exec exit status 4 after 1 check)",
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

/// A check that ends (passing or failing) takes what is left of its process group with it, long
/// before its timeout.
#[test]
fn exec_check_leftover_children_are_killed_when_it_ends() {
    let dir = TempDir::new("hc-exec-left");
    let conf = config(
        &dir,
        "[program:good]\ncommand=sleep 1000\nstartsecs=0\ndirectory=%(here)s\n\
         healthcheck=exec:sh -c 'echo $$ > good.txt; sleep 1000 & exit 0'\n\
         healthcheck_interval=60\nhealthcheck_timeout=60\n\n\
         [program:bad]\ncommand=sleep 1000\nstartsecs=0\ndirectory=%(here)s\n\
         healthcheck=exec:sh -c 'echo $$ > bad.txt; sleep 1000 & exit 2'\n\
         healthcheck_interval=60\nhealthcheck_timeout=60\nhealthcheck_retries=1\n",
    );
    let mut d = Daemon::start(&dir, &conf);
    expect_log(&dir, "health: good healthy (exec exit 0)");
    expect_log(
        &dir,
        "health: bad unhealthy (exec exit status 2 after 1 check)",
    );
    for file in ["good.txt", "bad.txt"] {
        let pgid: i32 = dir.read(file).trim().parse().unwrap();
        assert!(
            wait_for(WAIT, || group_members(pgid).is_empty()),
            "{file}: the check's leftover children survived: {:?}",
            group_members(pgid)
        );
    }
    let log = main_log(&dir);
    assert!(!log.contains("reaped unknown pid"), "{log}");
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn exec_check_passes_on_exit_zero_and_fails_on_others() {
    let dir = TempDir::new("hc-exec2");
    let conf = config(
        &dir,
        "[program:good]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=exec:true\n\n\
         [program:bad]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=exec:sh -c 'exit 3'\n\
         healthcheck_interval=0.2\nhealthcheck_retries=2\n\n\
         [program:missing]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=exec:no-such-check-cmd\n\
         healthcheck_retries=1\n",
    );
    let mut d = Daemon::start(&dir, &conf);
    expect_log(&dir, "health: good healthy (exec exit 0)");
    expect_log(
        &dir,
        "health: bad unhealthy (exec exit status 3 after 2 checks)",
    );
    expect_log(
        &dir,
        "health: missing unhealthy (exec: can't find command 'no-such-check-cmd' after 1 check)",
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn tcp_check_follows_a_listener() {
    let dir = TempDir::new("hc-tcp");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let closed = free_port();
    let conf = config(
        &dir,
        &format!(
            "[program:db]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=tcp:localhost:{port}\n\
             healthcheck_interval=0.2\nhealthcheck_retries=2\n\n\
             [program:none]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=tcp:127.0.0.1:{closed}\n\
             healthcheck_interval=0.2\nhealthcheck_retries=1\n"
        ),
    );
    let mut d = Daemon::start(&dir, &conf);
    expect_log(&dir, "health: db healthy (tcp connected)");
    expect_log(
        &dir,
        "health: none unhealthy (tcp connect: connection refused after 1 check)",
    );
    drop(listener);
    expect_log(
        &dir,
        "health: db unhealthy (tcp connect: connection refused after 2 checks)",
    );
    // Stopping a program stops its checks; its health shows again only once it runs.
    assert!(ctl(&dir, &["stop", "none"]).contains("none: stopped"));
    let checks = count(&dir, "health: none");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        count(&dir, "health: none"),
        checks,
        "checks ran while stopped"
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

/// An idle daemon whose only work is one check a second wakes for the checks and nothing else
/// (deadlines, no ticks): a handful of wake-ups per check.
#[test]
fn idle_daemon_wakes_only_when_a_check_is_due() {
    let dir = TempDir::new("hc-idle");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let conf = config(
        &dir,
        &format!(
            "[program:db]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=tcp:127.0.0.1:{port}\n\
             healthcheck_interval=1\n"
        ),
    );
    let mut d = Daemon::start(&dir, &conf);
    expect_log(&dir, "health: db healthy (tcp connected)");
    std::thread::sleep(Duration::from_millis(300));
    let window = Duration::from_secs(4);
    let before = voluntary_switches(d.pid());
    let start = Instant::now();
    std::thread::sleep(window);
    let woke = voluntary_switches(d.pid()) - before;
    let checks = start.elapsed().as_secs_f64() / 1.0;
    eprintln!(
        "idle daemon with a 1 s tcp check: {woke} wake-ups in {window:?} (~{checks:.0} checks)"
    );
    // Per check: the due timer, the connect's readiness (and sometimes a second readiness).
    assert!(
        (woke as f64) <= checks.ceil() * 3.0 + 1.0,
        "{woke} wake-ups for ~{checks:.1} checks"
    );
    drop(listener);
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn check_config_names_bad_health_check_values() {
    let dir = TempDir::new("hc-cfg");
    let conf = dir.write(
        "s.conf",
        "[supervisord]\nlogfile=%(here)s/s.log\n\n\
         [program:a]\ncommand=sleep 1\nhealthcheck=http://db.example.com:80/\n\n\
         [program:b]\ncommand=sleep 1\nhealthcheck=tcp:127.0.0.1:5432\nhealthcheck_interval=fast\n\
         healthcheck_action=reboot\nhealthcheck_retries=0\nhealthcheck_timeout=0\n\n\
         [program:c]\ncommand=sleep 1\nhealthcheck_interval=2\n\n\
         [program:d]\ncommand=sleep 1\nhealthcheck=https://127.0.0.1/\n",
    );
    let out = Command::new(crate::util::binary())
        .args(["check-config", "-c", conf.to_str().unwrap()])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let file = conf.display().to_string();
    for want in [
        format!(
            "{file}:6: [program:a] healthcheck: host 'db.example.com' is not an IP address or localhost"
        ),
        format!("{file}:11: [program:b] healthcheck_interval: not a duration in seconds: 'fast'"),
        format!("{file}:12: [program:b] healthcheck_action: unknown action 'reboot'"),
        format!("{file}:13: [program:b] healthcheck_retries: not a whole number of 1 or more: '0'"),
        format!("{file}:14: [program:b] healthcheck_timeout: duration must be above 0: '0'"),
        format!(
            "{file}:18: [program:c] healthcheck_interval: healthcheck_interval is set but healthcheck is not"
        ),
        format!("{file}:22: [program:d] healthcheck: https is not supported"),
    ] {
        assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    }
    // A good one dumps every key.
    let conf = dir.write(
        "good.conf",
        "[supervisord]\nlogfile=%(here)s/s.log\n\n\
         [program:a]\ncommand=sleep 1\nhealthcheck=http://localhost:8080/ready\nhealthcheck_interval=0.5\n",
    );
    let out = Command::new(crate::util::binary())
        .args(["check-config", "--dump", "-c", conf.to_str().unwrap()])
        .output()
        .unwrap();
    let dump = String::from_utf8_lossy(&out.stdout);
    for want in [
        "\"healthcheck\": \"http://localhost:8080/ready\"",
        "\"healthcheck_interval\": 0.5",
        "\"healthcheck_timeout\": 5",
        "\"healthcheck_retries\": 3",
        "\"healthcheck_start_period\": 0",
        "\"healthcheck_action\": \"none\"",
    ] {
        assert!(dump.contains(want), "missing {want} in {dump}");
    }
}

/// Changing a health-check key and running `update` restarts that program only.
#[test]
fn update_restarts_only_programs_whose_health_check_changed() {
    let dir = TempDir::new("hc-upd");
    let programs = |interval: &str| {
        format!(
            "[program:checked]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=exec:true\nhealthcheck_interval={interval}\n\n\
             [program:other]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=exec:true\n\n\
             [program:plain]\ncommand=sleep 1000\nstartsecs=0\n"
        )
    };
    let conf = config(&dir, &programs("10"));
    let mut d = Daemon::start(&dir, &conf);
    expect_log(&dir, "health: checked healthy");
    expect_log(&dir, "health: other healthy");
    config(&dir, &programs("0.5"));
    let out = ctl(&dir, &["update"]);
    assert!(out.contains("checked: stopped"), "{out}");
    assert!(out.contains("checked: updated process group"), "{out}");
    assert!(!out.contains("other"), "{out}");
    assert!(!out.contains("plain"), "{out}");
    assert!(wait_for(WAIT, || count(&dir, "health: checked healthy") >= 2));
    assert_eq!(count(&dir, "spawned: 'other'"), 1);
    assert_eq!(d.stop(WAIT), Some(0));
}

/// The reference ignores the keys: it starts and runs the program of a config that uses them.
#[test]
fn reference_starts_on_a_config_with_health_checks() {
    let Some(ref_bin) = require_reference("reference_starts_on_a_config_with_health_checks") else {
        return;
    };
    let dir = TempDir::new("hc-ref");
    let conf = config(
        &dir,
        "[program:web]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=http://127.0.0.1:9/\n\
         healthcheck_interval=0.5\nhealthcheck_timeout=1\nhealthcheck_retries=2\n\
         healthcheck_start_period=1.5\nhealthcheck_action=restart\n",
    );
    let mut child = spawn_foreground(&ref_bin.join("supervisord"), &dir, &conf);
    let ok = wait_log(&dir, "success: web entered RUNNING state");
    terminate(&mut child, WAIT);
    assert!(ok, "{}\n{}", main_log(&dir), dir.read("daemon.err"));
}

/// `depends_on = db:healthy`: web starts only once db's check passes (db listens after a delay).
#[test]
fn a_dependent_waits_for_its_dependency_to_be_healthy() {
    let dir = TempDir::new("hc-deps");
    let port = free_port();
    let py = python();
    dir.write(
        "db.py",
        "import socket, sys, time\ntime.sleep(1.5)\ns = socket.socket()\n\
         s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('127.0.0.1', int(sys.argv[1])))\ns.listen(16)\n\
         while True:\n    s.accept()[0].close()\n",
    );
    let conf = config(
        &dir,
        &format!(
            "[program:db]\ncommand={} %(here)s/db.py {port}\nstartsecs=0\n\
             healthcheck=tcp:127.0.0.1:{port}\nhealthcheck_interval=0.2\nhealthcheck_retries=100\n\n\
             [program:web]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db:healthy\n",
            py.display()
        ),
    );
    let mut d = Daemon::start(&dir, &conf);
    expect_log(&dir, "spawned: 'db'");
    let waiting = ctl(&dir, &["status", "web"]);
    assert!(waiting.contains("waiting for db (healthy)"), "{waiting}");
    expect_log(&dir, "spawned: 'web'");
    let log = main_log(&dir);
    let healthy = log.find("health: db healthy (tcp connected)");
    let web = log.find("spawned: 'web'");
    assert!(healthy.is_some() && healthy < web, "{log}");
    assert_eq!(d.stop(WAIT), Some(0));
}
