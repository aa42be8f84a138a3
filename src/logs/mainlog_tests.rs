//! Tests of the main log: format, level mapping and filtering, buffering, and the global install.

use super::*;
use crate::logs::rotating::backup_name;
use crate::logs::testutil::{TempDir, read};
use std::path::Path;

fn file_config(path: &Path, level: LogLevel) -> MainLogConfig {
    MainLogConfig {
        dest: MainLogDest::File(path.to_path_buf()),
        maxbytes: 0,
        backups: 0,
        level,
        stdout_copy: false,
    }
}

/// Checks `YYYY-MM-DD HH:MM:SS,mmm ` and returns the rest of the line.
fn strip_asctime(line: &str) -> &str {
    let bytes = line.as_bytes();
    assert!(line.len() > 24, "short line {line:?}");
    for (i, b) in bytes[..24].iter().enumerate() {
        let expected_digit = !matches!(i, 4 | 7 | 10 | 13 | 16 | 19 | 23);
        assert_eq!(
            b.is_ascii_digit(),
            expected_digit,
            "bad asctime in {line:?}"
        );
    }
    assert_eq!(&line[4..5], "-");
    assert_eq!(&line[10..11], " ");
    assert_eq!(&line[19..20], ",");
    &line[24..]
}

#[test]
fn level_mapping_table() {
    let cases = [
        (log::Level::Error, "crit", LogLevel::Critical, "CRIT"),
        (
            log::Level::Error,
            "supervisor::daemon",
            LogLevel::Error,
            "ERRO",
        ),
        (log::Level::Warn, "supervisor", LogLevel::Warn, "WARN"),
        (log::Level::Info, "x", LogLevel::Info, "INFO"),
        (log::Level::Debug, "x", LogLevel::Debug, "DEBG"),
        (log::Level::Trace, "x", LogLevel::Trace, "TRAC"),
        (log::Level::Trace, "blather", LogLevel::Blather, "BLAT"),
        (log::Level::Warn, "crit", LogLevel::Warn, "WARN"),
    ];
    for (level, target, ours, tag) in cases {
        assert_eq!(level_of(level, target), ours, "{level} {target}");
        assert_eq!(level_tag(ours), tag);
    }
    assert_eq!(LogLevel::Blather as i32, 3);
    assert_eq!(LogLevel::Trace as i32, 5);
    assert!(LogLevel::Blather < LogLevel::Trace && LogLevel::Trace < LogLevel::Debug);
}

#[test]
fn dependency_targets_are_ignored() {
    assert!(is_our_target("supervisor::daemon::spawn"));
    assert!(is_our_target("crit"));
    assert!(is_our_target("blather"));
    assert!(!is_our_target("mio::poll"));
}

#[test]
fn line_format() {
    let line = format_line(
        LogLevel::Warn,
        "exited: quick (exit status 3; not expected)",
        SystemTime::now(),
    );
    assert!(line.ends_with('\n'));
    assert_eq!(
        strip_asctime(&line),
        "WARN exited: quick (exit status 3; not expected)\n"
    );
}

#[test]
fn multiline_message_is_written_as_is() {
    let line = format_line(
        LogLevel::Debug,
        "'cat' stdout output:\nhello\n",
        SystemTime::now(),
    );
    assert_eq!(strip_asctime(&line), "DEBG 'cat' stdout output:\nhello\n\n");
}

#[test]
fn filters_by_level_and_buffers_until_open() {
    let dir = TempDir::new("mainlog");
    let path = dir.join("supervisord.log");
    let mut core = MainLogCore::new();
    core.emit(LogLevel::Warn, "parse warning", SystemTime::now());
    core.emit(LogLevel::Debug, "too verbose", SystemTime::now());
    assert!(!path.exists());
    core.open(&file_config(&path, LogLevel::Info)).unwrap();
    core.emit(LogLevel::Info, "started", SystemTime::now());
    core.emit(LogLevel::Blather, "noise", SystemTime::now());
    core.emit(LogLevel::Critical, "bad", SystemTime::now());
    let text = String::from_utf8(read(&path)).unwrap();
    let rest: Vec<&str> = text.lines().map(strip_asctime).collect();
    assert_eq!(rest, ["WARN parse warning", "INFO started", "CRIT bad"]);
    core.set_level(LogLevel::Blather);
    core.emit(LogLevel::Blather, "noise", SystemTime::now());
    assert!(
        String::from_utf8(read(&path))
            .unwrap()
            .ends_with(" BLAT noise\n")
    );
}

#[test]
fn pending_buffer_is_bounded() {
    let mut core = MainLogCore::new();
    for i in 0..PENDING_LIMIT + 5 {
        core.emit(LogLevel::Info, &format!("m{i}"), SystemTime::now());
    }
    let pending = core.take_pending();
    assert_eq!(pending.len(), PENDING_LIMIT);
    assert!(pending[0].ends_with(" INFO m5\n"));
}

#[test]
fn main_log_rotates() {
    let dir = TempDir::new("mainrot");
    let path = dir.join("supervisord.log");
    let mut core = MainLogCore::new();
    let mut config = file_config(&path, LogLevel::Info);
    config.maxbytes = 200;
    config.backups = 2;
    core.open(&config).unwrap();
    for i in 0..30 {
        core.emit(
            LogLevel::Info,
            &format!("message number {i}"),
            SystemTime::now(),
        );
    }
    assert!(backup_name(&path, 1).exists());
    assert!(backup_name(&path, 2).exists());
    assert!(!backup_name(&path, 3).exists());
    let last = String::from_utf8(read(&path)).unwrap();
    let one = String::from_utf8(read(&backup_name(&path, 1))).unwrap();
    assert!(format!("{one}{last}").contains("message number 29\n"));
}

