//! XML-RPC against the real binary: tests/ref/rpc_probe.py (Python's xmlrpc.client, as
//! supervisorctl uses it) calls every method on our daemon and on the reference, and the
//! normalised transcripts must match line by line.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::{self, Daemon, RPC_INTERFACE, TempDir, WAIT};

fn config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"[unix_http_server]
file={d}/sock

[supervisord]
logfile={d}/main.log
pidfile={d}/sd.pid
childlogdir={d}
nodaemon=true

{RPC_INTERFACE}[program:sleeper]
command=/bin/sleep 1000
startsecs=0

[program:quick]
command=/bin/sh -c "exit 3"
startsecs=1
startretries=0
autostart=false

[program:missing]
command=/nonexistent/bin
autostart=false

[program:catty]
command=/bin/cat
startsecs=0

[program:logger]
command=/bin/sh -c "printf 'tick 1\ntick 2\n'; exec sleep 1000"
startsecs=0
stdout_logfile={d}/logger.out

[program:stubborn]
command=/bin/sh -c "trap '' TERM; while true; do sleep 0.2; done"
autostart=false
; startsecs=1: startProcess returns only once the shell has surely set its trap, so the
; shutdown below cannot finish early on a loaded machine.
startsecs=1
stopwaitsecs=3
killasgroup=true

[group:grp]
programs=g1,g2

[program:g1]
command=/bin/sleep 1000
autostart=false
startsecs=0

[program:g2]
command=/bin/sleep 1000
startsecs=0
"#
    )
}

fn probe_script() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/ref/rpc_probe.py"
    ))
}

/// Runs the probe against the server whose socket is `dir/sock`; returns its transcript.
fn probe(python: &Path, dir: &Path) -> String {
    let sock = dir.join("sock");
    assert!(
        util::wait_for(WAIT, || sock.exists()),
        "no socket at {}",
        sock.display()
    );
    let out = Command::new(python)
        .arg(probe_script())
        .arg(format!("unix://{}", sock.display()))
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "probe failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn every_method_matches_the_reference() {
    let Some((got, expected)) =
        util::side_by_side("rpc::every_method_matches_the_reference", |imp| {
            let dir = TempDir::new(&imp.tag("rpc"));
            let conf = dir.write("supervisord.conf", &config(&dir.path));
            let mut daemon = Daemon {
                child: util::spawn_foreground(&imp.supervisord(&dir), &dir, &conf),
            };
            let transcript = probe(&imp.python(), &dir.path);
            // The probe shut the daemon down; kill it only if it hangs.
            util::reap(&mut daemon.child, WAIT);
            transcript
        })
    else {
        return;
    };

    let expected: Vec<&str> = expected.lines().collect();
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(expected.last(), Some(&"done"), "reference probe incomplete");
    let differences: Vec<String> = expected
        .iter()
        .zip(got.iter())
        .enumerate()
        .filter(|(_, (want, have))| want != have)
        .map(|(i, (want, have))| {
            format!("line {}:\n  reference: {want}\n  ours:      {have}", i + 1)
        })
        .collect();
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert_eq!(got.len(), expected.len(), "transcript lengths differ");
}

/// POSTs one XML-RPC body over the daemon's unix socket (HTTP/1.0: the reply ends at EOF).
fn post(sock: &Path, body: &str) -> String {
    let stream = util::connect_unix(sock, WAIT);
    util::post_rpc(stream, body, WAIT.saturating_mul(2)).expect("a reply in time")
}

fn call_struct(method: &str, params: &str) -> String {
    format!(
        "<value><struct><member><name>methodName</name><value><string>{method}</string></value></member>\
         <member><name>params</name><value><array><data>{params}</data></array></value></member></struct></value>"
    )
}

/// A daemon with the RPC interface on the unix socket `sock` in a temp dir named after `tag`,
/// running `programs`; returns once the socket exists.
fn start_rpc_daemon(tag: &str, programs: &str) -> (TempDir, Daemon, PathBuf) {
    let dir = TempDir::new(tag);
    let d = dir.path.display();
    let conf = dir.write(
        "supervisord.conf",
        &format!(
            "[unix_http_server]\nfile={d}/sock\n\n[supervisord]\nlogfile={d}/main.log\n\
             pidfile={d}/sd.pid\nchildlogdir={d}\n\n{RPC_INTERFACE}\
             {programs}"
        ),
    );
    let daemon = Daemon::start(&dir, &conf);
    let sock = dir.join("sock");
    assert!(util::wait_for(WAIT, || sock.exists()));
    (dir, daemon, sock)
}

/// A stop that reaches a child between fork and exec must neither be taken for a signal to
/// supervisord (it once shut the daemon down) nor be lost by the child.
#[test]
fn stop_right_after_start_does_not_signal_supervisord() {
    let (dir, mut daemon, sock) = start_rpc_daemon(
        "rpc-startstop",
        "[program:sleeper]\ncommand=/bin/sleep 1000\nstartsecs=0\nautostart=false\n\
         stopwaitsecs=30\n",
    );
    let name = "<value><string>sleeper</string></value>";
    let no_wait = "<value><boolean>0</boolean></value>";
    let mut calls = String::new();
    for _ in 0..40 {
        calls.push_str(&call_struct(
            "supervisor.startProcess",
            &format!("{name}{no_wait}"),
        ));
        calls.push_str(&call_struct("supervisor.stopProcess", name));
    }
    let body = format!(
        "<?xml version='1.0'?><methodCall><methodName>system.multicall</methodName><params>\
         <param><value><array><data>{calls}</data></array></value></param></params></methodCall>"
    );
    let started = std::time::Instant::now();
    let reply = post(&sock, &body);
    assert!(reply.starts_with("HTTP/1.0 200"), "{reply}");
    assert!(!reply.contains("faultCode"), "{reply}");
    // Every stop was delivered to its child: nothing waited for the SIGKILL after 30 s.
    assert!(started.elapsed() < Duration::from_secs(20));
    let log = dir.read("main.log");
    assert!(!log.contains("indicating exit request"), "{log}");
    let state = post(
        &sock,
        "<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName></methodCall>",
    );
    assert!(state.contains("<string>RUNNING</string>"), "{state}");
    assert_eq!(daemon.stop(WAIT), Some(0));
}

/// The reference answers HTTP 500 here (3 GB does not fit an XML-RPC int); we clamp.
#[test]
fn config_info_with_huge_values_is_clamped_not_an_error() {
    let (_dir, mut daemon, sock) = start_rpc_daemon(
        "rpc-clamp",
        "[program:big]\ncommand=/bin/cat\nautostart=false\nstdout_logfile_maxbytes=3GB\n",
    );
    let reply = post(
        &sock,
        "<?xml version='1.0'?><methodCall><methodName>supervisor.getAllConfigInfo</methodName></methodCall>",
    );
    assert!(reply.starts_with("HTTP/1.0 200"), "{reply}");
    assert!(
        reply
            .contains("<name>stdout_logfile_maxbytes</name>\n<value><int>2147483647</int></value>"),
        "{reply}"
    );
    assert_eq!(daemon.stop(WAIT), Some(0));
}
