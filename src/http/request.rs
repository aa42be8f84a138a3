//! Sans-IO request parsing: a request head from bytes (httparse), checked against limits before
//! anything more is buffered, and the body length rules of the reference.

use std::time::Duration;

use super::response::Version;

/// Bounds on what one client may make the daemon hold or wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Request line plus headers, through the blank line.
    pub max_head_bytes: usize,
    pub max_headers: usize,
    /// Request target length (longer -> 414).
    pub max_uri_bytes: usize,
    /// Content-Length above this -> 413.
    pub max_body_bytes: usize,
    /// Open client connections over all servers; more are answered 503 and closed.
    pub max_connections: usize,
    /// A connection with nothing in flight is closed after this long without traffic.
    pub idle_timeout: Duration,
    /// A started request must be complete within this long, else 408.
    pub request_timeout: Duration,
    /// Output waiting this long without the client reading any of it closes the connection.
    pub write_stall_timeout: Duration,
    /// Unsent bytes a streaming client may have queued before it is dropped.
    pub max_stream_buffer: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            max_uri_bytes: 8 * 1024,
            max_body_bytes: 8 * 1024 * 1024,
            max_connections: 512,
            // The reference closes idle channels after 30 minutes.
            idle_timeout: Duration::from_secs(30 * 60),
            request_timeout: Duration::from_secs(60),
            write_stall_timeout: Duration::from_secs(60),
            max_stream_buffer: 1024 * 1024,
        }
    }
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    /// The request target as sent (path and query, still %-encoded).
    pub target: String,
    pub version: Version,
    /// Header names as sent; values as raw bytes.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Declared body length; None when absent (a POST without it gets 411 after auth).
    pub content_length: Option<usize>,
    /// Whether the connection may carry another request after this one.
    pub keep_alive: bool,
    /// The client sent `Expect: 100-continue`.
    pub expects_continue: bool,
    /// The request has a Transfer-Encoding (a chunked upload).
    pub chunked: bool,
}

impl Head {
    /// Body rules, checked after authentication like the reference (a stranger gets 401 first):
    /// chunked uploads and POSTs without Content-Length -> 411, too large -> 413.
    pub fn body_problem(&self, limits: &Limits) -> Option<HeadError> {
        if self.chunked {
            return Some(HeadError::ChunkedUpload);
        }
        match self.content_length {
            None if self.method == "POST" => Some(HeadError::LengthRequired),
            Some(n) if n > limits.max_body_bytes => Some(HeadError::BodyTooLarge),
            _ => None,
        }
    }

    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// `METHOD TARGET HTTP/x.y`, as the access log shows it.
    pub fn request_line(&self) -> String {
        format!("{} {} {}", self.method, self.target, self.version.as_str())
    }
}

/// Why a request cannot be served; each maps to one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Malformed request line or header, bad Content-Length, unsupported version.
    BadRequest,
    /// POST without Content-Length (decided by the connection, after auth).
    LengthRequired,
    /// Transfer-Encoding on a request: the reference cannot read chunked uploads (411) and the
    /// connection cannot be resynchronised, so it is closed.
    ChunkedUpload,
    BodyTooLarge,
    UriTooLong,
    HeadTooLarge,
}

impl HeadError {
    pub fn status(self) -> u16 {
        match self {
            HeadError::BadRequest => 400,
            HeadError::LengthRequired | HeadError::ChunkedUpload => 411,
            HeadError::BodyTooLarge => 413,
            HeadError::UriTooLong => 414,
            HeadError::HeadTooLarge => 431,
        }
    }

    /// Whether the connection can go on after the error response. Only a POST that simply
    /// lacked a length leaves the stream in a known place (the reference keeps it open too).
    pub fn keeps_connection(self) -> bool {
        matches!(self, HeadError::LengthRequired)
    }
}

/// Result of looking at the start of a connection's input buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadParse {
    /// Need more bytes (and the buffer is still within limits).
    Partial,
    /// A head occupying `len` bytes (after `skipped` leading blank-line bytes).
    Complete {
        head: Head,
        skipped: usize,
        len: usize,
    },
    /// `version` is the request's version when it could be read (for the status line).
    Error { error: HeadError, version: Version },
}

