//! Output capture under load: coalesced small writes and grown pipes keep every byte, in order,
//! while the child is still running (not only when its exit drains the pipe).

use std::time::Duration;

use crate::util::{Daemon, TempDir, wait_for};

const WAIT: Duration = Duration::from_secs(20);

fn start(dir: &TempDir, command: &str) -> Daemon {
    let conf = dir.write(
        "s.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\nchildlogdir=%(here)s\n\n[program:talker]\ncommand={command}\nstdout_logfile=%(here)s/out.log\nstdout_logfile_maxbytes=0\nstartsecs=0\nautorestart=false\n"
        ),
    );
    Daemon::start(dir, &conf)
}

#[test]
fn many_small_writes_all_reach_the_log_and_a_later_write_still_arrives() {
    let dir = TempDir::new("coalesce");
    // One write per line (sh's echo), a pause, then one more line while the child lives on:
    // the last line proves the pipe is watched again after a coalescing window.
    let mut d = start(
        &dir,
        "sh -c 'i=0; while [ $i -lt 5000 ]; do echo line$i; i=$((i+1)); done; sleep 0.5; echo DONE; exec sleep 1000'",
    );
    let mut expected: String = (0..5000).map(|i| format!("line{i}\n")).collect();
    expected.push_str("DONE\n");
    assert!(
        wait_for(WAIT, || dir.read("out.log") == expected),
        "log has {} of {} bytes",
        dir.read("out.log").len(),
        expected.len()
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn a_large_burst_arrives_whole_while_the_child_runs() {
    let dir = TempDir::new("burst");
    let mut d = start(
        &dir,
        "sh -c 'head -c 3000000 /dev/zero | tr \"\\\\0\" x; echo; echo END; exec sleep 1000'",
    );
    let mut expected = "x".repeat(3_000_000);
    expected.push_str("\nEND\n");
    assert!(wait_for(WAIT, || dir.read("out.log").len() >= expected.len()));
    assert!(
        dir.read("out.log") == expected,
        "log differs from the burst"
    );
    assert_eq!(d.stop(WAIT), Some(0));
}
