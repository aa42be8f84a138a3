//! Socket-level tests of `Server`: a real mio loop in a thread with an echo handler, real
//! clients over TCP and unix sockets, and the listener rules (modes, stale and live sockets).

use super::listener::BindError;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token, Waker};

use super::*;
use crate::config::model::{Credentials, InetHttpServerConfig, UnixHttpServerConfig};
use crate::testutil::TempDir;

const WAKE: Token = Token(0);
const BASE: usize = 10;

fn unix_config(path: &Path, chmod: u32, credentials: Option<Credentials>) -> UnixHttpServerConfig {
    UnixHttpServerConfig {
        section: "unix_http_server".into(),
        file: path.to_path_buf(),
        chmod,
        chown: None,
        credentials,
    }
}

fn inet_config(port: u16, credentials: Option<Credentials>) -> InetHttpServerConfig {
    InetHttpServerConfig {
        section: "inet_http_server".into(),
        host: "127.0.0.1".into(),
        port,
        credentials,
        allowed_hosts: Vec::new(),
        protected_mode: true,
    }
}

fn test_limits() -> Limits {
    Limits {
        max_head_bytes: 2048,
        max_headers: 16,
        max_uri_bytes: 512,
        max_body_bytes: 4096,
        max_connections: 6,
        request_timeout: Duration::from_millis(600),
        max_stream_buffer: 256 * 1024,
        ..Limits::default()
    }
}

/// A daemon-like loop: RPC echoes the body, /logtail streams ticks, /mainlogtail streams as
/// fast as it can (to fill a slow client's buffer).
struct Running {
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
    open_streams: Arc<AtomicUsize>,
    open_clients: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn start(mut server: Server) -> Running {
        let mut poll = Poll::new().unwrap();
        let waker = Arc::new(Waker::new(poll.registry(), WAKE).unwrap());
        server.register(poll.registry(), BASE).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let open_streams = Arc::new(AtomicUsize::new(0));
        let open_clients = Arc::new(AtomicUsize::new(0));
        let (stop2, open2) = (stop.clone(), open_streams.clone());
        let clients2 = open_clients.clone();
        let thread = std::thread::spawn(move || {
            let mut events = Events::with_capacity(64);
            let mut ticks: Vec<RequestId> = Vec::new();
            let mut floods: Vec<RequestId> = Vec::new();
            // RPCs whose body is `hold` are never answered (a call the daemon is still working on).
            let mut held: Vec<RequestId> = Vec::new();
            while !stop2.load(Ordering::SeqCst) {
                let now = Instant::now();
                let until = server
                    .next_deadline()
                    .map(|d| d.saturating_duration_since(now));
                let timeout = until
                    .unwrap_or(Duration::from_millis(20))
                    .min(Duration::from_millis(20));
                poll.poll(&mut events, Some(timeout)).unwrap();
                let now = Instant::now();
                let mut queue = Vec::new();
                for event in events.iter() {
                    if server.owns(event.token()) {
                        queue.extend(server.handle_event(poll.registry(), event, now));
                    }
                }
                while let Some(request) = queue.pop() {
                    match &request.route {
                        Route::Rpc if request.body == b"hold" => held.push(request.id),
                        Route::Rpc => queue.extend(server.respond(
                            request.id,
                            Response::xml(request.body.clone()),
                            now,
                        )),
                        Route::LogTail { namespec, .. } => {
                            let headers = vec![(
                                "Content-Type".to_string(),
                                "text/plain;charset=utf-8".to_string(),
                            )];
                            if server.start_stream(request.id, &headers, now)
                                && server.push_chunk(
                                    request.id,
                                    format!("start {namespec}\n").as_bytes(),
                                    now,
                                )
                            {
                                ticks.push(request.id);
                            }
                        }
                        Route::MainLogTail => {
                            if server.start_stream(request.id, &[], now) {
                                floods.push(request.id);
                            }
                        }
                        _ => queue.extend(server.respond(request.id, Response::error(404), now)),
                    }
                }
                let now = Instant::now();
                server.handle_timeout(now);
                ticks.retain(|id| server.push_chunk(*id, b"tick\n", now));
                let block = vec![b'x'; 32 * 1024];
                floods.retain(|id| server.push_chunk(*id, &block, now));
                open2.store(ticks.len() + floods.len(), Ordering::SeqCst);
                held.retain(|id| server.is_open(*id));
                clients2.store(server.raw_fds().len() - 1, Ordering::SeqCst);
            }
            server.shutdown(poll.registry());
        });
        Running {
            stop,
            waker,
            open_streams,
            open_clients,
            thread: Some(thread),
        }
    }

