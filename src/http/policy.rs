//! Who may ask what of a server, as a pure function: protected mode (no credentials -> loopback
//! peers only), the DNS-rebinding `Host` check, and the cross-site checks on state-changing
//! requests (`Origin`, `Referer`, `Sec-Fetch-Site`). No I/O, no clock: a table of cases pins it.
//!
//! Why these rules: a browser lets any web page send a POST (form or `text/plain` fetch) to
//! 127.0.0.1 without a CORS preflight, and a rebound DNS name lets a page read the answers.
//! Browsers always send `Host`, and `Origin` or `Sec-Fetch-Site` on cross-site POSTs; scripted
//! clients (xmlrpc.client, supervisorctl, curl) send none of the three, so they are unaffected.

use std::net::IpAddr;

use super::router::Route;

/// What the policy needs to know about the server a request arrived on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerPolicy {
    /// Section name, for the messages (`inet_http_server`, `inet_http_server:x`).
    pub section: String,
    /// A TCP server (`[inet_http_server]`); unix sockets get only the cross-site checks (a
    /// browser cannot reach them, but a reverse proxy may forward browser requests to them).
    pub inet: bool,
    /// Username and password are configured.
    pub authenticated: bool,
    /// `protected_mode` (inet only).
    pub protected_mode: bool,
    /// The host as configured in `port = HOST:PORT` (lower-cased; empty = all interfaces).
    pub configured_host: String,
    /// `allowed_hosts` (lower-cased; `*` = any).
    pub allowed_hosts: Vec<String>,
}

/// What the policy needs to know about one request.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    pub method: &'a str,
    pub route: &'a Route,
    pub query: Option<&'a str>,
    pub headers: &'a [(String, Vec<u8>)],
    /// The client's address (None on a unix socket).
    pub peer: Option<IpAddr>,
    /// The address the client connected to (None on a unix socket).
    pub local: Option<IpAddr>,
}

impl RequestFacts<'_> {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// The outcome: allowed, or refused (403) with a one-line reason for the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Refuse(String),
}

/// Applies the rules in order: protected mode, Host, cross-site.
pub fn check(server: &ServerPolicy, request: &RequestFacts) -> Verdict {
    if server.inet && !server.authenticated {
        if server.protected_mode && !request.peer.is_some_and(is_loopback) {
            return Verdict::Refuse(format!(
                "protected mode: this server has no username/password, so it answers only \
                 clients on a loopback address; set [{}] protected_mode = false (or a \
                 username and password) to serve others",
                server.section
            ));
        }
        if let Some(host) = request.header("host") {
            let name = host_name(host);
            if !host_allowed(server, request.local, &name) {
                return Verdict::Refuse(format!(
                    "Host {} is not this server's address; add it to [{}] allowed_hosts \
                     (DNS rebinding check)",
                    printable(host),
                    server.section
                ));
            }
        }
    }
    if changes_state(request) {
        return cross_site(request);
    }
    Verdict::Allow
}

/// Any POST to /RPC2 or the web pages, and a page GET that asks for an action (older pages
/// acted on GET; refusing those cross-site costs nothing).
fn changes_state(request: &RequestFacts) -> bool {
    match request.route {
        Route::Rpc => true,
        Route::Ui { .. } => {
            request.method == "POST"
                || request.query.is_some_and(|q| {
                    q.split('&')
                        .any(|pair| pair.starts_with("action=") && pair.len() > "action=".len())
                })
        }
        _ => false,
    }
}

fn cross_site(request: &RequestFacts) -> Verdict {
    if let Some(site) = request.header("sec-fetch-site") {
        let site = site.trim_ascii();
        if site.eq_ignore_ascii_case(b"cross-site") || site.eq_ignore_ascii_case(b"same-site") {
            return Verdict::Refuse(format!(
                "cross-site request refused (Sec-Fetch-Site: {})",
                printable(site)
            ));
        }
    }
    let (name, value) = match (request.header("origin"), request.header("referer")) {
        (Some(origin), _) => ("Origin", origin),
        (None, Some(referer)) => ("Referer", referer),
        (None, None) => return Verdict::Allow,
    };
    let Some(host) = request.header("host") else {
        return Verdict::Refuse(format!(
            "cross-site check: {name} {} without a Host header",
            printable(value)
        ));
    };
    if same_origin(value, host) {
        Verdict::Allow
    } else {
        Verdict::Refuse(format!(
            "cross-site request refused ({name} {} is not Host {})",
            printable(value),
            printable(host)
        ))
    }
}

