//! XML-RPC against the real binary: tests/ref/rpc_probe.py (Python's xmlrpc.client, as
//! supervisorctl uses it) calls every method on our daemon and on the reference, and the
//! normalised transcripts must match line by line.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::{self, Daemon, TempDir};

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

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:sleeper]
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
startsecs=0
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
        util::wait_for(Duration::from_secs(10), || sock.exists()),
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

/// Waits (bounded) for a daemon that the probe shut down; kills it if it hangs.
fn reap(child: &mut Child) {
    let done = util::wait_for(Duration::from_secs(20), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !done {
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[test]
fn every_method_matches_the_reference() {
    let Some(refbin) = util::require_reference("rpc::every_method_matches_the_reference") else {
        return;
    };
    let python = refbin.join("python");

    let ours = TempDir::new("rpc-ours");
    let conf = ours.write("supervisord.conf", &config(&ours.path));
    let mut daemon = Daemon::start(&ours, &conf);
    let ours_path = ours.path.clone();
    let py = python.clone();
    let ours_run = std::thread::spawn(move || probe(&py, &ours_path));

    let theirs = TempDir::new("rpc-ref");
    let ref_conf = theirs.write("supervisord.conf", &config(&theirs.path));
    let mut reference = Command::new(refbin.join("supervisord"))
        .arg("-n")
        .arg("-c")
        .arg(&ref_conf)
        .current_dir(&theirs.path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let expected = probe(&python, &theirs.path);
    reap(&mut reference);

    let got = ours_run.join().unwrap();
    reap(&mut daemon.child);

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
