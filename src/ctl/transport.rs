//! The blocking HTTP/1.1 client supervisorctl talks XML-RPC over: unix:// or http:// server
//! URLs, one kept-alive connection reused across calls, basic auth, Content-Length or chunked
//! responses.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use base64::Engine;

use crate::wire::FaultCode;
use crate::xmlrpc::{self, DecodeOptions, Response, Value};

/// Where a server URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp { host: String, port: u16 },
}

impl Endpoint {
    /// Accepts `unix:///path` and `http://host[:port][/...]` like the reference's transport.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        if let Some(path) = url.strip_prefix("unix://") {
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(format!("Unknown protocol for serverurl {url}"));
        };
        let netloc = rest.split(['/', '?', '#']).next().unwrap_or("");
        let hostport = netloc.rsplit('@').next().unwrap_or("");
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').unwrap_or((v6, ""));
            (h.to_string(), after.strip_prefix(':').unwrap_or(""))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p),
                None => (hostport.to_string(), ""),
            }
        };
        let port = if port.is_empty() {
            80
        } else {
            port.parse::<u16>()
                .map_err(|_| format!("Port could not be cast to integer value as {port:?}"))?
        };
        Ok(Endpoint::Tcp {
            host: host.to_lowercase(),
            port,
        })
    }

    /// The Host header value.
    pub(crate) fn host_header(&self) -> String {
        match self {
            Endpoint::Unix(_) => "localhost".to_string(),
            Endpoint::Tcp { host, port: 80 } => host.clone(),
            Endpoint::Tcp { host, port } => format!("{host}:{port}"),
        }
    }

    pub fn connect(&self) -> io::Result<Stream> {
        match self {
            Endpoint::Unix(path) => UnixStream::connect(path).map(Stream::Unix),
            Endpoint::Tcp { host, port } => {
                TcpStream::connect((host.as_str(), *port)).map(Stream::Tcp)
            }
        }
    }
}

/// A connected socket of either kind.
pub enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for Stream {
    /// Retries EINTR unless Ctrl-C was pressed, which ends the read with an error.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let result = match self {
                Stream::Unix(s) => s.read(buf),
                Stream::Tcp(s) => s.read(buf),
            };
            match result {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    if super::interrupt::INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
                        return Err(io::Error::other("interrupted"));
                    }
                }
                other => return other,
            }
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.flush(),
            Stream::Tcp(s) => s.flush(),
        }
    }
}

impl Stream {
    pub fn try_clone(&self) -> io::Result<Stream> {
        match self {
            Stream::Unix(s) => s.try_clone().map(Stream::Unix),
            Stream::Tcp(s) => s.try_clone().map(Stream::Tcp),
        }
    }

    pub fn shutdown(&self) {
        let _ = match self {
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Both),
            Stream::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
        };
    }
}

/// Why a call did not return a value.
#[derive(Debug)]
pub enum CallError {
    /// An XML-RPC fault from the server.
    Fault { code: i64, string: String },
    /// A non-200 HTTP status.
    Protocol { status: u16, reason: String },
    /// Connecting, writing or reading failed.
    Io(io::Error),
    /// The response was not HTTP or not XML-RPC.
    BadResponse(String),
    /// The request could not be encoded (a caller bug, kept as an error rather than a panic).
    Encode(String),
}

impl CallError {
    /// True for a fault with this code from the server.
    pub fn is_fault(&self, fault: FaultCode) -> bool {
        matches!(self, CallError::Fault { code, .. } if *code == fault.code())
    }
}

impl From<io::Error> for CallError {
    fn from(e: io::Error) -> CallError {
        CallError::Io(e)
    }
}

/// Basic auth header value, sent only when both username and password are set.
pub fn basic_auth(username: Option<&str>, password: Option<&str>) -> Option<String> {
    let (u, p) = (username?, password?);
    Some(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
    ))
}

/// An XML-RPC client holding at most one open connection.
pub struct RpcClient {
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
    conn: Option<BufReader<Stream>>,
}

impl RpcClient {
    pub fn new(serverurl: &str, username: Option<String>, password: Option<String>) -> RpcClient {
        RpcClient {
            serverurl: serverurl.to_string(),
            username,
            password,
            conn: None,
        }
    }

