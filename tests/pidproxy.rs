//! The pidproxy applet: a daemon that forks into the background, managed by our supervisord
//! through pidproxy, signalled and stopped with supervisorctl; usage and the unreadable-pidfile
//! message side by side with the reference's pidproxy.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::{
    Daemon, TempDir, binary, pid_alive, reap, require_reference, run, stdout, unsafe_kill, wait_for,
};

/// A classic daemon: the script forks a background subshell that writes nothing to the
/// terminal, records the signals it gets in `$1.log`, and the script itself exits at once.
const DAEMON: &str = r#"#!/bin/sh
log="$1.log"
(
    sleep 1000 &
    sleeper=$!
    trap 'echo HUP >> "$log"' HUP
    trap 'echo USR1 >> "$log"' USR1
    trap 'echo TERM >> "$log"; kill $sleeper; exit 0' TERM
    while kill -0 $sleeper 2>/dev/null; do wait $sleeper; done
) </dev/null &
echo $! > "$1.pid"
exit 0
"#;

fn conf(dir: &TempDir) -> std::path::PathBuf {
    std::os::unix::fs::symlink(binary(), dir.applet("pidproxy")).unwrap();
    let script = dir.write("daemon.sh", DAEMON);
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    dir.write(
        "s.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/sd.log\npidfile=%(here)s/sd.pid\n\
             [unix_http_server]\nfile=%(here)s/s.sock\n\
             [rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
             [supervisorctl]\nserverurl=unix://%(here)s/s.sock\n\
             [program:dmn]\ncommand={} %(here)s/d.pid %(here)s/daemon.sh %(here)s/d\n\
             startsecs=1\nstartretries=10\n",
            dir.applet("pidproxy").display()
        ),
    )
}

fn ctl(dir: &TempDir, args: &[&str]) -> String {
    let mut all = vec!["-c", "s.conf"];
    all.extend_from_slice(args);
    stdout(&run(dir, "supervisorctl", &all))
}

/// The pid supervisorctl shows for `dmn` while it is RUNNING.
fn running_pid(dir: &TempDir) -> Option<i32> {
    let status = ctl(dir, &["status", "dmn"]);
    if !status.contains("RUNNING") {
        return None;
    }
    status.split("pid ").nth(1)?.split(',').next()?.parse().ok()
}

fn daemon_pid(dir: &TempDir) -> Option<i32> {
    dir.read("d.pid").trim().parse().ok()
}

#[test]
fn forking_daemon_is_managed_through_pidproxy() {
    let dir = TempDir::new("pidproxy");
    let conf = conf(&dir);
    let _supervisord = Daemon::start(&dir, &conf);
    let mut proxy = None;
    assert!(
        wait_for(Duration::from_secs(15), || {
            proxy = running_pid(&dir);
            proxy.is_some()
        }),
        "dmn never RUNNING: {}\n{}",
        ctl(&dir, &["status"]),
        dir.read("sd.log")
    );
    let proxy = proxy.unwrap();
    let first = daemon_pid(&dir).expect("pidfile written");
    assert_ne!(first, proxy, "the daemon is a separate process");
    assert!(pid_alive(first) && pid_alive(proxy));

    // Signals go through pidproxy to the pid in the pidfile.
    assert_eq!(ctl(&dir, &["signal", "HUP", "dmn"]), "dmn: signalled\n");
    assert_eq!(ctl(&dir, &["signal", "USR1", "dmn"]), "dmn: signalled\n");
    assert!(
        wait_for(Duration::from_secs(5), || dir.read("d.log")
            == "HUP\nUSR1\n"),
        "{:?}",
        dir.read("d.log")
    );

    // STOPPED means the daemon is gone, not only pidproxy.
    assert_eq!(ctl(&dir, &["stop", "dmn"]), "dmn: stopped\n");
    assert!(!pid_alive(first), "daemon {first} outlived its stop");
    assert!(!pid_alive(proxy));
    assert_eq!(dir.read("d.log"), "HUP\nUSR1\nTERM\n");

    // A daemon that dies on its own takes pidproxy with it, with its exit status, so
    // supervisord restarts it (137 is not an expected exit code).
    assert_eq!(ctl(&dir, &["start", "dmn"]), "dmn: started\n");
    let second = daemon_pid(&dir).expect("pidfile rewritten");
    assert_ne!(second, first);
    unsafe_kill(second, 9);
    assert!(
        wait_for(Duration::from_secs(15), || {
            daemon_pid(&dir).is_some_and(|p| p != second) && running_pid(&dir).is_some()
        }),
        "not restarted: {}",
        dir.read("sd.log")
    );
    assert!(
        dir.read("sd.log")
            .contains("exited: dmn (exit status 137; not expected)"),
        "{}",
        dir.read("sd.log")
    );
    assert_eq!(ctl(&dir, &["stop", "dmn"]), "dmn: stopped\n");
}

