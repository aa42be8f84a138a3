//! HTTP responses as the reference's Medusa writes them: status line echoing the request's
//! version, default headers, the HTML error body, chunk framing, and date formats.

use std::time::{SystemTime, UNIX_EPOCH};

/// The `Server:` header every reference response carries.
pub const SERVER_HEADER: &str = "Medusa/1.12";

/// On every response (not in the reference; docs/differences.md): no MIME sniffing (a short
/// text/plain log tail is shown at once instead of being buffered for sniffing) and no framing
/// (clickjacking of the status page's buttons).
pub const SECURITY_HEADERS: &str = "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n";

/// On HTML responses besides: the page loads its script and style sheet from this server only
/// (`/assets/`; nothing inline, so injected markup cannot run), talks only to this server
/// (fetch, the event stream), submits forms only to itself, cannot be framed, and is not kept
/// in caches (it shows process states and log excerpts).
pub const HTML_SECURITY_HEADERS: &str = "Content-Security-Policy: default-src 'none'; \
script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'\r\nCache-Control: no-store\r\n";

/// A complete (non-streaming) response. Headers are written in the order given, after `Server`
/// and `Date`; `Content-Length` is appended when absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Close the connection once this response is written, whatever the request asked for.
    pub close: bool,
}

impl Response {
    /// A 200 with the reference's header order for handler output (`Content-Type`, then length).
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        let body = body.into();
        Response {
            status: 200,
            headers: vec![
                ("Content-Type".into(), content_type.into()),
                ("Content-Length".into(), body.len().to_string()),
            ],
            body,
            close: false,
        }
    }

    /// An XML-RPC reply (`text/xml`).
    pub fn xml(body: impl Into<Vec<u8>>) -> Response {
        Response::ok("text/xml", body)
    }

    /// The reference's standard error page for `status` (`Content-Length` before `Content-Type`).
    pub fn error(status: u16) -> Response {
        let body = error_body(status);
        Response {
            status,
            headers: vec![
                ("Content-Length".into(), body.len().to_string()),
                ("Content-Type".into(), "text/html".into()),
            ],
            body,
            close: false,
        }
    }

    /// The 401 the reference sends when credentials are missing or wrong.
    pub fn unauthorized() -> Response {
        let mut response = Response::error(401);
        response
            .headers
            .insert(0, ("Connection".into(), "close".into()));
        response.headers.insert(
            1,
            ("WWW-Authenticate".into(), "Basic realm=\"default\"".into()),
        );
        response.close = true;
        response
    }

    /// 403 from the request policy: the one-line reason as plain text; the connection closes.
    pub fn forbidden(reason: &str) -> Response {
        let mut response = Response::ok("text/plain", format!("Forbidden: {reason}\n"));
        response.status = 403;
        response.close = true;
        response
    }

    pub fn with_close(mut self) -> Response {
        self.close = true;
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reason phrases (Python's `http.server` table, which Medusa uses).
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Medusa's error page: fixed lines joined by CRLF, ending with CRLF.
pub fn error_body(status: u16) -> Vec<u8> {
    let lines = [
        "<head>".to_string(),
        "<title>Error response</title>".to_string(),
        "</head>".to_string(),
        "<body>".to_string(),
        "<h1>Error response</h1>".to_string(),
        format!("<p>Error code {status}."),
        format!("<p>Message: {}.", reason(status)),
        "</body>".to_string(),
        String::new(),
    ];
    lines.join("\r\n").into_bytes()
}

/// Which HTTP version a request used; responses echo it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// Serialises the status line and headers (through the blank line).
/// `keep_alive_10` adds `Connection: Keep-Alive`, which the reference sends when it keeps an
/// HTTP/1.0 connection open.
pub fn write_head(
    out: &mut Vec<u8>,
    version: Version,
    status: u16,
    headers: &[(String, String)],
    keep_alive_10: bool,
    now: SystemTime,
) {
    out.extend_from_slice(
        format!("{} {} {}\r\n", version.as_str(), status, reason(status)).as_bytes(),
    );
    out.extend_from_slice(
        format!("Server: {SERVER_HEADER}\r\nDate: {}\r\n", http_date(now)).as_bytes(),
    );
    // Ours, right after the reference's first two so that its own header block follows intact.
    out.extend_from_slice(SECURITY_HEADERS.as_bytes());
    let html = headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("content-type") && value.starts_with("text/html")
    });
    if html {
        out.extend_from_slice(HTML_SECURITY_HEADERS.as_bytes());
    }
    for (name, value) in headers {
        // Header values come from the daemon; a stray CR/LF must not split the response.
        let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if keep_alive_10 {
        out.extend_from_slice(b"Connection: Keep-Alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Serialises a full response; returns the number of bytes appended.
pub fn write_response(
    out: &mut Vec<u8>,
    version: Version,
    response: &Response,
    keep_alive_10: bool,
    now: SystemTime,
) -> usize {
    let start = out.len();
    let mut headers = response.headers.clone();
    if response.header("Content-Length").is_none() {
        headers.push(("Content-Length".into(), response.body.len().to_string()));
    }
    write_head(out, version, response.status, &headers, keep_alive_10, now);
    out.extend_from_slice(&response.body);
    out.len() - start
}

/// One chunk of `Transfer-Encoding: chunked` (empty input writes nothing: an empty chunk would
/// end the stream).
pub fn write_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// RFC 1123 date in GMT, as in `Date:` and `Last-Modified:`.
pub fn http_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (year, month, day) = crate::sys::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    // 1970-01-01 was a Thursday.
    let weekday = (secs.div_euclid(86_400) + 4).rem_euclid(7) as usize;
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[weekday],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Access-log timestamp `dd/Mon/YYYY:HH:MM:SS +zzzz` in local time.
pub fn access_log_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let offset = local_utc_offset(secs);
    let local = secs + offset;
    let (year, month, day) = crate::sys::civil_from_days(local.div_euclid(86_400));
    let rem = local.rem_euclid(86_400);
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.abs();
    format!(
        "{:02}/{}/{}:{:02}:{:02}:{:02} {}{:02}{:02}",
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        sign,
        abs / 3600,
        abs % 3600 / 60
    )
}

/// C `ctime()` style local time without the newline: `Mon Nov 23 22:32:15 2026`.
pub fn ctime(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let local = secs + local_utc_offset(secs);
    let days = local.div_euclid(86_400);
    let (year, month, day) = crate::sys::civil_from_days(days);
    let rem = local.rem_euclid(86_400);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        WEEKDAYS[(days + 4).rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        year
    )
}

/// Offset of local time from UTC in seconds at `secs` (0 if the C library cannot say).
fn local_utc_offset(secs: i64) -> i64 {
    crate::sys::LocalTime::from_epoch(secs).utc_offset
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn error_body_lengths_match_reference() {
        // Lengths observed with curl against the reference.
        for (status, len) in [
            (404, 134),
            (400, 136),
            (401, 137),
            (500, 146),
            (301, 142),
            (411, 140),
        ] {
            assert_eq!(error_body(status).len(), len, "status {status}");
        }
        let body = String::from_utf8(error_body(404)).unwrap();
        assert!(body.starts_with("<head>\r\n<title>Error response</title>\r\n"));
        assert!(body.ends_with("<p>Message: Not Found.\r\n</body>\r\n"));
    }

    #[test]
    fn dates() {
        let cases = [
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (1_795_470_945, "Mon, 23 Nov 2026 21:55:45 GMT"),
        ];
        for (secs, want) in cases {
            assert_eq!(http_date(at(secs)), want);
        }
    }

    #[test]
    fn ctime_matches_the_c_library() {
        for secs in [0i64, 951_782_400, 1_795_470_945, 1_800_000_000] {
            let mut buf = [0 as libc::c_char; 64];
            let t = secs as libc::time_t;
            // SAFETY: ctime_r writes at most 26 bytes into buf.
            let c = unsafe { std::ffi::CStr::from_ptr(libc::ctime_r(&t, buf.as_mut_ptr())) };
            let want = c.to_str().unwrap().trim_end().to_string();
            assert_eq!(ctime(at(secs as u64)), want);
        }
    }

    #[test]
    fn head_layouts_match_reference() {
        let now = at(1_795_470_945);
        let date = "Date: Mon, 23 Nov 2026 21:55:45 GMT\r\n";
        let cases: Vec<(Version, Response, bool, String)> = vec![
            (
                Version::Http11,
                Response::ok("text/plain", "OK"),
                false,
                format!(
                    "HTTP/1.1 200 OK\r\nServer: Medusa/1.12\r\n{date}Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK"
                ),
            ),
            (
                Version::Http10,
                Response::ok("text/plain", "OK"),
                true,
                format!(
                    "HTTP/1.0 200 OK\r\nServer: Medusa/1.12\r\n{date}Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: Keep-Alive\r\n\r\nOK"
                ),
            ),
            (
                Version::Http11,
                Response::unauthorized(),
                false,
                format!(
                    "HTTP/1.1 401 Unauthorized\r\nServer: Medusa/1.12\r\n{date}Connection: close\r\nWWW-Authenticate: Basic realm=\"default\"\r\nContent-Length: 137\r\nContent-Type: text/html\r\n\r\n{}",
                    String::from_utf8(error_body(401)).unwrap()
                ),
            ),
            (
                Version::Http11,
                Response {
                    status: 200,
                    headers: vec![],
                    body: b"abc".to_vec(),
                    close: false,
                },
                false,
                format!(
                    "HTTP/1.1 200 OK\r\nServer: Medusa/1.12\r\n{date}Content-Length: 3\r\n\r\nabc"
                ),
            ),
        ];
        for (version, response, keep_alive_10, want) in cases {
            let mut out = Vec::new();
            let n = write_response(&mut out, version, &response, keep_alive_10, now);
            let text = String::from_utf8(out).unwrap();
            assert_eq!(n, text.len());
            assert_eq!(without_security_headers(&text), want);
        }
    }

    /// The reference's bytes: ours minus the headers it does not send.
    fn without_security_headers(text: &str) -> String {
        let ours = [SECURITY_HEADERS, HTML_SECURITY_HEADERS];
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let head: Vec<&str> = head
            .split("\r\n")
            .filter(|line| !ours.iter().any(|h| h.split("\r\n").any(|l| l == *line)))
            .collect();
        format!("{}\r\n\r\n{body}", head.join("\r\n"))
    }

    #[test]
    fn security_headers_on_every_response_and_csp_on_html() {
        let now = at(0);
        let cases = [
            (Response::ok("text/plain", "OK"), false),
            (Response::xml("<x/>"), false),
            (Response::error(404), true),
            (Response::ok("text/html; charset=utf-8", "<p>"), true),
            (Response::forbidden("no"), false),
        ];
        for (response, html) in cases {
            let mut out = Vec::new();
            write_response(&mut out, Version::Http11, &response, false, now);
            let text = String::from_utf8(out).unwrap();
            let head = text.split("\r\n\r\n").next().unwrap();
            assert!(
                head.contains("\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY"),
                "{text}"
            );
            assert_eq!(
                head.contains("Content-Security-Policy: default-src 'none';"),
                html,
                "{text}"
            );
            assert_eq!(head.contains("Cache-Control: no-store"), html, "{text}");
        }
        let forbidden = Response::forbidden("cross-site request refused");
        assert_eq!((forbidden.status, forbidden.close), (403, true));
        assert_eq!(forbidden.body, b"Forbidden: cross-site request refused\n");
    }

    #[test]
    fn chunks() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"tick 12493\n", b"b\r\ntick 12493\n\r\n"),
            (&[b'x'; 187], b"bb\r\n"),
        ];
        for (data, want_prefix) in cases {
            let mut out = Vec::new();
            write_chunk(&mut out, data);
            assert!(
                out.starts_with(want_prefix),
                "{:?}",
                String::from_utf8_lossy(&out)
            );
            if !data.is_empty() {
                assert_eq!(
                    out.len(),
                    want_prefix
                        .len()
                        .max(data.len() + 2 + format!("{:x}\r\n", data.len()).len())
                );
            }
        }
    }

    #[test]
    fn header_values_cannot_inject_lines() {
        let mut out = Vec::new();
        let headers = vec![("X-A".to_string(), "a\r\nX-Evil: 1".to_string())];
        write_head(&mut out, Version::Http11, 200, &headers, false, at(0));
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains("X-A: aX-Evil: 1\r\n")
        );
    }
}
