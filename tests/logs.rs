//! The main log against the real binary: the foreground copy on stdout never stalls the daemon
//! when nobody reads stdout, and the log file keeps every record.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::{Daemon, RPC_SECTIONS, TempDir, wait_for};

/// The load tests fill pipes and disks; under a loaded CI machine they get three times the usual wait.
const WAIT: Duration = crate::util::WAIT.saturating_mul(3);
/// An answer while stdout is stuck must come this fast (the loop is idle apart from the churn).
const ANSWER: Duration = Duration::from_secs(10);

const DROPPING: &str = "stdout is not being read: main log records for stdout are dropped";
const RECOVERED: &str =
    "bytes of main log output to stdout were dropped while it was not being read";

/// One XML-RPC call over the unix socket; None when no full reply came within `ANSWER`.
fn rpc_call(sock: &Path, method: &str, params: &[&str]) -> Option<String> {
    crate::util::try_rpc_call(sock, method, params, ANSWER)
}

/// Whether `pid` sleeps in write(2) on fd 1 or 2 (the first two fields of /proc/PID/syscall).
fn blocked_writing_stdout(pid: i32) -> bool {
    let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
    let mut fields = syscall.split(' ');
    fields.next() == Some(&libc::SYS_write.to_string())
        && matches!(fields.next(), Some("0x1" | "0x2"))
}

/// `supervisord -n -c conf` with stdout (and stderr too when `stderr_too`, as under docker) on a
/// one-page pipe nobody reads yet; returns the daemon and the pipe's read end.
fn start_on_pipe(dir: &TempDir, conf: &Path, stderr_too: bool) -> (Daemon, File) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fds we then own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: freshly created, owned by nothing else.
    let (reader, writer) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    // SAFETY: resizing our own pipe (to one page) so it fills after a few records.
    assert!(unsafe { libc::fcntl(fds[0], libc::F_SETPIPE_SZ, 4096) } > 0);
    let stderr = if stderr_too {
        Stdio::from(writer.try_clone().unwrap())
    } else {
        Stdio::from(File::create(dir.join("daemon.err")).unwrap())
    };
    let child = Command::new(dir.applet("supervisord"))
        .arg("-n")
        .arg("-c")
        .arg(conf)
        .current_dir(&dir.path)
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(stderr)
        .spawn()
        .unwrap();
    (Daemon { child }, reader)
}

/// Bytes waiting in a pipe.
fn pipe_fill(fd: i32) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD into a c_int.
    assert_eq!(unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) }, 0);
    n as usize
}

/// Reads `pipe` to its end in a thread; the bytes so far are in the returned buffer.
fn drain(mut pipe: File) -> (Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&received);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    (received, reader)
}

fn text(received: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&received.lock().unwrap()).into_owned()
}

/// Asks the daemon over RPC, with a deadline, whether it is running.
fn assert_answers(sock: &Path) {
    let asked = Instant::now();
    let state = rpc_call(sock, "supervisor.getState", &[]);
    assert!(
        state.as_deref().is_some_and(|s| s.contains("RUNNING")),
        "no XML-RPC answer within {ANSWER:?} while stdout is full: {state:?}"
    );
    assert!(asked.elapsed() < ANSWER);
}

/// At loglevel=debug every chunk of child output is also a main-log record: `chatty` fills the
/// main log fast.
const CHATTY: &str = "[program:chatty]\ncommand=sh -c 'while :; do seq 3000; sleep 0.02; done'\n";

#[test]
fn stalled_stdout_reader_does_not_stall_the_daemon() {
    let dir = TempDir::new("stdoutstall");
    // `churn` exits at once and is restarted (every second) until the file `calm` exists; then
    // it stays up.
    let conf = dir.write(
        "s.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\nloglevel=debug\n\
             childlogdir=%(here)s\n\n{RPC_SECTIONS}{CHATTY}stdout_logfile=NONE\n\n\
             [program:churn]\ncommand=sh -c 'test -e %(here)s/calm && exec sleep 1000; exit 0'\n\
             autorestart=true\nstartsecs=0\nstdout_logfile=NONE\n"
        ),
    );
    let sock = dir.join("s.sock");
    let log_path = dir.join("s.log");
    let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let (mut daemon, stdout) = start_on_pipe(&dir, &conf, false);
    let pipe = stdout.as_raw_fd();
    let size = 4096;

    // Nobody reads: the pipe fills up, then the queue behind it. (A blocking stdout write
    // stops here instead: the daemon sleeps in write(1, ..) and the RPC below gets no answer.)
    let pid = daemon.pid();
    assert!(
        wait_for(WAIT, || pipe_fill(pipe) > 0
            && (read_log().contains(DROPPING) || blocked_writing_stdout(pid))),
        "the stdout queue never overflowed"
    );
    assert!(sock.exists());
    assert_answers(&sock);

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
    let (received, reader) = drain(stdout);
    let text = || text(&received);
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
    assert_eq!(out[..size], file[..size]);
    assert!(file.contains(&format!(
        "{RECOVERED} (the log file {} has every record)",
        log_path.display()
    )));
}