#[test]
fn clear_and_reopen() {
    let dir = TempDir::new("mainclear");
    let path = dir.join("supervisord.log");
    let mut core = MainLogCore::new();
    core.open(&file_config(&path, LogLevel::Info)).unwrap();
    core.emit(LogLevel::Info, "one", SystemTime::now());
    let old = dir.join("old-link");
    std::fs::hard_link(&path, &old).unwrap();
    core.clear().unwrap();
    // The notice lands in the deleted file, like the reference.
    assert!(
        String::from_utf8(read(&old))
            .unwrap()
            .ends_with(" INFO reopening log file\n")
    );
    core.emit(LogLevel::Info, "two", SystemTime::now());
    let text = String::from_utf8(read(&path)).unwrap();
    assert_eq!(
        text.lines().map(strip_asctime).collect::<Vec<_>>(),
        ["INFO two"]
    );
    let moved = dir.join("moved.log");
    std::fs::rename(&path, &moved).unwrap();
    core.reopen().unwrap();
    core.emit(LogLevel::Info, "three", SystemTime::now());
    assert!(
        String::from_utf8(read(&path))
            .unwrap()
            .ends_with(" INFO three\n")
    );
}

#[test]
fn syslog_destination_has_no_file() {
    let mut core = MainLogCore::new();
    let config = MainLogConfig {
        dest: MainLogDest::Syslog,
        maxbytes: 0,
        backups: 0,
        level: LogLevel::Info,
        stdout_copy: false,
    };
    core.open(&config).unwrap();
    core.emit(LogLevel::Info, "to syslog", SystemTime::now());
    assert!(core.path().is_none());
    assert!(core.clear().is_err());
}

#[test]
fn write_failure_is_reported_once() {
    let mut core = MainLogCore::new();
    core.open(&file_config(Path::new("/dev/full"), LogLevel::Info))
        .unwrap();
    core.emit(LogLevel::Info, "lost", SystemTime::now());
    assert!(matches!(
        core.take_report(),
        Some(WriteReport::Failed { .. })
    ));
    core.emit(LogLevel::Info, "lost again", SystemTime::now());
    assert!(core.take_report().is_none());
}

/// The only test that installs the process-wide logger.
#[test]
fn global_install_maps_macros() {
    let dir = TempDir::new("global");
    let path = dir.join("supervisord.log");
    let handle = install_buffering_main_log().unwrap();
    log::warn!("before open");
    handle.open(&file_config(&path, LogLevel::Info)).unwrap();
    log::error!(target: "crit", "critical thing");
    log::error!("an error");
    log::info!("info line");
    log::debug!("hidden debug");
    handle.set_level(LogLevel::Blather);
    log::trace!(target: "blather", "blather line");
    log::trace!("trace line");
    handle.set_level(LogLevel::Info);
    let text = String::from_utf8(read(&path)).unwrap();
    let rest: Vec<&str> = text.lines().map(strip_asctime).collect();
    // Other tests may log through the global logger concurrently: check order of ours only.
    let ours: Vec<&str> = rest
        .into_iter()
        .filter(|l| {
            [
                "before open",
                "critical thing",
                "an error",
                "info line",
                "hidden debug",
                "blather line",
                "trace line",
            ]
            .iter()
            .any(|m| l.ends_with(m))
        })
        .collect();
    assert_eq!(
        ours,
        [
            "WARN before open",
            "CRIT critical thing",
            "ERRO an error",
            "INFO info line",
            "BLAT blather line",
            "TRAC trace line"
        ]
    );
    assert_eq!(MainLogHandle::get().unwrap().path(), Some(path));
}

#[test]
fn stalled_stdout_copy_queues_drops_and_reports_while_the_file_gets_everything() {
    use std::io::Read;
    let dir = TempDir::new("stdout-stall");
    let path = dir.join("supervisord.log");
    let (reader, writer) = crate::sys::pipe_nonblocking().unwrap();
    let (mut reader, writer) = (std::fs::File::from(reader), std::fs::File::from(writer));
    let mut core = MainLogCore::new();
    core.stdout = Some(StdoutCopy::to_file(writer, 2000));
    let mut config = file_config(&path, LogLevel::Info);
    config.stdout_copy = true;
    core.open(&config).unwrap();
    let mut sent = 0;
    while core.take_stdout_report().is_none() {
        core.emit(LogLevel::Info, &format!("line {sent}"), SystemTime::now());
        sent += 1;
        assert!(sent < 100_000, "stdout never filled");
    }
    assert!(core.flush_stdout());
    let file_lines = String::from_utf8(read(&path)).unwrap().lines().count();
    assert_eq!(file_lines, sent);
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    while core.flush_stdout() {
        while let Ok(n) = reader.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    let report = core.take_stdout_report().unwrap();
    let expected_tail = format!(
        "bytes of main log output to stdout were dropped while it was not being read (the log file {} has every record)",
        path.display()
    );
    assert!(report.ends_with(&expected_tail), "{report}");
    let dropped: usize = report.split(' ').next().unwrap().parse().unwrap();
    assert!(dropped > 0);
    while let Ok(n) = reader.read(&mut buf) {
        got.extend_from_slice(&buf[..n]);
    }
    let file = String::from_utf8(read(&path)).unwrap();
    let stdout = String::from_utf8(got).unwrap();
    // stdout got a prefix of the file's records, whole lines, and exactly `dropped` bytes less.
    assert!(file.starts_with(&stdout));
    assert_eq!(stdout.len() + dropped, file.len());
}
