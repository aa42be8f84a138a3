//! The main log against the real binary: the foreground copy on stdout never stalls the daemon
//! when nobody reads stdout, and the log file keeps every record.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::{Daemon, TempDir, wait_for};

const WAIT: Duration = Duration::from_secs(60);
/// An answer while stdout is stuck must come this fast (the loop is idle apart from the churn).
const ANSWER: Duration = Duration::from_secs(10);

const DROPPING: &str = "stdout is not being read: main log records for stdout are dropped";
const RECOVERED: &str =
    "bytes of main log output to stdout were dropped while it was not being read";

/// One XML-RPC call over the unix socket (HTTP/1.0: the server closes after the reply); None
/// when no full reply came within `ANSWER`.
fn rpc_call(sock: &Path, method: &str, params: &[&str]) -> Option<String> {
    let params: String = params
        .iter()
        .map(|p| format!("<param><value><string>{p}</string></value></param>"))
        .collect();
    let body = format!(
        "<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"
    );
    let mut stream = std::os::unix::net::UnixStream::connect(sock).ok()?;
    stream.set_read_timeout(Some(ANSWER)).unwrap();
    stream.set_write_timeout(Some(ANSWER)).unwrap();
    write!(
        stream,
        "POST /RPC2 HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    Some(reply)
}

/// Whether `pid` sleeps in write(2) on fd 1 (the first two fields of /proc/PID/syscall).
fn blocked_writing_stdout(pid: i32) -> bool {
    let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
    let mut fields = syscall.split(' ');
    fields.next() == Some(&libc::SYS_write.to_string()) && fields.next() == Some("0x1")
}

/// Bytes waiting in a pipe.
fn pipe_fill(fd: i32) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD into a c_int.
    assert_eq!(unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) }, 0);
    n as usize
}

#[test]
fn stalled_stdout_reader_does_not_stall_the_daemon() {
    let dir = TempDir::new("stdoutstall");
    // At loglevel=debug every chunk of child output is also a main-log record: `chatty` fills
    // the main log fast. `churn` exits at once and is restarted (every second) until the file
    // `calm` exists; then it stays up.
    let conf = dir.write(
        "s.conf",
        "[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\nloglevel=debug\n\
         childlogdir=%(here)s\n\n\
         [unix_http_server]\nfile=%(here)s/s.sock\n\n\
         [rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
         [program:chatty]\ncommand=sh -c 'while :; do seq 3000; sleep 0.02; done'\n\
         stdout_logfile=NONE\n\n\
         [program:churn]\ncommand=sh -c 'test -e %(here)s/calm && exec sleep 1000; exit 0'\n\
         autorestart=true\nstartsecs=0\nstdout_logfile=NONE\n",
    );
    let sock = dir.join("s.sock");
    let log_path = dir.join("s.log");
    let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let mut child = Command::new(dir.applet("supervisord"))
        .arg("-n")
        .arg("-c")
        .arg(&conf)
        .current_dir(&dir.path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("daemon.err")).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut daemon = Daemon { child };
    let pipe = stdout.as_raw_fd();
    // SAFETY: resizing our own pipe (to one page) so it fills after a few records.
    let size = unsafe { libc::fcntl(pipe, libc::F_SETPIPE_SZ, 4096) };
    assert!(size > 0, "F_SETPIPE_SZ failed");

    // Nobody reads: the pipe fills up, then the queue behind it. (A blocking stdout write
    // stops here instead: the daemon sleeps in write(1, ..) and the RPC below gets no answer.)
    let pid = daemon.pid();
    assert!(
        wait_for(WAIT, || pipe_fill(pipe) > 0
            && (read_log().contains(DROPPING) || blocked_writing_stdout(pid))),
        "the stdout queue never overflowed"
    );
    assert!(sock.exists());
    let asked = Instant::now();
    let state = rpc_call(&sock, "supervisor.getState", &[]);
    assert!(
        state.as_deref().is_some_and(|s| s.contains("RUNNING")),
        "no XML-RPC answer within {ANSWER:?} while stdout is full: {state:?}"
    );
    assert!(asked.elapsed() < ANSWER);

    // Children are still reaped and restarted.
    let exits_before = read_log().matches("exited: churn").count();
    assert!(
        wait_for(WAIT, || read_log().matches("exited: churn").count()
            >= exits_before + 2),
        "churn is not restarted while stdout is stuck"
    );
    let stop = rpc_call(&sock, "supervisor.stopProcess", &["chatty"]);
    assert!(
        stop.as_deref()
            .is_some_and(|s| s.contains("<boolean>1</boolean>")),
        "{stop:?}"
    );
    assert!(read_log().contains("stopped: chatty (terminated by SIGTERM)"));
    dir.write("calm", "");

    // Start reading: the queue drains, the drop count is logged, and new records come through.
    let received = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let received = Arc::clone(&received);
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                received.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let text = || String::from_utf8_lossy(&received.lock().unwrap()).into_owned();
    assert!(
        wait_for(WAIT, || text().contains(RECOVERED)),
        "no drop count on stdout after draining"
    );
    // churn is up for good once it was respawned after `calm` appeared.
    let stopped = wait_for(WAIT, || {
        rpc_call(&sock, "supervisor.stopProcess", &["churn"])
            .is_some_and(|r| r.contains("<boolean>1</boolean>"))
    });
    assert!(stopped, "churn could not be stopped over RPC");
    assert!(
        wait_for(WAIT, || text().split_once(RECOVERED).is_some_and(
            |(_, after)| after.contains("stopped: churn (terminated by SIGTERM)")
        )),
        "stdout did not resume"
    );
    assert_eq!(daemon.stop(WAIT), Some(0));
    reader.join().unwrap();

    // The log file has every record; stdout has whole records left out, as many bytes as the
    // drop count says, and from the count on the same records as the file.
    let out = text();
    let file = read_log();
    // `... WARN <count> bytes of main log output ...`
    let before_count = &out[..out.find(RECOVERED).unwrap()];
    let dropped: usize = before_count
        .trim_end()
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count before {RECOVERED:?}"));
    assert!(dropped > 0);
    assert_eq!(file.len(), out.len() + dropped, "stdout and file differ");
    let from_count = |s: &str| -> String {
        let at = s.find(RECOVERED).unwrap();
        let line_start = s[..at].rfind('\n').map_or(0, |i| i + 1);
        s[line_start..].to_string()
    };
    assert_eq!(from_count(&out), from_count(&file));
    assert_eq!(out[..size as usize], file[..size as usize]);
    assert!(file.contains(&format!(
        "{RECOVERED} (the log file {} has every record)",
        log_path.display()
    )));
}
