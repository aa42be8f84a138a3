//! The control plane against hostile clients (issue 13): cross-site and DNS-rebinding requests
//! refused while scripted clients work unchanged, protected mode seen from a real non-loopback
//! peer in a network namespace, credentials never in any log, security headers on responses.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{self, Daemon, TempDir, free_port};

const SECRET: &str = "s3cr3t-Guard-PW";

fn conf(dir: &Path, inet: &str) -> String {
    format!(
        "[supervisord]\nlogfile={d}/sd.log\npidfile={d}/sd.pid\nloglevel=info\nchildlogdir={d}\n\n\
         [unix_http_server]\nfile={d}/s.sock\n\n\
         {inet}\n\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
         [program:sleeper]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\n",
        d = dir.display()
    )
}

/// Sends one raw request to `addr` and reads the whole answer (every case here closes).
fn raw(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// A GET that asks the server to close after its answer; `headers` end in CRLF each.
fn get(addr: &str, target: &str, headers: &str) -> String {
    raw(
        addr,
        &format!("GET {target} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"),
    )
}

fn post(addr: &str, path: &str, headers: &str, body: &str) -> String {
    raw(
        addr,
        &format!(
            "POST {path} HTTP/1.1\r\n{headers}Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn state_of(sock: &Path) -> String {
    let reply = util::rpc_call(
        sock,
        "supervisor.getProcessInfo",
        &["sleeper"],
        Duration::from_secs(10),
    );
    let at = reply.find("<name>statename</name>").unwrap_or(0);
    let rest = &reply[at..];
    let start = rest.find("<string>").map_or(0, |i| i + 8);
    let end = rest.find("</string>").unwrap_or(start);
    rest[start..end].to_string()
}

fn wait_up(addr: &str) -> bool {
    util::wait_for(Duration::from_secs(15), || TcpStream::connect(addr).is_ok())
}

#[test]
fn cross_site_and_rebinding_requests_are_refused_and_scripted_clients_work() {
    let dir = TempDir::new("guard-csrf");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let inet =
        format!("[inet_http_server]\nport=127.0.0.1:{port}\nallowed_hosts = supervisor.example");
    let c = dir.write("sup.conf", &conf(&dir.path, &inet));
    let sock = dir.join("s.sock");
    let _daemon = Daemon::start(&dir, &c);
    assert!(wait_up(&addr), "daemon did not come up");
    let start = util::rpc_body("supervisor.startProcess", &["sleeper"]);
    let host = format!("Host: {addr}\r\n");

    // What a web page can make a browser send: every variant is refused and nothing starts.
    let attacks = [
        ("Origin", format!("{host}Origin: http://evil.example\r\n")),
        ("Origin null", format!("{host}Origin: null\r\n")),
        (
            "Referer",
            format!("{host}Referer: http://evil.example/page.html\r\n"),
        ),
        (
            "Sec-Fetch-Site",
            format!("{host}Sec-Fetch-Site: cross-site\r\n"),
        ),
        (
            "other port",
            format!("{host}Origin: http://127.0.0.1:1\r\n"),
        ),
        (
            "rebinding",
            format!("Host: evil.example:{port}\r\nOrigin: http://evil.example:{port}\r\n"),
        ),
    ];
    for (name, headers) in &attacks {
        let answer = post(&addr, "/RPC2", headers, &start);
        assert!(
            answer.starts_with("HTTP/1.1 403 Forbidden\r\n"),
            "{name}: {answer:?}"
        );
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
        assert!(
            body.starts_with("Forbidden: ") && body.ends_with('\n') && body.lines().count() == 1,
            "{name}: one-line reason: {body:?}"
        );
        assert_eq!(state_of(&sock), "STOPPED", "{name} must not start it");
    }
    // The web page: a cross-site form POST and an old-style GET action are refused too.
    let form = "processname=sleeper&action=start";
    let answer = post(
        &addr,
        "/index.html",
        &format!("{host}Origin: http://evil.example\r\n"),
        form,
    );
    assert!(answer.starts_with("HTTP/1.1 403 "), "{answer:?}");
    let answer = get(
        &addr,
        "/index.html?processname=sleeper&action=start",
        &format!("{host}Sec-Fetch-Site: cross-site\r\n"),
    );
    assert!(answer.starts_with("HTTP/1.1 403 "), "{answer:?}");
    assert_eq!(state_of(&sock), "STOPPED");
    // Reading via a rebound name is refused as well (the answer would reach the attacker).
    let answer = get(&addr, "/ok.html", &format!("Host: evil.example:{port}\r\n"));
    assert!(
        answer.contains("add it to [inet_http_server] allowed_hosts"),
        "{answer:?}"
    );

    // Same-origin browser requests and allowed names work.
    let answer = get(
        &addr,
        "/ok.html",
        &format!("Host: Supervisor.Example:{port}\r\n"),
    );
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
    let same = format!("{host}Origin: http://{addr}\r\nSec-Fetch-Site: same-origin\r\n");
    let answer = post(
        &addr,
        "/RPC2",
        &same,
        &util::rpc_body("supervisor.getState", &[]),
    );
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");

    // Every response says nosniff and DENY; the HTML page also has its CSP and no-store.
    assert!(
        answer.contains("\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"),
        "{answer:?}"
    );
    let page = get(&addr, "/index.html", &host);
    let head = page.split("\r\n\r\n").next().unwrap_or("");
    assert!(
        head.contains("Content-Security-Policy: default-src 'none'")
            && head.contains("Cache-Control: no-store")
            && head.contains("X-Frame-Options: DENY"),
        "{head}"
    );

    // Scripted clients send none of the browser headers: Python's xmlrpc.client (the reference
    // client's library) and our supervisorctl over TCP work as before.
    if let Some(ref_bin) = util::reference_bin() {
        let out = Command::new(ref_bin.join("python"))
            .args([
                "-c",
                &format!(
                    "import xmlrpc.client as x; s = x.ServerProxy('http://{addr}/RPC2'); \
                     print(s.supervisor.startProcess('sleeper'))"
                ),
            ])
            .output()
            .unwrap();
        assert_eq!(util::stdout(&out).trim(), "True", "{}", util::stderr(&out));
    } else {
        let out = util::run(
            &dir,
            "supervisorctl",
            &["-s", &format!("http://{addr}"), "start", "sleeper"],
        );
        assert_eq!(util::stdout(&out), "sleeper: started\n", "{out:?}");
    }
    assert_eq!(state_of(&sock), "RUNNING");
    let out = util::run(
        &dir,
        "supervisorctl",
        &["-s", &format!("http://{addr}"), "stop", "sleeper"],
    );
    assert_eq!(util::stdout(&out), "sleeper: stopped\n", "{out:?}");

    // Refusals are logged, at most one line a minute per client (the count follows).
    assert!(
        util::wait_for(Duration::from_secs(5), || dir.read("sd.log").contains(
            "WARN HTTP request from 127.0.0.1 refused (1 since the last such line): "
        )),
        "{}",
        dir.read("sd.log")
    );
    assert_eq!(
        dir.read("sd.log").matches("WARN HTTP request from").count(),
        1
    );
}

fn check_config(args: &[&str]) -> std::process::Output {
    Command::new(util::binary())
        .arg("check-config")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn check_config_warns_about_unauthenticated_servers_beyond_loopback() {
    let dir = TempDir::new("guard-check");
    let cases = [
        ("port=127.0.0.1:9001", None),
        ("port=localhost:9001", None),
        (
            "port=*:9001",
            Some(
                "[inet_http_server] listens on *:9001 without a username and password: only loopback clients will be served (protected mode)",
            ),
        ),
        (
            "port=9001\nprotected_mode=false",
            Some(
                "[inet_http_server] listens on *:9001 without a username and password and protected_mode = false: every host that reaches the port can control supervisord",
            ),
        ),
        ("port=*:9001\nusername=u\npassword=p", None),
    ];
    for (inet, want) in cases {
        let c = dir.write(
            "c.conf",
            &conf(&dir.path, &format!("[inet_http_server]\n{inet}")),
        );
        let out = check_config(&["-c", c.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{inet}: {out:?}");
        let err = util::stderr(&out);
        match want {
            Some(w) => assert!(err.contains(&format!("warning: {w}")), "{inet}: {err}"),
            None => assert!(!err.contains("warning"), "{inet}: {err}"),
        }
    }
    // The new keys are validated and dumped.
    let c = dir.write(
        "c.conf",
        &conf(
            &dir.path,
            "[inet_http_server]\nport=127.0.0.1:9001\nallowed_hosts=a/b\nprotected_mode=maybe",
        ),
    );
    let out = check_config(&["-c", c.to_str().unwrap()]);
    let err = util::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("allowed_hosts: not a host name or IP address: 'a/b'")
            && err.contains("protected_mode: not a valid boolean value: 'maybe'"),
        "{err}"
    );
    let c = dir.write(
        "c.conf",
        &conf(
            &dir.path,
            "[inet_http_server]\nport=127.0.0.1:9001\nallowed_hosts=A.example, b.example.\nprotected_mode=off",
        ),
    );
    let out = check_config(&["-c", c.to_str().unwrap(), "--dump"]);
    let dump = util::stdout(&out);
    assert!(
        dump.contains("\"allowed_hosts\": [\n        \"a.example\",\n        \"b.example\"\n      ],\n      \"protected_mode\": false"),
        "{dump}"
    );
}

/// A network namespace joined to ours by a veth pair, removed on drop (also when the test
/// panics). Only the private addresses given are used; nothing is routed anywhere.
struct Netns {
    name: String,
}

impl Netns {
    fn ip(args: &[&str]) -> bool {
        Command::new("ip")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// `ours`/`theirs`: the two ends' addresses (a /30 of 10.200.0.0/16).
    fn create(tag: &str, ours: &str, theirs: &str) -> Option<Netns> {
        let name = format!("sv{tag}{}", std::process::id());
        let host_if = format!("h{tag}{}", std::process::id() % 100_000);
        let ns_if = format!("n{tag}{}", std::process::id() % 100_000);
        let netns = Netns { name: name.clone() };
        let steps: Vec<Vec<String>> = vec![
            vec!["netns".into(), "add".into(), name.clone()],
            vec![
                "link".into(),
                "add".into(),
                host_if.clone(),
                "type".into(),
                "veth".into(),
                "peer".into(),
                "name".into(),
                ns_if.clone(),
                "netns".into(),
                name.clone(),
            ],
            vec![
                "addr".into(),
                "add".into(),
                format!("{ours}/30"),
                "dev".into(),
                host_if.clone(),
            ],
            vec!["link".into(), "set".into(), host_if.clone(), "up".into()],
            vec![
                "-n".into(),
                name.clone(),
                "addr".into(),
                "add".into(),
                format!("{theirs}/30"),
                "dev".into(),
                ns_if.clone(),
            ],
            vec![
                "-n".into(),
                name.clone(),
                "link".into(),
                "set".into(),
                ns_if.clone(),
                "up".into(),
            ],
            vec![
                "-n".into(),
                name.clone(),
                "link".into(),
                "set".into(),
                "lo".into(),
                "up".into(),
            ],
        ];
        for step in &steps {
            let args: Vec<&str> = step.iter().map(String::as_str).collect();
            if !Netns::ip(&args) {
                eprintln!("SKIP protected mode test: `ip {}` failed", args.join(" "));
                return None; // drop removes what was made
            }
        }
        Some(netns)
    }

    /// Runs a raw HTTP exchange from inside the namespace (python3 as the client).
    fn http(&self, addr: &str, request: &str) -> String {
        let (host, port) = addr.rsplit_once(':').unwrap();
        let script = format!(
            "import socket,sys\ns=socket.create_connection(({host:?},{port}),timeout=10)\n\
             s.sendall({request:?}.encode())\nd=b''\nwhile True:\n  b=s.recv(65536)\n  \
             if not b: break\n  d+=b\nsys.stdout.write(d.decode('latin-1'))\n"
        );
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name, "python3", "-c", &script])
            .output()
            .unwrap();
        format!("{}{}", util::stdout(&out), util::stderr(&out))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace destroys its veth end, which takes our end with it.
        Netns::ip(&["netns", "del", &self.name]);
    }
}

#[test]
fn protected_mode_refuses_non_loopback_peers() {
    if !util::require_root(
        "protected_mode_refuses_non_loopback_peers",
        "needs root to create a network namespace with a veth pair",
    ) {
        return;
    }
    let octet = 20 + std::process::id() % 200;
    let (ours, theirs) = (format!("10.200.{octet}.1"), format!("10.200.{octet}.2"));
    let Some(ns) = Netns::create("p", &ours, &theirs) else {
        return;
    };
    let dir = TempDir::new("guard-protected");
    let port = free_port();
    let request = |host: &str, auth: &str| {
        format!("GET /ok.html HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n")
    };
    let lan = format!("{ours}:{port}");
    let local = format!("127.0.0.1:{port}");
    // One daemon per configuration: an inet server on every interface, `options` added.
    let start = |options: &str| {
        let c = dir.write(
            "sup.conf",
            &conf(
                &dir.path,
                &format!("[inet_http_server]\nport=*:{port}\n{options}"),
            ),
        );
        let daemon = Daemon::start(&dir, &c);
        assert!(wait_up(&local), "daemon with {options:?} did not come up");
        daemon
    };
    // A request from the peer in the namespace, with its Host and extra headers.
    let from_peer = |host: &str, auth: &str| ns.http(&lan, &request(host, auth));

    // 1. Default: no credentials, all interfaces -> protected mode.
    let mut daemon = start("");
    let answer = from_peer(&lan, "");
    assert!(
        answer.starts_with("HTTP/1.1 403 Forbidden\r\n"),
        "{answer:?}"
    );
    assert!(
        answer.contains("set [inet_http_server] protected_mode = false"),
        "{answer:?}"
    );
    assert!(raw(&local, &request(&local, "")).starts_with("HTTP/1.1 200 OK"));
    let log = dir.read("sd.log");
    assert!(
        log.contains("CRIT Server 'inet_http_server' listens beyond loopback without a username/password: protected mode answers only loopback clients (others get 403); set [inet_http_server] protected_mode = false to serve them"),
        "{log}"
    );
    assert!(log.contains("refused (1 since the last such line): protected mode"));
    assert_eq!(daemon.stop(Duration::from_secs(10)), Some(0));

    // 2. protected_mode = false: the peer is served (its Host is our address), a rebound name
    //    is still refused.
    let mut daemon = start("protected_mode=false");
    let answer = from_peer(&lan, "");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:?}");
    let answer = from_peer(&format!("evil.example:{port}"), "");
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer:?}");
    assert!(dir.read("sd.log").contains(
        "CRIT Server 'inet_http_server' serves every client that can reach it without authentication"
    ));
    assert_eq!(daemon.stop(Duration::from_secs(10)), Some(0));

    // 3. With credentials the peer gets the usual 401 / 200.
    let mut daemon = start("username=u\npassword=p");
    let answer = from_peer(&lan, "");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer:?}");
    let answer = from_peer(&lan, "Authorization: Basic dTpw\r\n");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:?}");
    assert_eq!(daemon.stop(Duration::from_secs(10)), Some(0));
}

