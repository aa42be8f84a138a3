//! supervisord with real children: restarts, backoff, stop escalation, process groups, fds,
//! environment, privileges, shutdown, output capture and reaping.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::util::{
    Daemon, RPC_INTERFACE, RPC_SECTIONS, TempDir, WAIT, free_port, pid_alive, require_root, run,
    stderr, unsafe_kill, wait_for,
};

/// Writes a config with the main log in the temp dir and the given program sections.
fn config(dir: &TempDir, programs: &str) -> std::path::PathBuf {
    dir.write(
        "s.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\nchildlogdir=%(here)s\nloglevel=debug\n\n{programs}"
        ),
    )
}

/// A temp dir named after `tag` with `config(programs)`, and the daemon started on it.
fn start(tag: &str, programs: &str) -> (TempDir, Daemon) {
    let dir = TempDir::new(tag);
    let conf = config(&dir, programs);
    let daemon = Daemon::start(&dir, &conf);
    (dir, daemon)
}

fn main_log(dir: &TempDir) -> String {
    dir.read("s.log")
}

fn wait_log(dir: &TempDir, needle: &str) -> bool {
    wait_for(WAIT, || main_log(dir).contains(needle))
}

fn count(dir: &TempDir, needle: &str) -> usize {
    main_log(dir).matches(needle).count()
}

/// The pid from the last `spawned: '<name>' with pid N` line.
fn spawned_pid(dir: &TempDir, name: &str) -> Option<i32> {
    let prefix = format!("spawned: '{name}' with pid ");
    main_log(dir)
        .lines()
        .rev()
        .filter_map(|l| {
            l.split_once(&prefix)
                .map(|(_, rest)| rest.trim().parse().ok())
        })
        .next()
        .flatten()
}

/// Milliseconds since midnight of a log line's timestamp (`YYYY-MM-DD HH:MM:SS,mmm`).
fn line_ms(line: &str) -> u64 {
    let time = &line[11..23];
    let h: u64 = time[0..2].parse().unwrap();
    let m: u64 = time[3..5].parse().unwrap();
    let s: u64 = time[6..8].parse().unwrap();
    let ms: u64 = time[9..12].parse().unwrap();
    ((h * 60 + m) * 60 + s) * 1000 + ms
}

