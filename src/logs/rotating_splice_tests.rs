//! Tests of `RotatingFile::splice_from` with real pipes: exact rotation at maxbytes, order of
//! bytes across splices and writes, targets that cannot take a splice, and a full filesystem.

use super::*;
use crate::logs::testutil::{TempDir, read, with_tiny_tmpfs};
use std::os::fd::OwnedFd;

const KIB: usize = 1024;

/// A pipe with both ends non-blocking (the daemon's read end is; the test's writer must not hang).
fn pipe() -> (OwnedFd, OwnedFd) {
    crate::sys::pipe_nonblocking().unwrap()
}

/// Writes as much of `data` as the pipe takes now; returns how much.
fn fill(writer: &OwnedFd, data: &[u8]) -> usize {
    // SAFETY: writing from a valid slice.
    let n = unsafe { libc::write(writer.as_raw_fd(), data.as_ptr().cast(), data.len()) };
    n.max(0) as usize
}

/// Bytes whose order is visible (a period of 251 never lines up with power-of-two sizes).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Splices until the pipe is empty; returns the bytes moved.
fn splice_all(file: &mut RotatingFile, reader: &OwnedFd, want: usize) -> usize {
    let mut moved = 0;
    loop {
        match file.splice_from(reader.as_raw_fd(), want) {
            (Spliced::Moved { bytes, emptied }, report) => {
                assert!(report.is_none(), "{report:?}");
                moved += bytes;
                if emptied {
                    return moved;
                }
            }
            (Spliced::Empty, _) => return moved,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Pushes `data` through a pipe into `file` by splice, a pipe's worth at a time.
fn splice_through(file: &mut RotatingFile, data: &[u8], want: usize) {
    let (reader, writer) = pipe();
    let mut sent = 0;
    while sent < data.len() {
        let n = fill(&writer, &data[sent..]);
        assert!(n > 0, "pipe did not take bytes after a drain");
        sent += n;
        splice_all(file, &reader, want);
    }
}

fn concat_rotated(base: &Path, backups: u32) -> Vec<u8> {
    let mut all = Vec::new();
    for index in (1..=backups).rev() {
        all.extend(read(&backup_name(base, index)));
    }
    all.extend(read(base));
    all
}

#[test]
fn splice_rotates_exactly_at_maxbytes_and_keeps_every_byte_in_order() {
    let dir = TempDir::new("splice-rot");
    let path = dir.join("app.log");
    let maxbytes = 64 * KIB as u64;
    let mut file = RotatingFile::open(&path, maxbytes, 50).unwrap();
    assert!(file.splice_ready());
    let data = pattern(1024 * KIB + 123);
    splice_through(&mut file, &data, 1 << 20);
    assert_eq!(concat_rotated(&path, 50), data);
    for index in 1..=16 {
        let size = std::fs::metadata(backup_name(&path, index)).unwrap().len();
        assert_eq!(size, maxbytes, "backup {index}");
    }
    assert!(!backup_name(&path, 17).exists());
    assert_eq!(file.position(), 123);
}

#[test]
fn splice_with_small_requests_still_stops_at_maxbytes() {
    let dir = TempDir::new("splice-small");
    let path = dir.join("app.log");
    let maxbytes = 100_000;
    let mut file = RotatingFile::open(&path, maxbytes, 10).unwrap();
    // 7000-byte requests do not divide 100000: the last one before a rotation is cut short.
    let data = pattern(350_000);
    splice_through(&mut file, &data, 7000);
    assert_eq!(concat_rotated(&path, 10), data);
    for index in 1..=3 {
        let size = std::fs::metadata(backup_name(&path, index)).unwrap().len();
        assert_eq!(size, maxbytes, "backup {index}");
    }
    assert_eq!(file.position(), 50_000);
}

#[test]
fn splice_without_backups_truncates_in_place() {
    let dir = TempDir::new("splice-nobackup");
    let path = dir.join("app.log");
    let mut file = RotatingFile::open(&path, 64 * KIB as u64, 0).unwrap();
    let data = pattern(3 * 64 * KIB + 10);
    splice_through(&mut file, &data, 1 << 20);
    assert_eq!(read(&path), &data[3 * 64 * KIB..]);
    assert!(!backup_name(&path, 1).exists());
}

#[test]
fn splice_and_writes_interleave_in_order_and_maxbytes_zero_never_rotates() {
    let dir = TempDir::new("splice-mix");
    let path = dir.join("app.log");
    std::fs::write(&path, b"before\n").unwrap();
    let mut file = RotatingFile::open(&path, 0, 3).unwrap();
    let (reader, writer) = pipe();
    let mut expected = b"before\n".to_vec();
    for round in 0..5 {
        let spliced = pattern(100 * KIB + round);
        let mut sent = 0;
        while sent < spliced.len() {
            sent += fill(&writer, &spliced[sent..]);
            splice_all(&mut file, &reader, 1 << 20);
        }
        expected.extend(&spliced);
        // A write after splices (O_APPEND back on) lands at the end, not at a stale position.
        let line = format!("written {round}\n");
        assert!(file.write(line.as_bytes()).is_none());
        expected.extend(line.as_bytes());
    }
    assert_eq!(read(&path), expected);
    assert!(!backup_name(&path, 1).exists());
}

#[test]
fn splice_after_an_external_truncation_writes_at_the_new_end() {
    let dir = TempDir::new("splice-trunc");
    let path = dir.join("app.log");
    let mut file = RotatingFile::open(&path, 0, 0).unwrap();
    splice_through(&mut file, &pattern(5000), 1 << 20);
    // copytruncate-style rotation by another program: append semantics, no hole.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    splice_through(&mut file, b"fresh\n", 1 << 20);
    assert_eq!(read(&path), b"fresh\n");
}

#[test]
fn a_file_opened_over_maxbytes_takes_one_splice_then_rotates() {
    let dir = TempDir::new("splice-over");
    let path = dir.join("app.log");
    std::fs::write(&path, vec![b'o'; 70 * KIB]).unwrap();
    let mut file = RotatingFile::open(&path, 64 * KIB as u64, 2).unwrap();
    splice_through(&mut file, b"tail\n", 1 << 20);
    let mut expected = vec![b'o'; 70 * KIB];
    expected.extend(b"tail\n");
    assert_eq!(read(&backup_name(&path, 1)), expected);
    assert_eq!(read(&path), b"");
}

#[test]
fn empty_and_closed_pipes_are_told_apart() {
    let dir = TempDir::new("splice-eof");
    let path = dir.join("app.log");
    let mut file = RotatingFile::open(&path, 0, 0).unwrap();
    let (reader, writer) = pipe();
    assert_eq!(file.splice_from(reader.as_raw_fd(), 4096).0, Spliced::Empty);
    fill(&writer, b"last words\n");
    drop(writer);
    assert_eq!(
        file.splice_from(reader.as_raw_fd(), 4096).0,
        Spliced::Moved {
            bytes: 11,
            emptied: true
        }
    );
    assert_eq!(file.splice_from(reader.as_raw_fd(), 4096).0, Spliced::Eof);
    assert_eq!(read(&path), b"last words\n");
}

#[test]
fn targets_that_cannot_take_a_splice_leave_the_pipe_alone() {
    let dir = TempDir::new("splice-not");
    // A pipe target (stdout_logfile=/dev/stdout piped somewhere), /dev/null, and rotation so
    // small that exact rotation would rotate every few bytes.
    let (target_reader, target_writer) = pipe();
    let target = format!("/proc/self/fd/{}", target_writer.as_raw_fd());
    let mut files = vec![
        RotatingFile::open(&target, 0, 0).unwrap(),
        RotatingFile::open("/dev/null", 0, 0).unwrap(),
        RotatingFile::open(dir.join("tiny.log"), 1000, 1).unwrap(),
    ];
    let (reader, writer) = pipe();
    fill(&writer, b"stays\n");
    for file in &mut files {
        assert!(!file.splice_ready());
        let (spliced, report) = file.splice_from(reader.as_raw_fd(), 4096);
        assert_eq!(spliced, Spliced::Unsupported);
        assert!(report.is_none());
    }
    let mut buf = [0u8; 16];
    // SAFETY: reading into a valid buffer.
    let n = unsafe { libc::read(reader.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(&buf[..n as usize], b"stays\n");
    drop(target_reader);
}

/// A real full filesystem: needs root and permission to mount tmpfs; skipped (with a reason)
/// otherwise. Splice must not lose or consume bytes it could not write.
#[test]
fn full_tmpfs_splice_leaves_bytes_for_the_write_path_and_recovers() {
    with_tiny_tmpfs(
        "full_tmpfs_splice_leaves_bytes_for_the_write_path_and_recovers",
        |mount_point| {
            let filler = mount_point.join("filler");
            let path = mount_point.join("app.log");
            let mut file = RotatingFile::open(&path, 0, 0).unwrap();
            std::fs::write(&filler, vec![0u8; 64 * KIB]).unwrap_or(());
            let (reader, writer) = pipe();
            fill(&writer, &[b'q'; 8192]);
            assert_eq!(
                file.splice_from(reader.as_raw_fd(), 1 << 20).0,
                Spliced::Failed
            );
            // Still splice-ready (a full disk is not "unsupported"), and the bytes are still there.
            assert!(file.splice_ready());
            let mut buf = vec![0u8; 16384];
            // SAFETY: reading into a valid buffer.
            let n = unsafe { libc::read(reader.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            assert_eq!(n, 8192);
            // The read path reports once and counts.
            assert!(matches!(
                file.write(&buf[..8192]),
                Some(WriteReport::Failed { .. })
            ));
            assert!(file.dropped_bytes() > 0);
            std::fs::remove_file(&filler).unwrap();
            fill(&writer, b"back\n");
            let (spliced, report) = file.splice_from(reader.as_raw_fd(), 1 << 20);
            assert_eq!(
                spliced,
                Spliced::Moved {
                    bytes: 5,
                    emptied: true
                }
            );
            assert!(matches!(report, Some(WriteReport::Recovered { .. })));
            assert!(!file.is_failing());
            assert!(read(&path).ends_with(b"back\n"));
        },
    );
}