/// Parses a request head at the start of `buf`.
pub fn parse_head(buf: &[u8], limits: &Limits) -> HeadParse {
    // Clients may send stray CRLFs between pipelined requests; RFC 9112 says to ignore them.
    let skipped = buf
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    let buf = &buf[skipped..];
    let version_guess = guess_version(buf);
    let fail = |error| HeadParse::Error {
        error,
        version: version_guess,
    };

    let mut headers = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            return partial_state(buf, skipped, limits).map_or(HeadParse::Partial, fail);
        }
        Err(httparse::Error::TooManyHeaders) => return fail(HeadError::HeadTooLarge),
        Err(_) => {
            // An over-long target may fail to parse only because it was cut; report the limit.
            return match partial_state(buf, skipped, limits) {
                Some(error) => fail(error),
                None => fail(HeadError::BadRequest),
            };
        }
    };
    if skipped + len > limits.max_head_bytes {
        return fail(HeadError::HeadTooLarge);
    }
    let (Some(method), Some(target), Some(minor)) = (request.method, request.path, request.version)
    else {
        return fail(HeadError::BadRequest);
    };
    if target.len() > limits.max_uri_bytes {
        return fail(HeadError::UriTooLong);
    }
    let version = if minor == 0 {
        Version::Http10
    } else {
        Version::Http11
    };
    let fail = |error| HeadParse::Error { error, version };
    let headers: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|h| (h.name.to_string(), h.value.to_vec()))
        .collect();
    let find_all = |name: &'static str| {
        headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
    };

    let chunked = find_all("transfer-encoding").next().is_some();
    let mut content_length: Option<usize> = None;
    for (_, value) in find_all("content-length") {
        let Some(n) = parse_decimal(value) else {
            return fail(HeadError::BadRequest);
        };
        if content_length.is_some_and(|previous| previous != n) {
            return fail(HeadError::BadRequest);
        }
        content_length = Some(n);
    }

    let connection_has = |token: &'static str| {
        find_all("connection").any(|(_, v)| {
            v.split(|b| *b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
        })
    };
    let keep_alive = match version {
        Version::Http11 => !connection_has("close"),
        Version::Http10 => connection_has("keep-alive"),
    };
    let expects_continue = version == Version::Http11
        && find_all("expect").any(|(_, v)| v.trim_ascii().eq_ignore_ascii_case(b"100-continue"));

    let head = Head {
        method: method.to_string(),
        target: target.to_string(),
        version,
        headers,
        content_length,
        keep_alive,
        expects_continue,
        chunked,
    };
    HeadParse::Complete { head, skipped, len }
}

/// For an incomplete head: which limit (if any) it already broke. The blank lines skipped before
/// it count too: the connection stops reading at the limit, so a head that is still partial
/// there must be an error, or the connection would wait forever without reading its EOF.
fn partial_state(buf: &[u8], skipped: usize, limits: &Limits) -> Option<HeadError> {
    let line_end = buf.iter().position(|b| *b == b'\n');
    let request_line = &buf[..line_end.unwrap_or(buf.len())];
    // Bytes of the target seen so far: after the first space, up to the next one.
    let target_len = request_line
        .iter()
        .position(|b| *b == b' ')
        .map(|start| {
            request_line[start + 1..]
                .split(|b| *b == b' ')
                .next()
                .map_or(0, |t| t.len())
        })
        .unwrap_or(0);
    if target_len > limits.max_uri_bytes {
        return Some(HeadError::UriTooLong);
    }
    if skipped + buf.len() > limits.max_head_bytes {
        return Some(HeadError::HeadTooLarge);
    }
    None
}

/// The version named at the end of the request line, if it can be seen; the status line of an
/// error response echoes it.
fn guess_version(buf: &[u8]) -> Version {
    let line_end = buf.iter().position(|b| *b == b'\n').unwrap_or(buf.len());
    let line = buf[..line_end].trim_ascii();
    if line.ends_with(b"HTTP/1.0") {
        Version::Http10
    } else {
        Version::Http11
    }
}

