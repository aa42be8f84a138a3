//! The bodies of the fuzz targets (fuzz/fuzz_targets/*.rs): each takes arbitrary bytes, runs one
//! parser on them and panics only when an invariant breaks. They live in the library so that a
//! plain `cargo test` on stable replays the checked-in corpora (fuzz/corpus/<target>/*) through
//! exactly the code the fuzzer ran.

use std::io::Cursor;
use std::path::Path;
use std::time::{Duration, Instant, UNIX_EPOCH};

use crate::config::model::Credentials;
use crate::events::listener::{Listener, ListenerAction, ListenerState};
use crate::http::Response;
use crate::http::connection::Conn;
use crate::http::request::{HeadParse, Limits, parse_head, percent_decode};
use crate::http::router::{Route, route};
use crate::xmlrpc::{self, DecodeOptions, Value};

/// A target's body: arbitrary bytes in, a panic only when an invariant breaks.
pub type Body = fn(&[u8]);

/// Every target, by the name of its fuzz/fuzz_targets file and corpus directory.
pub const TARGETS: &[(&str, Body)] = &[
    ("http_request", http_request),
    ("xmlrpc_call", xmlrpc_call),
    ("xmlrpc_response", xmlrpc_response),
    ("config", config),
    ("event_listener", event_listener),
    ("ctl_response", ctl_response),
];

/// Small limits, so that every limit is within the fuzzer's reach (inputs of a few KiB).
fn small_limits() -> Limits {
    Limits {
        max_head_bytes: 512,
        max_headers: 8,
        max_uri_bytes: 128,
        max_body_bytes: 256,
        max_stream_buffer: 1024,
        ..Limits::default()
    }
}

/// A deterministic sequence of piece sizes (1..=max) from a seed byte.
struct Pieces(u32);

impl Pieces {
    fn next(&mut self, max: usize) -> usize {
        self.0 = self.0.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        1 + (self.0 >> 16) as usize % max.max(1)
    }
}

/// The HTTP request parser and the connection state machine. The first byte chooses whether
/// the server has credentials and how the rest is cut into reads. Invariants: no panic; a head
/// is never Partial past the head limit; a connection that stops reading is waiting for the
/// daemon or for its own output (else it would never see its peer's EOF: the CLOSE-WAIT leak);
/// buffered input stays within the limits; nothing a client sends is answered with a 5xx.
pub fn http_request(data: &[u8]) {
    let Some((&flags, input)) = data.split_first() else {
        return;
    };
    let limits = small_limits();
    match parse_head(input, &limits) {
        HeadParse::Partial => assert!(
            input.len() <= limits.max_head_bytes,
            "partial head past the limit"
        ),
        HeadParse::Complete { head, skipped, len } => {
            assert!(skipped + len <= input.len().min(limits.max_head_bytes));
            let _ = percent_decode(&head.target);
            let _ = route(&head.method, &head.target);
            let _ = head.body_problem(&limits);
        }
        HeadParse::Error { .. } => {}
    }

    let credentials = Credentials {
        username: "user".into(),
        password: "secret".into(),
    };
    let credentials = (flags & 1 == 1).then_some(&credentials);
    let t0 = Instant::now();
    let wall = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let mut conn = Conn::new(t0);
    let mut pieces = Pieces(u32::from(flags));
    let mut fed = 0;
    let mut answered = 0;
    loop {
        while let Some(accepted) = conn.advance(&limits, credentials, t0, wall) {
            let route = route(&accepted.head.method, &accepted.head.target);
            if let Route::Error(status) = route {
                assert!(status < 500, "route gives {status}");
            }
            answered += 1;
            // Alternate plain answers and streams, like the daemon's routes.
            if answered % 3 == 0 {
                conn.start_stream(200, &[], wall);
                conn.push_chunk(b"stream bytes", &limits);
            } else {
                conn.respond(&Response::ok("text/plain", "OK"), t0, wall);
            }
        }
        for entry in conn.take_access_entries() {
            assert!(
                entry.status < 500,
                "{} -> {}",
                entry.request_line,
                entry.status
            );
        }
        let n = conn.pending_output().len();
        conn.wrote(n, t0);
        if conn.ready_to_shut_down() {
            conn.start_draining(t0);
        }
        let room = conn.read_room(&limits);
        if room == 0 {
            assert!(
                conn.waits_for_output_or_daemon(),
                "stopped reading while waiting for input"
            );
            break;
        }
        if fed >= input.len() {
            break;
        }
        let end = input.len().min(fed + pieces.next(64).min(room));
        conn.on_input(&input[fed..end], t0);
        fed = end;
    }
    // Every deadline: 408s are client errors too.
    let later = t0 + Duration::from_secs(3600);
    let _ = conn.on_timeout(&limits, later, wall);
    for entry in conn.take_access_entries() {
        assert!(
            entry.status < 500,
            "{} -> {}",
            entry.request_line,
            entry.status
        );
    }
}

/// Both dialects' `<methodCall>` decoders (the server's lenient one, Python's strict one).
pub fn xmlrpc_call(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let server = DecodeOptions {
        max_bytes: 1 << 20,
        ..DecodeOptions::server()
    };
    let _ = xmlrpc::decode_call(&text, &server);
    let client = DecodeOptions {
        max_bytes: 1 << 20,
        ..DecodeOptions::client()
    };
    let _ = xmlrpc::decode_call(&text, &client);
}

