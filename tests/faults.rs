//! Faults the daemon must outlive (issue 13 item 6), each with real processes: the main log's
//! filesystem fills and frees, a child log is moved away and SIGUSR2 reopens it, children that
//! close stdout, flood stderr, fork a thousand grandchildren or ignore every catchable signal,
//! and a config edited into something broken before `update`. Related faults already covered
//! elsewhere: a full disk under a child log (capture_under_load::full_disk_under_a_spliced_log_...), the main
//! log moved + SIGUSR2 (daemon::sigusr2_reopens_the_main_log), an event listener writing
//! garbage (listeners::a_listener_answering_garbage_...), SIGKILL escalation
//! (daemon::stop_escalates_to_sigkill_...), a hostile /logtail (guard::logtail_path_tricks_...).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{self, Daemon, TempDir, pid_alive, unsafe_kill, wait_for};

const WAIT: Duration = Duration::from_secs(20);

/// A config with a unix socket, the main log at `logfile`, and `programs`.
fn config(dir: &TempDir, logfile: &Path, programs: &str) -> PathBuf {
    dir.write(
        "s.conf",
        &format!(
            "[supervisord]\nlogfile={}\npidfile=%(here)s/s.pid\nchildlogdir=%(here)s\nloglevel=info\n\n\
             [unix_http_server]\nfile=%(here)s/s.sock\n\n\
             [rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
             {programs}",
            logfile.display()
        ),
    )
}

fn rpc(dir: &TempDir, method: &str, params: &[&str]) -> String {
    util::rpc_call(&dir.join("s.sock"), method, params, WAIT)
}

fn state(dir: &TempDir, name: &str) -> String {
    let reply = rpc(dir, "supervisor.getProcessInfo", &[name]);
    let rest = reply
        .split("<name>statename</name>")
        .nth(1)
        .unwrap_or_default();
    let start = rest.find("<string>").map_or(0, |i| i + 8);
    let end = rest.find("</string>").unwrap_or(start);
    rest[start..end].to_string()
}

fn pid_of(dir: &TempDir, name: &str) -> i32 {
    let reply = rpc(dir, "supervisor.getProcessInfo", &[name]);
    let rest = reply.split("<name>pid</name>").nth(1).unwrap_or_default();
    let start = rest.find("<int>").map_or(0, |i| i + 5);
    let end = rest.find("</int>").unwrap_or(start);
    rest[start..end].parse().unwrap_or(0)
}

/// Mounts a tmpfs of `size` on `mnt`, runs `body`, unmounts (also when `body` panics). False
/// (with the reason printed) when not root or mounting is not allowed here.
fn with_tmpfs(test: &str, mnt: &Path, size: &str, body: impl FnOnce()) -> bool {
    if !util::require_root(test, "mounting a small tmpfs needs root") {
        return false;
    }
    std::fs::create_dir_all(mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(mnt)
        .stderr(Stdio::null())
        .status();
    if !matches!(mounted, Ok(s) if s.success()) {
        eprintln!("SKIP {test}: cannot mount tmpfs here");
        return false;
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
    let _ = Command::new("umount").arg("-l").arg(mnt).status();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    true
}

#[test]
fn main_log_disk_full_then_freed_keeps_serving_and_logs_again() {
    let test = "main_log_disk_full_then_freed_keeps_serving_and_logs_again";
    let dir = TempDir::new("fault-mainfull");
    let mnt = dir.join("mnt");
    with_tmpfs(test, &mnt.clone(), "512k", || {
        let log = mnt.join("main.log");
        let conf = config(
            &dir,
            &log,
            "[program:ticker]\ncommand=sh -c 'sleep 0.2'\nautorestart=true\nstartsecs=0\n",
        );
        let mut d = Daemon::start(&dir, &conf);
        assert!(wait_for(WAIT, || std::fs::read_to_string(&log)
            .is_ok_and(|s| s.contains("spawned: 'ticker'"))));
        // Fill the filesystem; the ticker keeps restarting (a log line every 0.2 s).
        let _ = std::fs::write(mnt.join("filler"), vec![0u8; 1 << 20]);
        std::thread::sleep(Duration::from_millis(1500));
        // The daemon still answers and still supervises.
        assert!(!state(&dir, "ticker").is_empty());
        assert!(util::pid_alive(d.pid()), "daemon died on a full disk");
        let before = Instant::now();
        rpc(&dir, "supervisor.getState", &[]);
        assert!(before.elapsed() < Duration::from_secs(2));
        // Space returns: new lines reach the log again.
        std::fs::remove_file(mnt.join("filler")).unwrap();
        let len = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        assert!(
            wait_for(WAIT, || std::fs::metadata(&log)
                .is_ok_and(|m| m.len() > len + 200)),
            "main log did not grow after space returned"
        );
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.lines().last().is_some());
        assert_eq!(d.stop(WAIT), Some(0));
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.contains("received SIGTERM indicating exit request"),
            "the last lines made it: {}",
            &text[text.len().saturating_sub(600)..]
        );
    });
}

