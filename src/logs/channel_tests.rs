//! Tests of `OutputChannel`: file output, events, main-log copies, capture mode, listeners.

use super::*;
use crate::logs::testutil::{TempDir, read};
use std::os::unix::net::UnixDatagram;

const B: &str = "<!--XSUPERVISOR:BEGIN-->";
const E: &str = "<!--XSUPERVISOR:END-->";

fn config(dir: &TempDir) -> ChannelConfig {
    ChannelConfig {
        process_name: "cat".into(),
        channel: Channel::Stdout,
        logfile: Some(dir.join("cat.log").into()),
        logfile_maxbytes: 0,
        logfile_backups: 0,
        capture_maxbytes: 0,
        events_enabled: true,
        syslog: false,
        strip_ansi: false,
        mainlog_debug: false,
        listener_protocol: false,
        log_prefix: None,
        log_timestamps: false,
    }
}

/// A compact view of outputs for table comparisons.
#[derive(Debug, PartialEq, Eq)]
enum Out {
    Log(String),
    Comm(String),
    Debug(String),
}

fn view(outputs: Vec<ChannelOutput>) -> Vec<Out> {
    outputs
        .into_iter()
        .map(|o| match o {
            ChannelOutput::LogEvent(d) => Out::Log(String::from_utf8(d).unwrap()),
            ChannelOutput::CommEvent(d) => Out::Comm(String::from_utf8(d).unwrap()),
            ChannelOutput::MainLogDebug(t) => Out::Debug(t),
            ChannelOutput::WriteProblem(r) => panic!("unexpected {r}"),
        })
        .collect()
}

fn log(s: &str) -> Out {
    Out::Log(s.into())
}

#[test]
fn plain_output_goes_to_file_event_and_debug_copy() {
    let dir = TempDir::new("chan");
    let mut cfg = config(&dir);
    cfg.mainlog_debug = true;
    let mut channel = OutputChannel::new(cfg).unwrap();
    let out = view(channel.feed(b"hello\n"));
    assert_eq!(
        out,
        [
            Out::Debug("'cat' stdout output:\nhello\n".into()),
            log("hello\n")
        ]
    );
    assert_eq!(read(&dir.join("cat.log")), b"hello\n");
}