/// The client's two response decoders, differentially: whatever the fast path decodes, the
/// tree decoder decodes to the same value (it may leave documents to the tree, never contradict
/// it). The server dialect's response decoder runs too.
pub fn xmlrpc_response(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let client = DecodeOptions {
        max_bytes: 1 << 20,
        ..DecodeOptions::client()
    };
    let (fast, tree) = xmlrpc::response_both_ways(&text, &client);
    if let Some(fast) = fast {
        match &tree {
            Ok(tree) => assert!(
                same_result(&fast, tree),
                "fast path {fast:?} but tree decoder {tree:?}"
            ),
            Err(e) => panic!("fast path {fast:?} but tree decoder failed: {e}"),
        }
    }
    let _ = xmlrpc::decode_response(&text, &client);
    let server = DecodeOptions {
        max_bytes: 1 << 20,
        ..DecodeOptions::server()
    };
    let _ = xmlrpc::decode_response(&text, &server);
}

fn same_result(a: &Result<Value, Value>, b: &Result<Value, Value>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) | (Err(x), Err(y)) => same_value(x, y),
        _ => false,
    }
}

/// Equality where NaN equals NaN (a decoded `<double>nan</double>` is a value like any other).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Struct(x), Value::Struct(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
        }
        _ => a == b,
    }
}

/// The config loader on a whole file's text (ini syntax, `%(x)s` expansion, every section's
/// value parsers), then each value parser directly on the text.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::config::load::check_text(&text, Path::new("/nonexistent/fuzz/supervisord.conf"));
    use crate::config::values;
    let v = text.as_ref();
    let _ = values::integer(v);
    let _ = values::boolean(v);
    let _ = values::byte_size(v);
    let _ = values::signal(v);
    let _ = values::exitcodes(v);
    let _ = values::octal(v);
    let _ = values::autorestart(v);
    let _ = values::logfile_name(v);
    let _ = values::log_level(v);
    let _ = values::name(v);
    let _ = values::inet_address(v);
    let _ = values::list_of_strings(v);
    let _ = values::environment(v);
    let _ = values::expanduser(v);
}

/// The event-listener protocol reader: the listener's stdout in pieces (the first byte seeds
/// the cuts), with an event sent whenever it says READY. Invariants: no panic; what it holds
/// back is bounded (a `RESULT <huge n>` is counted, not buffered); an UNKNOWN listener holds no
/// event; only events that were sent come back.
pub fn event_listener(data: &[u8]) {
    let Some((&seed, output)) = data.split_first() else {
        return;
    };
    let mut listener = Listener::new("fuzz");
    let mut pieces = Pieces(u32::from(seed));
    let mut fed = 0;
    let mut serial = 0;
    while fed < output.len() {
        if listener.is_ready() {
            serial += 1;
            listener.sent(crate::events::pool::BufferedEvent {
                serial,
                pool_serial: serial,
                event: crate::events::Event::SupervisorRunning,
            });
        }
        let end = output.len().min(fed + pieces.next(32));
        for action in listener.feed(&output[fed..end]) {
            if let ListenerAction::Rebuffer(event) = action {
                assert!(event.serial <= serial);
            }
        }
        fed = end;
        assert!(
            listener.buffered() <= crate::events::listener::MAX_BUFFERED,
            "a listener's output is buffered without bound"
        );
        if listener.state == ListenerState::Unknown {
            assert!(
                listener.event.is_none(),
                "an UNKNOWN listener kept its event"
            );
        }
    }
    let _ = listener.died();
}

/// supervisorctl's reading of an HTTP response (head, chunked or sized body) and, for a 200, of
/// the XML-RPC inside. Also the `tail -f` chunk reader.
pub fn ctl_response(data: &[u8]) {
    let mut reader = Cursor::new(data);
    if let Ok((head, body)) = crate::ctl::transport::read_response(&mut reader)
        && head.status == 200
        && let Ok(text) = String::from_utf8(body)
    {
        let client = DecodeOptions {
            max_bytes: 1 << 20,
            ..DecodeOptions::client()
        };
        let _ = xmlrpc::decode_response(&text, &client);
    }
    let mut reader = Cursor::new(data);
    while let Ok(Some(_)) = crate::ctl::transport::read_chunk(&mut reader) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays every checked-in corpus file (and every crash turned regression) through its
    /// target's body: CI runs what the fuzzer found, on stable, without cargo-fuzz.
    #[test]
    fn fuzz_corpora_replay_without_panics() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let mut replayed = 0;
        for (name, body) in TARGETS {
            for dir in ["corpus", "regressions"] {
                let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let data = std::fs::read(entry.path()).unwrap();
                    let outcome = std::panic::catch_unwind(|| body(&data));
                    assert!(
                        outcome.is_ok(),
                        "{name}: {} panicked",
                        entry.path().display()
                    );
                    replayed += 1;
                }
            }
        }
        assert!(replayed > 0, "no corpus files under {}", root.display());
    }
}