#[test]
fn a_moved_child_log_is_reopened_by_sigusr2() {
    let dir = TempDir::new("fault-usr2");
    let conf = config(
        &dir,
        &dir.join("s.log"),
        "[program:talker]\ncommand=sh -c 'i=0; while :; do echo line-$i; i=$((i+1)); sleep 0.05; done'\n\
         stdout_logfile=%(here)s/talker.log\nstartsecs=0\n",
    );
    let mut d = Daemon::start(&dir, &conf);
    let log = dir.join("talker.log");
    assert!(wait_for(WAIT, || dir.read("talker.log").contains("line-3")));
    std::fs::rename(&log, dir.join("talker.log.moved")).unwrap();
    // Deleted files too: the moved one stays readable, the original name comes back on USR2.
    unsafe_kill(d.pid(), 12);
    assert!(
        wait_for(WAIT, || dir.read("talker.log").contains("line-")),
        "no new talker.log after SIGUSR2"
    );
    // Nothing was lost across the switch: the numbers continue without a gap.
    let moved = dir.read("talker.log.moved");
    let new = dir.read("talker.log");
    let last_old: u64 = moved
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("line-"))
        .and_then(|n| n.parse().ok())
        .unwrap();
    let first_new: u64 = new
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("line-"))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert_eq!(
        first_new,
        last_old + 1,
        "old ends {last_old}, new starts {first_new}"
    );
    // Deleted outright: USR2 again creates it.
    std::fs::remove_file(&log).unwrap();
    unsafe_kill(d.pid(), 12);
    assert!(wait_for(WAIT, || dir.read("talker.log").contains("line-")));
    assert_eq!(state(&dir, "talker"), "RUNNING");
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn children_that_close_stdout_or_flood_stderr_do_not_hurt_the_daemon() {
    let dir = TempDir::new("fault-flood");
    let conf = config(
        &dir,
        &dir.join("s.log"),
        "[program:closer]\ncommand=sh -c 'exec >&-; echo still-here >&2; exec sleep 1000'\n\
         startsecs=0\nstderr_logfile=%(here)s/closer.err\n\n\
         [program:flood]\ncommand=sh -c 'yes flood-flood-flood-flood-flood-flood >&2'\nstartsecs=0\n\
         stderr_logfile=%(here)s/flood.err\nstderr_logfile_maxbytes=1MB\nstderr_logfile_backups=2\n",
    );
    let mut d = Daemon::start(&dir, &conf);
    assert!(wait_for(WAIT, || dir
        .read("closer.err")
        .contains("still-here")));
    assert_eq!(state(&dir, "closer"), "RUNNING");
    // While the flood runs, RPCs are answered quickly and the logs stay bounded by rotation.
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        rpc(&dir, "supervisor.getAllProcessInfo", &[]);
        slowest = slowest.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(slowest < Duration::from_secs(1), "slowest RPC {slowest:?}");
    assert!(
        wait_for(WAIT, || dir.join("flood.err.1").exists()),
        "rotation under the flood"
    );
    let total: u64 = ["flood.err", "flood.err.1", "flood.err.2", "flood.err.3"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum();
    assert!(
        total <= 3 * 1024 * 1024 + 64 * 1024,
        "logs hold {total} bytes"
    );
    assert!(!dir.join("flood.err.3").exists());
    assert_eq!(state(&dir, "flood"), "RUNNING");
    assert_eq!(state(&dir, "closer"), "RUNNING");
    assert_eq!(d.stop(WAIT), Some(0));
}

/// Live processes whose process group is `pgid`.
fn group_members(pgid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the ")" of the command: state ppid pgrp ...
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, r)| r.split_whitespace().collect())
            .unwrap_or_default();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
            out.push(pid);
        }
    }
    out
}

