//! Tests of `RotatingFile` against real files, pipes and full devices.

use super::*;
use crate::logs::testutil::{TempDir, read, with_tiny_tmpfs};
use std::os::unix::fs::PermissionsExt;

fn numbered_line(i: usize) -> Vec<u8> {
    format!("line {i:05}\n").into_bytes()
}

/// Concatenates `<f>.N` ... `<f>.1`, `<f>` (oldest first).
fn concat_rotated(base: &Path, backups: u32) -> Vec<u8> {
    let mut all = Vec::new();
    for index in (1..=backups).rev() {
        all.extend(read(&backup_name(base, index)));
    }
    all.extend(read(base));
    all
}

#[test]
fn rotation_keeps_every_line_exactly_once_in_order() {
    let dir = TempDir::new("rot");
    let path = dir.join("app.log");
    let mut file = RotatingFile::open(&path, 100, 50).unwrap();
    let mut expected = Vec::new();
    for i in 0..300 {
        let line = numbered_line(i);
        assert!(file.write(&line).is_none());
        expected.extend(line);
    }
    // 300 lines * 11 bytes = 3300 bytes -> 33 rotations of ~100+ bytes: all kept with 50 backups.
    assert_eq!(concat_rotated(&path, 50), expected);
    assert!(backup_name(&path, 30).exists());
    for index in 1..=30 {
        let size = std::fs::metadata(backup_name(&path, index)).unwrap().len();
        // Rotation happens after the write that reaches maxbytes: at most one line over.
        assert!(
            (100..111).contains(&size),
            "backup {index} has {size} bytes"
        );
    }
    assert!(std::fs::metadata(&path).unwrap().len() < 100);
}

#[test]
fn rotation_drops_oldest_beyond_backups() {
    let dir = TempDir::new("rot2");
    let path = dir.join("app.log");
    let mut file = RotatingFile::open(&path, 55, 2).unwrap();
    let mut all = Vec::new();
    for i in 0..100 {
        let line = numbered_line(i);
        file.write(&line);
        all.extend(line);
    }
    assert!(backup_name(&path, 1).exists());
    assert!(backup_name(&path, 2).exists());
    assert!(!backup_name(&path, 3).exists());
    let kept = concat_rotated(&path, 2);
    // What is kept is the newest contiguous tail of the output.
    assert!(all.ends_with(&kept), "kept data is not a suffix");
    assert!(kept.len() >= 2 * 55);
    // .1 is newer than .2.
    let one = String::from_utf8(read(&backup_name(&path, 1))).unwrap();
    let two = String::from_utf8(read(&backup_name(&path, 2))).unwrap();
    assert!(two < one);
}

#[test]
fn zero_backups_truncates_in_place() {
    let dir = TempDir::new("rot0");
    let path = dir.join("app.log");
    let mut file = RotatingFile::open(&path, 30, 0).unwrap();
    for i in 0..3 {
        file.write(&numbered_line(i));
    }
    // 33 bytes >= 30 -> truncated after the third line.
    assert_eq!(read(&path), b"");
    file.write(&numbered_line(3));
    assert_eq!(read(&path), numbered_line(3));
    assert!(!backup_name(&path, 1).exists());
}

#[test]
fn zero_maxbytes_never_rotates() {
    let dir = TempDir::new("rotnever");
    let path = dir.join("app.log");
    let mut file = RotatingFile::open(&path, 0, 5).unwrap();
    let mut expected = Vec::new();
    for i in 0..200 {
        file.write(&numbered_line(i));
        expected.extend(numbered_line(i));
    }
    assert_eq!(read(&path), expected);
    assert!(!backup_name(&path, 1).exists());
}

#[test]
fn open_appends_and_never_truncates() {
    let dir = TempDir::new("append");
    let path = dir.join("app.log");
    std::fs::write(&path, b"old\n").unwrap();
    let mut file = RotatingFile::open(&path, 1000, 1).unwrap();
    file.write(b"new\n");
    assert_eq!(read(&path), b"old\nnew\n");
}

#[test]
fn existing_content_counts_toward_maxbytes() {
    let dir = TempDir::new("existing");
    let path = dir.join("app.log");
    std::fs::write(&path, vec![b'x'; 95]).unwrap();
    let mut file = RotatingFile::open(&path, 100, 1).unwrap();
    file.write(b"12345\n");
    assert_eq!(std::fs::metadata(backup_name(&path, 1)).unwrap().len(), 101);
    assert_eq!(read(&path), b"");
}

#[test]
fn new_file_mode_follows_umask() {
    let dir = TempDir::new("mode");
    let path = dir.join("app.log");
    RotatingFile::open(&path, 0, 0).unwrap();
    let umask = current_umask();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o666 & !umask);
}

fn current_umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line.split_whitespace().nth(1).unwrap(), 8).unwrap()
}

