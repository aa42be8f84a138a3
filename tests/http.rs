//! The daemon's HTTP servers seen from outside: raw requests against our supervisord compared
//! with the reference's answers, unix socket modes, stale and live socket handling.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{self, Daemon, RPC_INTERFACE, TempDir, WAIT, free_port};

fn config(dir: &Path, port: u16, sock_mode: &str) -> String {
    format!(
        "[supervisord]\nlogfile={d}/sd.log\npidfile={d}/sd.pid\nloglevel=debug\nchildlogdir={d}\n\n\
         [unix_http_server]\nfile={d}/s.sock\nchmod={sock_mode}\nusername=user\n\
         password={{SHA}}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4\n\n\
         [inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword=secret\n\n\
         {RPC_INTERFACE}",
        d = dir.display()
    )
}

/// Sends `request` and reads until EOF or `quiet` without data; returns (bytes, saw EOF).
fn exchange(port: u16, request: &[u8], quiet: Duration) -> (String, bool) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let mut last = Instant::now();
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                last = Instant::now();
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (String::from_utf8_lossy(&out).into_owned(), true);
            }
            Err(_) => {
                if last.elapsed() >= quiet {
                    return (String::from_utf8_lossy(&out).into_owned(), false);
                }
            }
        }
    }
}

/// Date headers differ between runs, and ours add the security headers the reference lacks
/// (docs/differences.md); everything else must match byte for byte.
fn normalize(text: &str) -> String {
    text.split("\r\n")
        .filter(|line| !SECURITY_HEADERS.iter().any(|h| line.starts_with(h)))
        .map(|line| {
            if line.starts_with("Date: ") {
                "Date: <date>"
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// Header lines only we send (issue 13: nosniff and no framing everywhere, CSP and no-store on
/// HTML). Only these are masked.
const SECURITY_HEADERS: [&str; 4] = [
    "X-Content-Type-Options: nosniff",
    "X-Frame-Options: DENY",
    "Content-Security-Policy: default-src 'none'; ",
    "Cache-Control: no-store",
];

fn wait_for_port(port: u16) -> bool {
    util::wait_for(WAIT, || TcpStream::connect(("127.0.0.1", port)).is_ok())
}

const AUTH: &str = "Authorization: Basic dXNlcjpzZWNyZXQ=\r\n";

/// (name, request, compare EOF too)
fn compat_cases() -> Vec<(&'static str, String, bool)> {
    let call = "<?xml version='1.0'?><methodCall><methodName>supervisor.getAPIVersion</methodName></methodCall>";
    let rpc = |version: &str, extra: &str| {
        format!(
            "POST /RPC2 HTTP/{version}\r\n{extra}Content-Length: {}\r\n{AUTH}\r\n{call}",
            call.len()
        )
    };
    vec![
        ("rpc 1.1", rpc("1.1", ""), true),
        ("rpc 1.0", rpc("1.0", ""), true),
        (
            "rpc 1.0 keep-alive",
            rpc("1.0", "Connection: keep-alive\r\n"),
            true,
        ),
        (
            "rpc suffix",
            rpc("1.1", "").replacen("/RPC2", "/RPC2/foo", 1),
            true,
        ),
        (
            "rpc 1.0 keep-alive no length",
            format!("POST /RPC2 HTTP/1.0\r\nConnection: keep-alive\r\n{AUTH}\r\n"),
            true,
        ),
        (
            "rpc 1.0 no length",
            format!("POST /RPC2 HTTP/1.0\r\n{AUTH}\r\n"),
            true,
        ),
        (
            "ok 1.1",
            format!("GET /ok.html HTTP/1.1\r\nHost: x\r\n{AUTH}\r\n"),
            true,
        ),
        (
            "ok 1.0",
            format!("GET /ok.html HTTP/1.0\r\n{AUTH}\r\n"),
            true,
        ),
        (
            "ok 1.0 keep-alive",
            format!("GET /ok.html HTTP/1.0\r\nConnection: keep-alive\r\n{AUTH}\r\n"),
            true,
        ),
        (
            "ok 1.1 close",
            format!("GET /ok.html HTTP/1.1\r\nConnection: close\r\n{AUTH}\r\n"),
            true,
        ),
        (
            "ok query",
            format!("GET /ok.html?x=1 HTTP/1.1\r\n{AUTH}\r\n"),
            true,
        ),
        (
            "post ok",
            format!("POST /ok.html HTTP/1.1\r\nContent-Length: 3\r\n{AUTH}\r\nabc"),
            true,
        ),
        (
            "pipelined",
            format!("GET /ok.html HTTP/1.1\r\n{AUTH}\r\nGET /nope HTTP/1.1\r\n{AUTH}\r\n"),
            true,
        ),
        (
            "not found",
            format!("GET /nope HTTP/1.1\r\n{AUTH}\r\n"),
            true,
        ),
        (
            "head ok.html",
            format!("HEAD /ok.html HTTP/1.1\r\n{AUTH}\r\n"),
            true,
        ),
        (
            "delete",
            format!("DELETE /ok.html HTTP/1.1\r\n{AUTH}\r\n"),
            true,
        ),
        ("rpc get", format!("GET /RPC2 HTTP/1.1\r\n{AUTH}\r\n"), true),
        (
            "rpc no length",
            format!("POST /RPC2 HTTP/1.1\r\n{AUTH}\r\n"),
            true,
        ),
        (
            "post ok no length",
            format!("POST /ok.html HTTP/1.1\r\n{AUTH}\r\n"),
            true,
        ),
        (
            "rpc chunked",
            format!(
                "POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n{AUTH}\r\n5\r\nhello\r\n0\r\n\r\n"
            ),
            true,
        ),
        (
            "logtail post",
            format!("POST /logtail/foo HTTP/1.1\r\nContent-Length: 0\r\n{AUTH}\r\n"),
            true,
        ),
        (
            "logtail unknown",
            format!("GET /logtail/foo HTTP/1.1\r\n{AUTH}\r\n"),
            true,
        ),
        // The reference keeps the connection open after its 401 despite `Connection: close`;
        // we close, so only the bytes are compared.
        ("no auth", "GET /ok.html HTTP/1.1\r\n\r\n".into(), false),
        (
            "wrong password",
            "GET /ok.html HTTP/1.1\r\nAuthorization: Basic dXNlcjp3cm9uZw==\r\n\r\n".into(),
            false,
        ),
        (
            "other scheme",
            "GET /ok.html HTTP/1.1\r\nAuthorization: Bearer abc\r\n\r\n".into(),
            false,
        ),
        (
            "lowercase scheme",
            "GET /ok.html HTTP/1.1\r\nAuthorization: basic dXNlcjpzZWNyZXQ=\r\n\r\n".into(),
            true,
        ),
        (
            "no auth unknown path",
            "GET /nope HTTP/1.1\r\n\r\n".into(),
            false,
        ),
        (
            "no auth chunked",
            "POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".into(),
            false,
        ),
        // Bad base64 is a 400 in both (the reference keeps the connection; we close it, since
        // the body was not read). `/logtail` alone and decoded credentials without `:` are 500s
        // in the reference and 400 here (tests/hardening.rs).
        (
            "credentials not base64",
            "GET /ok.html HTTP/1.1\r\nAuthorization: Basic A\r\n\r\n".into(),
            false,
        ),
        (
            "credentials unpadded",
            "GET /ok.html HTTP/1.1\r\nAuthorization: Basic dXNlcjpzZWNyZXQ\r\n\r\n".into(),
            false,
        ),
        (
            "credentials junk and padding",
            "GET /ok.html HTTP/1.1\r\nAuthorization: Basic =dXNl*cjpz=ZWNyZXQ=x\r\n\r\n".into(),
            true,
        ),
    ]
}

/// Our supervisord and the reference's, each on `config` in its own temp dir, up and
/// listening on their TCP ports; both stopped on drop.
struct Pair {
    our_port: u16,
    ref_port: u16,
    _daemons: [Daemon; 2],
    _dirs: [TempDir; 2],
}

impl Pair {
    fn start(tag: &str, ref_bin: &Path) -> Pair {
        let dirs = [
            TempDir::new(&format!("{tag}-ours")),
            TempDir::new(&format!("{tag}-ref")),
        ];
        let (our_port, ref_port) = (free_port(), free_port());
        let [ours_dir, ref_dir] = &dirs;
        let our_conf = ours_dir.write("sup.conf", &config(&ours_dir.path, our_port, "0700"));
        let ref_conf = ref_dir.write("sup.conf", &config(&ref_dir.path, ref_port, "0700"));
        let daemons = [
            Daemon::start(ours_dir, &our_conf),
            Daemon {
                child: util::spawn_foreground(&ref_bin.join("supervisord"), ref_dir, &ref_conf),
            },
        ];
        assert!(
            wait_for_port(our_port) && wait_for_port(ref_port),
            "daemons did not come up"
        );
        Pair {
            our_port,
            ref_port,
            _daemons: daemons,
            _dirs: dirs,
        }
    }
}

#[test]
fn raw_responses_match_the_reference() {
    let Some(ref_bin) = util::require_reference("raw_responses_match_the_reference") else {
        return;
    };
    let pair = Pair::start("http", &ref_bin);
    let (our_port, ref_port) = (pair.our_port, pair.ref_port);
    let mut failures = Vec::new();
    for (name, request, compare_eof) in compat_cases() {
        let quiet = Duration::from_millis(300);
        let (ours, our_eof) = exchange(our_port, request.as_bytes(), quiet);
        let (theirs, their_eof) = exchange(ref_port, request.as_bytes(), quiet);
        if normalize(&ours) != normalize(&theirs) || (compare_eof && our_eof != their_eof) {
            failures.push(format!(
                "{name}:\n  ours   (eof {our_eof}): {:?}\n  theirs (eof {their_eof}): {:?}",
                normalize(&ours),
                normalize(&theirs)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Sends `request`, shuts down the write side (`nc -N`, Python's `shutdown(SHUT_WR)`) and reads
/// until EOF; returns (bytes, saw EOF within `wait`).
fn half_closed_exchange(port: u16, request: &[u8], wait: Duration) -> (String, bool) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    s.write_all(request).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = Vec::new();
    let eof = s.read_to_end(&mut out).is_ok();
    (String::from_utf8_lossy(&out).into_owned(), eof)
}

/// Regression: a client that shut down its write side after sending (`printf ... | nc -N`)
/// got the connection closed without an answer; the reference answers it. Requests sent in
/// full are answered byte for byte like the reference (a GET, an /RPC2 POST, a pipeline), then
/// the connection closes.
#[test]
fn half_closed_clients_are_answered_like_the_reference() {
    let Some(ref_bin) =
        util::require_reference("half_closed_clients_are_answered_like_the_reference")
    else {
        return;
    };
    let pair = Pair::start("http-half", &ref_bin);
    let call = util::rpc_body("supervisor.getAPIVersion", &[]);
    let rpc = format!(
        "POST /RPC2 HTTP/1.1\r\n{AUTH}Content-Length: {}\r\n\r\n{call}",
        call.len()
    );
    let get = format!("GET /ok.html HTTP/1.1\r\n{AUTH}\r\n");
    let cases = [
        ("GET", get.clone(), 1),
        ("RPC", rpc.clone(), 1),
        ("pipeline", [get.as_str(), &rpc, &rpc, &get].concat(), 4),
    ];
    let mut failures = Vec::new();
    for (name, request, answers) in &cases {
        let wait = Duration::from_secs(5);
        let (ours, our_eof) = half_closed_exchange(pair.our_port, request.as_bytes(), wait);
        let (theirs, their_eof) = half_closed_exchange(pair.ref_port, request.as_bytes(), wait);
        let count = |text: &str| text.matches("HTTP/1.1 200 OK\r\n").count();
        if normalize(&ours) != normalize(&theirs)
            || !our_eof
            || !their_eof
            || count(&ours) != *answers
        {
            failures.push(format!(
                "{name}:\n  ours   (eof {our_eof}): {:?}\n  theirs (eof {their_eof}): {:?}",
                normalize(&ours),
                normalize(&theirs)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn unix_get(path: &Path, request: &str) -> String {
    let mut s = UnixStream::connect(path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn unix_socket_mode_auth_and_removal() {
    let dir = TempDir::new("http-unix");
    let port = free_port();
    let conf = dir.write("sup.conf", &config(&dir.path, port, "0770"));
    let sock: PathBuf = dir.join("s.sock");
    let mut daemon = Daemon::start(&dir, &conf);
    assert!(
        util::wait_for(WAIT, || sock.exists()),
        "socket never appeared"
    );
    // bind() creates the file with the umask's (narrower) mode; chmod follows a moment later.
    let mode = || {
        std::fs::symlink_metadata(&sock)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0)
    };
    assert!(
        util::wait_for(WAIT, || mode() == 0o770),
        "socket mode {:o}",
        mode()
    );
    let denied = unix_get(&sock, "GET /ok.html HTTP/1.0\r\n\r\n");
    assert!(
        denied.starts_with("HTTP/1.0 401 Unauthorized\r\n"),
        "{denied:?}"
    );
    let ok = unix_get(&sock, &format!("GET /ok.html HTTP/1.0\r\n{AUTH}\r\n"));
    assert!(
        ok.starts_with("HTTP/1.0 200 OK\r\n") && ok.ends_with("\r\n\r\nOK"),
        "{ok:?}"
    );
    let log_has_access_line = util::wait_for(Duration::from_secs(5), || {
        dir.read("sd.log").contains("localhost:0 - - [")
    });
    assert_eq!(daemon.stop(WAIT), Some(0));
    assert!(!sock.exists(), "socket file removed at shutdown");
    // Access lines are TRAC; at loglevel=debug they must not appear.
    assert!(
        !log_has_access_line,
        "access lines are logged below debug level"
    );
}

#[test]
fn stale_socket_is_unlinked_and_live_one_refused() {
    let dir = TempDir::new("http-stale");
    let port = free_port();
    let conf = dir.write("sup.conf", &config(&dir.path, port, "0700"));
    let sock = dir.join("s.sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    let _first = Daemon::start(&dir, &conf);
    assert!(wait_for_port(port), "first daemon did not start");
    assert!(
        util::wait_for(WAIT, || dir
            .read("daemon.err")
            .contains("Unlinking stale socket")),
        "stderr: {:?}",
        dir.read("daemon.err")
    );
    assert_eq!(
        dir.read("daemon.err")
            .lines()
            .find(|l| l.starts_with("Unlinking")),
        Some(format!("Unlinking stale socket {}", sock.display()).as_str())
    );

    // A second daemon on the same unix socket (different port) must refuse, exit 2.
    let second_dir = TempDir::new("http-live");
    let mut text = config(&second_dir.path, free_port(), "0700");
    text = text.replace(
        &format!("file={}/s.sock", second_dir.path.display()),
        &format!("file={}", sock.display()),
    );
    let second_conf = second_dir.write("sup.conf", &text);
    let out = Command::new(second_dir.applet("supervisord"))
        .args(["-n", "-c"])
        .arg(&second_conf)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains(
            "Error: Another program is already listening on a port that one of our HTTP servers is configured to use.  \
             Shut this program down first before starting supervisord."
        ),
        "{stderr}"
    );
    let ok = unix_get(&sock, &format!("GET /ok.html HTTP/1.0\r\n{AUTH}\r\n"));
    assert!(
        ok.starts_with("HTTP/1.0 200 OK"),
        "first daemon still serves: {ok:?}"
    );
}