fn parse_decimal(value: &[u8]) -> Option<usize> {
    let value = value.trim_ascii();
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// Decodes `%XX` escapes (invalid escapes stay as written) into bytes, then UTF-8 lossily.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(value) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(value);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_head_bytes: 256,
            max_headers: 4,
            max_uri_bytes: 64,
            max_body_bytes: 100,
            ..Limits::default()
        }
    }

    fn complete(buf: &str) -> Head {
        match parse_head(buf.as_bytes(), &limits()) {
            HeadParse::Complete { head, .. } => head,
            other => panic!("{buf:?} -> {other:?}"),
        }
    }

    #[test]
    fn errors_and_partials() {
        let long_uri = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(70));
        let long_uri_partial = format!("GET /{}", "a".repeat(70));
        let long_header = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "v".repeat(300));
        let long_header_partial = format!("GET / HTTP/1.1\r\nX: {}", "v".repeat(300));
        let cases: Vec<(&str, Option<(HeadError, Version)>)> = vec![
            ("GET / HTTP/1.1\r\n", None),
            ("GET / HTTP/1.1\r\nHost: x\r\n", None),
            ("", None),
            ("\r\n", None),
            (
                "HELLO\r\n\r\n",
                Some((HeadError::BadRequest, Version::Http11)),
            ),
            (
                "GET / HTTP/1.1 extra\r\n\r\n",
                Some((HeadError::BadRequest, Version::Http11)),
            ),
            (
                "GET /ok.html\r\n\r\n",
                Some((HeadError::BadRequest, Version::Http11)),
            ),
            (
                "GET / HTTP/2.0\r\n\r\n",
                Some((HeadError::BadRequest, Version::Http11)),
            ),
            (
                "GET / HTTP/1.0\r\nBad Header\r\n\r\n",
                Some((HeadError::BadRequest, Version::Http10)),
            ),
            (
                "POST /RPC2 HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                Some((HeadError::BadRequest, Version::Http11)),
            ),
            (
                "POST /RPC2 HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                Some((HeadError::BadRequest, Version::Http11)),
            ),
            (
                "POST /RPC2 HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                Some((HeadError::BadRequest, Version::Http11)),
            ),
            (
                "POST /RPC2 HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                Some((HeadError::BadRequest, Version::Http11)),
            ),
            (&long_uri, Some((HeadError::UriTooLong, Version::Http11))),
            (
                &long_uri_partial,
                Some((HeadError::UriTooLong, Version::Http11)),
            ),
            (
                &long_header,
                Some((HeadError::HeadTooLarge, Version::Http11)),
            ),
            (
                &long_header_partial,
                Some((HeadError::HeadTooLarge, Version::Http11)),
            ),
            (
                "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n",
                Some((HeadError::HeadTooLarge, Version::Http11)),
            ),
        ];
        for (input, want) in cases {
            let got = parse_head(input.as_bytes(), &limits());
            match want {
                None => assert_eq!(got, HeadParse::Partial, "{input:?}"),
                Some((error, version)) => {
                    assert_eq!(got, HeadParse::Error { error, version }, "{input:?}")
                }
            }
        }
    }

    #[test]
    fn body_rules() {
        let cases = [
            (
                "POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                Some(HeadError::ChunkedUpload),
            ),
            (
                "POST /RPC2 HTTP/1.1\r\nContent-Length: 101\r\n\r\n",
                Some(HeadError::BodyTooLarge),
            ),
            (
                "GET / HTTP/1.1\r\nContent-Length: 101\r\n\r\n",
                Some(HeadError::BodyTooLarge),
            ),
            ("POST /RPC2 HTTP/1.1\r\nContent-Length: 100\r\n\r\n", None),
            (
                "POST /RPC2 HTTP/1.1\r\n\r\n",
                Some(HeadError::LengthRequired),
            ),
            ("GET /RPC2 HTTP/1.1\r\n\r\n", None),
        ];
        for (input, want) in cases {
            assert_eq!(complete(input).body_problem(&limits()), want, "{input:?}");
        }
    }

    #[test]
    fn keep_alive_rules() {
        let cases = [
            ("GET / HTTP/1.1\r\n\r\n", true),
            ("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
            (
                "GET / HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n",
                false,
            ),
            ("GET / HTTP/1.0\r\n\r\n", false),
            ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
            ("GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n", true),
        ];
        for (input, want) in cases {
            assert_eq!(complete(input).keep_alive, want, "{input:?}");
        }
    }

    #[test]
    fn complete_heads() {
        let input =
            "\r\n\r\nPOST /RPC2 HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello";
        match parse_head(input.as_bytes(), &limits()) {
            HeadParse::Complete { head, skipped, len } => {
                assert_eq!(skipped, 4);
                assert_eq!(&input[skipped + len..], "hello");
                assert_eq!(head.method, "POST");
                assert_eq!(head.target, "/RPC2");
                assert_eq!(head.version, Version::Http10);
                assert_eq!(head.content_length, Some(5));
                assert!(!head.expects_continue, "1.0 clients get no 100 Continue");
                assert_eq!(head.header("content-length"), Some(&b"5"[..]));
                assert_eq!(head.request_line(), "POST /RPC2 HTTP/1.0");
            }
            other => panic!("{other:?}"),
        }
        let lf_only = complete("GET /ok.html HTTP/1.1\nHost: x\n\n");
        assert_eq!(lf_only.target, "/ok.html");
        assert_eq!(lf_only.content_length, None);
        assert_eq!(complete("POST /RPC2 HTTP/1.1\r\n\r\n").content_length, None);
        let expect =
            complete("POST / HTTP/1.1\r\nContent-Length: 1\r\nExpect: 100-Continue\r\n\r\n");
        assert!(expect.expects_continue);
    }

    #[test]
    fn percent_decoding() {
        let cases = [
            ("/logtail/a%3Ab/stdout", "/logtail/a:b/stdout"),
            ("/plain", "/plain"),
            ("%", "%"),
            ("%4", "%4"),
            ("%zz", "%zz"),
            ("a%20b%", "a b%"),
            ("%41%42", "AB"),
        ];
        for (input, want) in cases {
            assert_eq!(percent_decode(input), want, "{input:?}");
        }
    }
}
