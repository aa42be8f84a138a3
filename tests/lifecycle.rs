//! Process lifecycle edge cases against the reference: tests/ref/lifecycle_probe.py drives the
//! same config through the same steps on the reference supervisord and on ours (in parallel), and
//! the normalised transcripts (getProcessInfo of every process, the reference's `supervisorctl
//! status` output and exit code, faults of failing operations) must match line by line.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::{self, Implementation, RPC_INTERFACE, TempDir, WAIT};

fn config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"[unix_http_server]
file={d}/sock

[supervisord]
logfile={d}/main.log
pidfile={d}/sd.pid
childlogdir={d}
loglevel=debug

{RPC_INTERFACE}[program:long]
command=/bin/sleep 1000

[program:okexit]
command=/bin/sh -c "sleep 1.5; exit 2"
exitcodes=0,2

[program:restarted]
command=/bin/sh -c "if [ -e {d}/restarted.marker ]; then exec sleep 1000; fi; touch {d}/restarted.marker; sleep 0.3; exit 3"
startsecs=0
autorestart=unexpected

[program:badexit]
; Not at once: a startProcess that already sees the exit answers SPAWN_ERROR (a race).
command=/bin/sh -c "sleep 1; exit 3"
startsecs=0
autorestart=false

[program:quick]
command=/bin/sh -c "exit 1"
startretries=2

[program:missing]
command=/nonexistent/cmd --flag
startretries=0

[program:notexec]
command={d}/notexec.sh
startretries=0

[program:stubborn]
command=/bin/sh -c "trap '' TERM; exec sleep 1000"
; Long enough for the probe to see STOPPING on a loaded machine.
stopwaitsecs=2

[program:grouped]
command=/bin/sh -c "sleep 1000 & echo $! > {d}/grouped.child; wait"
startsecs=0
stopasgroup=true
killasgroup=true

[program:manual]
command=/bin/sleep 1000
autostart=false
startsecs=0

[program:stoppable]
command=/bin/sleep 1000
startsecs=0

[program:usr1]
command=/bin/sh -c "trap 'touch {d}/usr1.got' USR1; while :; do sleep 0.1; done"

[program:killme]
command=/bin/sleep 1000
startsecs=0
autorestart=true

[program:killed]
command=/bin/sleep 1000
startsecs=0
autorestart=false

[program:slowstart]
command=/bin/sleep 1000
startsecs=100

[program:backoffer]
command=/nonexistent/other
startretries=1000

[program:trapexit]
command=/bin/sh -c "trap 'exit 7' TERM; while :; do sleep 0.1; done"

[program:instant]
command=/bin/true
startsecs=0
autorestart=false

[program:orphaner]
command=/bin/sh -c "sleep 1000 & echo $! > {d}/orphaner.child; wait"
startsecs=0

[program:bgexit]
command=/bin/sh -c "sleep 1000 & echo $! > {d}/bgexit.child; sleep 0.3; exit 0"
startsecs=0
autorestart=false

[program:hupstop]
command=/bin/sleep 1000
startsecs=0
stopsignal=HUP

[group:pool]
programs=a,b

[program:a]
command=/bin/sleep 1000
startsecs=0

[program:b]
command=/bin/sleep 1000
startsecs=0
autostart=false

[program:slowstart2]
command=/bin/sleep 1000
startsecs=100
autostart=false

[program:flappy]
; Not at once: a startProcess that already sees the exit answers SPAWN_ERROR (a race).
command=/bin/sh -c "sleep 0.2; exit 1"
startretries=100
autostart=false

[program:quickok]
command=/bin/sh -c "exit 0"
startretries=0
"#
    )
}

fn probe_script() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/ref/lifecycle_probe.py"
    ))
}

/// Starts `supervisord` (ours or the reference's) on a fresh dir, runs the probe against it and
/// returns the transcript; the probe ends with stopAllProcesses, then the daemon is stopped.
fn run_side(imp: &Implementation, tag: &str) -> String {
    let dir = TempDir::new(tag);
    let conf = dir.write("supervisord.conf", &config(&dir.path));
    dir.write("notexec.sh", "#!/bin/sh\nexec sleep 1000\n");
    let mut daemon = util::spawn_foreground(&imp.supervisord(&dir), &dir, &conf);
    let sock = dir.join("sock");
    let up = util::wait_for(WAIT, || sock.exists());
    let out = if up {
        Command::new(imp.python())
            .arg(probe_script())
            .arg(format!("unix://{}", sock.display()))
            .arg(&dir.path)
            .arg(imp.ref_bin().join("supervisorctl"))
            .stdin(Stdio::null())
            .output()
            .ok()
    } else {
        None
    };
    util::terminate(&mut daemon, WAIT);
    let Some(out) = out else {
        panic!("{tag}: daemon did not come up:\n{}", dir.read("daemon.err"));
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{tag}: probe failed:\n{text}\n{}\nmain log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        dir.read("main.log")
    );
    text
}

/// The transcripts side by side from the first differing line, with some context.
fn diff(reference: &[&str], ours: &[&str]) -> Option<String> {
    let first = (0..reference.len().max(ours.len())).find(|&i| reference.get(i) != ours.get(i))?;
    let mut text = String::new();
    let from = first.saturating_sub(8);
    text.push_str(&format!("first difference at line {}\n", first + 1));
    for line in &reference[from..first] {
        text.push_str(&format!("    {line}\n"));
    }
    for i in first..(first + 12) {
        match (reference.get(i), ours.get(i)) {
            (None, None) => break,
            (r, o) if r == o => text.push_str(&format!("    {}\n", r.unwrap_or(&""))),
            (r, o) => {
                text.push_str(&format!("  - {}\n", r.unwrap_or(&"<end>")));
                text.push_str(&format!("  + {}\n", o.unwrap_or(&"<end>")));
            }
        }
    }
    Some(text)
}

#[test]
fn process_info_and_status_match_the_reference_in_every_state() {
    let Some((ours, theirs)) = util::side_by_side(
        "lifecycle::process_info_and_status_match_the_reference",
        |imp| run_side(imp, &imp.tag("life")),
    ) else {
        return;
    };

    let violations: Vec<&str> = ours
        .lines()
        .chain(theirs.lines())
        .filter(|l| l.starts_with("VIOLATION") || l.starts_with("TIMEOUT"))
        .collect();
    let reference: Vec<&str> = theirs.lines().collect();
    let got: Vec<&str> = ours.lines().collect();
    assert_eq!(
        reference.last(),
        Some(&"done"),
        "reference probe incomplete"
    );
    if let Some(d) = diff(&reference, &got) {
        panic!("transcripts differ (- reference, + ours):\n{d}\nours in full:\n{ours}");
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