    fn streams(&self) -> usize {
        self.open_streams.load(Ordering::SeqCst)
    }

    /// Client connections the server holds (its listener excluded).
    fn clients(&self) -> usize {
        self.open_clients.load(Ordering::SeqCst)
    }

    /// Every connection is gone (the slots are free), soon.
    fn wait_all_closed(&self, what: &str) {
        wait_for(what, Duration::from_secs(3), || self.clients() == 0);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(what: &str, deadline: Duration, mut condition: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if condition() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

/// Sends `request`, reads until EOF or `wait` of silence; returns (text, saw EOF).
fn exchange<S: Read + Write>(mut stream: S, request: &[u8], wait: Duration) -> (String, bool) {
    stream.write_all(request).unwrap();
    read_all(&mut stream, wait)
}

fn read_all<S: Read>(stream: &mut S, wait: Duration) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + wait;
    loop {
        if Instant::now() >= end {
            return (String::from_utf8_lossy(&out).into_owned(), false);
        }
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (String::from_utf8_lossy(&out).into_owned(), true);
            }
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn tcp(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    s
}

fn unix(path: &Path) -> UnixStream {
    let s = UnixStream::connect(path).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    s
}

fn creds() -> Credentials {
    Credentials {
        username: "user".into(),
        password: "{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4".into(),
    }
}

const AUTH: &str = "Authorization: Basic dXNlcjpzZWNyZXQ=\r\n";
const SHORT: Duration = Duration::from_millis(400);

fn start_tcp(credentials: Option<Credentials>) -> (Running, u16) {
    let port = free_port();
    let server = Server::bind(&[], &[inet_config(port, credentials)], test_limits()).unwrap();
    (Running::start(server), port)
}

#[test]
fn malformed_and_oversized_requests_get_their_status_and_others_keep_being_served() {
    let (_running, port) = start_tcp(None);
    let long_uri = format!("GET /{} HTTP/1.1\r\n\r\n", "u".repeat(600));
    let long_header = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "h".repeat(3000));
    let many_headers: String = format!(
        "GET / HTTP/1.1\r\n{}\r\n",
        (0..20).map(|i| format!("X-{i}: v\r\n")).collect::<String>()
    );
    let big_body =
        "POST /RPC2 HTTP/1.1\r\nContent-Length: 5000\r\n\r\n".to_string() + &"b".repeat(5000);
    let cases: Vec<(String, &str)> = vec![
        ("HELLO\r\n\r\n".into(), "HTTP/1.1 400 Bad Request\r\n"),
        (
            "GET / HTTP/1.1 extra\r\n\r\n".into(),
            "HTTP/1.1 400 Bad Request\r\n",
        ),
        (
            "GET /ok.html\r\n\r\n".into(),
            "HTTP/1.1 400 Bad Request\r\n",
        ),
        (long_uri, "HTTP/1.1 414 Request-URI Too Long\r\n"),
        (
            long_header,
            "HTTP/1.1 431 Request Header Fields Too Large\r\n",
        ),
        (
            many_headers,
            "HTTP/1.1 431 Request Header Fields Too Large\r\n",
        ),
        (big_body, "HTTP/1.1 413 Request Entity Too Large\r\n"),
        (
            "POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                .into(),
            "HTTP/1.1 411 Length Required\r\n",
        ),
        (
            "GET /RPC2 HTTP/1.1\r\nConnection: close\r\n\r\n".into(),
            "HTTP/1.1 400 Bad Request\r\n",
        ),
        (
            "GET /nope HTTP/1.0\r\n\r\n".into(),
            "HTTP/1.0 404 Not Found\r\n",
        ),
    ];
    for (request, want) in cases {
        let (text, eof) = exchange(tcp(port), request.as_bytes(), Duration::from_secs(3));
        assert!(
            text.starts_with(want),
            "{:?} -> {text:?}",
            &request[..request.len().min(40)]
        );
        assert!(
            text.contains("\r\nServer: Medusa/1.12\r\nDate: "),
            "{text:?}"
        );
        assert!(eof, "{want} must close the connection");
        // The server is still fine for the next client.
        let (ok, _) = exchange(tcp(port), b"GET /ok.html HTTP/1.0\r\n\r\n", SHORT);
        assert!(
            ok.starts_with("HTTP/1.0 200 OK\r\n") && ok.ends_with("\r\n\r\nOK"),
            "{ok:?}"
        );
    }
}

#[test]
fn keep_alive_pipelining_and_version_echo() {
    let (_running, port) = start_tcp(None);
    let request = "POST /RPC2 HTTP/1.1\r\nContent-Length: 3\r\n\r\none\
                   GET /ok.html HTTP/1.1\r\n\r\n\
                   POST /RPC2/x HTTP/1.1\r\nContent-Length: 3\r\n\r\ntwo\
                   POST /RPC2 HTTP/1.1\r\n\r\n";
    let mut stream = tcp(port);
    let (text, eof) = exchange(&mut stream, request.as_bytes(), SHORT);
    assert!(!eof, "HTTP/1.1 stays open");
    let order: Vec<usize> = [
        "\r\n\r\none",
        "\r\n\r\nOK",
        "\r\n\r\ntwo",
        "411 Length Required",
    ]
    .iter()
    .map(|needle| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing in {text:?}"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "out of order: {text:?}"
    );
    assert!(text.contains("Content-Type: text/xml\r\nContent-Length: 3\r\n"));
    // Still usable after the 411.
    let (again, _) = exchange(
        &mut stream,
        b"GET /ok.html HTTP/1.1\r\nConnection: close\r\n\r\n",
        SHORT,
    );
    assert!(again.starts_with("HTTP/1.1 200 OK\r\n"), "{again:?}");

    let (v10, eof) = exchange(
        tcp(port),
        b"GET /ok.html HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        SHORT,
    );
    assert!(
        v10.starts_with("HTTP/1.0 200 OK\r\n") && v10.contains("Connection: Keep-Alive\r\n"),
        "{v10:?}"
    );
    assert!(!eof);
}

#[test]
fn credentials_are_checked_on_every_path() {
    let (_running, port) = start_tcp(Some(creds()));
    for path in ["/ok.html", "/RPC2", "/logtail/foo", "/mainlogtail", "/nope"] {
        let request =
            format!("GET {path} HTTP/1.1\r\nAuthorization: Basic dXNlcjp3cm9uZw==\r\n\r\n");
        let (text, eof) = exchange(tcp(port), request.as_bytes(), Duration::from_secs(3));
        assert!(
            text.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
            "{path}: {text:?}"
        );
        assert!(text.contains("\r\nConnection: close\r\nWWW-Authenticate: Basic realm=\"default\"\r\nContent-Length: 137\r\nContent-Type: text/html\r\n\r\n"), "{text:?}");
        assert!(eof);
    }
    let (anonymous, _) = exchange(
        tcp(port),
        b"GET /ok.html HTTP/1.1\r\n\r\n",
        Duration::from_secs(3),
    );
    assert!(anonymous.starts_with("HTTP/1.1 401 "), "{anonymous:?}");
    let request = format!("POST /RPC2 HTTP/1.1\r\n{AUTH}Content-Length: 2\r\n\r\nhi");
    let (ok, _) = exchange(tcp(port), request.as_bytes(), SHORT);
    assert!(
        ok.starts_with("HTTP/1.1 200 OK\r\n") && ok.ends_with("\r\n\r\nhi"),
        "{ok:?}"
    );
}

#[test]
fn abrupt_disconnects_mid_request_and_mid_stream() {
    let (running, port) = start_tcp(None);
    // Half a head, then gone.
    let mut s = tcp(port);
    s.write_all(b"GET /ok.ht").unwrap();
    drop(s);
    // Head but half the body, then gone.
    let mut s = tcp(port);
    s.write_all(b"POST /RPC2 HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc")
        .unwrap();
    drop(s);
    // A stream, read a little, then gone.
    let mut s = tcp(port);
    s.write_all(b"GET /logtail/foo:bar/stderr HTTP/1.1\r\n\r\n")
        .unwrap();
    let (text, _) = read_all(&mut s, Duration::from_millis(300));
    assert!(
        text.contains("Transfer-Encoding: chunked\r\n\r\n"),
        "{text:?}"
    );
    assert!(
        text.contains("\r\nstart foo:bar\n\r\n5\r\ntick\n\r\n"),
        "{text:?}"
    );
    wait_for("the stream to be counted", Duration::from_secs(3), || {
        running.streams() == 1
    });
    drop(s);
    wait_for("the stream to be dropped", Duration::from_secs(3), || {
        running.streams() == 0
    });
    let (ok, _) = exchange(tcp(port), b"GET /ok.html HTTP/1.0\r\n\r\n", SHORT);
    assert!(ok.starts_with("HTTP/1.0 200 OK"), "{ok:?}");
}

#[test]
fn http10_stream_is_raw() {
    let (_running, port) = start_tcp(None);
    let mut s = tcp(port);
    s.write_all(b"GET /logtail/foo HTTP/1.0\r\n\r\n").unwrap();
    let (text, _) = read_all(&mut s, Duration::from_millis(300));
    assert!(text.starts_with("HTTP/1.0 200 OK\r\n"), "{text:?}");
    assert!(!text.contains("Transfer-Encoding"));
    assert!(text.contains("\r\n\r\nstart foo\ntick\n"), "{text:?}");
}

#[test]
fn stuck_client_does_not_delay_others_and_is_dropped() {
    let (running, port) = start_tcp(None);
    let mut stuck = tcp(port);
    // Tiny receive buffer so the server's side fills quickly; the client never reads.
    stuck
        .write_all(b"GET /mainlogtail HTTP/1.1\r\n\r\n")
        .unwrap();
    wait_for("the flood stream", Duration::from_secs(3), || {
        running.streams() == 1
    });
    for _ in 0..20 {
        let started = Instant::now();
        let (ok, _) = exchange(
            tcp(port),
            b"GET /ok.html HTTP/1.0\r\n\r\n",
            Duration::from_secs(2),
        );
        assert!(ok.ends_with("\r\n\r\nOK"), "{ok:?}");
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "took {:?}",
            started.elapsed()
        );
    }
    wait_for(
        "the stuck stream to be dropped",
        Duration::from_secs(10),
        || running.streams() == 0,
    );
    drop(stuck);
}

#[test]
fn connections_over_the_limit_get_503_and_a_freed_slot_is_reused() {
    let (_running, port) = start_tcp(None);
    let mut held = Vec::new();
    for _ in 0..test_limits().max_connections {
        let mut s = tcp(port);
        let (text, _) = exchange(&mut s, b"GET /ok.html HTTP/1.1\r\n\r\n", SHORT);
        assert!(text.starts_with("HTTP/1.1 200 OK"), "{text:?}");
        held.push(s);
    }
    let (refused, eof) = read_all(&mut tcp(port), Duration::from_secs(2));
    assert!(
        refused.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{refused:?}"
    );
    assert!(eof);
    held.pop();
    wait_for("a free slot", Duration::from_secs(3), || {
        let (text, _) = exchange(tcp(port), b"GET /ok.html HTTP/1.0\r\n\r\n", SHORT);
        text.starts_with("HTTP/1.0 200 OK")
    });
}

#[test]
fn slow_request_times_out_with_408() {
    let (_running, port) = start_tcp(None);
    let mut s = tcp(port);
    s.write_all(b"GET /ok.html HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let (text, eof) = read_all(&mut s, Duration::from_secs(3));
    assert!(
        text.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{text:?}"
    );
    assert!(eof);
}

#[test]
fn unix_socket_mode_is_exactly_configured_and_file_removed_at_shutdown() {
    let dir = TempDir::new("mode");
    for mode in [0o700u32, 0o770, 0o777, 0o600] {
        let path = dir.join(&format!("s{mode:o}.sock"));
        let server = Server::bind(&[unix_config(&path, mode, None)], &[], test_limits()).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, mode, "mode {mode:o}");
        let running = Running::start(server);
        let (ok, _) = exchange(unix(&path), b"GET /ok.html HTTP/1.0\r\n\r\n", SHORT);
        assert!(ok.starts_with("HTTP/1.0 200 OK"), "{ok:?}");
        drop(running);
        assert!(!path.exists(), "socket file removed at shutdown");
    }
}

#[test]
fn unix_socket_file_is_never_wider_than_configured_while_being_created() {
    // Watch the directory from another thread while binding repeatedly: any observed mode must
    // be within the configured one.
    let dir = TempDir::new("race");
    let path = dir.join("w.sock");
    let done = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicUsize::new(0));
    let (done2, seen2, path2) = (done.clone(), seen.clone(), path.clone());
    let watcher = std::thread::spawn(move || {
        while !done2.load(Ordering::SeqCst) {
            if let Ok(meta) = std::fs::symlink_metadata(&path2) {
                let mode = meta.permissions().mode() & 0o777;
                assert_eq!(mode & !0o600, 0, "observed mode {mode:o}");
                seen2.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    // At least 200 binds, and more (bounded) until the watcher thread, which a loaded machine
    // may not schedule at once, has seen the socket a few times.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut binds = 0;
    while binds < 200 || (seen.load(Ordering::SeqCst) < 5 && std::time::Instant::now() < deadline) {
        let mut server =
            Server::bind(&[unix_config(&path, 0o600, None)], &[], test_limits()).unwrap();
        let poll = Poll::new().unwrap();
        server.shutdown(poll.registry());
        binds += 1;
    }
    done.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    assert!(
        seen.load(Ordering::SeqCst) > 0,
        "the watcher never saw the socket in {binds} binds"
    );
}

#[test]
fn stale_unix_socket_is_replaced() {
    let dir = TempDir::new("stale");
    let path = dir.join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists(), "a dead socket file is left behind");
    let server = Server::bind(&[unix_config(&path, 0o700, None)], &[], test_limits()).unwrap();
    let _running = Running::start(server);
    let (ok, _) = exchange(unix(&path), b"GET /ok.html HTTP/1.0\r\n\r\n", SHORT);
    assert!(ok.starts_with("HTTP/1.0 200 OK"), "{ok:?}");

    // A regular file in the way is treated the same (connecting to it fails).
    let file = dir.join("file.sock");
    std::fs::write(&file, "x").unwrap();
    let mut server = Server::bind(&[unix_config(&file, 0o700, None)], &[], test_limits()).unwrap();
    server.shutdown(Poll::new().unwrap().registry());
}

#[test]
fn live_sockets_are_not_taken_over() {
    let dir = TempDir::new("live");
    let path = dir.join("live.sock");
    let port = free_port();
    let first = Server::bind(
        &[unix_config(&path, 0o700, None)],
        &[inet_config(port, None)],
        test_limits(),
    )
    .unwrap();
    let _running = Running::start(first);

    let err = Server::bind(&[unix_config(&path, 0o700, None)], &[], test_limits())
        .err()
        .expect("unix conflict");
    assert!(matches!(err, BindError::AddrInUse), "{err:?}");
    assert_eq!(
        err.to_string(),
        "Another program is already listening on a port that one of our HTTP servers is configured to use.  \
         Shut this program down first before starting supervisord."
    );
    let other = dir.join("other.sock");
    let err = Server::bind(
        &[unix_config(&other, 0o700, None)],
        &[inet_config(port, None)],
        test_limits(),
    )
    .err()
    .expect("inet conflict");
    assert!(matches!(err, BindError::AddrInUse), "{err:?}");
    assert!(
        !other.exists(),
        "unix servers are opened after inet ones, so nothing was created"
    );
    // The first daemon still serves on its socket.
    let (ok, _) = exchange(unix(&path), b"GET /ok.html HTTP/1.0\r\n\r\n", SHORT);
    assert!(ok.starts_with("HTTP/1.0 200 OK"), "{ok:?}");
}

#[test]
fn bind_errors_name_the_errno() {
    let dir = TempDir::new("errno");
    let missing = dir.join("no/such/dir/s.sock");
    let err = Server::bind(&[unix_config(&missing, 0o700, None)], &[], test_limits())
        .err()
        .expect("ENOENT");
    assert_eq!(
        err.to_string(),
        "Cannot open an HTTP server: socket.error reported errno.ENOENT (2)"
    );
}

#[test]
fn every_descriptor_is_cloexec_and_nonblocking() {
    let dir = TempDir::new("fds");
    let path = dir.join("f.sock");
    let port = free_port();
    let mut server = Server::bind(
        &[unix_config(&path, 0o700, None)],
        &[inet_config(port, None)],
        test_limits(),
    )
    .unwrap();
    let mut poll = Poll::new().unwrap();
    server.register(poll.registry(), BASE).unwrap();
    let _tcp_client = tcp(port);
    let _unix_client = unix(&path);
    let mut events = Events::with_capacity(16);
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.raw_fds().len() < 4 && Instant::now() < deadline {
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .unwrap();
        for event in events.iter() {
            assert!(
                server
                    .handle_event(poll.registry(), event, Instant::now())
                    .is_empty()
            );
        }
    }
    let fds = server.raw_fds();
    assert_eq!(fds.len(), 4, "two listeners and two accepted clients");
    for fd in fds {
        // SAFETY: fcntl queries on descriptors the server owns.
        let (fd_flags, fl_flags) = unsafe {
            (
                libc::fcntl(fd, libc::F_GETFD),
                libc::fcntl(fd, libc::F_GETFL),
            )
        };
        assert!(fd_flags & libc::FD_CLOEXEC != 0, "fd {fd} not CLOEXEC");
        assert!(fl_flags & libc::O_NONBLOCK != 0, "fd {fd} blocking");
    }
    server.shutdown(poll.registry());
    assert!(!path.exists());
}

/// A TCP client whose close sends RST (SO_LINGER 0) instead of FIN.
fn reset(stream: TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on our own descriptor with a correctly sized struct.
    unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&stream),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}

/// Regression: more blank lines than the head limit, alone or after a request, then close:
/// the connection stopped reading at the limit without an error, never saw the EOF and held
/// its slot (CLOSE-WAIT) until the idle timeout; enough of them made everyone else get 503.
#[test]
fn blank_line_floods_past_the_head_limit_free_their_slot() {
    let (running, port) = start_tcp(None);
    let max = test_limits().max_head_bytes;
    let floods = [
        b"\r\n".repeat(max / 2 + 1),
        [
            b"GET /ok.html HTTP/1.1\r\n\r\n".to_vec(),
            b"\r\n".repeat(max),
        ]
        .concat(),
        b"\n".repeat(max * 3),
    ];
    for flood in &floods {
        // A client that stays: the limit's error, then the close.
        let (text, eof) = exchange(tcp(port), flood, Duration::from_secs(2));
        assert!(text.contains("HTTP/1.1 431 "), "{text:?}");
        assert!(eof, "not closed: {text:?}");
        // More than the connection limit, so a leak shows as a 503 below.
        for _ in 0..test_limits().max_connections + 2 {
            let mut s = tcp(port);
            let _ = s.write_all(flood);
            let _ = s.shutdown(std::net::Shutdown::Write);
            let (text, eof) = read_all(&mut s, Duration::from_secs(2));
            assert!(eof, "not closed: {text:?}");
        }
        running.wait_all_closed("the flooding connections to close");
    }
    let (ok, _) = exchange(tcp(port), b"GET /ok.html HTTP/1.0\r\n\r\n", SHORT);
    assert!(ok.starts_with("HTTP/1.0 200 OK"), "{ok:?}");
}

/// Every way a client can leave, in every state, frees its slot at once: FIN or RST, in the
/// head, the body, after a limit's error response, behind a request the daemon still holds,
/// and mid-stream.
#[test]
fn every_way_a_connection_ends_frees_its_slot() {
    let (running, port) = start_tcp(None);
    let l = test_limits();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("nothing sent", vec![]),
        ("half a head", b"GET /ok.ht".to_vec()),
        ("blank lines only", b"\r\n\r\n".to_vec()),
        (
            "half a body",
            b"POST /RPC2 HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc".to_vec(),
        ),
        (
            "head too large",
            format!(
                "GET / HTTP/1.1\r\nX: {}\r\n\r\n",
                "v".repeat(l.max_head_bytes)
            )
            .into_bytes(),
        ),
        (
            "uri too long",
            format!("GET /{} HTTP/1.1\r\n\r\n", "u".repeat(l.max_uri_bytes + 1)).into_bytes(),
        ),
        (
            "too many headers",
            format!(
                "GET / HTTP/1.1\r\n{}\r\n",
                "A: b\r\n".repeat(l.max_headers + 1)
            )
            .into_bytes(),
        ),
        (
            "body too large",
            format!(
                "POST /RPC2 HTTP/1.1\r\nContent-Length: {}\r\n\r\nxx",
                l.max_body_bytes + 1
            )
            .into_bytes(),
        ),
        ("bad request line", b"HELLO\r\n\r\n".to_vec()),
        (
            "chunked upload",
            b"POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n".to_vec(),
        ),
        (
            "held request",
            b"POST /RPC2 HTTP/1.1\r\nContent-Length: 4\r\n\r\nhold".to_vec(),
        ),
        (
            "held request, pipeline past the limit",
            [
                b"POST /RPC2 HTTP/1.1\r\nContent-Length: 4\r\n\r\nhold".to_vec(),
                b"GET /ok.html HTTP/1.1\r\n".repeat(l.max_head_bytes / 10),
            ]
            .concat(),
        ),
        ("stream", b"GET /logtail/foo HTTP/1.1\r\n\r\n".to_vec()),
        (
            "flood stream",
            b"GET /mainlogtail HTTP/1.1\r\n\r\n".to_vec(),
        ),
    ];
    for (name, input) in &cases {
        for rst in [false, true] {
            let mut s = tcp(port);
            s.write_all(input).unwrap();
            // Let the server take it in (and reach the state) before the client goes.
            wait_for(name, Duration::from_secs(3), || running.clients() == 1);
            std::thread::sleep(Duration::from_millis(50));
            if rst {
                reset(s);
            } else {
                drop(s);
            }
            running.wait_all_closed(&format!("{name} (rst {rst}) to be closed"));
        }
    }
}

/// Regression: a client that sends its requests and then shuts down its write side (`printf
/// ... | nc -N`, Python's `shutdown(SHUT_WR)`) got the connection closed without an answer.
/// Now, on TCP and the unix socket, every request it sent in full is answered (a single GET,
/// an /RPC2 POST, a pipeline longer than one read's room), then the connection closes and its
/// slot is free; a request cut short by the EOF is not answered.
#[test]
fn half_closed_clients_get_answers_to_what_they_sent_in_full() {
    let dir = TempDir::new("halfclose");
    let path = dir.join("s.sock");
    let on_unix_server = Running::start(
        Server::bind(&[unix_config(&path, 0o700, None)], &[], test_limits()).unwrap(),
    );
    let (on_tcp, port) = start_tcp(None);
    let get = "GET /ok.html HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let rpc = "POST /RPC2 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    // Longer than the head limit: read in several rounds, answered in between.
    let many = [get, rpc]
        .concat()
        .repeat(test_limits().max_head_bytes / 60);
    let cases: Vec<(String, usize)> = vec![
        (get.to_string(), 1),
        (rpc.to_string(), 1),
        ([get, rpc, get].concat(), 3),
        (many.clone(), many.matches(" HTTP/1.1\r\n").count()),
        ([rpc, "GET /ok.html HTT"].concat(), 1),
    ];
    for (input, answers) in &cases {
        for on_unix in [false, true] {
            let what = format!("{} requests (unix {on_unix})", answers);
            let (text, eof) = if on_unix {
                let mut s = unix(&path);
                s.write_all(input.as_bytes()).unwrap();
                s.shutdown(std::net::Shutdown::Write).unwrap();
                read_all(&mut s, Duration::from_secs(3))
            } else {
                let mut s = tcp(port);
                s.write_all(input.as_bytes()).unwrap();
                s.shutdown(std::net::Shutdown::Write).unwrap();
                read_all(&mut s, Duration::from_secs(3))
            };
            assert!(eof, "{what}: not closed: {text:?}");
            assert_eq!(
                text.matches("HTTP/1.1 200 OK\r\n").count(),
                *answers,
                "{what}: {text:?}"
            );
            assert_eq!(
                text.matches("hello").count(),
                input.matches("hello").count()
            );
            let running = if on_unix { &on_unix_server } else { &on_tcp };
            running.wait_all_closed(&what);
        }
    }
}

/// A half-closed client's request that the daemon holds keeps its connection (the reply is
/// still to come); the same client closing entirely (on a unix socket the server sees HUP)
/// frees the slot at once.
#[test]
fn a_held_request_waits_for_a_half_closed_client_but_not_for_a_gone_one() {
    let dir = TempDir::new("halfhold");
    let path = dir.join("s.sock");
    let running = Running::start(
        Server::bind(&[unix_config(&path, 0o700, None)], &[], test_limits()).unwrap(),
    );
    let mut s = unix(&path);
    s.write_all(b"POST /RPC2 HTTP/1.1\r\nContent-Length: 4\r\n\r\nhold")
        .unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    wait_for("the connection", Duration::from_secs(3), || {
        running.clients() == 1
    });
    // A round trip on a second connection, begun after the EOF: the one-threaded server has
    // handled the EOF's readiness by the time it answers (no sleep standing in for that).
    let mut other = unix(&path);
    other
        .write_all(b"GET /ok.html HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (text, eof) = read_all(&mut other, Duration::from_secs(3));
    drop(other);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n") && eof, "{text:?}");
    // Still open: a closed connection would read as EOF here, not as nothing yet.
    let mut byte = [0u8; 1];
    let still_open = matches!(
        s.read(&mut byte),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
    );
    assert!(still_open, "held for the daemon's reply");
    drop(s);
    running.wait_all_closed("the gone client's slot to be freed");
}