    /// Forgets the connection (after a server change or an error).
    pub fn reset(&mut self) {
        self.conn = None;
    }

    /// Calls `method` and returns its value, or the fault / transport error.
    pub fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, CallError> {
        let body =
            xmlrpc::encode_call(method, params).map_err(|e| CallError::Encode(e.to_string()))?;
        let endpoint = Endpoint::parse(&self.serverurl).map_err(CallError::BadResponse)?;
        let reused = self.conn.is_some();
        let result = self.round_trip(&endpoint, &body);
        let result = match result {
            // A kept-alive connection the server closed meanwhile: one fresh attempt.
            Err(CallError::Io(ref e)) if reused && is_stale(e) => {
                self.conn = None;
                self.round_trip(&endpoint, &body)
            }
            other => other,
        };
        if result.is_err() {
            self.conn = None;
        }
        let text = result?;
        match xmlrpc::decode_response(&text, &DecodeOptions::client()) {
            Ok(Response::Success(v)) => Ok(v),
            Ok(Response::Fault { code, string }) => Err(CallError::Fault { code, string }),
            Err(e) => Err(CallError::BadResponse(e.to_string())),
        }
    }

    fn round_trip(&mut self, endpoint: &Endpoint, body: &str) -> Result<String, CallError> {
        if self.conn.is_none() {
            self.conn = Some(BufReader::new(endpoint.connect()?));
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(CallError::BadResponse("no connection".into()));
        };
        let mut request = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: identity\r\nUser-Agent: supervisorctl (supervisor-rs)\r\nContent-Type: text/xml\r\nAccept: text/xml\r\n",
            endpoint.host_header()
        );
        if let Some(auth) = basic_auth(self.username.as_deref(), self.password.as_deref()) {
            request.push_str(&format!("Authorization: {auth}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        request.push_str(body);
        conn.get_mut().write_all(request.as_bytes())?;
        let (head, body) = read_response(conn)?;
        if head.close {
            self.conn = None;
        }
        if head.status != 200 {
            self.conn = None;
            return Err(CallError::Protocol {
                status: head.status,
                reason: head.reason,
            });
        }
        String::from_utf8(body).map_err(|_| CallError::BadResponse("response is not UTF-8".into()))
    }
}

fn is_stale(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

/// The parts of a response head the client acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub reason: String,
    pub content_length: Option<usize>,
    pub chunked: bool,
    /// The server will close the connection after this response.
    pub close: bool,
}

const MAX_HEAD: usize = 64 * 1024;
/// Most a Content-Length may make us allocate before the bytes arrive.
const MAX_RESERVE: usize = 16 << 20;

/// Reads the status line and headers (up to the blank line).
pub fn read_head<R: BufRead>(r: &mut R) -> io::Result<Head> {
    let mut raw = Vec::new();
    loop {
        let before = raw.len();
        let n = r.read_until(b'\n', &mut raw)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before a response",
            ));
        }
        if raw.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "response head too large",
            ));
        }
        let line = &raw[before..];
        if (line == b"\r\n" || line == b"\n") && before > 0 {
            break;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(&raw) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "malformed response head",
            ));
        }
    }
    let mut head = Head {
        status: resp.code.unwrap_or(0),
        reason: resp.reason.unwrap_or("").to_string(),
        content_length: None,
        chunked: false,
        close: resp.version == Some(0),
    };
    for h in resp.headers.iter() {
        let value = String::from_utf8_lossy(h.value).trim().to_ascii_lowercase();
        match h.name.to_ascii_lowercase().as_str() {
            "content-length" => head.content_length = value.parse().ok(),
            "transfer-encoding" => head.chunked = value.contains("chunked"),
            "connection" if value == "close" => head.close = true,
            "connection" if value == "keep-alive" => head.close = false,
            _ => {}
        }
    }
    Ok(head)
}

/// Reads one whole response (head and body) as `RpcClient` does.
pub fn read_response<R: BufRead>(r: &mut R) -> io::Result<(Head, Vec<u8>)> {
    let head = read_head(r)?;
    let body = read_body(r, &head)?;
    Ok((head, body))
}