#[test]
fn pipe_target_is_written_and_never_rotated() {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (reader, writer) = (fds[0], fds[1]);
    let path = PathBuf::from(format!("/proc/self/fd/{writer}"));
    let mut file = RotatingFile::open(&path, 10, 3).unwrap();
    let mut expected = Vec::new();
    for i in 0..20 {
        assert!(file.write(&numbered_line(i)).is_none());
        expected.extend(numbered_line(i));
    }
    let mut got = vec![0u8; 4096];
    let n = unsafe { libc::read(reader, got.as_mut_ptr().cast(), got.len()) };
    assert_eq!(&got[..n as usize], &expected[..]);
    assert_eq!(file.position(), 0);
    unsafe {
        libc::close(reader);
        libc::close(writer);
    }
}

#[test]
fn full_pipe_queues_then_drops_instead_of_blocking() {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (reader, writer) = (fds[0], fds[1]);
    unsafe { libc::fcntl(reader, libc::F_SETFL, libc::O_NONBLOCK) };
    let path = PathBuf::from(format!("/proc/self/fd/{writer}"));
    let mut file = RotatingFile::open(&path, 0, 0).unwrap();
    let chunk_len = 64 * 1024;
    let chunks = 20 + PENDING_LIMIT / chunk_len;
    let mut all = Vec::new();
    let mut reports = 0;
    // Nobody reads: the pipe fills, then the queue, then output is dropped (newest first).
    for i in 0..chunks {
        let chunk: Vec<u8> = (0..chunk_len)
            .map(|j| ((i * 7 + j / 1000) % 251) as u8)
            .collect();
        all.extend_from_slice(&chunk);
        if let Some(report) = file.write(&chunk) {
            assert!(matches!(report, WriteReport::Failed { .. }), "{report}");
            reports += 1;
        }
    }
    assert_eq!(reports, 1, "the failure is reported exactly once");
    assert!(file.has_pending());
    let dropped = file.dropped_bytes() as usize;
    assert!(dropped > 0);
    // The reader comes back: queued bytes follow in order, nothing duplicated.
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = unsafe { libc::read(reader, buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            got.extend_from_slice(&buf[..n as usize]);
            continue;
        }
        if !file.has_pending() {
            break;
        }
        assert!(file.flush_pending().is_none());
    }
    assert_eq!(got.len() + dropped, all.len());
    assert!(got == all[..got.len()], "queued output out of order");
    let report = file.write(b"back\n");
    assert!(
        matches!(report, Some(WriteReport::Recovered { dropped_bytes, .. }) if dropped_bytes as usize == dropped)
    );
    assert!(file.write(b"again\n").is_none());
    unsafe {
        libc::close(reader);
        libc::close(writer);
    }
}

#[test]
fn dev_full_reports_once_and_counts() {
    let mut file = RotatingFile::open("/dev/full", 10, 2).unwrap();
    let first = file.write(b"hello\n");
    assert!(matches!(first, Some(WriteReport::Failed { .. })));
    assert!(file.write(b"again\n").is_none());
    assert_eq!(file.dropped_bytes(), 12);
    assert!(file.is_failing());
}

#[test]
fn reopen_follows_external_rename() {
    let dir = TempDir::new("reopen");
    let path = dir.join("app.log");
    let moved = dir.join("app.log.moved");
    let mut file = RotatingFile::open(&path, 0, 0).unwrap();
    file.write(b"one\n");
    std::fs::rename(&path, &moved).unwrap();
    file.write(b"two\n");
    file.reopen().unwrap();
    file.write(b"three\n");
    assert_eq!(read(&moved), b"one\ntwo\n");
    assert_eq!(read(&path), b"three\n");
}

#[test]
fn clear_deletes_and_reopens_empty() {
    let dir = TempDir::new("clear");
    let path = dir.join("app.log");
    let mut file = RotatingFile::open(&path, 0, 0).unwrap();
    file.write(b"one\n");
    // A second link shows whether clear deleted the file (link keeps the data) or truncated it.
    let link = dir.join("link");
    std::fs::hard_link(&path, &link).unwrap();
    file.clear().unwrap();
    assert_eq!(read(&path), b"");
    file.write(b"two\n");
    assert_eq!(read(&path), b"two\n");
    assert_eq!(read(&link), b"one\n", "clear recreates the file");
}

#[test]
fn clear_of_missing_file_is_fine() {
    let dir = TempDir::new("clearmissing");
    let path = dir.join("app.log");
    let mut file = RotatingFile::open(&path, 0, 0).unwrap();
    std::fs::remove_file(&path).unwrap();
    file.clear().unwrap();
    assert!(path.exists());
}

