//! Unit tests of the connection state machine (no sockets; time is passed in).

use super::*;
use std::time::{Duration, UNIX_EPOCH};

fn wall() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_470_945)
}

fn limits() -> Limits {
    Limits {
        max_head_bytes: 512,
        max_headers: 8,
        max_uri_bytes: 128,
        max_body_bytes: 64,
        max_stream_buffer: 100,
        ..Limits::default()
    }
}

fn creds() -> Credentials {
    Credentials {
        username: "user".into(),
        password: "secret".into(),
    }
}

const AUTH: &str = "Authorization: Basic dXNlcjpzZWNyZXQ=\r\n";

/// Feeds `input`, advances, and returns the accepted requests (answering each with `answer`).
fn run(
    conn: &mut Conn,
    input: &str,
    credentials: Option<&Credentials>,
    t0: Instant,
) -> Vec<Accepted> {
    conn.on_input(input.as_bytes(), t0);
    let mut got = Vec::new();
    while let Some(accepted) = conn.advance(&limits(), credentials, t0, wall()) {
        got.push(accepted);
        if conn.is_dispatched() {
            let body = format!("answer {}", got.len());
            conn.respond(&Response::ok("text/plain", body), t0, wall());
        }
    }
    got
}

fn output(conn: &mut Conn, t0: Instant) -> String {
    let text = String::from_utf8_lossy(conn.pending_output()).into_owned();
    let n = conn.pending_output().len();
    conn.wrote(n, t0);
    text
}

#[test]
fn local_error_statuses() {
    let t0 = Instant::now();
    let cases: Vec<(String, Option<Credentials>, &str, bool)> = vec![
        (
            "HELLO\r\n\r\n".into(),
            None,
            "HTTP/1.1 400 Bad Request",
            false,
        ),
        (
            "GET / HTTP/1.0\r\nBad Header\r\n\r\n".into(),
            None,
            "HTTP/1.0 400 Bad Request",
            false,
        ),
        (
            "POST /RPC2 HTTP/1.1\r\n\r\n".into(),
            None,
            "HTTP/1.1 411 Length Required",
            true,
        ),
        (
            "POST /RPC2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".into(),
            None,
            "HTTP/1.0 411 Length Required",
            true,
        ),
        (
            "POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                .into(),
            None,
            "HTTP/1.1 411 Length Required",
            false,
        ),
        (
            "POST /RPC2 HTTP/1.1\r\nContent-Length: 65\r\n\r\n".into(),
            None,
            "HTTP/1.1 413 Request Entity Too Large",
            false,
        ),
        (
            format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(200)),
            None,
            "HTTP/1.1 414 Request-URI Too Long",
            false,
        ),
        (
            format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(600)),
            None,
            "HTTP/1.1 431 Request Header Fields Too Large",
            false,
        ),
        (
            "GET / HTTP/1.1\r\n\r\n".into(),
            Some(creds()),
            "HTTP/1.1 401 Unauthorized",
            false,
        ),
        (
            "GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjp3cm9uZw==\r\n\r\n".into(),
            Some(creds()),
            "HTTP/1.1 401 Unauthorized",
            false,
        ),
        // Undecodable credentials are the client's fault: 400, never a 5xx (the reference
        // answers 500 for a text without ':' like this one, 400 for bad base64).
        (
            "GET / HTTP/1.1\r\nAuthorization: Basic dXNlcg==\r\n\r\n".into(),
            Some(creds()),
            "HTTP/1.1 400 Bad Request",
            false,
        ),
        (
            "GET / HTTP/1.1\r\nAuthorization: Basic A\r\n\r\n".into(),
            Some(creds()),
            "HTTP/1.1 400 Bad Request",
            false,
        ),
        (
            "POST /RPC2 HTTP/1.1\r\nAuthorization: Basic !!!!\r\nContent-Length: 3\r\n\r\nabc"
                .into(),
            Some(creds()),
            "HTTP/1.1 400 Bad Request",
            false,
        ),
        // Blank lines before a request count toward the head limit (512 here).
        ("\r\n".repeat(257), None, "HTTP/1.1 431 ", false),
        (
            "\r\n".repeat(200) + "GET / HTTP/1.1\r\nX: " + &"y".repeat(200),
            None,
            "HTTP/1.1 431 ",
            false,
        ),
        // Auth comes before the length check, so a stranger learns nothing else.
        (
            "POST /RPC2 HTTP/1.1\r\n\r\n".into(),
            Some(creds()),
            "HTTP/1.1 401 Unauthorized",
            false,
        ),
    ];
    for (input, credentials, want_status, keeps) in cases {
        let mut conn = Conn::new(t0);
        let got = run(&mut conn, &input, credentials.as_ref(), t0);
        assert!(got.is_empty(), "{input:?} should not reach the daemon");
        let text = output(&mut conn, t0);
        assert!(text.starts_with(want_status), "{input:?} -> {text:?}");
        assert_eq!(
            conn.ready_to_shut_down(),
            !keeps,
            "{input:?} close after error"
        );
    }
}