#[test]
fn a_thousand_grandchildren_are_all_gone_after_stop_with_stopasgroup() {
    let dir = TempDir::new("fault-fork");
    let conf = config(
        &dir,
        &dir.join("s.log"),
        "[program:forker]\ncommand=sh -c 'i=0; while [ $i -lt 1000 ]; do sleep 1000 & i=$((i+1)); done; echo forked; wait'\n\
         startsecs=0\nstopasgroup=true\nkillasgroup=true\nstopwaitsecs=5\nstdout_logfile=%(here)s/forker.out\n\n\
         [program:stubborn]\ncommand=sh -c \"trap '' HUP INT QUIT TERM USR1 USR2 ALRM PIPE; echo trapped; while :; do sleep 0.1; done\"\n\
         startsecs=0\nstopwaitsecs=1\nstdout_logfile=%(here)s/stubborn.out\n",
    );
    let mut d = Daemon::start(&dir, &conf);
    assert!(wait_for(Duration::from_secs(60), || dir
        .read("forker.out")
        .contains("forked")));
    let pgid = pid_of(&dir, "forker");
    assert!(pgid > 0);
    let members = group_members(pgid);
    assert!(members.len() > 1000, "{} in the group", members.len());
    let t = Instant::now();
    let reply = rpc(&dir, "supervisor.stopProcess", &["forker"]);
    assert!(reply.contains("<boolean>1</boolean>"), "{reply}");
    assert!(
        wait_for(WAIT, || group_members(pgid).is_empty()),
        "{} of the group survived the stop",
        group_members(pgid).len()
    );
    eprintln!("1001 processes stopped as a group in {:?}", t.elapsed());
    // A child ignoring every catchable signal: SIGKILL after stopwaitsecs.
    assert!(wait_for(WAIT, || dir
        .read("stubborn.out")
        .contains("trapped")));
    let stubborn = pid_of(&dir, "stubborn");
    let reply = rpc(&dir, "supervisor.stopProcess", &["stubborn"]);
    assert!(reply.contains("<boolean>1</boolean>"), "{reply}");
    assert!(!pid_alive(stubborn));
    assert!(
        dir.read("s.log")
            .contains("stopped: stubborn (terminated by SIGKILL)")
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn a_broken_config_update_is_refused_and_loses_nothing() {
    let dir = TempDir::new("fault-broken");
    let good = "[program:keeper]\ncommand=sleep 1000\nstartsecs=0\n";
    let conf = config(&dir, &dir.join("s.log"), good);
    let mut d = Daemon::start(&dir, &conf);
    assert!(wait_for(WAIT, || dir
        .read("s.log")
        .contains("success: keeper entered RUNNING")));
    let pid = pid_of(&dir, "keeper");
    let ctl = |args: &[&str]| {
        let url = format!("unix://{}", dir.join("s.sock").display());
        let mut all = vec!["-s", url.as_str()];
        all.extend_from_slice(args);
        util::run(&dir, "supervisorctl", &all)
    };
    // Broken: an unknown value type, an unterminated expansion, a missing command.
    config(
        &dir,
        &dir.join("s.log"),
        &format!(
            "{good}startretries=lots\n\n[program:new]\ncommand=echo %(bogus\n\n[program:empty]\n"
        ),
    );
    let out = ctl(&["update"]);
    let text = format!("{}{}", util::stdout(&out), util::stderr(&out));
    // The reference's wording: the fault names the first problem, file and section.
    assert!(
        text.contains("CANT_REREAD: invalid literal for int() with base 10: 'lots' in section 'program:keeper'"),
        "{text}"
    );
    assert_eq!(state(&dir, "keeper"), "RUNNING");
    assert_eq!(pid_of(&dir, "keeper"), pid, "keeper was restarted");
    assert!(util::pid_alive(d.pid()));
    // Fixed again: update applies it.
    config(
        &dir,
        &dir.join("s.log"),
        &format!("{good}\n[program:new]\ncommand=sleep 1000\nstartsecs=0\n"),
    );
    let out = ctl(&["update"]);
    assert!(
        util::stdout(&out).contains("new: added process group"),
        "{out:?}"
    );
    assert!(wait_for(WAIT, || state(&dir, "new") == "RUNNING"));
    assert_eq!(pid_of(&dir, "keeper"), pid);
    assert_eq!(d.stop(WAIT), Some(0));
}