/// The usual container setup: `logfile=/dev/stdout` and stdout and stderr on the same pipe (the
/// log driver). When it stalls, the main log's file queue and its stdout copy both overflow, and
/// the report that the log file fails goes to the stuck stderr: none of it may block. At exit
/// both queues are flushed to a reader that keeps up.
#[test]
fn main_log_on_a_stalled_dev_stdout_shared_with_stderr_does_not_stall_the_daemon() {
    let dir = TempDir::new("devstdout");
    let conf = dir.write(
        "s.conf",
        &format!(
            "[supervisord]\nlogfile=/dev/stdout\nlogfile_maxbytes=0\npidfile=%(here)s/s.pid\n\
             loglevel=debug\nchildlogdir=%(here)s\n\n{RPC_SECTIONS}{CHATTY}\
             stdout_logfile=%(here)s/chatty.log\n\n\
             [program:quiet]\ncommand=sleep 1000\nautostart=false\n"
        ),
    );
    let sock = dir.join("s.sock");
    let chatty_log = dir.join("chatty.log");
    let (mut daemon, pipe) = start_on_pipe(&dir, &conf, true);
    let pid = daemon.pid();
    // Each chunk of chatty's output is one record in both 1 MiB queues: once chatty wrote 3 MiB
    // both have overflowed (and the file's failure was reported).
    let chatty_bytes = || std::fs::metadata(&chatty_log).map_or(0, |m| m.len());
    assert!(
        wait_for(WAIT, || pipe_fill(pipe.as_raw_fd()) > 0
            && (chatty_bytes() > 3 << 20 || blocked_writing_stdout(pid))),
        "chatty's output never reached 3 MiB"
    );
    assert!(sock.exists());
    assert_answers(&sock);
    let stop = rpc_call(&sock, "supervisor.stopProcess", &["chatty"]);
    assert!(
        stop.as_deref()
            .is_some_and(|s| s.contains("<boolean>1</boolean>")),
        "{stop:?}"
    );

    // Draining brings back both: the stdout copy's drop count, and the file's recovery once
    // the next record is written.
    let (received, reader) = drain(pipe);
    assert!(
        wait_for(WAIT, || text(&received).contains(RECOVERED)),
        "no drop count on stdout after draining"
    );
    let start = rpc_call(&sock, "supervisor.startProcess", &["quiet"]);
    assert!(
        start
            .as_deref()
            .is_some_and(|s| s.contains("<boolean>1</boolean>")),
        "{start:?}"
    );
    assert!(
        wait_for(WAIT, || text(&received)
            .contains("writing to log file /dev/stdout works again (")),
        "the main log file never recovered"
    );
    assert_eq!(daemon.stop(WAIT), Some(0));
    reader.join().unwrap();
    let out = text(&received);
    assert!(
        !out.contains("has every record"),
        "a pipe log file does not have every record"
    );
    let after = &out[out.find(RECOVERED).unwrap()..];
    // From then on every record arrives twice, once per handler, like the reference.
    assert_eq!(
        after
            .matches("received SIGTERM indicating exit request")
            .count(),
        2,
        "{after}"
    );
}

/// While records (and a child's `stdout_logfile=/dev/stdout` output) wait for a stdout nobody
/// reads, the daemon sleeps until the reader makes room (it waits on the pipe for writability)
/// instead of retrying on a timer; then they go out.
#[test]
fn stalled_stdout_is_waited_on_not_polled() {
    let dir = TempDir::new("stdoutwait");
    // One burst of output (each chunk is a DEBG main-log record), then silence.
    let conf = dir.write(
        "s.conf",
        "[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\nloglevel=debug\n\
         childlogdir=%(here)s\n\n[program:burst]\n\
         command=sh -c 'seq 3000; echo burst-done; exec sleep 1000'\nstdout_logfile=NONE\n\n\
         [program:direct]\ncommand=sh -c 'seq 3000; echo direct-done; exec sleep 1000'\n\
         stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n",
    );
    let log_path = dir.join("s.log");
    let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let (mut daemon, stdout) = start_on_pipe(&dir, &conf, false);
    let pid = daemon.pid();
    assert!(
        wait_for(WAIT, || read_log().contains("burst-done")
            && read_log().contains("direct-done")
            && read_log().matches("entered RUNNING state").count() == 2
            && pipe_fill(stdout.as_raw_fd()) > 0),
        "the burst never reached the main log"
    );
    // The queue behind the full pipe holds the rest; the daemon has nothing else to do.
    let before = crate::util::all_switches(pid);
    std::thread::sleep(Duration::from_millis(1000));
    let woke = crate::util::all_switches(pid) - before;
    assert!(
        woke <= 5,
        "{woke} wake-ups in 1 s while stdout was stuck (a retry timer would give ~20)"
    );
    let (received, reader) = drain(stdout);
    assert!(
        wait_for(WAIT, || text(&received).contains("burst-done")
            && text(&received).contains("direct-done")),
        "queued records did not go out once stdout was read"
    );
    assert_eq!(daemon.stop(WAIT), Some(0));
    reader.join().unwrap();
}