/// Whether an `Origin` or `Referer` value names the origin the request was sent to (`Host`).
/// The scheme must be http or https (`null`, `file:` and extensions are foreign); host names
/// compare without case; ports compare after defaults (80/443 by the URL's scheme; a Host
/// without a port is on the default port of that scheme, which is what a TLS-terminating proxy
/// that keeps the Host header forwards).
fn same_origin(url: &[u8], host: &[u8]) -> bool {
    let Ok(url) = std::str::from_utf8(url.trim_ascii()) else {
        return false;
    };
    let Ok(host) = std::str::from_utf8(host.trim_ascii()) else {
        return false;
    };
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => return false,
    };
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return false,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return false;
    }
    let (Some((url_host, url_port)), Some((req_host, req_port))) =
        (split_host_port(authority), split_host_port(host))
    else {
        return false;
    };
    url_host.eq_ignore_ascii_case(&req_host)
        && url_port.unwrap_or(default_port) == req_port.unwrap_or(default_port)
}

/// `host[:port]` or `[v6][:port]` -> (host without brackets or trailing dot, port). None if
/// the port is not a number.
fn split_host_port(text: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        match after.strip_prefix(':') {
            Some(port) => (v6, Some(port)),
            None if after.is_empty() => (v6, None),
            None => return None,
        }
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

/// The name part of a Host header, lower-cased ("" if unparsable, which no rule allows).
fn host_name(host: &[u8]) -> String {
    std::str::from_utf8(host.trim_ascii())
        .ok()
        .and_then(split_host_port)
        .map(|(name, _)| name)
        .unwrap_or_default()
}

/// The Host names an unauthenticated server answers: `localhost`, the address the client
/// connected to, the configured host, and `allowed_hosts`. A rebinding attack needs a name the
/// attacker controls, so none of these can be one.
fn host_allowed(server: &ServerPolicy, local: Option<IpAddr>, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    if name == "localhost" || name == server.configured_host {
        return true;
    }
    if let (Some(local), Ok(ip)) = (local, name.parse::<IpAddr>())
        && local.to_canonical() == ip.to_canonical()
    {
        return true;
    }
    server
        .allowed_hosts
        .iter()
        .any(|allowed| allowed == "*" || allowed == name)
}

/// 127.0.0.0/8, ::1, and IPv4-mapped loopback (`::ffff:127.0.0.1` on a dual-stack socket).
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// A header value fit for a one-line message: control bytes replaced, at most 120 characters.
fn printable(value: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(value)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().count() > 120 {
        let cut: String = text.chars().take(120).collect();
        format!("{cut}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(inet: bool, authenticated: bool, protected_mode: bool) -> ServerPolicy {
        ServerPolicy {
            section: "inet_http_server".into(),
            inet,
            authenticated,
            protected_mode,
            configured_host: "127.0.0.1".into(),
            allowed_hosts: vec!["supervisor.example".into()],
        }
    }

    const LO: &str = "127.0.0.1";
    const LAN: &str = "10.200.0.2";
    const LOCAL_LAN: &str = "10.200.0.1";

    struct Case {
        name: &'static str,
        server: ServerPolicy,
        method: &'static str,
        route: Route,
        query: Option<&'static str>,
        headers: &'static [(&'static str, &'static str)],
        peer: Option<&'static str>,
        local: Option<&'static str>,
        /// None = allowed; Some(text) = refused with a reason containing text.
        refused: Option<&'static str>,
    }

    fn rpc(
        name: &'static str,
        server: ServerPolicy,
        headers: &'static [(&'static str, &'static str)],
        refused: Option<&'static str>,
    ) -> Case {
        Case {
            name,
            server,
            method: "POST",
            route: Route::Rpc,
            query: None,
            headers,
            peer: Some(LO),
            local: Some(LO),
            refused,
        }
    }

    fn cases() -> Vec<Case> {
        let open = server(true, false, true);
        let authed = server(true, true, true);
        let unix = ServerPolicy {
            section: "unix_http_server".into(),
            inet: false,
            authenticated: false,
            protected_mode: true,
            configured_host: String::new(),
            allowed_hosts: vec![],
        };
        let page = Route::Ui {
            page: "index.html".into(),
        };
        let mut cases = vec![
            // Scripted clients send none of the browser headers.
            rpc(
                "xmlrpc.client",
                open.clone(),
                &[("Host", "127.0.0.1:9001")],
                None,
            ),
            rpc("no headers at all", open.clone(), &[], None),
            rpc(
                "curl localhost",
                open.clone(),
                &[("Host", "localhost:9001")],
                None,
            ),
            rpc("unix ctl", unix.clone(), &[("Host", "localhost")], None),
            // Same-origin browser requests.
            rpc(
                "same origin",
                open.clone(),
                &[
                    ("Host", "127.0.0.1:9001"),
                    ("Origin", "http://127.0.0.1:9001"),
                    ("Sec-Fetch-Site", "same-origin"),
                ],
                None,
            ),
            rpc(
                "same origin, case and default port",
                open.clone(),
                &[("Host", "LOCALHOST"), ("Origin", "HTTP://localhost:80")],
                None,
            ),
            rpc(
                "referer same origin",
                open.clone(),
                &[
                    ("Host", "127.0.0.1:9001"),
                    ("Referer", "http://127.0.0.1:9001/index.html?x=1"),
                ],
                None,
            ),
            rpc(
                "tls proxy keeps Host",
                authed.clone(),
                &[
                    ("Host", "supervisor.example"),
                    ("Origin", "https://supervisor.example"),
                ],
                None,
            ),
            rpc(
                "Sec-Fetch-Site none (typed URL)",
                open.clone(),
                &[("Host", "127.0.0.1:9001"), ("Sec-Fetch-Site", "none")],
                None,
            ),
            // Cross-site.
            rpc(
                "foreign origin",
                open.clone(),
                &[
                    ("Host", "127.0.0.1:9001"),
                    ("Origin", "http://evil.example"),
                ],
                Some("Origin http://evil.example is not Host 127.0.0.1:9001"),
            ),
            rpc(
                "other port",
                open.clone(),
                &[
                    ("Host", "127.0.0.1:9001"),
                    ("Origin", "http://127.0.0.1:8080"),
                ],
                Some("cross-site"),
            ),
            rpc(
                "origin null",
                open.clone(),
                &[("Host", "127.0.0.1:9001"), ("Origin", "null")],
                Some("Origin null"),
            ),
            rpc(
                "file scheme",
                open.clone(),
                &[("Host", "localhost"), ("Origin", "file://localhost")],
                Some("cross-site"),
            ),
            rpc(
                "userinfo trick",
                open.clone(),
                &[
                    ("Host", "127.0.0.1:9001"),
                    ("Origin", "http://127.0.0.1:9001@evil.example"),
                ],
                Some("cross-site"),
            ),
            rpc(
                "foreign referer",
                open.clone(),
                &[
                    ("Host", "127.0.0.1:9001"),
                    ("Referer", "http://evil.example/x?u=http://127.0.0.1:9001"),
                ],
                Some("Referer"),
            ),
            rpc(
                "origin wins over a matching referer",
                open.clone(),
                &[
                    ("Host", "127.0.0.1:9001"),
                    ("Origin", "http://evil.example"),
                    ("Referer", "http://127.0.0.1:9001/"),
                ],
                Some("Origin"),
            ),
            rpc(
                "sec-fetch-site cross-site",
                open.clone(),
                &[("Host", "127.0.0.1:9001"), ("Sec-Fetch-Site", "cross-site")],
                Some("Sec-Fetch-Site: cross-site"),
            ),
            rpc(
                "sec-fetch-site same-site",
                authed.clone(),
                &[("Host", "127.0.0.1:9001"), ("Sec-Fetch-Site", "Same-Site")],
                Some("Sec-Fetch-Site"),
            ),
            rpc(
                "origin without host",
                authed.clone(),
                &[("Origin", "http://127.0.0.1:9001")],
                Some("without a Host"),
            ),
            rpc(
                "cross-site with credentials",
                authed.clone(),
                &[
                    ("Host", "127.0.0.1:9001"),
                    ("Origin", "http://evil.example"),
                ],
                Some("cross-site"),
            ),
            rpc(
                "cross-site via a proxy to the unix socket",
                unix.clone(),
                &[("Host", "localhost"), ("Origin", "http://evil.example")],
                Some("cross-site"),
            ),
            // DNS rebinding: unauthenticated inet servers only.
            rpc(
                "rebinding",
                open.clone(),
                &[("Host", "evil.example:9001")],
                Some(
                    "Host evil.example:9001 is not this server's address; add it to [inet_http_server] allowed_hosts",
                ),
            ),
            rpc(
                "rebinding, same origin",
                open.clone(),
                &[
                    ("Host", "evil.example:9001"),
                    ("Origin", "http://evil.example:9001"),
                ],
                Some("allowed_hosts"),
            ),
            rpc(
                "allowed host",
                open.clone(),
                &[("Host", "Supervisor.Example.:9001")],
                None,
            ),
            rpc(
                "garbage host",
                open.clone(),
                &[("Host", "a:b:c\u{1}")],
                Some("Host a:b:c? is not"),
            ),
            rpc(
                "any name with credentials",
                authed.clone(),
                &[("Host", "evil.example")],
                None,
            ),
            rpc(
                "any name on a unix socket",
                unix.clone(),
                &[("Host", "evil.example")],
                None,
            ),
        ];
        // Reading is not state-changing: no cross-site check, but the Host check holds.
        for (name, route, method, query, headers, refused) in [
            (
                "page GET from a link",
                page.clone(),
                "GET",
                None,
                &[("Host", "127.0.0.1:9001"), ("Sec-Fetch-Site", "cross-site")][..],
                None,
            ),
            (
                "page GET with action=, cross-site",
                page.clone(),
                "GET",
                Some("processname=x&action=stop"),
                &[("Host", "127.0.0.1:9001"), ("Sec-Fetch-Site", "cross-site")][..],
                Some("cross-site"),
            ),
            (
                "page GET with an empty action",
                page.clone(),
                "GET",
                Some("action="),
                &[("Host", "127.0.0.1:9001"), ("Sec-Fetch-Site", "cross-site")][..],
                None,
            ),
            (
                "page POST cross-site",
                page.clone(),
                "POST",
                None,
                &[
                    ("Host", "127.0.0.1:9001"),
                    ("Origin", "http://evil.example"),
                ][..],
                Some("cross-site"),
            ),
            (
                "ok.html POST is not an action",
                Route::Ok,
                "POST",
                None,
                &[
                    ("Host", "127.0.0.1:9001"),
                    ("Origin", "http://evil.example"),
                ][..],
                None,
            ),
            (
                "log tail read via a rebound name",
                Route::MainLogTail,
                "GET",
                None,
                &[("Host", "evil.example")][..],
                Some("allowed_hosts"),
            ),
        ] {
            cases.push(Case {
                name,
                server: open.clone(),
                method,
                route,
                query,
                headers,
                peer: Some(LO),
                local: Some(LO),
                refused,
            });
        }
        // Protected mode and the connection's own address.
        let everywhere = ServerPolicy {
            configured_host: String::new(),
            ..open.clone()
        };
        for (name, server, peer, local, headers, refused) in [
            (
                "LAN peer, protected",
                everywhere.clone(),
                LAN,
                LOCAL_LAN,
                &[][..],
                Some("[inet_http_server] protected_mode = false"),
            ),
            (
                "LAN peer, protected, even for ok.html",
                everywhere.clone(),
                LAN,
                LOCAL_LAN,
                &[("Host", "10.200.0.1:9001")][..],
                Some("protected mode"),
            ),
            (
                "LAN peer, protection off, Host = our address",
                ServerPolicy {
                    protected_mode: false,
                    ..everywhere.clone()
                },
                LAN,
                LOCAL_LAN,
                &[("Host", "10.200.0.1:9001")][..],
                None,
            ),
            (
                "LAN peer, protection off, rebinding",
                ServerPolicy {
                    protected_mode: false,
                    ..everywhere.clone()
                },
                LAN,
                LOCAL_LAN,
                &[("Host", "evil.example:9001")][..],
                Some("allowed_hosts"),
            ),
            (
                "LAN peer with credentials",
                ServerPolicy {
                    authenticated: true,
                    ..everywhere.clone()
                },
                LAN,
                LOCAL_LAN,
                &[("Host", "anything")][..],
                None,
            ),
            (
                "v4-mapped loopback peer",
                everywhere.clone(),
                "::ffff:127.0.0.1",
                "::ffff:127.0.0.1",
                &[("Host", "127.0.0.1:9001")][..],
                None,
            ),
            (
                "v6 loopback",
                everywhere.clone(),
                "::1",
                "::1",
                &[("Host", "[::1]:9001")][..],
                None,
            ),
            (
                "127.0.0.2 is loopback too",
                everywhere.clone(),
                "127.0.0.2",
                "127.0.0.2",
                &[("Host", "127.0.0.2:9001")][..],
                None,
            ),
        ] {
            cases.push(Case {
                name,
                server,
                method: "GET",
                route: Route::Ok,
                query: None,
                headers,
                peer: Some(peer),
                local: Some(local),
                refused,
            });
        }
        cases
    }

    #[test]
    fn verdicts() {
        for case in cases() {
            let headers: Vec<(String, Vec<u8>)> = case
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect();
            let facts = RequestFacts {
                method: case.method,
                route: &case.route,
                query: case.query,
                headers: &headers,
                peer: case.peer.map(|p| p.parse().unwrap()),
                local: case.local.map(|p| p.parse().unwrap()),
            };
            let got = check(&case.server, &facts);
            match (case.refused, &got) {
                (None, Verdict::Allow) => {}
                (Some(want), Verdict::Refuse(reason)) => {
                    assert!(
                        reason.contains(want),
                        "{}: reason {reason:?} lacks {want:?}",
                        case.name
                    );
                    assert!(!reason.contains('\n'), "{}: one line", case.name);
                }
                _ => panic!(
                    "{}: got {got:?}, want refused={:?}",
                    case.name, case.refused
                ),
            }
        }
    }

    #[test]
    fn reasons_are_one_short_line() {
        assert_eq!(printable(b"a\r\nb"), "a??b");
        assert_eq!(printable(&[b'x'; 200]).len(), 123);
    }
}