#[test]
fn undecodable_debug_copy_uses_bytes_repr() {
    let dir = TempDir::new("chanundec");
    let mut cfg = config(&dir);
    cfg.mainlog_debug = true;
    cfg.events_enabled = false;
    cfg.channel = Channel::Stderr;
    let mut channel = OutputChannel::new(cfg).unwrap();
    let out = channel.feed(b"caf\xc3\xa9 \xff\n");
    assert!(matches!(&out[..], [ChannelOutput::MainLogDebug(t)]
        if t == r"'cat' stderr output:
Undecodable: b'caf\xc3\xa9 \xff\n'"));
    assert_eq!(read(&dir.join("cat.log")), b"caf\xc3\xa9 \xff\n");
}

#[test]
fn events_disabled_and_no_file() {
    let dir = TempDir::new("channone");
    let mut cfg = config(&dir);
    cfg.logfile = None;
    cfg.events_enabled = false;
    let mut channel = OutputChannel::new(cfg).unwrap();
    assert!(channel.feed(b"x\n").is_empty());
    assert!(channel.logfile_path().is_none());
    assert!(!dir.join("cat.log").exists());
}

#[test]
fn ansi_is_stripped_before_file_and_events_across_reads() {
    let dir = TempDir::new("chanansi");
    let mut cfg = config(&dir);
    cfg.strip_ansi = true;
    let mut channel = OutputChannel::new(cfg).unwrap();
    let first = view(channel.feed(b"\x1b[31mred\x1b[0"));
    let second = view(channel.feed(b"m plain\n"));
    assert_eq!(first, [log("red")]);
    assert_eq!(second, [log(" plain\n")]);
    assert_eq!(read(&dir.join("cat.log")), b"red plain\n");
}

#[test]
fn capture_mode_verified_event_order() {
    let dir = TempDir::new("chancap");
    let mut cfg = config(&dir);
    cfg.capture_maxbytes = 1000;
    cfg.mainlog_debug = true;
    let mut channel = OutputChannel::new(cfg).unwrap();
    let input = format!("before\n{B}captured data\nline2{E}after\n");
    let out = view(channel.feed(input.as_bytes()));
    let dbg = |d: &str| Out::Debug(format!("'cat' stdout output:\n{d}"));
    assert_eq!(
        out,
        [
            dbg("before\n"),
            log("before\n"),
            dbg("captured data\nline2"),
            log("captured data\nline2"),
            Out::Comm("captured data\nline2".into()),
            Out::Debug("'cat' stdout emitted a comm event".into()),
            dbg("after\n"),
            log("after\n"),
        ]
    );
    assert_eq!(read(&dir.join("cat.log")), b"before\nafter\n");
}

/// Splits the stream at every pair of positions: the file and the comm events never change.
#[test]
fn capture_tokens_split_across_reads() {
    let input = format!("a{B}one{E}b{B}{E}c<!--XSUP{B}two<!--{E}d");
    let bytes = input.as_bytes();
    let dir = TempDir::new("chansplit");
    for i in 0..=bytes.len() {
        for j in (i..=bytes.len()).step_by(7) {
            let mut cfg = config(&dir);
            cfg.logfile = Some(dir.join(&format!("split-{i}-{j}.log")).into());
            cfg.capture_maxbytes = 100;
            let mut channel = OutputChannel::new(cfg).unwrap();
            let mut outputs = channel.feed(&bytes[..i]);
            outputs.extend(channel.feed(&bytes[i..j]));
            outputs.extend(channel.feed(&bytes[j..]));
            outputs.extend(channel.finish());
            let comms: Vec<Out> = view(outputs)
                .into_iter()
                .filter(|o| matches!(o, Out::Comm(_)))
                .collect();
            assert_eq!(
                comms,
                [
                    Out::Comm("one".into()),
                    Out::Comm("".into()),
                    Out::Comm("two<!--".into())
                ],
                "split {i},{j}"
            );
            let path = dir.join(&format!("split-{i}-{j}.log"));
            assert_eq!(read(&path), b"abc<!--XSUPd", "split {i},{j}");
            std::fs::remove_file(path).unwrap();
        }
    }
}

#[test]
fn partial_token_is_held_until_next_read_or_end() {
    let dir = TempDir::new("chanheld");
    let mut cfg = config(&dir);
    cfg.capture_maxbytes = 100;
    let mut channel = OutputChannel::new(cfg).unwrap();
    assert_eq!(view(channel.feed(b"text<!--XSUPER")), [log("text")]);
    assert_eq!(view(channel.finish()), [log("<!--XSUPER")]);
    assert_eq!(read(&dir.join("cat.log")), b"text<!--XSUPER");
}

#[test]
fn capture_buffer_drops_from_front_like_boundio() {
    let dir = TempDir::new("chanbound");
    let mut cfg = config(&dir);
    cfg.capture_maxbytes = 10;
    cfg.events_enabled = false;
    let mut channel = OutputChannel::new(cfg).unwrap();
    channel.feed(B.as_bytes());
    channel.feed(b"12345678");
    channel.feed(b"abcdef"); // 8 + 6 > 10: drop 6 from the front
    let out = view(channel.feed(E.as_bytes()));
    assert_eq!(out, [Out::Comm("78abcdef".into())]);
    // A single write bigger than the capacity is kept whole (the reference's quirk).
    channel.feed(B.as_bytes());
    channel.feed(b"0123456789ABCDEF");
    let out = view(channel.feed(E.as_bytes()));
    assert_eq!(out, [Out::Comm("0123456789ABCDEF".into())]);
    assert_eq!(read(&dir.join("cat.log")), b"");
}

#[test]
fn without_capture_tokens_are_text() {
    let dir = TempDir::new("channocap");
    let mut channel = OutputChannel::new(config(&dir)).unwrap();
    let input = format!("{B}x{E}");
    assert_eq!(view(channel.feed(input.as_bytes())), [log(&input)]);
    assert_eq!(read(&dir.join("cat.log")), input.as_bytes());
}

#[test]
fn listener_stdout_is_protocol_bytes() {
    let dir = TempDir::new("chanlst");
    let mut cfg = config(&dir);
    cfg.process_name = "lst".into();
    cfg.listener_protocol = true;
    cfg.mainlog_debug = true;
    let mut channel = OutputChannel::new(cfg).unwrap();
    let out = view(channel.feed(b"RESULT 2\nOKREADY\n"));
    assert_eq!(
        out,
        [Out::Debug(
            r"'lst' stdout output:
b'RESULT 2\nOKREADY\n'"
                .into()
        )]
    );
    assert_eq!(read(&dir.join("cat.log")), b"RESULT 2\nOKREADY\n");
}

#[test]
fn syslog_lines_are_prefixed_with_process_name() {
    let dir = TempDir::new("chansyslog");
    let socket_path = dir.join("log.sock");
    let server = UnixDatagram::bind(&socket_path).unwrap();
    let mut cfg = config(&dir);
    cfg.logfile = None;
    cfg.events_enabled = false;
    let mut channel = OutputChannel::new(cfg).unwrap();
    channel.syslog = Some(Box::new(SyslogSender::with_socket(
        socket_path,
        "supervisord".into(),
    )));
    channel.feed(b"one\n\ntwo\n");
    let mut received = Vec::new();
    let mut buf = [0u8; 512];
    for _ in 0..3 {
        let n = server.recv(&mut buf).unwrap();
        let text = String::from_utf8(buf[..n].to_vec()).unwrap();
        received.push(text.split_once(" supervisord: ").unwrap().1.to_string());
    }
    assert_eq!(received, ["cat one", "cat ", "cat two"]);
}

#[test]
fn clear_and_reopen_channel_file() {
    let dir = TempDir::new("chanclear");
    let mut channel = OutputChannel::new(config(&dir)).unwrap();
    channel.feed(b"old\n");
    channel.clear().unwrap();
    channel.feed(b"new\n");
    assert_eq!(read(&dir.join("cat.log")), b"new\n");
    std::fs::rename(dir.join("cat.log"), dir.join("moved")).unwrap();
    channel.reopen().unwrap();
    channel.feed(b"after\n");
    assert_eq!(read(&dir.join("cat.log")), b"after\n");
}

#[test]
fn write_failures_surface_once() {
    let dir = TempDir::new("chanfull");
    let mut cfg = config(&dir);
    cfg.logfile = Some(Path::new("/dev/full").into());
    cfg.events_enabled = false;
    let mut channel = OutputChannel::new(cfg).unwrap();
    assert!(matches!(
        &channel.feed(b"x\n")[..],
        [ChannelOutput::WriteProblem(WriteReport::Failed { .. })]
    ));
    assert!(channel.feed(b"y\n").is_empty());
}

fn log_channel(logfile: LogTarget) -> LogChannel {
    LogChannel {
        logfile,
        logfile_maxbytes: 1000,
        logfile_backups: 3,
        capture_maxbytes: 50,
        events_enabled: true,
        syslog: false,
    }
}

fn process(stdout: LogTarget, stderr: LogTarget) -> ProcessConfig {
    ProcessConfig {
        name: "web_0".into(),
        section: "program:web".into(),
        program_name: "web".into(),
        command: "/bin/cat".into(),
        stdout: log_channel(stdout),
        stderr: log_channel(stderr),
        ..crate::process::test_config("web_0")
    }
}

#[test]
fn config_from_process_table() {
    let auto = Path::new("/logs/web_0-stdout---supervisor-abcdefgh.log");
    let p = process(LogTarget::Auto, LogTarget::Syslog);
    let out = ChannelConfig::from_process(
        &p,
        Channel::Stdout,
        Some(auto.into()),
        true,
        LogLevel::Debug,
        false,
    );
    assert_eq!(out.logfile.as_deref(), Some(auto));
    assert_eq!(
        (
            out.logfile_maxbytes,
            out.logfile_backups,
            out.capture_maxbytes
        ),
        (1000, 3, 50)
    );
    assert!(out.mainlog_debug && out.strip_ansi && out.events_enabled && !out.syslog);
    let err = ChannelConfig::from_process(&p, Channel::Stderr, None, false, LogLevel::Info, false);
    assert_eq!(err.logfile, None);
    assert!(err.syslog && !err.mainlog_debug);
    let p = process(LogTarget::File("/var/log/web.log".into()), LogTarget::None);
    let listener =
        ChannelConfig::from_process(&p, Channel::Stdout, None, false, LogLevel::Info, true);
    assert_eq!(
        listener.logfile.as_deref(),
        Some(Path::new("/var/log/web.log"))
    );
    assert!(
        listener.listener_protocol && !listener.events_enabled && listener.capture_maxbytes == 0
    );
    let listener_err =
        ChannelConfig::from_process(&p, Channel::Stderr, None, false, LogLevel::Info, true);
    assert!(!listener_err.listener_protocol && listener_err.logfile.is_none());
}

#[test]
fn splice_only_when_nothing_but_the_file_needs_the_bytes() {
    let dir = TempDir::new("splice-ready");
    let plain = |dir: &TempDir| ChannelConfig {
        events_enabled: false,
        ..config(dir)
    };
    type Tweak = fn(&mut ChannelConfig);
    let cases: &[(&str, Tweak, bool)] = &[
        ("plain file", |_| {}, true),
        ("rotating file", |c| c.logfile_maxbytes = 1 << 20, true),
        ("strip_ansi", |c| c.strip_ansi = true, false),
        ("capture mode", |c| c.capture_maxbytes = 1024, false),
        ("PROCESS_LOG events", |c| c.events_enabled = true, false),
        ("main log at debug", |c| c.mainlog_debug = true, false),
        ("listener protocol", |c| c.listener_protocol = true, false),
        ("no file", |c| c.logfile = None, false),
        (
            "not a regular file",
            |c| c.logfile = Some(Path::new("/dev/null").into()),
            false,
        ),
        ("tiny maxbytes", |c| c.logfile_maxbytes = 1000, false),
        ("log_prefix", |c| c.log_prefix = Some("p ".into()), false),
        ("log_timestamps", |c| c.log_timestamps = true, false),
    ];
    for (name, tweak, ready) in cases {
        let mut cfg = plain(&dir);
        tweak(&mut cfg);
        let channel = OutputChannel::new(cfg).unwrap();
        assert_eq!(channel.splice_ready(), *ready, "{name}");
    }
    // syslog opens a socket to /dev/log; whether or not that exists, it rules splice out.
    let channel = OutputChannel::new(ChannelConfig {
        syslog: true,
        ..plain(&dir)
    })
    .unwrap();
    assert!(!channel.splice_ready());
}

#[test]
fn not_ready_channels_refuse_to_splice_and_leave_the_pipe_alone() {
    let dir = TempDir::new("splice-refuse");
    let mut channel = OutputChannel::new(config(&dir)).unwrap();
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors, closed below.
    assert_eq!(
        unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK) },
        0
    );
    // SAFETY: writing a valid slice.
    assert_eq!(
        unsafe { libc::write(fds[1], b"kept\n".as_ptr().cast(), 5) },
        5
    );
    let (spliced, report) = channel.splice_from(fds[0], 4096);
    assert_eq!(spliced, Spliced::Unsupported);
    assert!(report.is_none());
    let mut buf = [0u8; 8];
    // SAFETY: reading into a valid buffer; then closing our own descriptors.
    unsafe {
        assert_eq!(libc::read(fds[0], buf.as_mut_ptr().cast(), 8), 5);
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    assert_eq!(&buf[..5], b"kept\n");
    assert_eq!(read(&dir.join("cat.log")), b"");
}

/// `log_prefix` / `log_timestamps`: the file gets whole prefixed lines (a partial line waits,
/// the end of the pipe completes it), stamped with the pass's wall time; events keep the raw
/// bytes.
#[test]
fn prefixed_lines_reach_the_file_whole_and_events_stay_raw() {
    let dir = TempDir::new("prefixed");
    let mut channel = OutputChannel::new(ChannelConfig {
        log_prefix: Some("[cat] ".into()),
        log_timestamps: true,
        ..config(&dir)
    })
    .unwrap();
    let wall = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_796_418_423_123);
    let outputs = channel.feed_at(b"one\ntw", wall);
    assert_eq!(view(outputs), vec![Out::Log("one\ntw".into())]);
    assert_eq!(
        read(&dir.join("cat.log")),
        b"2026-12-04T21:07:03.123Z [cat] one\n"
    );
    channel.feed_at(b"o\nlast", wall);
    channel.finish_at(wall + std::time::Duration::from_secs(1));
    assert_eq!(
        String::from_utf8(read(&dir.join("cat.log"))).unwrap(),
        "2026-12-04T21:07:03.123Z [cat] one\n2026-12-04T21:07:03.123Z [cat] two\n\
         2026-12-04T21:07:04.123Z [cat] last\n"
    );
}
