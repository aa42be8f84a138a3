//! Wire-level tests: request bodies in, reply bytes (or 400/pending) out.

use super::fake::*;
use crate::rpc::backend::ProcessState;
use crate::rpc::{RpcOutcome, handle_request, poll};

fn body(method: &str, params: &str) -> Vec<u8> {
    format!(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>{method}</methodName>\n<params>\n{params}</params>\n</methodCall>\n"
    )
    .into_bytes()
}

fn reply_text(outcome: RpcOutcome) -> String {
    match outcome {
        RpcOutcome::Reply(bytes) => String::from_utf8(bytes).unwrap(),
        other => panic!("expected a reply, got {other:?}"),
    }
}

#[test]
fn wire_replies_are_python_bytes() {
    let mut b = standard();
    assert_eq!(
        reply_text(handle_request(
            &body("supervisor.getPID", ""),
            &mut b,
            now()
        )),
        "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>4242</int></value>\n</param>\n</params>\n</methodResponse>\n"
    );
    assert_eq!(
        reply_text(handle_request(
            &body(
                "supervisor.getProcessInfo",
                "<param>\n<value><string>nope</string></value>\n</param>\n"
            ),
            &mut b,
            now()
        )),
        "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: nope</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n"
    );
}

#[test]
fn wire_bad_requests() {
    let mut b = standard();
    let cases: Vec<&[u8]> = vec![
        b"",
        b"not xml",
        b"<methodCall><methodName>x</methodName>",
        b"<methodCall><params/></methodCall>",
        b"<methodCall><methodName></methodName></methodCall>",
        b"<methodCall><methodName>supervisor.getPID</methodName><params><param><value><int>x</int></value></param></params></methodCall>",
        b"\xff\xfe<methodCall/>",
    ];
    for case in cases {
        assert!(
            matches!(handle_request(case, &mut b, now()), RpcOutcome::BadRequest),
            "{:?}",
            String::from_utf8_lossy(case)
        );
    }
}

#[test]
fn wire_server_decoding_quirks() {
    let mut b = standard();
    // No <params> at all is allowed.
    let text = reply_text(handle_request(
        b"<methodCall><methodName>supervisor.getAPIVersion</methodName></methodCall>",
        &mut b,
        now(),
    ));
    assert!(text.contains("<string>3.0</string>"), "{text}");
    // <i8> is passed as a string, which int() still accepts for offsets.
    let tmp = crate::testutil::TempDir::new("wire-mainlog");
    let path = tmp.join("main.log");
    std::fs::write(&path, b"abcdef").unwrap();
    b.main_log = Some(path.clone());
    let text = reply_text(handle_request(
        &body(
            "supervisor.readLog",
            "<param><value><i8>0</i8></value></param><param><value><i8>3</i8></value></param>",
        ),
        &mut b,
        now(),
    ));
    assert!(text.contains("<string>abc</string>"), "{text}");
    std::fs::remove_file(&path).unwrap();
    // base64 data arrives as a string (sendProcessStdin accepts it).
    let text = reply_text(handle_request(
        &body(
            "supervisor.sendProcessStdin",
            "<param><value>sleeper</value></param><param><value><base64>aGk=</base64></value></param>",
        ),
        &mut b,
        now(),
    ));
    assert!(text.contains("<boolean>1</boolean>"), "{text}");
    assert_eq!(b.proc_mut("sleeper", "sleeper").stdin, b"hi");
}

#[test]
fn wire_pending_call_is_polled_to_its_reply() {
    let mut b = standard();
    let outcome = handle_request(
        &body(
            "supervisor.startProcess",
            "<param><value><string>idle</string></value></param>",
        ),
        &mut b,
        now(),
    );
    let RpcOutcome::Pending(mut pending) = outcome else {
        panic!("expected pending, got {outcome:?}");
    };
    assert_eq!(pending.method(), "supervisor.startProcess");
    assert_eq!(poll(&mut pending, &mut b, now()), None);
    b.set_state("idle", "idle", ProcessState::Backoff);
    b.proc_mut("idle", "idle").snap.spawnerr = "Exited too quickly".into();
    let reply = String::from_utf8(poll(&mut pending, &mut b, now()).unwrap()).unwrap();
    assert!(reply.contains("<int>50</int>"), "{reply}");
    assert!(reply.contains("SPAWN_ERROR: idle"), "{reply}");
}

#[test]
fn large_pids_and_times_never_break_the_reply() {
    let mut b = standard();
    b.proc_mut("sleeper", "sleeper").snap.laststart = 1e13;
    b.proc_mut("sleeper", "sleeper").snap.exitstatus = 1 << 40;
    let text = reply_text(handle_request(
        &body("supervisor.getAllProcessInfo", ""),
        &mut b,
        now(),
    ));
    assert!(text.contains("<int>2147483647</int>"), "{text}");
}