/// Reads a whole body: chunked, by Content-Length, or until the server closes.
pub(crate) fn read_body<R: BufRead>(r: &mut R, head: &Head) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if head.chunked {
        while let Some(chunk) = read_chunk(r)? {
            body.extend_from_slice(&chunk);
        }
    } else if let Some(n) = head.content_length {
        // Read into spare capacity (no zero-filling); the reservation is capped because the
        // length is the server's word.
        body.reserve(n.min(MAX_RESERVE));
        r.take(n as u64).read_to_end(&mut body)?;
        if body.len() < n {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "failed to fill whole buffer",
            ));
        }
    } else {
        r.read_to_end(&mut body)?;
    }
    Ok(body)
}

/// One chunk of a chunked body; None after the last (zero-size) chunk and its trailer.
pub fn read_chunk<R: BufRead>(r: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "chunked body ended early",
        ));
    }
    let size_text = line.trim().split(';').next().unwrap_or("").trim();
    let size = usize::from_str_radix(size_text, 16)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
    if size == 0 {
        loop {
            line.clear();
            if r.read_line(&mut line)? == 0 || line.trim().is_empty() {
                return Ok(None);
            }
        }
    }
    // The size is the server's word: read what arrives instead of allocating it up front (a
    // bogus `666666666333333` chunk once asked for 400 PiB and aborted the client).
    let mut data = Vec::with_capacity(size.min(MAX_RESERVE));
    r.take(size as u64).read_to_end(&mut data)?;
    if data.len() < size {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "chunked body ended early",
        ));
    }
    line.clear();
    r.read_line(&mut line)?;
    Ok(Some(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (fuzz, ctl_response): a huge chunk size was allocated before reading.
    #[test]
    fn huge_chunk_size_is_not_allocated_up_front() {
        let mut r = std::io::Cursor::new(&b"666666666333333\r\nshort"[..]);
        let err = read_chunk(&mut r).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let mut r = std::io::Cursor::new(&b"3\r\nabc\r\n0\r\n\r\n"[..]);
        assert_eq!(read_chunk(&mut r).unwrap(), Some(b"abc".to_vec()));
        assert_eq!(read_chunk(&mut r).unwrap(), None);
    }

    #[test]
    fn endpoints() {
        let cases = [
            (
                "unix:///tmp/s.sock",
                Ok(Endpoint::Unix("/tmp/s.sock".into())),
            ),
            (
                "http://localhost:9001",
                Ok(Endpoint::Tcp {
                    host: "localhost".into(),
                    port: 9001,
                }),
            ),
            (
                "http://Host",
                Ok(Endpoint::Tcp {
                    host: "host".into(),
                    port: 80,
                }),
            ),
            (
                "http://u:p@h:1/RPC2",
                Ok(Endpoint::Tcp {
                    host: "h".into(),
                    port: 1,
                }),
            ),
            (
                "http://[::1]:5",
                Ok(Endpoint::Tcp {
                    host: "::1".into(),
                    port: 5,
                }),
            ),
        ];
        for (url, want) in cases {
            assert_eq!(Endpoint::parse(url), want, "{url}");
        }
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://h:port").is_err());
    }

    #[test]
    fn auth_only_with_both_parts() {
        assert_eq!(
            basic_auth(Some("user"), Some("123")),
            Some("Basic dXNlcjoxMjM=".to_string())
        );
        assert_eq!(basic_auth(Some("user"), None), None);
        assert_eq!(basic_auth(None, Some("x")), None);
    }

    #[test]
    fn response_framing() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\nHTTP/1.0 401 Unauthorized\r\nContent-Length: 2\r\n\r\nno";
        let mut r = BufReader::new(&raw[..]);
        let head = read_head(&mut r).unwrap();
        assert_eq!((head.status, head.chunked, head.close), (200, true, false));
        assert_eq!(read_body(&mut r, &head).unwrap(), b"abcde");
        let head = read_head(&mut r).unwrap();
        assert_eq!(
            (head.status, head.reason.as_str(), head.close),
            (401, "Unauthorized", true)
        );
        assert_eq!(read_body(&mut r, &head).unwrap(), b"no");
        assert!(read_head(&mut r).is_err());
    }
}