/// The usage text and exit status, and the message for an unreadable pidfile, like the
/// reference's pidproxy.
#[test]
fn usage_and_unreadable_pidfile_like_the_reference() {
    let Some(refbin) = require_reference("usage_and_unreadable_pidfile_like_the_reference") else {
        return;
    };
    let dir = TempDir::new("pidproxy-ref");
    std::os::unix::fs::symlink(binary(), dir.applet("pidproxy")).unwrap();
    let ours = dir.applet("pidproxy");
    let theirs = refbin.join("pidproxy");
    for args in [&[][..], &["only-a-pidfile"][..]] {
        let a = Command::new(&ours).args(args).output().unwrap();
        let b = Command::new(&theirs).args(args).output().unwrap();
        assert_eq!(a.status.code(), b.status.code(), "{args:?}");
        assert_eq!(
            stdout(&a).replace(&ours.display().to_string(), "PIDPROXY"),
            stdout(&b).replace(&theirs.display().to_string(), "PIDPROXY"),
            "{args:?}"
        );
    }
    // HUP and USR2 with no pidfile: the message, the signal dropped, still running; both end
    // when their command has (the reference within its 5-second poll).
    let pidfile = dir.join("missing.pid");
    let pidfile = pidfile.to_str().unwrap();
    let mut children: Vec<_> = [&ours, &theirs]
        .iter()
        .map(|exe| {
            Command::new(exe)
                .args([pidfile, "/bin/sleep", "1"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in &children {
        let pid = child.id() as i32;
        // Wait until the handlers are installed (SigCgt has HUP and USR2) before signalling.
        assert!(wait_for(Duration::from_secs(10), || catches(pid, &[1, 12])));
        unsafe_kill(pid, 1);
        unsafe_kill(pid, 12);
    }
    let mut outputs = Vec::new();
    for child in &mut children {
        let status = reap(child, Duration::from_secs(15)).expect("pidproxy did not exit");
        let mut text = String::new();
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut text).unwrap();
        outputs.push((status.code(), text));
    }
    let msg = format!("Can't read child pidfile {pidfile}!");
    assert_eq!(outputs[0], (Some(0), format!("{msg}\n{msg}\n")), "ours");
    // The reference's print() writes the text and its newline separately; the second signal's
    // handler can run between the two, so its lines may come out as `msg!msg!\n\n`.
    let theirs_ok = [format!("{msg}\n{msg}\n"), format!("{msg}{msg}\n\n")];
    assert_eq!(outputs[1].0, Some(0), "reference");
    assert!(
        theirs_ok.contains(&outputs[1].1),
        "reference: {:?}",
        outputs[1].1
    );
}

/// Whether every signal in `sigs` has a handler in process `pid` (/proc SigCgt).
fn catches(pid: i32, sigs: &[u32]) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    let Some(mask) = status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
    else {
        return false;
    };
    sigs.iter().all(|s| mask & (1 << (s - 1)) != 0)
}