#[test]
fn pipelined_requests_answered_in_order_with_keep_alive() {
    let t0 = Instant::now();
    let mut conn = Conn::new(t0);
    let input = format!(
        "GET /a HTTP/1.1\r\n{AUTH}\r\nPOST /RPC2 HTTP/1.1\r\n{AUTH}Content-Length: 5\r\n\r\nhello\r\n\r\nGET /c HTTP/1.1\r\n{AUTH}\r\n"
    );
    let got = run(&mut conn, &input, Some(&creds()), t0);
    let targets: Vec<&str> = got.iter().map(|a| a.head.target.as_str()).collect();
    assert_eq!(targets, ["/a", "/RPC2", "/c"]);
    assert_eq!(got[1].body, b"hello");
    let text = output(&mut conn, t0);
    assert_eq!(text.matches("HTTP/1.1 200 OK\r\n").count(), 3, "{text:?}");
    // Bodies have no trailing newline, so each is glued to the next status line.
    assert!(
        text.contains("answer 1HTTP/1.1")
            && text.contains("answer 2HTTP/1.1")
            && text.ends_with("answer 3")
    );
    assert!(!conn.ready_to_shut_down());
}

#[test]
fn second_request_waits_until_first_is_answered() {
    let t0 = Instant::now();
    let mut conn = Conn::new(t0);
    conn.on_input(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", t0);
    let first = conn.advance(&limits(), None, t0, wall()).unwrap();
    assert_eq!(first.head.target, "/a");
    assert_eq!(
        conn.advance(&limits(), None, t0, wall()),
        None,
        "must not parse /b before /a is answered"
    );
    assert!(conn.respond(&Response::ok("text/plain", "A"), t0, wall()));
    assert!(
        !conn.respond(&Response::ok("text/plain", "again"), t0, wall()),
        "no request is waiting"
    );
    let second = conn.advance(&limits(), None, t0, wall()).unwrap();
    assert_eq!(second.head.target, "/b");
}

#[test]
fn connection_persistence() {
    let t0 = Instant::now();
    let cases = [
        (
            "GET / HTTP/1.1\r\n\r\n",
            Response::ok("text/plain", "x"),
            false,
            false,
        ),
        (
            "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
            Response::ok("text/plain", "x"),
            true,
            false,
        ),
        (
            "GET / HTTP/1.0\r\n\r\n",
            Response::ok("text/plain", "x"),
            true,
            false,
        ),
        (
            "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            Response::ok("text/plain", "x"),
            false,
            true,
        ),
        (
            "GET / HTTP/1.1\r\n\r\n",
            Response::ok("text/plain", "x").with_close(),
            true,
            false,
        ),
    ];
    for (input, response, closes, keep_alive_header) in cases {
        let mut conn = Conn::new(t0);
        conn.on_input(input.as_bytes(), t0);
        conn.advance(&limits(), None, t0, wall()).unwrap();
        conn.respond(&response, t0, wall());
        let text = output(&mut conn, t0);
        assert_eq!(conn.ready_to_shut_down(), closes, "{input:?}");
        assert_eq!(
            text.contains("Connection: Keep-Alive\r\n"),
            keep_alive_header,
            "{input:?}: {text:?}"
        );
        assert!(
            text.starts_with(&format!("{} 200 OK\r\n", &input[6..14])),
            "{text:?}"
        );
    }
}

#[test]
fn bodies_arrive_in_pieces() {
    let t0 = Instant::now();
    let mut conn = Conn::new(t0);
    conn.on_input(
        b"POST /RPC2 HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n",
        t0,
    );
    assert_eq!(conn.advance(&limits(), None, t0, wall()), None);
    assert_eq!(output(&mut conn, t0), "HTTP/1.1 100 Continue\r\n\r\n");
    assert_eq!(
        conn.read_room(&limits()),
        10,
        "only the body may be buffered now"
    );
    conn.on_input(b"01234", t0);
    assert_eq!(conn.advance(&limits(), None, t0, wall()), None);
    assert_eq!(conn.read_room(&limits()), 5);
    conn.on_input(b"56789", t0);
    let got = conn.advance(&limits(), None, t0, wall()).unwrap();
    assert_eq!(got.body, b"0123456789");
}

#[test]
fn read_room_is_bounded() {
    let t0 = Instant::now();
    let mut conn = Conn::new(t0);
    assert_eq!(conn.read_room(&limits()), 513);
    conn.on_input(&[b'G'; 100], t0);
    assert_eq!(conn.read_room(&limits()), 413);
}

#[test]
fn timeouts() {
    let t0 = Instant::now();
    let l = limits();
    // Idle keep-alive connection.
    let mut idle = Conn::new(t0);
    assert_eq!(idle.deadline(&l), Some(t0 + l.idle_timeout));
    assert_eq!(
        idle.on_timeout(&l, t0 + l.idle_timeout - Duration::from_secs(1), wall()),
        TimeoutOutcome::Nothing
    );
    assert_eq!(
        idle.on_timeout(&l, t0 + l.idle_timeout, wall()),
        TimeoutOutcome::Close
    );

    // Half a request: 408 after the request timeout, then close.
    let mut slow = Conn::new(t0);
    slow.on_input(b"GET / HTT", t0);
    assert_eq!(slow.advance(&l, None, t0, wall()), None);
    assert_eq!(slow.deadline(&l), Some(t0 + l.request_timeout));
    let t1 = t0 + l.request_timeout;
    assert_eq!(
        slow.on_timeout(&l, t1, wall()),
        TimeoutOutcome::RequestTimedOut
    );
    assert!(output(&mut slow, t1).starts_with("HTTP/1.1 408 Request Timeout\r\n"));
    assert!(slow.ready_to_shut_down());

    // A request with the daemon has no deadline (wait=true replies may take long).
    let mut waiting = Conn::new(t0);
    waiting.on_input(b"GET / HTTP/1.1\r\n\r\n", t0);
    waiting.advance(&l, None, t0, wall()).unwrap();
    assert_eq!(waiting.deadline(&l), None);

    // Output the client never reads: closed after the stall timeout.
    let mut stuck = Conn::new(t0);
    stuck.on_input(b"GET / HTTP/1.1\r\n\r\n", t0);
    stuck.advance(&l, None, t0, wall()).unwrap();
    stuck.respond(&Response::ok("text/plain", "x"), t0, wall());
    assert_eq!(stuck.deadline(&l), Some(t0 + l.write_stall_timeout));
    assert_eq!(
        stuck.on_timeout(&l, t0 + l.write_stall_timeout, wall()),
        TimeoutOutcome::Close
    );

    // Draining after an error ends by itself.
    let mut draining = Conn::new(t0);
    draining.start_draining(t0);
    assert_eq!(
        draining.on_timeout(&l, t0 + DRAIN_TIME, wall()),
        TimeoutOutcome::Close
    );
}

#[test]
fn streams_chunked_for_11_raw_for_10_and_bounded() {
    let t0 = Instant::now();
    let l = limits();
    let headers = vec![(
        "Content-Type".to_string(),
        "text/plain;charset=utf-8".to_string(),
    )];

    let mut v11 = Conn::new(t0);
    v11.on_input(b"GET /mainlogtail HTTP/1.1\r\n\r\n", t0);
    v11.advance(&l, None, t0, wall()).unwrap();
    assert!(v11.start_stream(200, &headers, wall()));
    let mut text = output(&mut v11, t0);
    assert!(v11.push_chunk(b"tick 12493\n", &l));
    text += &output(&mut v11, t0);
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\nServer: Medusa/1.12\r\n"),
        "{text:?}"
    );
    assert!(
        text.contains(
            "Content-Type: text/plain;charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
    );
    assert!(text.ends_with("\r\n\r\nb\r\ntick 12493\n\r\n"), "{text:?}");
    assert!(!text.contains("Content-Length"));

    let mut v10 = Conn::new(t0);
    v10.on_input(b"GET /mainlogtail HTTP/1.0\r\n\r\n", t0);
    v10.advance(&l, None, t0, wall()).unwrap();
    assert!(v10.start_stream(200, &headers, wall()));
    let mut text = output(&mut v10, t0);
    assert!(v10.push_chunk(b"tick\n", &l));
    text += &output(&mut v10, t0);
    assert!(text.starts_with("HTTP/1.0 200 OK\r\n"));
    assert!(!text.contains("Transfer-Encoding"));
    assert!(text.ends_with("\r\n\r\ntick\n"));

    // A client that does not read: the buffer bound (100) is hit and push reports it.
    assert!(v10.push_chunk(&[b'x'; 60], &l));
    assert!(!v10.push_chunk(&[b'x'; 60], &l));
    // Input during a stream is ignored, never buffered.
    v10.on_input(&[b'y'; 1000], t0);
    assert_eq!(v10.advance(&l, None, t0, wall()), None);

    // No stream without a request waiting.
    let mut fresh = Conn::new(t0);
    assert!(!fresh.start_stream(200, &headers, wall()));
    assert!(!fresh.push_chunk(b"x", &l));
}

#[test]
fn access_entries_record_request_line_status_and_size() {
    let t0 = Instant::now();
    let mut conn = Conn::new(t0);
    conn.on_input(b"GET /ok.html HTTP/1.1\r\n\r\n", t0);
    conn.advance(&limits(), None, t0, wall()).unwrap();
    conn.respond(&Response::ok("text/plain", "OK"), t0, wall());
    let entries = conn.take_access_entries();
    let written = conn.pending_output().len();
    assert_eq!(
        entries,
        [AccessEntry {
            request_line: "GET /ok.html HTTP/1.1".into(),
            status: 200,
            bytes: written
        }]
    );
}

/// Feeds `input` in pieces of the given sizes (cycled), answering every request; returns the
/// targets seen and the output.
fn feed_in_pieces(input: &[u8], sizes: &[usize], l: &Limits) -> (Vec<String>, String) {
    let t0 = Instant::now();
    let mut conn = Conn::new(t0);
    let mut targets = Vec::new();
    let mut offset = 0;
    let mut i = 0;
    while offset < input.len() {
        let room = conn.read_room(l);
        if room == 0 {
            break;
        }
        let n = sizes[i % sizes.len()]
            .max(1)
            .min(input.len() - offset)
            .min(room);
        i += 1;
        conn.on_input(&input[offset..offset + n], t0);
        offset += n;
        while let Some(accepted) = conn.advance(l, None, t0, wall()) {
            targets.push(accepted.head.target.clone());
            conn.respond(&Response::ok("text/plain", accepted.body), t0, wall());
        }
    }
    (targets, output(&mut conn, t0))
}

#[test]
fn any_split_of_the_input_gives_the_same_requests_and_bytes() {
    let l = limits();
    let input = format!(
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /RPC2 HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world\
         \r\nGET /c?q=1 HTTP/1.1\r\n{AUTH}\r\nPOST /d HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
    );
    let (want_targets, want_output) = feed_in_pieces(input.as_bytes(), &[input.len()], &l);
    assert_eq!(want_targets, ["/a", "/RPC2", "/c?q=1", "/d"]);
    let splits: &[&[usize]] = &[&[1], &[2], &[3, 1], &[7], &[13, 1, 2], &[64], &[100, 5]];
    for sizes in splits {
        let (targets, out) = feed_in_pieces(input.as_bytes(), sizes, &l);
        assert_eq!(targets, want_targets, "split {sizes:?}");
        // Dates are identical (fixed wall clock), so the bytes must be too.
        assert_eq!(out, want_output, "split {sizes:?}");
    }
}

#[test]
fn arbitrary_bytes_never_panic_or_overgrow() {
    // xorshift: deterministic, no dependency.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let l = limits();
    let alphabet: &[u8] =
        b"GET POST /RPC2 HTTP/1.1\r\n:Content-Length: 5 Transfer-Encoding chunked\x00\xff%3A?";
    for _ in 0..2000 {
        let len = (next() % 600) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if next() % 4 == 0 {
                    next() as u8
                } else {
                    alphabet[(next() as usize) % alphabet.len()]
                }
            })
            .collect();
        let sizes: Vec<usize> = (0..4).map(|_| (next() % 50) as usize + 1).collect();
        let t0 = Instant::now();
        let mut conn = Conn::new(t0);
        let mut offset = 0;
        while offset < bytes.len() && conn.read_room(&l) > 0 {
            let n = sizes[offset % sizes.len()]
                .min(bytes.len() - offset)
                .min(conn.read_room(&l));
            conn.on_input(&bytes[offset..offset + n], t0);
            offset += n;
            while let Some(accepted) = conn.advance(&l, None, t0, wall()) {
                assert!(accepted.body.len() <= l.max_body_bytes);
                conn.respond(&Response::error(404), t0, wall());
            }
            assert!(conn.input.len() <= l.max_head_bytes.max(l.max_body_bytes) + 1);
        }
    }
}

