//! Tests of the stdout copy: queue order, whole-record drops, reports once per episode, broken
//! targets, and a real pipe that fills up and drains.

use super::*;
use std::io::Read;

/// A fake target that takes up to `room` bytes, then says WouldBlock (or a hard error).
struct FakeTarget {
    out: Vec<u8>,
    room: usize,
    broken: bool,
    interrupt_next: bool,
}

impl FakeTarget {
    fn new(room: usize) -> FakeTarget {
        FakeTarget {
            out: Vec::new(),
            room,
            broken: false,
            interrupt_next: false,
        }
    }

    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.broken {
            return Err(io::Error::from_raw_os_error(libc::EPIPE));
        }
        if std::mem::take(&mut self.interrupt_next) {
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        if self.room == 0 {
            return Err(io::Error::from(io::ErrorKind::WouldBlock));
        }
        let n = data.len().min(self.room);
        self.out.extend_from_slice(&data[..n]);
        self.room -= n;
        Ok(n)
    }
}

fn push(queue: &mut StdoutQueue, target: &mut FakeTarget, record: &str) {
    queue.push(record.as_bytes(), &mut |d| target.write(d));
}

fn flush(queue: &mut StdoutQueue, target: &mut FakeTarget) {
    queue.flush(&mut |d| target.write(d));
}

#[test]
fn writable_target_gets_every_record_at_once() {
    let mut queue = StdoutQueue::new(100);
    let mut target = FakeTarget::new(usize::MAX);
    target.interrupt_next = true;
    for record in ["one\n", "two\n", "three\n"] {
        push(&mut queue, &mut target, record);
        assert!(!queue.has_pending());
    }
    assert_eq!(target.out, b"one\ntwo\nthree\n");
    assert_eq!(queue.take_report(), None);
}

#[test]
fn queue_table() {
    struct Case {
        name: &'static str,
        limit: usize,
        room: usize,
        records: &'static [&'static str],
        expect_pending: usize,
        expect_out: &'static str,
        expect_report: Option<StdoutReport>,
    }
    let cases = [
        Case {
            name: "partly written record waits, later records queue behind it",
            limit: 100,
            room: 3,
            records: &["aaaa\n", "bb\n"],
            expect_pending: 2 + 3,
            expect_out: "aaaa\nbb\n",
            expect_report: None,
        },
        Case {
            name: "records that do not fit are dropped whole and counted",
            limit: 8,
            room: 0,
            // "dd\n" still fits after the two bigger ones were dropped.
            records: &["aaaa\n", "bbb\n", "ccccc\n", "dd\n"],
            expect_pending: 8,
            expect_out: "aaaa\ndd\n",
            expect_report: Some(StdoutReport::Recovered { dropped_bytes: 10 }),
        },
        Case {
            name: "the rest of a started record always waits, even beyond the limit",
            limit: 4,
            room: 2,
            records: &["abcdefgh\n", "x\n"],
            expect_pending: 7,
            expect_out: "abcdefgh\n",
            expect_report: Some(StdoutReport::Recovered { dropped_bytes: 2 }),
        },
        Case {
            name: "exactly filling the queue drops nothing",
            limit: 10,
            room: 0,
            records: &["12345\n", "123\n"],
            expect_pending: 10,
            expect_out: "12345\n123\n",
            expect_report: None,
        },
    ];
    for case in cases {
        let mut queue = StdoutQueue::new(case.limit);
        let mut target = FakeTarget::new(case.room);
        for record in case.records {
            push(&mut queue, &mut target, record);
        }
        assert_eq!(queue.pending_len(), case.expect_pending, "{}", case.name);
        let dropping = case.expect_report.is_some();
        assert_eq!(
            queue.take_report(),
            dropping.then_some(StdoutReport::Dropping),
            "{}",
            case.name
        );
        // Still full: nothing changes, no second report.
        flush(&mut queue, &mut target);
        assert_eq!(queue.take_report(), None, "{}", case.name);
        target.room = usize::MAX;
        flush(&mut queue, &mut target);
        assert!(!queue.has_pending(), "{}", case.name);
        assert_eq!(
            String::from_utf8_lossy(&target.out),
            case.expect_out,
            "{}",
            case.name
        );
        assert_eq!(queue.take_report(), case.expect_report, "{}", case.name);
    }
}

#[test]
fn drops_are_counted_per_episode() {
    let mut queue = StdoutQueue::new(4);
    let mut target = FakeTarget::new(0);
    push(&mut queue, &mut target, "aaa\n");
    push(&mut queue, &mut target, "bb\n");
    assert_eq!(queue.take_report(), Some(StdoutReport::Dropping));
    // The reader takes everything: the next record drains the queue and goes straight out.
    target.room = usize::MAX;
    push(&mut queue, &mut target, "c\n");
    assert_eq!(
        queue.take_report(),
        Some(StdoutReport::Recovered { dropped_bytes: 3 })
    );
    assert_eq!(target.out, b"aaa\nc\n");
    // A second stall counts from zero.
    target.room = 0;
    for record in ["dddd\n", "e\n", "f\n"] {
        push(&mut queue, &mut target, record);
    }
    assert_eq!(queue.take_report(), Some(StdoutReport::Dropping));
    target.room = usize::MAX;
    flush(&mut queue, &mut target);
    assert_eq!(
        queue.take_report(),
        Some(StdoutReport::Recovered { dropped_bytes: 4 })
    );
    assert_eq!(target.out, b"aaa\nc\ndddd\n");
}