#[test]
fn quick_exit_backs_off_then_gives_up_after_startretries() {
    let (dir, mut d) = start(
        "backoff",
        "[program:quick]\ncommand=sh -c 'exit 3'\nstartretries=2\nstartsecs=5\n",
    );
    assert!(wait_log(
        &dir,
        "gave up: quick entered FATAL state, too many start retries too quickly"
    ));
    assert_eq!(count(&dir, "spawned: 'quick'"), 3);
    assert_eq!(
        count(&dir, "WARN exited: quick (exit status 3; not expected)"),
        3
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn exits_after_startsecs_follow_exitcodes_and_autorestart() {
    let prog = |name: &str, code: i32, mode: &str| {
        format!(
            "[program:{name}]\ncommand=sh -c 'sleep 0.2; exit {code}'\nstartsecs=0\nautorestart={mode}\nexitcodes=0,2\n\n"
        )
    };
    let programs = [
        prog("unexp_ok", 2, "unexpected"),
        prog("unexp_bad", 3, "unexpected"),
        prog("never_bad", 3, "false"),
        prog("always_ok", 0, "true"),
    ]
    .concat();
    let (dir, mut d) = start("autorestart", &programs);
    assert!(wait_log(
        &dir,
        "INFO exited: unexp_ok (exit status 2; expected)"
    ));
    assert!(wait_log(
        &dir,
        "WARN exited: unexp_bad (exit status 3; not expected)"
    ));
    assert!(wait_log(
        &dir,
        "WARN exited: never_bad (exit status 3; not expected)"
    ));
    assert!(wait_log(
        &dir,
        "INFO exited: always_ok (exit status 0; expected)"
    ));
    // The restarting ones come back; the others stay down.
    assert!(wait_for(WAIT, || count(&dir, "spawned: 'unexp_bad'") >= 2
        && count(&dir, "spawned: 'always_ok'") >= 2));
    assert_eq!(count(&dir, "spawned: 'unexp_ok'"), 1);
    assert_eq!(count(&dir, "spawned: 'never_bad'"), 1);
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn restart_after_exit_of_a_long_running_program_is_immediate() {
    let (dir, mut d) = start(
        "fastrestart",
        "[program:longish]\ncommand=sh -c 'sleep 1.2; exit 1'\nstartsecs=1\nautorestart=true\n",
    );
    assert!(wait_for(WAIT, || count(&dir, "spawned: 'longish'") >= 2));
    let log = main_log(&dir);
    let exited = log.lines().find(|l| l.contains("exited: longish")).unwrap();
    let respawned = log
        .lines()
        .filter(|l| l.contains("spawned: 'longish'"))
        .nth(1)
        .unwrap();
    let gap = line_ms(respawned) - line_ms(exited);
    assert!(
        gap < 300,
        "restart took {gap} ms (the reference needs up to 1 s)"
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn stop_escalates_to_sigkill_for_a_child_ignoring_sigterm() {
    let (dir, mut d) = start(
        "sigkill",
        "[program:trapper]\ncommand=sh -c \"trap '' TERM; touch trapped; exec sleep 1000\"\nstopwaitsecs=1\nstartsecs=0\n",
    );
    assert!(wait_log(&dir, "success: trapper entered RUNNING state"));
    // Under load a SIGTERM sent before the shell ran `trap` would just kill it.
    assert!(wait_for(WAIT, || dir.join("trapped").exists()));
    let pid = spawned_pid(&dir, "trapper").unwrap();
    unsafe_kill(d.pid(), 15);
    assert!(wait_log(
        &dir,
        &format!("WARN killing 'trapper' ({pid}) with SIGKILL")
    ));
    assert!(wait_log(
        &dir,
        "WARN stopped: trapper (terminated by SIGKILL)"
    ));
    assert_eq!(d.stop(WAIT), Some(0));
    assert!(!pid_alive(pid));
}

#[test]
fn killasgroup_kills_the_grandchild() {
    let dir = TempDir::new("killgroup");
    let gc = dir.join("gc.pid");
    let conf = config(
        &dir,
        &format!(
            "[program:parent]\ncommand=sh -c \"trap '' TERM; sleep 1000 & echo $! > {}; wait\"\nstopwaitsecs=1\nkillasgroup=true\nstartsecs=0\n",
            gc.display()
        ),
    );
    let mut d = Daemon::start(&dir, &conf);
    assert!(wait_for(WAIT, || dir
        .read("gc.pid")
        .trim()
        .parse::<i32>()
        .is_ok()));
    let grandchild: i32 = dir.read("gc.pid").trim().parse().unwrap();
    assert!(pid_alive(grandchild));
    assert_eq!(d.stop(WAIT), Some(0));
    assert!(main_log(&dir).contains("killing parent (pid"));
    assert!(main_log(&dir).contains("process group with signal SIGKILL"));
    assert!(
        wait_for(WAIT, || !pid_alive(grandchild)),
        "grandchild {grandchild} survived"
    );
}

#[test]
fn children_get_only_fds_0_1_2() {
    let (dir, mut d) = start(
        "fds",
        "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    assert!(wait_log(&dir, "spawned: 'sleeper'"));
    let pid = spawned_pid(&dir, "sleeper").unwrap();
    // "spawned" is logged right after fork; the fd set is only final once the child has exec'd.
    assert!(
        wait_for(WAIT, || std::fs::read_to_string(format!(
            "/proc/{pid}/comm"
        ))
        .is_ok_and(|c| c.trim() == "sleep")),
        "child {pid} never exec'd sleep"
    );
    // Right after exec the dynamic loader and sleep's own start-up briefly hold files open
    // (libc, locale data), so wait for the settled set; a leaked descriptor never goes away.
    let want: BTreeSet<String> = ["0", "1", "2"].iter().map(|s| s.to_string()).collect();
    let mut fds = BTreeSet::new();
    let settled = wait_for(WAIT, || {
        fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        fds == want
    });
    assert!(settled, "child {pid} holds fds {fds:?}, want {want:?}");
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn child_sees_environment_directory_and_umask() {
    let dir = TempDir::new("env");
    std::fs::create_dir_all(dir.join("work")).unwrap();
    let conf = config(
        &dir,
        "[program:envp]\ncommand=sh -c 'env > ../env.txt; pwd > ../pwd.txt; ulimit -Sn > ../nofile.txt; umask > ../umask.txt; exec sleep 1000'\ndirectory=%(here)s/work\numask=027\nenvironment=FOO=\"bar baz\",SUPERVISOR_GROUP_NAME=x\nstartsecs=0\n",
    );
    let mut d = Daemon::start(&dir, &conf);
    assert!(wait_for(WAIT, || !dir.read("umask.txt").is_empty()));
    let env = dir.read("env.txt");
    for want in [
        "FOO=bar baz",
        "SUPERVISOR_ENABLED=1",
        "SUPERVISOR_PROCESS_NAME=envp",
        "SUPERVISOR_GROUP_NAME=x",
    ] {
        assert!(
            env.lines().any(|l| l == want),
            "{want} missing from:\n{env}"
        );
    }
    assert!(
        !env.contains("SUPERVISOR_SERVER_URL="),
        "no server configured"
    );
    // supervisord's own environment is inherited (the daemon reads it once at start-up).
    if let Ok(path) = std::env::var("PATH") {
        let want = format!("PATH={path}");
        assert!(
            env.lines().any(|l| l == want),
            "{want} missing from:\n{env}"
        );
    }
    assert_eq!(
        dir.read("pwd.txt").trim(),
        dir.join("work").to_string_lossy()
    );
    assert_eq!(dir.read("umask.txt").trim(), "0027");
    // supervisord raises its own descriptor limit, but children get the usual one back.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    if lim.rlim_cur != libc::RLIM_INFINITY {
        let want = lim.rlim_cur.max(1024.min(lim.rlim_max));
        assert_eq!(dir.read("nofile.txt").trim(), want.to_string());
    }
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn user_option_runs_the_child_as_that_user() {
    if !require_root("user_option_runs_the_child_as_that_user", "needs root") {
        return;
    }
    let dir = TempDir::new("user");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::set_permissions(&out, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let conf = config(
        &dir,
        &format!(
            "[program:asnobody]\ncommand=sh -c 'id -u > {0}/uid; id -g > {0}/gid; exec sleep 1000'\nuser=nobody\nstartsecs=0\n",
            out.display()
        ),
    );
    let mut d = Daemon::start(&dir, &conf);
    assert!(wait_for(WAIT, || !dir.read("out/gid").is_empty()));
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    assert_eq!(dir.read("out/uid").trim(), nobody.uid.to_string());
    assert_eq!(dir.read("out/gid").trim(), nobody.gid.to_string());
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn orderly_shutdown_stops_every_child_and_removes_the_pidfile() {
    let (dir, mut d) = start(
        "shutdown",
        "[program:a]\ncommand=sleep 1000\npriority=1\nstartsecs=0\n\n[program:b]\ncommand=sleep 1000\npriority=2\nstartsecs=0\n\n[program:c]\ncommand=sleep 1000\npriority=3\nstartsecs=0\n",
    );
    assert!(wait_log(
        &dir,
        &format!("supervisord started with pid {}", d.pid())
    ));
    assert!(wait_for(WAIT, || ["a", "b", "c"]
        .iter()
        .all(|n| spawned_pid(&dir, n).is_some())));
    assert_eq!(dir.read("s.pid"), format!("{}\n", d.pid()));
    let pids: Vec<i32> = ["a", "b", "c"]
        .iter()
        .map(|n| spawned_pid(&dir, n).unwrap())
        .collect();
    assert_eq!(d.stop(WAIT), Some(0));
    for pid in pids {
        assert!(!pid_alive(pid), "{pid} still alive");
    }
    assert!(!dir.join("s.pid").exists());
    let log = main_log(&dir);
    assert!(log.contains("WARN received SIGTERM indicating exit request"));
    // Highest priority number stops first.
    let pos = |n: &str| log.find(&format!("stopped: {n} ")).unwrap();
    assert!(pos("c") < pos("b") && pos("b") < pos("a"), "{log}");
}

#[test]
fn output_written_just_before_exit_reaches_the_log() {
    let (dir, mut d) = start(
        "lastwords",
        "[program:talker]\ncommand=sh -c 'head -c 100000 /dev/zero | tr \"\\\\0\" x; echo END; exit 3'\nstdout_logfile=%(here)s/talker.log\nstartretries=0\n",
    );
    assert!(wait_log(&dir, "exited: talker"));
    let out = dir.read("talker.log");
    assert_eq!(out.len(), 100_004);
    assert!(out.ends_with("xEND\n"));
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn missing_config_file_is_a_usage_error() {
    let dir = TempDir::new("noconf");
    let out = run(&dir, "supervisord", &["-c", "/nonexistent/s.conf"]);
    assert_eq!(out.status.code(), Some(2));
    let argv0 = dir.applet("supervisord");
    assert_eq!(
        stderr(&out),
        format!(
            "Error: could not find config file /nonexistent/s.conf\nFor help, use {} -h\n",
            argv0.display()
        )
    );
}

#[test]
fn reaps_orphans_as_pid_1() {
    if !require_root("reaps_orphans_as_pid_1", "needs root for unshare --pid") {
        return;
    }
    if std::process::Command::new("unshare")
        .args(["--pid", "--fork", "true"])
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        eprintln!("SKIP reaps_orphans_as_pid_1: unshare --pid is not available here");
        return;
    }
    let dir = TempDir::new("pid1");
    let conf = config(
        &dir,
        "[program:orphaner]\ncommand=sh -c '(sleep 0.2 &); exec sleep 1000'\nstartsecs=0\n",
    );
    let mut child = std::process::Command::new("unshare")
        .args(["--pid", "--fork"])
        .arg(dir.applet("supervisord"))
        .args(["-n", "-c"])
        .arg(&conf)
        .current_dir(&dir.path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let reaped = wait_log(&dir, "reaped unknown pid");
    assert!(main_log(&dir).contains("supervisord started with pid 1"));
    // unshare forwards nothing: signal supervisord (pid 1 inside) via its outer pid.
    let outer =
        std::fs::read_to_string(format!("/proc/{}/task/{}/children", child.id(), child.id()))
            .unwrap_or_default();
    for pid in outer.split_whitespace() {
        unsafe_kill(pid.parse().unwrap(), 15);
    }
    assert!(wait_for(WAIT, || matches!(child.try_wait(), Ok(Some(_)))));
    let _ = child.kill();
    let _ = child.wait();
    assert!(reaped, "orphan was not reaped:\n{}", main_log(&dir));
    assert!(main_log(&dir).contains("(exit status 0)"));
}

#[test]
fn sighup_rereads_the_config_and_restarts_programs() {
    let (dir, mut d) = start(
        "sighup",
        "[program:first]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    assert!(wait_log(&dir, "spawned: 'first'"));
    config(&dir, "[program:second]\ncommand=sleep 1000\nstartsecs=0\n");
    unsafe_kill(d.pid(), 1);
    assert!(wait_log(&dir, "spawned: 'second'"));
    let log = main_log(&dir);
    assert!(log.contains("WARN received SIGHUP indicating restart request"));
    assert!(log.contains("stopped: first (terminated by SIGTERM)"));
    let started = format!("supervisord started with pid {}", d.pid());
    assert_eq!(log.matches(&started).count(), 2, "{log}");
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn sigusr2_reopens_the_main_log() {
    let (dir, mut d) = start(
        "usr2",
        "[program:ticker]\ncommand=sh -c 'sleep 0.3'\nstartsecs=0\nautorestart=true\n",
    );
    assert!(wait_log(&dir, "spawned: 'ticker'"));
    std::fs::rename(dir.join("s.log"), dir.join("s.log.old")).unwrap();
    unsafe_kill(d.pid(), 12);
    assert!(wait_for(WAIT, || dir
        .read("s.log.old")
        .contains("INFO supervisord logreopen")));
    assert!(
        wait_log(&dir, "spawned: 'ticker'"),
        "nothing logged to the new file"
    );
    assert!(
        dir.read("s.log.old")
            .contains("INFO received SIGUSR2 indicating log reopen request")
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn idle_daemon_does_not_wake_up() {
    let (dir, mut d) = start(
        "idle",
        "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    assert!(wait_log(&dir, "success: sleeper entered RUNNING state"));
    let switches = crate::util::voluntary_switches;
    // Let start-up settle, then count wake-ups over 2.5 s (a 1-second poller would wake at least twice).
    std::thread::sleep(Duration::from_millis(200));
    let before = switches(d.pid());
    std::thread::sleep(Duration::from_millis(2500));
    let after = switches(d.pid());
    assert!(
        after - before <= 1,
        "daemon woke up {} times while idle",
        after - before
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn daemonizes_writes_the_pidfile_and_stops_on_sigterm() {
    let dir = TempDir::new("daemonize");
    let conf = config(&dir, "[program:bg]\ncommand=sleep 1000\nstartsecs=0\n");
    let out = run(&dir, "supervisord", &["-c", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(wait_for(WAIT, || dir.read("s.pid").ends_with('\n')));
    let pid: i32 = dir.read("s.pid").trim().parse().unwrap();
    assert!(wait_log(
        &dir,
        &format!("supervisord started with pid {pid}")
    ));
    assert!(main_log(&dir).contains("INFO daemonizing the supervisord process"));
    // SAFETY: getsid reads another process's session id.
    assert_ne!(
        unsafe { libc::getsid(pid) },
        pid,
        "must not be a session leader"
    );
    assert!(wait_log(&dir, "spawned: 'bg'"));
    let child = spawned_pid(&dir, "bg").unwrap();
    unsafe_kill(pid, 15);
    assert!(wait_for(WAIT, || !pid_alive(pid)));
    assert!(!pid_alive(child));
    assert!(!dir.join("s.pid").exists());
}

/// A Python event listener that appends every header and payload to `events.txt`, answering OK
/// (or FAIL for the first event when `fail_first`).
fn listener_script(dir: &TempDir, fail_first: bool) -> Option<std::path::PathBuf> {
    if std::process::Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        eprintln!("SKIP listener test: python3 not available");
        return None;
    }
    let out = dir.join("events.txt");
    Some(dir.write(
        "listener.py",
        &format!(
            r#"import sys
first = {first}
out = open({out:?}, "a")
while True:
    sys.stdout.write("READY\n"); sys.stdout.flush()
    header = sys.stdin.readline()
    fields = dict(t.split(":", 1) for t in header.split())
    payload = sys.stdin.read(int(fields["len"]))
    out.write(header.strip() + " || " + payload.replace("\n", "\\n") + "\n"); out.flush()
    if first:
        first = False
        sys.stdout.write("RESULT 4\nFAIL"); sys.stdout.flush()
    else:
        sys.stdout.write("RESULT 2\nOK"); sys.stdout.flush()
"#,
            first = if fail_first { "True" } else { "False" },
            out = out.display().to_string()
        ),
    ))
}

/// Like `start`, plus an `[eventlistener:lst]` running `listener_script` for `events`
/// (None when python3 is missing: the test is skipped).
fn start_with_listener(
    tag: &str,
    fail_first: bool,
    events: &str,
    programs: &str,
) -> Option<(TempDir, Daemon)> {
    let dir = TempDir::new(tag);
    let script = listener_script(&dir, fail_first)?;
    let conf = config(
        &dir,
        &format!(
            "[eventlistener:lst]\ncommand=python3 -u {}\nevents={events}\nstartsecs=0\n\n{programs}",
            script.display()
        ),
    );
    let daemon = Daemon::start(&dir, &conf);
    Some((dir, daemon))
}

#[test]
fn event_listener_receives_process_state_events() {
    let Some((dir, mut d)) = start_with_listener(
        "listener",
        true,
        "PROCESS_STATE,SUPERVISOR_STATE_CHANGE",
        "[program:worker]\ncommand=sleep 1000\nstartsecs=0\n",
    ) else {
        return;
    };
    let has = |needle: &str| dir.read("events.txt").contains(needle);
    let pid = |name: &str| spawned_pid(&dir, name).unwrap_or(0);
    assert!(wait_for(WAIT, || {
        let payload = format!(
            "processname:worker groupname:worker from_state:STARTING pid:{}",
            pid("worker")
        );
        has(&format!(
            "eventname:PROCESS_STATE_RUNNING len:{} || {payload}",
            payload.len()
        ))
    }));
    let events = dir.read("events.txt");
    let first = events.lines().next().unwrap();
    assert!(
        first.starts_with("ver:3.0 server:supervisor serial:0 pool:lst poolserial:0 eventname:"),
        "{events}"
    );
    // The first event was rejected and delivered again with the same serial.
    let second = events.lines().nth(1).unwrap();
    assert_eq!(first, second, "{events}");
    assert!(wait_log(&dir, "WARN lst: event was rejected"));
    assert!(main_log(&dir).contains("DEBG lst: ACKNOWLEDGED -> READY"));
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn command_line_errors_match_the_reference() {
    let Some(reference) = crate::util::require_reference("command_line_errors_match_the_reference")
    else {
        return;
    };
    let dir = TempDir::new("cli");
    let conf = config(&dir, "");
    let conf = conf.to_str().unwrap();
    let bad = dir.write(
        "bad.conf",
        "[supervisord]\nlogfile=%(here)s/s.log\n[program:a]\ncommand=true\nautorestart=maybe\n",
    );
    let bad = bad.to_str().unwrap();
    // Only argument sets that fail before anything starts.
    let cases: Vec<Vec<&str>> = vec![
        vec!["-c", conf, "-e", "foo"],
        vec!["-c", conf, "-a", "x"],
        vec!["-c", conf, "--bogus"],
        vec!["-c", conf, "-x"],
        vec!["-c", conf, "--nodaemon=1"],
        vec!["-c", conf, "-m", "99"],
        vec!["-c", conf, "-q", "/nonexistent"],
        vec!["-c", conf, "-u", "no-such-user-xyz"],
        vec!["-c", conf, "extra", "-n"],
        vec!["-c", conf, "-c", conf],
        vec!["-c", conf, "--config=x"],
        vec!["-c", conf, "-e"],
        vec!["-c", conf, "-ndebug"],
        vec!["-c", "/nonexistent.conf"],
        vec!["-c", conf, "-y", "5xb"],
        vec!["-c", conf, "-l", "/nonexistent/x.log"],
        vec!["-c", bad],
        vec!["-c", "bad.conf"],
    ];
    let ours = dir.applet("supervisord");
    let theirs = reference.join("supervisord");
    for args in cases {
        let run_one = |exe: &std::path::Path| {
            let out = std::process::Command::new(exe)
                .args(&args)
                .current_dir(&dir.path)
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr).replace(exe.to_str().unwrap(), "ARGV0");
            (out.status.code(), err)
        };
        assert_eq!(run_one(&ours), run_one(&theirs), "args {args:?}");
    }
    let version = run(&dir, "supervisord", &["-v"]);
    assert_eq!(crate::util::stdout(&version), "4.3.0\n");
    assert_eq!(version.status.code(), Some(0));
}

#[test]
fn supervisord_user_option_drops_privileges_before_logging() {
    if !require_root(
        "supervisord_user_option_drops_privileges_before_logging",
        "needs root",
    ) {
        return;
    }
    let dir = TempDir::new("sduser");
    std::fs::set_permissions(
        &dir.path,
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let conf = dir.write(
        "s.conf",
        "[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\nchildlogdir=%(here)s\nuser=nobody\n\n[program:who]\ncommand=sh -c 'id -u > uid.txt; exec sleep 1000'\ndirectory=%(here)s\nstartsecs=0\n",
    );
    let mut d = Daemon::start(&dir, &conf);
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    assert!(wait_log(
        &dir,
        &format!("INFO Set uid to user {} succeeded", nobody.uid)
    ));
    assert!(wait_for(WAIT, || !dir.read("uid.txt").is_empty()));
    assert_eq!(dir.read("uid.txt").trim(), nobody.uid.to_string());
    assert!(!main_log(&dir).contains("Supervisor is running as root"));
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn a_chatty_child_does_not_starve_the_loop() {
    let dir = TempDir::new("chatty");
    let conf = config(
        &dir,
        "[program:chatty]\ncommand=yes\nstdout_logfile=NONE\nstartsecs=0\n\n[program:ticker]\ncommand=sh -c 'sleep 0.1'\nstartsecs=0\nautorestart=true\n",
    );
    let conf_text = std::fs::read_to_string(&conf)
        .unwrap()
        .replace("loglevel=debug", "loglevel=info");
    std::fs::write(&conf, conf_text).unwrap();
    let mut d = Daemon::start(&dir, &conf);
    assert!(
        wait_for(WAIT, || count(&dir, "spawned: 'ticker'") >= 4),
        "{}",
        main_log(&dir)
    );
    assert_eq!(d.stop(WAIT), Some(0));
    assert!(main_log(&dir).contains("stopped: chatty"));
}

#[test]
fn fcgi_program_gets_the_listening_socket_on_stdin() {
    let (dir, mut d) = start(
        "fcgi",
        "[fcgi-program:fc]\nsocket=unix://%(here)s/fc.sock\ncommand=sh -c 'readlink /proc/self/fd/0 > fd0.txt; exec sleep 1000'\ndirectory=%(here)s\nstartsecs=0\n",
    );
    assert!(
        wait_for(WAIT, || !dir.read("fd0.txt").is_empty()),
        "{}",
        main_log(&dir)
    );
    assert!(
        dir.read("fd0.txt").starts_with("socket:"),
        "{}",
        dir.read("fd0.txt")
    );
    assert!(std::os::unix::net::UnixStream::connect(dir.join("fc.sock")).is_ok());
    assert!(main_log(&dir).contains(&format!(
        "INFO Creating socket unix://{}",
        dir.join("fc.sock").display()
    )));
    assert_eq!(d.stop(WAIT), Some(0));
}

/// One XML-RPC call over the unix socket; the raw reply.
fn rpc_call(sock: &std::path::Path, method: &str, params: &[&str]) -> String {
    crate::util::rpc_call(sock, method, params, WAIT)
}

#[test]
fn rpc_over_the_unix_socket_drives_processes() {
    let (dir, mut d) = start(
        "rpc",
        &format!("{RPC_SECTIONS}[program:worker]\ncommand=sleep 1000\nstartsecs=1\n"),
    );
    let sock = dir.join("s.sock");
    assert!(wait_for(WAIT, || sock.exists()));
    let state = rpc_call(&sock, "supervisor.getState", &[]);
    assert!(state.starts_with("HTTP/1.0 200 OK\r\n"), "{state}");
    assert!(state.contains("<string>RUNNING</string>"), "{state}");
    // stopProcess waits (wait=true) until the process is STOPPED.
    assert!(wait_log(&dir, "success: worker entered RUNNING state"));
    let stop = rpc_call(&sock, "supervisor.stopProcess", &["worker"]);
    assert!(stop.contains("<boolean>1</boolean>"), "{stop}");
    assert!(main_log(&dir).contains("stopped: worker (terminated by SIGTERM)"));
    let start = rpc_call(&sock, "supervisor.startProcess", &["worker"]);
    assert!(start.contains("<boolean>1</boolean>"), "{start}");
    let log = main_log(&dir);
    assert_eq!(log.matches("spawned: 'worker'").count(), 2, "{log}");
    assert!(log.contains("INFO RPC interface 'supervisor' initialized"));
    assert!(log.contains(
        "CRIT Server 'unix_http_server' running without any HTTP authentication checking"
    ));
    assert_eq!(d.stop(WAIT), Some(0));
    assert!(!sock.exists(), "the socket file is removed at shutdown");
}

#[test]
fn port_in_use_is_a_usage_error() {
    let dir = TempDir::new("portbusy");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let conf = config(
        &dir,
        &format!("[inet_http_server]\nport=127.0.0.1:{port}\n"),
    );
    let out = run(&dir, "supervisord", &["-n", "-c", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("Error: Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.\nFor help, use "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rpc_shutdown_stops_everything() {
    let (dir, mut d) = start(
        "rpcshutdown",
        &format!("{RPC_SECTIONS}[program:worker]\ncommand=sleep 1000\nstartsecs=0\n"),
    );
    let sock = dir.join("s.sock");
    assert!(wait_log(&dir, "spawned: 'worker'"));
    assert!(wait_for(WAIT, || sock.exists()));
    let pid = spawned_pid(&dir, "worker").unwrap();
    let reply = rpc_call(&sock, "supervisor.shutdown", &[]);
    assert!(reply.contains("<boolean>1</boolean>"), "{reply}");
    assert!(wait_for(WAIT, || matches!(d.child.try_wait(), Ok(Some(_)))));
    assert!(!pid_alive(pid));
}

#[test]
fn many_programs_start_in_batches_and_stop_together() {
    let programs: String = (0..100)
        .map(|i| format!("[program:p{i:03}]\ncommand=sleep 1000\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n\n"))
        .collect();
    let (dir, mut d) = start("many", &format!("{RPC_SECTIONS}{programs}"));
    assert!(
        wait_for(WAIT, || count(&dir, "success: p") == 100),
        "{}",
        main_log(&dir)
    );
    // Only the bounded wait: a wall-clock limit is flaky on a loaded test machine.
    assert_eq!(d.stop(WAIT), Some(0));
    assert_eq!(count(&dir, "stopped: p"), 100);
}

#[test]
fn child_setup_failures_are_reported_on_its_stderr() {
    let dir = TempDir::new("childfail");
    let noexec = dir.write("noexec.bin", "\x7fELF garbage");
    std::fs::set_permissions(&noexec, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let conf = config(
        &dir,
        &format!(
            "[program:nodir]\ncommand=/bin/true\ndirectory=/nonexistent-dir\nstderr_logfile=%(here)s/nodir.err\nstartretries=0\n\n[program:badexec]\ncommand={}\nstderr_logfile=%(here)s/badexec.err\nstartretries=0\n",
            noexec.display()
        ),
    );
    let mut d = Daemon::start(&dir, &conf);
    assert!(wait_log(&dir, "gave up: nodir entered FATAL state"));
    assert!(wait_log(&dir, "gave up: badexec entered FATAL state"));
    assert_eq!(
        dir.read("nodir.err"),
        "supervisor: couldn't chdir to /nonexistent-dir: ENOENT\nsupervisor: child process was not spawned\n"
    );
    assert_eq!(
        dir.read("badexec.err"),
        format!(
            "supervisor: couldn't exec {}: ENOEXEC\nsupervisor: child process was not spawned\n",
            noexec.display()
        )
    );
    assert!(main_log(&dir).contains("WARN exited: nodir (exit status 127; not expected)"));
    assert_eq!(d.stop(WAIT), Some(0));
}

/// A GET over TCP (HTTP/1.0); returns the whole response.
fn http_get(port: u16, target: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

#[test]
fn web_ui_shows_processes_and_runs_actions() {
    let port = free_port();
    let (dir, mut d) = start(
        "webui",
        &format!(
            "[inet_http_server]\nport=127.0.0.1:{port}\n\n{RPC_INTERFACE}[program:web]\ncommand=sleep 1000\nstartsecs=0\n"
        ),
    );
    assert!(wait_log(&dir, "success: web entered RUNNING state"));
    let page = http_get(port, "/?message=hello");
    assert!(page.starts_with("HTTP/1.0 200 OK\r\n"), "{page}");
    assert!(page.contains("Content-Type: text/html;charset=utf-8\r\n"));
    assert!(page.contains(">hello</div>"), "{page}");
    assert!(page.contains("<span class=\"badge s-running\">RUNNING</span>"));
    let location = |reply: &str| {
        reply
            .lines()
            .find_map(|l| l.strip_prefix("Location: "))
            .unwrap_or_default()
            .to_string()
    };
    // Actions are POSTs now (a GET with action= only shows the page: docs/differences.md).
    let post = |form: &str| crate::dashboard::post(port, "/index.html", form);
    let base = format!("http://127.0.0.1:{port}/?message=");
    let stop = post("processname=web&action=stop");
    assert!(
        stop.starts_with("HTTP/1.0 301 Moved Permanently\r\n"),
        "{stop}"
    );
    assert_eq!(location(&stop), format!("{base}Process%20web%20stopped"));
    assert!(main_log(&dir).contains("stopped: web (terminated by SIGTERM)"));
    let start = post("processname=web&action=start");
    assert_eq!(location(&start), format!("{base}Process%20web%20started"));
    let again = post("processname=web&action=start");
    assert_eq!(
        location(&again),
        format!("{base}ERROR%3A%20Process%20web%3A%20already%20started")
    );
    let unknown = post("processname=nope&action=stop");
    assert_eq!(
        location(&unknown),
        format!("{base}No%20such%20process%20named%20nope")
    );
    let bad = post("action=bogus");
    // A client's unknown action is a 400 (the reference: 500), never a 5xx.
    assert!(bad.starts_with("HTTP/1.0 400 "), "{bad}");
    let tail = http_get(port, "/tail.html");
    assert!(tail.contains("No process name found"));
    assert_eq!(d.stop(WAIT), Some(0));
}

/// The main-log messages (level + text, pids replaced) of a run, for comparing with the reference.
/// Consecutive repeats are dropped: the reference reaps up to a second late (Python retries its
/// poll after SIGCHLD), so it may log a second `killing ... with SIGKILL` for a process that is
/// already dead.
fn normalized_messages(log: &str, names: &[&str]) -> Vec<String> {
    let mut messages: Vec<String> = log
        .lines()
        .filter(|l| l.len() > 24)
        .map(|l| l[24..].to_string())
        .filter(|m| names.iter().any(|n| m.contains(n)))
        .map(|m| {
            m.split(' ')
                .map(|w| {
                    let digits = w.trim_matches(|c: char| !c.is_ascii_digit());
                    if digits.len() >= 3 && digits.chars().all(|c| c.is_ascii_digit()) {
                        w.replace(digits, "PID")
                    } else {
                        w.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    messages.dedup();
    messages
}

#[test]
fn lifecycle_log_lines_match_the_reference() {
    // startsecs=5 for quick: the reference reaps up to a second late (see normalized_messages),
    // so with startsecs=1 a loaded machine makes it log `success:` for a program that exited.
    let programs = "[program:quick]\ncommand=sh -c 'exit 3'\nstartretries=2\nstartsecs=5\n\n[program:trapper]\ncommand=sh -c \"trap '' TERM; exec sleep 1000\"\nstopwaitsecs=1\nstartsecs=1\n\n[program:fine]\ncommand=sh -c 'sleep 3; exit 0'\nstartsecs=1\nautorestart=false\n";
    let run_one = |imp: &crate::util::Implementation| -> String {
        let tag = imp.tag("life");
        let dir = TempDir::new(&tag);
        let exe = imp.supervisord(&dir);
        let conf = dir.write(
            "s.conf",
            &format!(
                "[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\nchildlogdir=%(here)s\n\n{programs}"
            ),
        );
        let mut child = std::process::Command::new(exe)
            .args(["-n", "-c"])
            .arg(&conf)
            .current_dir(&dir.path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let log = || dir.read("s.log");
        let settled = wait_for(WAIT.saturating_mul(2), || {
            log().contains("gave up: quick")
                && log().contains("exited: fine")
                && log().contains("success: trapper")
        });
        let ended = crate::util::terminate(&mut child, WAIT).is_some();
        assert!(settled && ended, "{tag}:\n{}", log());
        log()
    };
    let Some((ours, theirs)) =
        crate::util::side_by_side("lifecycle_log_lines_match_the_reference", run_one)
    else {
        return;
    };
    for name in ["quick", "fine", "trapper"] {
        let pick =
            |log: &str| normalized_messages(log, &[&format!(" {name} "), &format!("'{name}'")]);
        assert_eq!(
            pick(&ours),
            pick(&theirs),
            "{name}\nours:\n{ours}\nreference:\n{theirs}"
        );
    }
}

#[test]
fn child_output_becomes_process_log_events() {
    let Some((dir, mut d)) = start_with_listener(
        "logevents",
        false,
        "PROCESS_LOG",
        "[program:talker]\ncommand=sh -c 'sleep 0.5; echo hello; exec sleep 1000'\nstdout_events_enabled=true\nstartsecs=0\n",
    ) else {
        return;
    };
    assert!(wait_for(WAIT, || dir
        .read("events.txt")
        .contains("eventname:PROCESS_LOG_STDOUT")));
    let pid = spawned_pid(&dir, "talker").unwrap();
    let events = dir.read("events.txt");
    assert!(
        events.contains(&format!(
            "|| processname:talker groupname:talker pid:{pid} channel:stdout\\nhello\\n"
        )),
        "{events}"
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

/// AUTO log files: created soon after start for every program (even one that never starts), and
/// a log read that arrives first still finds the file (an empty log, not NO_FILE).
#[test]
fn auto_log_files_exist_for_every_program_and_read_empty() {
    let programs: String = (0..40)
        .map(|i| format!("[program:idle{i:02}]\ncommand=sleep 1000\nautostart=false\n\n"))
        .collect();
    let (dir, mut d) = start("autologs", &format!("{RPC_SECTIONS}{programs}"));
    let sock = dir.join("s.sock");
    // The first request may be the read: it must see an existing, empty file.
    let read = rpc_call(
        &sock,
        "supervisor.readProcessStdoutLog",
        &["idle39", "0", "100"],
    );
    assert!(
        read.contains("<string></string>") || read.contains("<value><string/></value>"),
        "{read}"
    );
    let auto_logs = || {
        std::fs::read_dir(dir.join(""))
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("---supervisor-") && n.ends_with(".log"))
            .collect::<Vec<_>>()
    };
    assert!(
        wait_for(WAIT, || auto_logs().len() == 80),
        "{:?}",
        auto_logs()
    );
    for i in 0..40 {
        for channel in ["stdout", "stderr"] {
            let prefix = format!("idle{i:02}-{channel}---supervisor-");
            assert_eq!(
                auto_logs()
                    .iter()
                    .filter(|n| n.starts_with(&prefix))
                    .count(),
                1,
                "{prefix}"
            );
        }
    }
    // The path getProcessInfo reports is the file on disk.
    let info = rpc_call(&sock, "supervisor.getProcessInfo", &["idle07"]);
    let logfile = info
        .split("<name>stdout_logfile</name>")
        .nth(1)
        .and_then(|rest| rest.split("<string>").nth(1))
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_default()
        .to_string();
    assert!(std::path::Path::new(&logfile).exists(), "{info}");
    assert_eq!(d.stop(WAIT), Some(0));
}

/// A `/logtail/<name>` stream on the daemon's unix socket, its response read as it arrives.
struct LogTail {
    stream: std::os::unix::net::UnixStream,
    received: Vec<u8>,
}

impl LogTail {
    fn open(sock: &std::path::Path, name: &str) -> LogTail {
        use std::io::Write;
        let mut stream = crate::util::connect_unix(sock, WAIT);
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        write!(
            stream,
            "GET /logtail/{name} HTTP/1.1\r\nHost: localhost\r\n\r\n"
        )
        .unwrap();
        LogTail {
            stream,
            received: Vec::new(),
        }
    }

    /// Reads until `needle` has arrived (false after `timeout`).
    fn wait_for(&mut self, needle: &[u8], timeout: Duration) -> bool {
        use std::io::Read;
        wait_for(timeout, || {
            let mut buf = [0u8; 4096];
            if let Ok(n) = self.stream.read(&mut buf) {
                self.received.extend_from_slice(&buf[..n]);
            }
            self.received.windows(needle.len()).any(|w| w == needle)
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.received).into_owned()
    }
}

/// A `/logtail` stream wakes the daemon when its file changes (inotify), not on a timer: an
/// attached client costs no wake-ups while nothing is written, and a write arrives at once.
#[test]
fn logtail_stream_wakes_on_writes_not_on_a_timer() {
    use std::io::Write;
    let (dir, mut d) = start(
        "tailwake",
        &format!(
            "{RPC_SECTIONS}[program:quiet]\ncommand=sleep 1000\nstartsecs=0\nstdout_logfile=%(here)s/quiet.log\n"
        ),
    );
    assert!(wait_log(&dir, "success: quiet entered RUNNING state"));
    let mut tail = LogTail::open(&dir.join("s.sock"), "quiet");
    assert!(
        tail.wait_for(b"\r\n\r\n", WAIT),
        "no stream headers: {:?}",
        tail.text()
    );
    // Idle with the stream attached: a 100 ms poller would wake ~10 times.
    std::thread::sleep(Duration::from_millis(200));
    let before = crate::util::voluntary_switches(d.pid());
    std::thread::sleep(Duration::from_millis(1500));
    let woke = crate::util::voluntary_switches(d.pid()) - before;
    assert!(
        woke <= 2,
        "daemon woke {woke} times with an idle tail attached"
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("quiet.log"))
        .unwrap()
        .write_all(b"hello tail\n")
        .unwrap();
    assert!(tail.wait_for(b"hello tail", WAIT), "{:?}", tail.text());
    drop(tail);
    assert_eq!(d.stop(WAIT), Some(0));
}

/// A watched `/logtail` stream keeps following its log across rotations.
#[test]
fn logtail_stream_follows_rotations() {
    let (dir, mut d) = start(
        "tailrotate",
        &format!(
            "{RPC_SECTIONS}[program:rotor]\ncommand=sh -c 'sleep 0.5; i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); sleep 0.002; done; echo done-writing; exec sleep 1000'\nstartsecs=0\nstdout_logfile=%(here)s/rotor.log\nstdout_logfile_maxbytes=1KB\nstdout_logfile_backups=3\n"
        ),
    );
    assert!(wait_for(WAIT, || dir.join("rotor.log").exists()));
    let mut tail = LogTail::open(&dir.join("s.sock"), "rotor");
    assert!(tail.wait_for(b"done-writing", WAIT), "{}", tail.text());
    assert!(dir.join("rotor.log.1").exists(), "the log rotated");
    drop(tail);
    assert_eq!(d.stop(WAIT), Some(0));
}
