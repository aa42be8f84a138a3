//! The web dashboard against the real daemon: actions only by POST (with confirmation for the
//! destructive ones), the live feed `/events` pushing state changes and staying silent while
//! idle, the log view's offset stream, and the real-browser test (tests/browser/dashboard.mjs,
//! skipped with a reason when node, Chromium or playwright-core are missing).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::util::{Daemon, RPC_INTERFACE, TempDir, WAIT, free_port, wait_for};

fn start(tag: &str, port: u16, programs: &str) -> (TempDir, Daemon) {
    start_in(TempDir::new(tag), port, programs)
}

fn start_in(dir: TempDir, port: u16, programs: &str) -> (TempDir, Daemon) {
    let conf = dir.write(
        "s.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\nchildlogdir=%(here)s\n\n[inet_http_server]\nport=127.0.0.1:{port}\n\n{RPC_INTERFACE}{programs}"
        ),
    );
    let daemon = Daemon::start(&dir, &conf);
    (dir, daemon)
}

/// One HTTP/1.0 exchange; the whole response.
fn exchange(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply
}

pub fn get(port: u16, target: &str) -> String {
    exchange(
        port,
        &format!("GET {target} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"),
    )
}

pub fn post(port: u16, target: &str, form: &str) -> String {
    exchange(
        port,
        &format!(
            "POST {target} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        ),
    )
}

fn body(reply: &str) -> &str {
    reply.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

fn state_of(port: u16, ns: &str) -> String {
    let page = get(port, "/");
    let needle = format!("data-ns=\"{ns}\" data-state=\"");
    let at = page
        .find(&needle)
        .unwrap_or_else(|| panic!("no row for {ns}"));
    let rest = &page[at + needle.len()..];
    rest[..rest.find('"').unwrap_or(0)].to_string()
}

#[test]
fn dashboard_actions_need_post_and_destructive_ones_a_confirmation() {
    let port = free_port();
    let (dir, mut d) = start(
        "dashpost",
        port,
        "[program:web]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    assert!(wait_for(WAIT, || dir
        .read("s.log")
        .contains("success: web")));
    // The reference acted on a GET; a link, prefetch or crawler must not stop processes now.
    let page = get(port, "/index.html?processname=web&action=stop");
    assert!(page.starts_with("HTTP/1.0 200 OK\r\n"), "{page}");
    assert_eq!(state_of(port, "web"), "RUNNING");
    // Stop all without confirm=yes answers with the question, and acts only once confirmed.
    let ask = post(port, "/index.html", "action=stopall");
    assert!(ask.starts_with("HTTP/1.0 200 OK\r\n"), "{ask}");
    assert!(body(&ask).contains("Stop every process?"), "{ask}");
    assert!(body(&ask).contains("name=\"confirm\" value=\"yes\""));
    assert_eq!(state_of(port, "web"), "RUNNING");
    let done = post(port, "/index.html", "action=stopall&confirm=yes");
    assert!(done.starts_with("HTTP/1.0 301 "), "{done}");
    assert!(done.contains("?message=All%20stopped%20at%20"), "{done}");
    assert_eq!(state_of(port, "web"), "STOPPED");
    // The page's script asks for the message itself instead of a redirect.
    let start = post(port, "/index.html", "action=start&processname=web&js=1");
    assert!(start.starts_with("HTTP/1.0 200 OK\r\n"), "{start}");
    assert_eq!(body(&start), "Process web started");
    let again = post(port, "/index.html", "action=start&processname=web&js=1");
    assert_eq!(body(&again), "ERROR: Process web: already started");
    let signal = post(
        port,
        "/index.html",
        "action=signal&processname=web&signal=USR2&js=1",
    );
    assert_eq!(body(&signal), "Process web signalled with USR2");
    let bad = post(
        port,
        "/index.html",
        "action=signal&processname=web&signal=NOPE&js=1",
    );
    assert_eq!(
        body(&bad),
        "ERROR: Process web: unexpected rpc fault [11] BAD_SIGNAL: NOPE"
    );
    let group = post(
        port,
        "/index.html",
        "action=stopgroup&processname=nope&js=1",
    );
    assert_eq!(body(&group), "No such group named nope");
    // The assets are ours, compiled in.
    let js = get(port, "/assets/app.js");
    assert!(
        js.contains("Content-Type: text/javascript;charset=utf-8\r\n"),
        "{js}"
    );
    assert!(get(port, "/assets/app.css").contains("prefers-color-scheme: dark"));
    assert!(get(port, "/assets/x.js").starts_with("HTTP/1.0 404 "));
    assert_eq!(d.stop(WAIT), Some(0));
}

/// Reads from a stream until `needle` shows up (or the deadline); everything read so far.
fn read_until(stream: &mut TcpStream, seen: &mut String, needle: &str, deadline: Instant) -> bool {
    let mut buf = [0u8; 8192];
    while !seen.contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    true
}

#[test]
fn events_stream_pushes_state_changes_and_is_silent_when_idle() {
    let port = free_port();
    let (dir, mut d) = start(
        "dashsse",
        port,
        "[program:web]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    assert!(wait_for(WAIT, || dir
        .read("s.log")
        .contains("success: web")));
    let mut sse = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // A real name: this server has no credentials, so the DNS-rebinding check applies.
    write!(
        sse,
        "GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .unwrap();
    let mut seen = String::new();
    let deadline = Instant::now() + WAIT;
    assert!(
        read_until(&mut sse, &mut seen, "event: table\n", deadline),
        "{seen}"
    );
    assert!(
        read_until(&mut sse, &mut seen, "\n\n\r\n", deadline),
        "{seen}"
    );
    assert!(
        seen.contains("Content-Type: text/event-stream\r\n"),
        "{seen}"
    );
    assert!(
        seen.contains("data-ns=\"web\" data-state=\"RUNNING\""),
        "{seen}"
    );
    // Idle: nothing is sent and the daemon does not wake for the open stream.
    let switches = crate::util::voluntary_switches(d.pid());
    sse.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut buf = [0u8; 256];
    assert!(sse.read(&mut buf).is_err(), "an idle stream sent something");
    let woke = crate::util::voluntary_switches(d.pid()) - switches;
    assert!(
        woke <= 2,
        "the daemon woke {woke} times in 1.5 s with an idle stream"
    );
    // A stop by another client shows up as rows: STOPPING, then STOPPED.
    let stop = post(port, "/index.html", "action=stop&processname=web&js=1");
    assert_eq!(body(&stop), "Process web stopped");
    seen.clear();
    let deadline = Instant::now() + WAIT;
    assert!(
        read_until(&mut sse, &mut seen, "data-state=\"STOPPED\"", deadline),
        "{seen}"
    );
    assert!(
        seen.contains("event: row\ndata: <tr id=\"p-web\""),
        "{seen}"
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn log_view_shows_the_end_and_streams_from_its_offset() {
    let port = free_port();
    let dir = TempDir::new("dashlog");
    dir.write("talk.sh", "printf 'one\\377\\n'\nexec sleep 1000\n");
    let (dir, mut d) = start_in(
        dir,
        port,
        "[program:talk]\ncommand=/bin/sh %(here)s/talk.sh\nstartsecs=0\nstdout_logfile=%(here)s/talk.out\n",
    );
    let out = dir.path.join("talk.out");
    assert!(wait_for(WAIT, || std::fs::read(&out).is_ok_and(|b| b.len() == 5)));
    let page = get(port, "/log.html?processname=talk");
    assert!(page.contains("one\u{fffd}\n</pre>"), "{page}");
    assert!(
        page.contains("data-src=\"logtail/talk?offset=5\""),
        "{page}"
    );
    // From the offset the stream holds only what came after (nothing yet), then new lines.
    let mut tail = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(tail, "GET /logtail/talk?offset=5 HTTP/1.0\r\n\r\n").unwrap();
    let mut seen = String::new();
    assert!(read_until(
        &mut tail,
        &mut seen,
        "\r\n\r\n",
        Instant::now() + WAIT
    ));
    std::fs::OpenOptions::new()
        .append(true)
        .open(Path::new(&dir.path).join("talk.out"))
        .unwrap()
        .write_all(b"two\n")
        .unwrap();
    assert!(
        read_until(&mut tail, &mut seen, "two\n", Instant::now() + WAIT),
        "{seen}"
    );
    assert!(!seen.contains("one"), "{seen}");
    let main = get(port, "/log.html");
    assert!(main.contains("supervisord started with pid"), "{main}");
    let missing = get(port, "/log.html?processname=nope");
    assert!(missing.contains("No such process named nope"), "{missing}");
    assert_eq!(d.stop(WAIT), Some(0));
}

/// The dashboard in headless Chromium (see tests/browser/dashboard.mjs): every state with its
/// badge, live updates, confirmation, 420 px, log view, cross-origin POST refused.
#[test]
fn dashboard_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("tests/browser/dashboard.mjs");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let node_ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let skip = if !node_ok {
        Some("node is not installed".to_string())
    } else if !Path::new(&chromium).exists() {
        Some(format!("no Chromium at {chromium}"))
    } else if !root
        .join("tests/browser/node_modules/playwright-core")
        .exists()
    {
        Some("playwright-core is not installed (cd tests/browser && npm ci)".to_string())
    } else {
        None
    };
    if let Some(reason) = skip {
        println!("SKIPPED dashboard_in_a_real_browser: {reason}");
        return;
    }
    let out = std::process::Command::new("node")
        .arg(&script)
        .arg(crate::util::binary())
        .current_dir(root.join("tests/browser"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}{stderr}");
    assert!(
        out.status.success(),
        "browser test failed:\n{stdout}\n{stderr}"
    );
}

#[test]
fn events_stream_sends_a_table_larger_than_the_stream_buffer() {
    let port = free_port();
    // 1000 never-started programs: a first event of about 1.3 MB, past the 1 MiB a stream may
    // hold unsent in the server (the rest waits in the feed until the socket drains).
    let programs: String = (0..1000)
        .map(|i| format!("[program:p{i:04}]\ncommand=sleep 1000\nautostart=false\n\n"))
        .collect();
    let (dir, mut d) = start("dashbig", port, &programs);
    assert!(wait_for(WAIT, || dir
        .read("s.log")
        .contains("supervisord started")));
    let mut sse = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(sse, "GET /events HTTP/1.0\r\n\r\n").unwrap();
    // A slow client: the socket fills, the server's buffer fills, the rest waits for room.
    std::thread::sleep(Duration::from_secs(2));
    let mut seen = String::new();
    let deadline = Instant::now() + WAIT;
    assert!(
        read_until(&mut sse, &mut seen, "data-ns=\"p0999\"", deadline),
        "got {} bytes",
        seen.len()
    );
    assert!(seen.len() > 1024 * 1024, "{} bytes", seen.len());
    assert_eq!(d.stop(WAIT), Some(0));
}
