//! systemd readiness: with `$NOTIFY_SOCKET` set, supervisord sends READY=1 once its control
//! socket answers and autostart programs are spawned, RELOADING=1 then READY=1 around a SIGHUP
//! restart, STOPPING=1 at shutdown; children do not inherit the variable.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};

use crate::util::{self, RPC_SECTIONS, TempDir, WAIT};

/// The next datagram, or None when none came within WAIT.
fn recv(sock: &UnixDatagram) -> Option<String> {
    let mut buf = [0u8; 512];
    sock.set_read_timeout(Some(WAIT)).ok()?;
    let n = sock.recv(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn start(dir: &TempDir, notify_socket: &str) -> std::process::Child {
    let conf = dir.write(
        "supervisord.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/d.log\npidfile=%(here)s/d.pid\n\n{RPC_SECTIONS}\
             [program:env]\ncommand=sh -c 'echo ns=$(env | grep -c ^NOTIFY_SOCKET=); exec sleep 1000'\n\
             startsecs=0\nstdout_logfile=%(here)s/env.log\n\n\
             [program:w]\ncommand=sleep 1000\nstartsecs=0\n"
        ),
    );
    let out = std::fs::File::create(dir.join("daemon.out")).unwrap();
    let err = std::fs::File::create(dir.join("daemon.err")).unwrap();
    Command::new(dir.applet("supervisord"))
        .args(["-n", "-c"])
        .arg(&conf)
        .env("NOTIFY_SOCKET", notify_socket)
        .current_dir(&dir.path)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap()
}

/// Both autostart programs have a pid (they were spawned).
fn spawned(dir: &TempDir) -> bool {
    let reply = util::rpc_call(
        &dir.join("s.sock"),
        "supervisor.getAllProcessInfo",
        &[],
        WAIT,
    )
    .replace('\n', "");
    reply.matches("<name>pid</name><value><int>").count() == 2
        && !reply.contains("<name>pid</name><value><int>0</int>")
}

#[test]
fn readiness_reload_and_stopping_on_notify_socket() {
    let dir = TempDir::new("notify");
    let path = dir.join("notify.sock");
    let server = UnixDatagram::bind(&path).unwrap();
    let mut child = start(&dir, path.to_str().unwrap());

    assert_eq!(
        recv(&server).as_deref(),
        Some("READY=1"),
        "{}",
        dir.read("daemon.err")
    );
    // READY=1 came after the socket was served and the programs were spawned.
    assert!(spawned(&dir));

    // The shell has run its echo before the restart stops it.
    assert!(util::wait_for(WAIT, || dir.read("env.log").lines().count() >= 1));
    util::unsafe_kill(child.id() as i32, 1); // SIGHUP
    let reloading = recv(&server).unwrap_or_default();
    assert!(
        reloading.starts_with("RELOADING=1\nMONOTONIC_USEC="),
        "{reloading:?}"
    );
    assert_eq!(recv(&server).as_deref(), Some("READY=1"));
    assert!(spawned(&dir));

    // The children never saw supervisord's notify socket.
    assert!(util::wait_for(WAIT, || dir.read("env.log").lines().count() >= 2));
    assert!(
        dir.read("env.log").lines().all(|l| l == "ns=0"),
        "{}",
        dir.read("env.log")
    );

    util::unsafe_kill(child.id() as i32, 15);
    assert_eq!(recv(&server).as_deref(), Some("STOPPING=1"));
    assert_eq!(util::reap(&mut child, WAIT).and_then(|s| s.code()), Some(0));
}

#[test]
fn abstract_notify_socket() {
    let dir = TempDir::new("notify-abs");
    use std::os::linux::net::SocketAddrExt;
    let name = format!("svt-notify-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let server = UnixDatagram::bind_addr(&addr).unwrap();
    let mut child = start(&dir, &format!("@{name}"));
    assert_eq!(
        recv(&server).as_deref(),
        Some("READY=1"),
        "{}",
        dir.read("daemon.err")
    );
    util::unsafe_kill(child.id() as i32, 15);
    assert_eq!(recv(&server).as_deref(), Some("STOPPING=1"));
    assert_eq!(util::reap(&mut child, WAIT).and_then(|s| s.code()), Some(0));
}