/// A connection that stops reading must be one that has something else to wait for (the
/// daemon's answer, its own output): otherwise it would never see the peer's EOF and hold its
/// slot until the idle timeout (blank lines past the head limit once did that).
#[test]
fn a_connection_never_stops_reading_while_waiting_for_input() {
    let t0 = Instant::now();
    let l = limits();
    let inputs: Vec<Vec<u8>> = vec![
        b"\r\n".repeat(300),
        [b"GET / HTTP/1.1\r\n\r\n".to_vec(), b"\r\n".repeat(300)].concat(),
        b"\n".repeat(600),
        [
            b"\r\n".repeat(100),
            b"GET / HTTP/1.1\r\nA: b\r\n".to_vec(),
            b"x".repeat(400),
        ]
        .concat(),
        [
            b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n".to_vec(),
            b"z".repeat(600),
        ]
        .concat(),
    ];
    for input in inputs {
        let mut conn = Conn::new(t0);
        let mut fed = 0;
        while fed < input.len() {
            let room = conn.read_room(&l);
            if room == 0 {
                break;
            }
            let end = input.len().min(fed + room.min(7));
            conn.on_input(&input[fed..end], t0);
            fed = end;
            while conn.advance(&l, None, t0, wall()).is_some() {
                conn.respond(&Response::ok("text/plain", "x"), t0, wall());
            }
        }
        assert!(
            conn.read_room(&l) > 0 || conn.waits_for_output_or_daemon(),
            "{:?} stalled after {fed} bytes",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn a_rendered_body_gives_the_same_bytes_as_a_response() {
    // respond_rendered writes the head after the body and moves it in front: the bytes, the
    // access-log entry and what happens next must be those of `respond`, for both versions,
    // with and without a response still queued before it.
    let t0 = Instant::now();
    for request in [
        "GET /m HTTP/1.1\r\n\r\n",
        "GET /m HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET /m HTTP/1.0\r\n\r\n",
    ] {
        let body = "x 1\n".repeat(300);
        let mut outputs = Vec::new();
        for rendered in [false, true] {
            let mut conn = Conn::new(t0);
            // A first request answered but not yet sent, so the body starts mid-buffer.
            conn.on_input(b"GET /a HTTP/1.1\r\n\r\n", t0);
            conn.advance(&limits(), None, t0, wall()).unwrap();
            assert!(conn.respond(&Response::ok("text/plain", "A"), t0, wall()));
            conn.on_input(request.as_bytes(), t0);
            conn.advance(&limits(), None, t0, wall()).unwrap();
            let answered = if rendered {
                conn.respond_rendered("text/plain", |out| out.extend(body.bytes()), t0, wall())
            } else {
                conn.respond(&Response::ok("text/plain", body.as_str()), t0, wall())
            };
            assert!(answered, "{request:?}");
            let text = output(&mut conn, t0);
            outputs.push((text, conn.take_access_entries(), conn.ready_to_shut_down()));
        }
        assert!(outputs[0].0.ends_with(&body), "{request:?}");
        assert_eq!(outputs[0], outputs[1], "{request:?}");
    }
}

/// Regression: a client that sent its requests and then shut down its write side (`nc -N`,
/// `shutdown(SHUT_WR)`) got no answer: the EOF closed the connection before the requests were
/// parsed. Now every request received in full is answered (pipelined ones and /RPC2 POSTs
/// too), then the connection ends; a partial request left behind is dropped.
#[test]
fn half_closed_client_gets_answers_to_what_it_sent_in_full() {
    let t0 = Instant::now();
    let cases: [(&str, &[&str]); 4] = [
        ("GET /a HTTP/1.1\r\n\r\n", &["/a"]),
        (
            "POST /RPC2 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
            &["/RPC2"],
        ),
        (
            "GET /a HTTP/1.1\r\n\r\nPOST /RPC2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            &["/a", "/RPC2", "/c"],
        ),
        ("GET /a HTTP/1.1\r\n\r\nGET /partial HTT", &["/a"]),
    ];
    for (input, targets) in cases {
        let mut conn = Conn::new(t0);
        conn.on_input(input.as_bytes(), t0);
        assert_eq!(conn.on_eof(), EofOutcome::AnswerFirst, "{input:?}");
        assert_eq!(
            conn.read_room(&limits()),
            0,
            "nothing is read after the EOF"
        );
        let mut got = Vec::new();
        while let Some(accepted) = conn.advance(&limits(), None, t0, wall()) {
            // The daemon holds the request: the connection waits for it.
            assert!(!conn.finished_after_eof(), "{input:?}");
            got.push(accepted.head.target);
            conn.respond(&Response::ok("text/plain", "x"), t0, wall());
        }
        assert_eq!(got, targets, "{input:?}");
        // The answers are still to be written: they go out first, then the connection ends.
        assert!(!conn.finished_after_eof());
        assert!(conn.ready_to_shut_down() || !conn.pending_output().is_empty());
        let text = output(&mut conn, t0);
        assert_eq!(
            text.matches(" 200 OK\r\n").count(),
            targets.len(),
            "{text:?}"
        );
        assert!(conn.ready_to_shut_down(), "{input:?}");
        conn.start_draining(t0);
        assert!(conn.finished_after_eof(), "{input:?}");
    }
}

/// The EOF closes at once whenever nothing the peer sent is left to answer: no request or a
/// partial one (head or body), a request the daemon was already holding when the peer left
/// (the reference drops its reply too), a stream, or draining after our last response.
#[test]
fn eof_closes_at_once_when_nothing_is_left_to_answer() {
    let t0 = Instant::now();
    for input in [
        "",
        "\r\n\r\n",
        "GET /ok.ht",
        "POST /RPC2 HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
    ] {
        let mut conn = Conn::new(t0);
        conn.on_input(input.as_bytes(), t0);
        assert_eq!(conn.advance(&limits(), None, t0, wall()), None);
        assert_eq!(conn.on_eof(), EofOutcome::AnswerFirst, "{input:?}");
        assert_eq!(conn.advance(&limits(), None, t0, wall()), None);
        assert!(conn.finished_after_eof(), "{input:?}");
    }
    // Held by the daemon when the EOF comes.
    let mut conn = Conn::new(t0);
    conn.on_input(b"GET /a HTTP/1.1\r\n\r\n", t0);
    assert!(conn.advance(&limits(), None, t0, wall()).is_some());
    assert_eq!(conn.on_eof(), EofOutcome::Close);
    // Streaming.
    let mut conn = Conn::new(t0);
    conn.on_input(b"GET /logtail/x HTTP/1.1\r\n\r\n", t0);
    assert!(conn.advance(&limits(), None, t0, wall()).is_some());
    assert!(conn.start_stream(200, &[], wall()));
    assert_eq!(conn.on_eof(), EofOutcome::Close);
    // After an error response: written first, then the EOF ends the drain.
    let mut conn = Conn::new(t0);
    conn.on_input(b"HELLO\r\n\r\n", t0);
    assert_eq!(conn.advance(&limits(), None, t0, wall()), None);
    assert_eq!(
        conn.on_eof(),
        EofOutcome::AnswerFirst,
        "Closing flushes first"
    );
    assert!(!conn.finished_after_eof());
    assert!(output(&mut conn, t0).starts_with("HTTP/1.1 400 "));
    assert!(conn.ready_to_shut_down());
    conn.start_draining(t0);
    assert!(conn.finished_after_eof());
}