#[test]
fn credentials_never_reach_a_log_even_at_blather() {
    let dir = TempDir::new("guard-secret");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let text = conf(
        &dir.path,
        &format!("[inet_http_server]\nport=127.0.0.1:{port}\nusername=admin\npassword={SECRET}"),
    )
    .replace("loglevel=info", "loglevel=blather")
    .replace(
        "[unix_http_server]\n",
        &format!("[unix_http_server]\nusername=admin\npassword={SECRET}\n"),
    );
    let c = dir.write("sup.conf", &text);
    let mut daemon = Daemon::start(&dir, &c);
    assert!(wait_up(&addr));
    let basic = |user_pass: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(user_pass)
    };
    let good = basic(&format!("admin:{SECRET}"));
    let wrong = basic(&format!("admin:{SECRET}x"));
    // Failures: wrong password, wrong user, malformed, and none at all.
    for auth in [
        format!("Authorization: Basic {wrong}\r\n"),
        format!(
            "Authorization: Basic {}\r\n",
            basic(&format!("root:{SECRET}"))
        ),
        "Authorization: Basic !!!\r\n".to_string(),
        String::new(),
    ] {
        let answer = post(
            &addr,
            "/RPC2",
            &format!("Host: {addr}\r\n{auth}"),
            &util::rpc_body("supervisor.getState", &[]),
        );
        assert!(!answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    }
    // Successes: RPCs that start, stop and read logs, the page, and the ctl with -p.
    for body in [
        util::rpc_body("supervisor.startProcess", &["sleeper"]),
        util::rpc_body("supervisor.readLog", &["0", "0"]),
        util::rpc_body("supervisor.stopProcess", &["sleeper"]),
    ] {
        let answer = post(
            &addr,
            "/RPC2",
            &format!("Host: {addr}\r\nAuthorization: Basic {good}\r\n"),
            &body,
        );
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:?}");
    }
    let page = get(
        &addr,
        "/index.html",
        &format!("Host: {addr}\r\nAuthorization: Basic {good}\r\n"),
    );
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page:?}");
    let url = format!("http://{addr}");
    let ctl = |password: &str| {
        util::run(
            &dir,
            "supervisorctl",
            &["-s", &url, "-u", "admin", "-p", password, "status"],
        )
    };
    let ctl_good = ctl(SECRET);
    assert!(util::stdout(&ctl_good).contains("sleeper"), "{ctl_good:?}");
    let ctl_bad = ctl("nope");
    assert!(!ctl_bad.status.success());
    // Failed logins: one line for the first, the rest held back for a minute.
    assert!(util::wait_for(Duration::from_secs(5), || dir
        .read("sd.log")
        .contains(
            "WARN HTTP authentication failed for 127.0.0.1 (1 since the last such line)"
        )));
    assert_eq!(
        dir.read("sd.log").matches("authentication failed").count(),
        1
    );
    assert_eq!(daemon.stop(Duration::from_secs(10)), Some(0));

    // Every file the run produced (main log, child logs, daemon stdout/stderr) but the config.
    let started = Instant::now();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir.path).unwrap().flatten() {
        if entry.path() == c || !entry.path().is_file() {
            continue;
        }
        let bytes = std::fs::read(entry.path()).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        for needle in [SECRET, good.as_str(), wrong.as_str()] {
            assert!(
                !text.contains(needle),
                "{} contains {needle:?}",
                entry.path().display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 3, "main log, daemon.out, daemon.err at least");
    assert!(
        dir.read("sd.log").contains(" TRAC "),
        "ran at blather (trace lines shown)"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn logtail_path_tricks_read_nothing_outside_the_configured_logs() {
    let dir = TempDir::new("guard-tail");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let marker = "GUARD-OUTSIDE-MARKER";
    dir.write("secret.txt", &format!("{marker}\n"));
    let secret = dir.join("secret.txt");
    let c = dir.write(
        "sup.conf",
        &conf(
            &dir.path,
            &format!("[inet_http_server]\nport=127.0.0.1:{port}"),
        )
        .replace("autostart=false", "autostart=true")
        .replace(
            "command=sleep 1000",
            "command=sh -c 'echo in-log; exec sleep 1000'",
        ),
    );
    let _daemon = Daemon::start(&dir, &c);
    assert!(wait_up(&addr));
    let secret_rel = format!("../../../../../../..{}", secret.display());
    let targets = [
        format!("/logtail/{secret_rel}"),
        format!("/logtail/sleeper/{secret_rel}"),
        format!(
            "/logtail/..%2F..%2F..%2F..%2F..%2F..%2F..{}",
            secret.display().to_string().replace('/', "%2F")
        ),
        "/logtail/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd/stdout".to_string(),
        "/logtail/../../../../etc/passwd/stdout".to_string(),
        "/logtail/sleeper%00/../../etc/passwd".to_string(),
        "/logtail/sleeper%00".to_string(),
        "/logtail/%00/stdout".to_string(),
        "/logtail/sleeper%2F..%2F..%2Fetc%2Fpasswd".to_string(),
        "/logtail/sleeper:sleeper%2F..%2Fsecret.txt/stdout".to_string(),
        "/logtail//etc/passwd".to_string(),
        format!("/logtail/{}", secret.display()),
        "/mainlogtail/../../etc/passwd".to_string(),
        format!("/tail.html?processname={secret_rel}"),
        "/tail.html?processname=..%2F..%2F..%2Fetc%2Fpasswd".to_string(),
        "/tail.html?processname=sleeper%00".to_string(),
        "/../../../../etc/passwd".to_string(),
        "/%2E%2E/%2E%2E/etc/passwd".to_string(),
        format!("/..{}", secret.display()),
    ];
    for target in &targets {
        // Streams never end by themselves: read what arrives within a short quiet period.
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        s.write_all(format!("GET {target} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
            .unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&out);
        assert!(
            !text.contains(marker) && !text.contains("root:x:0:0"),
            "{target} read a file outside the logs: {text:?}"
        );
        assert!(
            !text.starts_with("HTTP/1.0 5"),
            "{target} answered 5xx: {text:?}"
        );
    }
    // The real tail still works.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    s.write_all(format!("GET /logtail/sleeper HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .unwrap();
    let mut out = Vec::new();
    let ok = util::wait_for(Duration::from_secs(10), || {
        let mut buf = [0u8; 4096];
        if let Ok(n) = s.read(&mut buf) {
            out.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&out).contains("in-log")
    });
    assert!(ok, "{:?}", String::from_utf8_lossy(&out));
}
