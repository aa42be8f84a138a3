//! The client side of the orchestrator probes: one authenticated `GET` (`/readyz` by default)
//! to the server supervisorctl would talk to, for container HEALTHCHECKs in images that have no
//! shell and no curl (`supervisor probe`).

use std::io::{BufReader, Write};
use std::time::Duration;

use super::transport::{self, Endpoint};

/// One GET of `path` at `serverurl`; Ok((status, body)) or the reason it could not be asked.
pub fn get(
    serverurl: &str,
    username: Option<&str>,
    password: Option<&str>,
    path: &str,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), String> {
    let endpoint = Endpoint::parse(serverurl)?;
    let mut stream = endpoint
        .connect()
        .map_err(|e| format!("{serverurl}: {e}"))?;
    let timeouts = match &stream {
        transport::Stream::Unix(s) => s
            .set_read_timeout(Some(timeout))
            .and(s.set_write_timeout(Some(timeout))),
        transport::Stream::Tcp(s) => s
            .set_read_timeout(Some(timeout))
            .and(s.set_write_timeout(Some(timeout))),
    };
    timeouts.map_err(|e| e.to_string())?;
    let mut request = format!(
        "GET {path} HTTP/1.0\r\nHost: {}\r\n",
        endpoint.host_header()
    );
    if let Some(auth) = transport::basic_auth(username, password) {
        request.push_str(&format!("Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{serverurl}: {e}"))?;
    let mut reader = BufReader::new(stream);
    let head = transport::read_head(&mut reader).map_err(|e| format!("{serverurl}: {e}"))?;
    let body = transport::read_body(&mut reader, &head).map_err(|e| format!("{serverurl}: {e}"))?;
    Ok((head.status, body))
}