#[test]
fn rotation_tolerates_deleted_active_file() {
    let dir = TempDir::new("deleted");
    let path = dir.join("app.log");
    let mut file = RotatingFile::open(&path, 20, 3).unwrap();
    file.write(b"first\n");
    std::fs::remove_file(&path).unwrap();
    // The write lands in the unlinked file and makes rotation due: the missing source is skipped.
    assert!(file.write(&[b'x'; 30]).is_none());
    assert!(path.exists());
    assert!(!backup_name(&path, 1).exists());
    file.write(b"after\n");
    assert_eq!(read(&path), b"after\n");
}

#[test]
fn write_resumes_after_directory_comes_back() {
    let dir = TempDir::new("dirgone");
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let path = sub.join("app.log");
    let mut file = RotatingFile::open(&path, 10, 1).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_dir(&sub).unwrap();
    // Rotation cannot recreate the file: reported once, then counted.
    assert!(matches!(
        file.write(&[b'a'; 12]),
        Some(WriteReport::Failed { .. })
    ));
    assert!(file.write(b"lost\n").is_none());
    assert_eq!(file.dropped_bytes(), 5);
    std::fs::create_dir(&sub).unwrap();
    assert!(matches!(
        file.write(b"ok\n"),
        Some(WriteReport::Recovered {
            dropped_bytes: 5,
            ..
        })
    ));
    assert_eq!(read(&path), b"ok\n");
}

/// A real full filesystem: needs root and permission to mount tmpfs; skipped (with a reason) otherwise.
#[test]
fn full_tmpfs_counts_lost_bytes_and_recovers() {
    with_tiny_tmpfs("full_tmpfs_counts_lost_bytes_and_recovers", |mount_point| {
        let filler = mount_point.join("filler");
        let path = mount_point.join("app.log");
        let mut file = RotatingFile::open(&path, 0, 0).unwrap();
        std::fs::write(&filler, vec![0u8; 32 * 1024]).unwrap();
        let chunk = vec![b'z'; 4096];
        let mut failures = 0;
        for _ in 0..32 {
            if let Some(WriteReport::Failed { error, .. }) = file.write(&chunk) {
                assert_eq!(error.raw_os_error(), Some(libc::ENOSPC));
                failures += 1;
            }
        }
        assert_eq!(failures, 1);
        assert!(file.dropped_bytes() > 0);
        std::fs::remove_file(&filler).unwrap();
        assert!(matches!(
            file.write(b"x\n"),
            Some(WriteReport::Recovered { .. })
        ));
        assert!(read(&path).ends_with(b"x\n"));
    });
}

/// Whole-lines mode: chunks end at line ends and stay within PIPE_BUF unless one line is longer.
#[test]
fn whole_lines_chunks_end_at_line_ends() {
    let short = b"a\nbb\n";
    assert_eq!(super::whole_lines_chunk(short), short);
    let mut many = Vec::new();
    for i in 0..1000 {
        many.extend_from_slice(format!("line {i}\n").as_bytes());
    }
    let chunk = super::whole_lines_chunk(&many);
    assert!(chunk.len() <= libc::PIPE_BUF && chunk.ends_with(b"\n"));
    assert!(chunk.len() > libc::PIPE_BUF - 10);
    let mut long = vec![b'x'; 3 * libc::PIPE_BUF];
    long.extend_from_slice(b"\nnext\n");
    assert_eq!(
        super::whole_lines_chunk(&long).len(),
        3 * libc::PIPE_BUF + 1
    );
    assert_eq!(super::whole_lines_chunk(b"no newline"), b"no newline");
}

/// Whole-lines mode on a full pipe: what reaches the reader, queued or not, is whole lines
/// only (dropped output is dropped in whole lines too).
#[test]
fn full_pipe_in_whole_lines_mode_never_cuts_a_line() {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (reader, writer) = (fds[0], fds[1]);
    unsafe { libc::fcntl(reader, libc::F_SETFL, libc::O_NONBLOCK) };
    let path = PathBuf::from(format!("/proc/self/fd/{writer}"));
    let mut file = RotatingFile::open(&path, 0, 0).unwrap();
    file.set_whole_lines(true);
    let mut batch = Vec::new();
    for i in 0..2000 {
        batch.extend_from_slice(format!("{i:05} {}\n", "y".repeat(i % 300)).as_bytes());
    }
    for _ in 0..20 {
        file.write(&batch);
    }
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = unsafe { libc::read(reader, buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            got.extend_from_slice(&buf[..n as usize]);
            continue;
        }
        if !file.has_pending() {
            break;
        }
        file.flush_pending();
    }
    assert!(got.ends_with(b"\n"));
    for line in got.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let i: usize = std::str::from_utf8(&line[..5]).unwrap().parse().unwrap();
        assert_eq!(&line[5..], format!(" {}", "y".repeat(i % 300)).as_bytes());
    }
    unsafe {
        libc::close(reader);
        libc::close(writer);
    }
}
