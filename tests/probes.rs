//! The orchestrator probes (`/healthz`, `/readyz`) and Prometheus `/metrics` against real
//! processes: authentication like /RPC2, readiness transitions, and the exposition parsed by the
//! official Python client's parser (`prometheus_client`, installed into the reference venv by
//! `make ref`).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::util::{self, Daemon, TempDir};

/// `user:secret` (the unix server's password is its SHA-1).
const AUTH: &str = "Authorization: Basic dXNlcjpzZWNyZXQ=\r\n";

fn config(dir: &Path, programs: &str) -> String {
    format!(
        "[supervisord]\nlogfile={d}/sd.log\npidfile={d}/sd.pid\nchildlogdir={d}\n\n\
         [unix_http_server]\nfile={d}/s.sock\nusername=user\n\
         password={{SHA}}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4\n\n\
         [supervisorctl]\nserverurl=unix://{d}/s.sock\nusername=user\npassword=secret\n\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
         {programs}",
        d = dir.display()
    )
}

/// GET `path` over the unix socket (HTTP/1.0: the server closes after the reply); (status, body).
fn get(sock: &Path, path: &str, auth: &str) -> (u16, String) {
    let Ok(mut s) = UnixStream::connect(sock) else {
        return (0, String::new());
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if write!(s, "GET {path} HTTP/1.0\r\n{auth}\r\n").is_err() {
        return (0, String::new());
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn readyz_follows_the_autostarted_programs() {
    let dir = TempDir::new("readyz");
    let programs = "[program:web]\ncommand=sleep 60\nstartsecs=1\n\n\
                    [program:migrate]\ncommand=true\nstartsecs=0\nautorestart=false\n\n\
                    [program:manual]\ncommand=sleep 60\nautostart=false\n";
    let conf = dir.write("sup.conf", &config(&dir.path, programs));
    let sock = dir.join("s.sock");
    let mut daemon = Daemon::start(&dir, &conf);
    util::connect_unix(&sock, Duration::from_secs(10));

    // Same authentication as /RPC2.
    let (status, _) = get(&sock, "/healthz", "");
    assert_eq!(status, 401);
    assert_eq!(get(&sock, "/healthz", AUTH), (200, "ok\n".to_string()));

    // web needs a second to count as started.
    let (status, body) = get(&sock, "/readyz", AUTH);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("web: STARTING\n"), "{body:?}");
    assert!(!body.contains("manual"), "{body:?}");

    // Then ready: web RUNNING, migrate finished as a one-shot, manual not autostarted.
    assert!(
        util::wait_for(Duration::from_secs(10), || get(&sock, "/readyz", AUTH).0
            == 200),
        "{:?}",
        get(&sock, "/readyz", AUTH)
    );
    assert_eq!(get(&sock, "/readyz", AUTH).1, "ok\n");

    // The HEALTHCHECK applet: the [supervisorctl] section's URL and credentials, exit 0 on 200.
    let probe = Command::new(util::binary())
        .args(["probe", "-c", conf.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(probe.status.code(), Some(0), "{probe:?}");
    assert_eq!(util::stdout(&probe), "ok\n");

    // An operator's stop makes it unready again, with the reason.
    let ctl = util::run(
        &dir,
        "supervisorctl",
        &["-c", conf.to_str().unwrap(), "stop", "web"],
    );
    assert!(util::stdout(&ctl).contains("web: stopped"), "{ctl:?}");
    assert_eq!(
        get(&sock, "/readyz", AUTH),
        (503, "web: STOPPED\n".to_string())
    );
    let probe = Command::new(util::binary())
        .args(["probe", "-c", conf.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(probe.status.code(), Some(1), "{probe:?}");
    assert_eq!(util::stdout(&probe), "web: STOPPED\n");
    assert!(
        util::stderr(&probe).contains("/readyz: HTTP 503"),
        "{probe:?}"
    );
    let healthz = Command::new(util::binary())
        .args(["probe", "-c", conf.to_str().unwrap(), "/healthz"])
        .output()
        .unwrap();
    assert_eq!(healthz.status.code(), Some(0), "{healthz:?}");
    let wrong = Command::new(util::binary())
        .args(["probe", "-c", conf.to_str().unwrap(), "-p", "wrong"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1), "{wrong:?}");
    assert_eq!(daemon.stop(Duration::from_secs(10)), Some(0));
}

#[test]
fn readyz_names_a_one_shot_that_failed() {
    let dir = TempDir::new("readyz-fail");
    let programs = "[program:migrate]\ncommand=sh -c 'exit 3'\nstartsecs=0\nautorestart=false\n";
    let conf = dir.write("sup.conf", &config(&dir.path, programs));
    let sock = dir.join("s.sock");
    let mut daemon = Daemon::start(&dir, &conf);
    util::connect_unix(&sock, Duration::from_secs(10));
    let want = (
        503,
        "migrate: EXITED with unexpected status 3\n".to_string(),
    );
    assert!(
        util::wait_for(Duration::from_secs(10), || get(&sock, "/readyz", AUTH)
            == want),
        "{:?}",
        get(&sock, "/readyz", AUTH)
    );
    assert_eq!(daemon.stop(Duration::from_secs(10)), Some(0));
}

/// The checks run on the parsed families (prometheus_client's own text parser).
const PARSE: &str = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
fams = {f.name: f for f in text_string_to_metric_families(text)}
def samples(family, name=None):
    return [s for s in fams[family].samples if name is None or s.name == name]
states = {}
for s in samples("supervisor_process_state_info"):
    key = (s.labels["group"], s.labels["name"])
    states.setdefault(key, []).append((s.labels["state"], s.value))
assert len(states) == 3, states
for key, values in states.items():
    assert len(values) == 8, (key, values)
    assert sum(v for _, v in values) == 1, (key, values)
code = {(s.labels["group"], s.labels["name"]): s.value for s in samples("supervisor_process_state")}
assert code[("chatty", "chatty")] == 20, code
up = {s.labels["name"]: s.value for s in samples("supervisor_process_up")}
assert up == {"chatty": 1, "flappy": up["flappy"], "quiet": 0}, up
restarts = {s.labels["name"]: s.value for s in samples("supervisor_process_restarts", "supervisor_process_restarts_total")}
assert restarts["chatty"] == 0 and restarts["quiet"] == 0 and restarts["flappy"] >= 2, restarts
logs = {(s.labels["name"], s.labels["channel"]): s.value for s in samples("supervisor_log_bytes", "supervisor_log_bytes_total")}
assert logs[("chatty", "stdout")] == 6000, logs
assert logs[("chatty", "stderr")] == 5, logs
assert logs[("quiet", "stdout")] == 0, logs
# flappy's last exit stays visible while it runs again (and the others never exited).
exits = {s.labels["name"]: s.value for s in samples("supervisor_process_exit_status")}
assert exits == {"flappy": 3}, exits
start = {s.labels["name"]: s.value for s in samples("supervisor_process_start_time_seconds")}
assert start["chatty"] > 1.7e9 and start["quiet"] == 0, start
for name in ["process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds"]:
    assert samples(name)[0].value > 0, name
assert samples("process_cpu_seconds", "process_cpu_seconds_total")[0].value >= 0
assert samples("supervisor_up")[0].value == 1
assert fams["supervisor_process_restarts"].type == "counter"
assert fams["supervisor_process_state"].type == "gauge"
print("parsed", len(fams), "families")
"#;

#[test]
fn metrics_parse_with_the_prometheus_client() {
    let Some(ref_bin) = util::require_reference("metrics_parse_with_the_prometheus_client") else {
        return;
    };
    let python = ref_bin.join("python");
    let has_client = Command::new(&python)
        .args(["-c", "import prometheus_client"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_client {
        assert!(
            std::env::var_os("REQUIRE_REF").is_none(),
            "prometheus_client is not installed in the reference venv (run `make ref`)"
        );
        eprintln!("SKIP metrics_parse_with_the_prometheus_client: no prometheus_client");
        return;
    }
    let dir = TempDir::new("metrics");
    // chatty: 6000 bytes on stdout through the splice path (a file log), 5 on stderr.
    let programs = "[program:chatty]\n\
                    command=sh -c 'head -c 6000 /dev/zero; printf oops >&2; echo >&2; exec sleep 60'\n\
                    startsecs=0\n\n\
                    [program:flappy]\ncommand=sh -c 'sleep 0.5; exit 3'\nstartsecs=0\n\
                    autorestart=true\nstdout_logfile=NONE\n\n\
                    [program:quiet]\ncommand=sleep 60\nautostart=false\n";
    let conf = dir.write("sup.conf", &config(&dir.path, programs));
    let sock = dir.join("s.sock");
    let mut daemon = Daemon::start(&dir, &conf);
    util::connect_unix(&sock, Duration::from_secs(10));
    assert_eq!(get(&sock, "/metrics", "").0, 401);
    let mut body = String::new();
    let settled = util::wait_for(Duration::from_secs(10), || {
        body = get(&sock, "/metrics", AUTH).1;
        body.contains("name=\"chatty\",channel=\"stdout\"} 6000\n")
            && body.contains("name=\"chatty\",channel=\"stderr\"} 5\n")
            && body.lines().any(|l| {
                l.starts_with("supervisor_process_restarts_total{group=\"flappy\"")
                    && !l.ends_with(" 0")
                    && !l.ends_with(" 1")
            })
            // Running again after exits: its last exit status must still show.
            && body.contains("supervisor_process_up{group=\"flappy\",name=\"flappy\"} 1\n")
    });
    assert!(settled, "{body}");
    let file = dir.write("metrics.txt", &body);
    let parsed = Command::new(&python)
        .arg("-c")
        .arg(PARSE)
        .arg(&file)
        .output()
        .unwrap();
    assert!(parsed.status.success(), "{}\n{body}", util::stderr(&parsed));
    assert!(util::stdout(&parsed).starts_with("parsed"));
    assert_eq!(daemon.stop(Duration::from_secs(10)), Some(0));
}

#[test]
fn the_reference_ignores_the_probe_paths() {
    // The paths are ours: the reference answers 404 for them, and its configs need no change.
    let Some(ref_bin) = util::require_reference("the_reference_ignores_the_probe_paths") else {
        return;
    };
    let dir = TempDir::new("probes-ref");
    let conf = dir.write("sup.conf", &config(&dir.path, ""));
    let mut reference = util::spawn_foreground(&ref_bin.join("supervisord"), &dir, &conf);
    let sock = dir.join("s.sock");
    util::connect_unix(&sock, Duration::from_secs(15));
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(get(&sock, path, AUTH).0, 404, "{path}");
    }
    util::terminate(&mut reference, Duration::from_secs(15));
}