#[test]
fn broken_target_discards_silently() {
    let mut queue = StdoutQueue::new(4);
    let mut target = FakeTarget::new(0);
    push(&mut queue, &mut target, "aaa\n");
    push(&mut queue, &mut target, "bb\n");
    assert_eq!(queue.take_report(), Some(StdoutReport::Dropping));
    target.broken = true;
    flush(&mut queue, &mut target);
    assert!(!queue.has_pending());
    push(&mut queue, &mut target, "cc\n");
    assert!(!queue.has_pending());
    assert_eq!(queue.take_report(), None);
    assert!(target.out.is_empty());
}

fn pipe_pair() -> (File, File) {
    let (reader, writer) = crate::sys::pipe_nonblocking().unwrap();
    (File::from(reader), File::from(writer))
}

fn read_available(reader: &mut File, into: &mut Vec<u8>) {
    let mut buf = [0u8; 65536];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => panic!("read: {e}"),
        }
    }
}

#[test]
fn real_pipe_fills_queues_drops_and_drains_in_order() {
    let (mut reader, writer) = pipe_pair();
    // SAFETY: F_SETPIPE_SZ on our own pipe; the kernel rounds up to a page.
    let size = unsafe { libc::fcntl(writer.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) };
    assert!(size >= 4096);
    let limit = 10_000;
    let mut copy = StdoutCopy::to_file(writer, limit);
    let mut sent = Vec::new();
    let mut index = 0;
    // Fill the pipe and the queue; never blocks.
    while copy.take_report().is_none() {
        let record = format!("record {index:06}\n");
        copy.write(record.as_bytes());
        sent.push(record);
        index += 1;
        assert!(index < 100_000, "the queue never filled");
    }
    assert!(copy.has_pending());
    let mut got = Vec::new();
    for _ in 0..1000 {
        read_available(&mut reader, &mut got);
        copy.flush();
        if !copy.has_pending() {
            break;
        }
    }
    assert!(!copy.has_pending());
    read_available(&mut reader, &mut got);
    let got = String::from_utf8(got).unwrap();
    let lines: Vec<&str> = got.lines().collect();
    // What arrived is the start of what was sent, in order, whole lines; the last sent record
    // is the one that did not fit.
    assert_eq!(lines.len(), sent.len() - 1);
    for (line, record) in lines.iter().zip(&sent) {
        assert_eq!(format!("{line}\n"), *record);
    }
    assert_eq!(
        copy.take_report(),
        Some(StdoutReport::Recovered {
            dropped_bytes: sent.last().unwrap().len() as u64
        })
    );
    // Writable again: a record goes straight through.
    copy.write(b"after\n");
    assert!(!copy.has_pending());
    let mut tail = Vec::new();
    read_available(&mut reader, &mut tail);
    assert_eq!(tail, b"after\n");
}

#[test]
fn closed_reader_is_ignored() {
    let (reader, writer) = pipe_pair();
    drop(reader);
    let mut copy = StdoutCopy::to_file(writer, 100);
    copy.write(b"nobody reads this\n");
    assert!(!copy.has_pending());
    assert_eq!(copy.take_report(), None);
}

fn is_nonblocking(fd: RawFd) -> bool {
    // SAFETY: F_GETFL on an open fd.
    unsafe { libc::fcntl(fd, libc::F_GETFL) & libc::O_NONBLOCK != 0 }
}

/// Writes through `target` until it says WouldBlock; returns the bytes it took.
fn fill(target: &mut Target) -> usize {
    let chunk = [b'x'; 4096];
    let mut total = 0;
    loop {
        match target.write(&chunk) {
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return total,
            Err(e) => panic!("write: {e}"),
        }
        assert!(total < 64 << 20, "never filled");
    }
}

#[test]
fn blocking_pipe_is_reopened_privately_non_blocking() {
    // Both ends blocking.
    let (reader, writer) = crate::sys::pipe_cloexec().unwrap();
    let (reader, writer) = (File::from(reader), File::from(writer));
    let mut target = Target::of_fd(writer.as_raw_fd());
    assert!(matches!(target, Target::Private(_)), "{target:?}");
    // Fills without ever blocking, while the shared description stays blocking.
    assert!(fill(&mut target) >= 4096);
    assert!(!is_nonblocking(writer.as_raw_fd()));
    drop(reader);
    assert!(target.write(b"x").is_err());
}

#[test]
fn socket_is_sent_to_without_waiting() {
    let (ours, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
    let mut target = Target::of_fd(ours.as_raw_fd());
    assert!(matches!(target, Target::Socket(_)), "{target:?}");
    assert!(fill(&mut target) > 0);
    assert!(!is_nonblocking(ours.as_raw_fd()));
}

#[test]
fn regular_file_is_written_directly_and_closed_fd_is_closed() {
    let dir = crate::logs::testutil::TempDir::new("stdout-kinds");
    let file = File::create(dir.join("out")).unwrap();
    let mut target = Target::of_fd(file.as_raw_fd());
    assert!(matches!(target, Target::Direct(_)), "{target:?}");
    assert_eq!(target.write(b"line\n").unwrap(), 5);
    assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"line\n");
    // Not the fd just closed: a test in another thread could reuse its number.
    let never_opened = 999_999;
    assert!(matches!(Target::of_fd(never_opened), Target::Closed));
}
