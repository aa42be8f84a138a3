//! `pidproxy PIDFILE COMMAND [ARGS...]`: the reference's fourth program, for daemons that fork
//! into the background. Runs COMMAND, forwards TERM, HUP, INT, QUIT, USR1 and USR2 to the pid
//! read from PIDFILE, and exits when the process it stands for is gone, so supervisord can
//! manage a program that does not stay in the foreground.
//!
//! Same usage text, pidfile parsing (`int(f.read().strip())`), message on an unreadable pidfile
//! and forwarded signals as supervisor 4.3.0's pidproxy.py. Where that one exits as soon as its
//! direct child exits (within its 5-second poll), i.e. at once for a daemon that forks, or right
//! after forwarding TERM/INT/QUIT while the daemon is still shutting down, this one keeps
//! standing for the pid in PIDFILE until that process is really gone, so supervisord's RUNNING
//! and STOPPED mean what they say (docs/differences.md).

use crate::config::values;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// The reference's module docstring, printed with its argv[0] on a usage error (to stdout).
const USAGE: &str = "pidproxy -- run command and proxy signals to it via its pidfile.\n\n\
This executable runs a command and then monitors a pidfile.  When this\n\
executable receives a signal, it sends the same signal to the pid\n\
in the pidfile.\n\n\
Usage: %s <pidfile name> <command> [<cmdarg1> ...]\n";

/// Signals passed on to the pid in the pidfile (the reference's list).
const FORWARDED: [i32; 6] = [
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGQUIT,
];

/// How long after a successful exit of COMMAND we wait for PIDFILE to name a live process (a
/// daemon may write it just after its parent returns). The reference's own poll interval.
const PIDFILE_GRACE: Duration = Duration::from_secs(5);

/// Write end of the self-pipe; the signal handler's only state.
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = SIGNAL_PIPE.load(Ordering::Relaxed);
    let byte = sig as u8;
    // SAFETY: write(2) is async-signal-safe; a full pipe just drops the byte (non-blocking),
    // and errno is saved around it so the interrupted code sees its own.
    unsafe {
        let saved = *libc::__errno_location();
        libc::write(fd, (&byte as *const u8).cast(), 1);
        *libc::__errno_location() = saved;
    }
}

/// What the proxy is doing: standing in for COMMAND, or for the daemon it left behind.
enum Phase {
    /// COMMAND is running in the foreground.
    Child { pid: i32 },
    /// COMMAND exited with `status`; waiting (until `deadline`) for PIDFILE to name a process.
    Grace {
        child: i32,
        status: i32,
        deadline: Instant,
    },
    /// Standing for `pid`; `pidfd` signals its exit when the kernel has pidfd_open.
    Watch { pid: i32, pidfd: Option<OwnedFd> },
}

pub fn main(argv0: &str, args: &[String]) -> i32 {
    let (Some(pidfile), Some(cmd)) = (args.first(), args.get(1)) else {
        println!("{}", USAGE.replace("%s", argv0));
        return 1;
    };
    match run(pidfile, cmd, &args[2..]) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("pidproxy: fatal: {msg}");
            111
        }
    }
}

fn run(pidfile: &str, cmd: &str, cmd_args: &[String]) -> Result<i32, String> {
    let (read_end, write_end) =
        crate::sys::pipe_nonblocking().map_err(|e| format!("unable to create a pipe: {e}"))?;
    SIGNAL_PIPE.store(write_end.as_raw_fd(), Ordering::Relaxed);
    // Kept open for the life of the process: the handler writes to it.
    std::mem::forget(write_end);
    for sig in FORWARDED.iter().chain(&[libc::SIGCHLD]) {
        install(*sig).map_err(|e| format!("unable to catch signal {sig}: {e}"))?;
    }
    // A daemon that forks is re-parented to us instead of init, so we see its exit status.
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };

    // The reference runs os.path.abspath(COMMAND): no PATH search, argv[0] as written.
    let abs = absolute(cmd);
    let child = match std::process::Command::new(&abs)
        .arg0(cmd)
        .args(cmd_args)
        .spawn()
    {
        Ok(c) => c.id() as i32,
        Err(e) => {
            eprintln!("pidproxy: fatal: unable to run {abs}: {e}");
            return Ok(if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            });
        }
    };
    let mut phase = Phase::Child { pid: child };
    loop {
        let timeout = match &phase {
            Phase::Child { .. } => None,
            Phase::Grace { deadline, .. } => Some(
                deadline
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(100)),
            ),
            Phase::Watch { pidfd: Some(_), .. } => None,
            // No pidfd (old kernel) and not our child: poll for its disappearance.
            Phase::Watch { pidfd: None, .. } => Some(Duration::from_secs(1)),
        };
        let pidfd = match &phase {
            Phase::Watch {
                pidfd: Some(fd), ..
            } => Some(fd.as_raw_fd()),
            _ => None,
        };
        wait(read_end.as_raw_fd(), pidfd, timeout);
        for sig in drain(read_end.as_raw_fd()) {
            if sig == libc::SIGCHLD {
                continue;
            }
            if let Some(code) = forward(sig, pidfile, &mut phase) {
                return Ok(code);
            }
        }
        if let Some(code) = step(&mut phase, pidfile) {
            return Ok(code);
        }
    }
}

/// Reaps every exited child and advances the phase; Some(exit code) when the proxy is done.
fn step(phase: &mut Phase, pidfile: &str) -> Option<i32> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid out pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            break;
        }
        let code = exit_code(status);
        match phase {
            Phase::Child { pid: c } if *c == pid => {
                *phase = Phase::Grace {
                    child: pid,
                    status: code,
                    deadline: Instant::now() + PIDFILE_GRACE,
                };
            }
            Phase::Watch { pid: w, .. } if *w == pid => return Some(code),
            _ => {}
        }
    }
    match phase {
        Phase::Child { .. } => None,
        Phase::Grace {
            child,
            status,
            deadline,
        } => match read_pid(pidfile) {
            Some(p) if p != *child && alive(p) => {
                *phase = Phase::Watch {
                    pid: p,
                    pidfd: pidfd_open(p),
                };
                None
            }
            // COMMAND failed, or it was the process the pidfile names: nothing is left.
            Some(p) if p == *child => Some(*status),
            _ if *status != 0 || Instant::now() >= *deadline => Some(*status),
            _ => None,
        },
        Phase::Watch { pid, .. } => (!alive(*pid)).then_some(0),
    }
}

/// Passes `sig` to the pid in the pidfile; after TERM, INT or QUIT the proxy stands for that
/// pid until it is gone. Some(exit code) when there is nothing left to wait for.
fn forward(sig: i32, pidfile: &str, phase: &mut Phase) -> Option<i32> {
    let Some(pid) = read_pid(pidfile) else {
        // The reference's message, on stdout, and the signal is dropped. A closed stdout is
        // no reason to stop standing for the daemon.
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), "Can't read child pidfile {pidfile}!");
        return None;
    };
    // SAFETY: kill(2) with plain integers.
    if unsafe { libc::kill(pid, sig) } != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            // The process is already gone; for a stop signal there is nothing left to do.
            return matches!(sig, libc::SIGTERM | libc::SIGINT | libc::SIGQUIT).then_some(0);
        }
        eprintln!("pidproxy: unable to send signal {sig} to pid {pid}: {err}");
        return None;
    }
    if matches!(sig, libc::SIGTERM | libc::SIGINT | libc::SIGQUIT) {
        let same = matches!(phase, Phase::Watch { pid: w, .. } if *w == pid);
        if !same {
            *phase = Phase::Watch {
                pid,
                pidfd: pidfd_open(pid),
            };
        }
    }
    None
}

/// The pidfile's contents as Python's `int(f.read().strip())` reads them.
fn read_pid(pidfile: &str) -> Option<i32> {
    let text = std::fs::read_to_string(pidfile).ok()?;
    let n = values::integer(text.trim()).ok()?;
    i32::try_from(n).ok().filter(|p| *p > 0)
}

/// Whether `pid` exists and has not exited (a zombie counts as gone).
fn alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence.
    let exists = unsafe { libc::kill(pid, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => true,
    }
}

/// A pidfd for `pid` (readable once it exits), or None when the kernel lacks pidfd_open.
fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the kernel just returned this fd to us and nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Sleeps in poll(2) until a signal byte, the pidfd, or the timeout (None = no timeout).
fn wait(pipe: i32, pidfd: Option<i32>, timeout: Option<Duration>) {
    let mut fds = vec![libc::pollfd {
        fd: pipe,
        events: libc::POLLIN,
        revents: 0,
    }];
    if let Some(fd) = pidfd {
        fds.push(libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        });
    }
    let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
    // SAFETY: fds points at fds.len() initialised pollfd structs; EINTR simply returns early.
    unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
}

/// Every signal number written to the self-pipe since the last call, in order.
fn drain(pipe: i32) -> Vec<i32> {
    let mut sigs = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        // SAFETY: reading into a stack buffer of the given length from our own non-blocking pipe.
        let n = unsafe { libc::read(pipe, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        sigs.extend(buf[..n as usize].iter().map(|b| i32::from(*b)));
    }
    sigs
}

fn install(sig: i32) -> std::io::Result<()> {
    // SAFETY: a zeroed sigaction with our handler; SA_RESTART keeps stdio writes uninterrupted.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as *const () as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A wait status as a shell would report it: the exit code, or 128 + the killing signal.
fn exit_code(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        0
    }
}

/// Python's `os.path.abspath` without touching the filesystem.
fn absolute(cmd: &str) -> String {
    crate::config::normalize_path(cmd)
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_the_references_docstring() {
        let text = USAGE.replace("%s", "/usr/bin/pidproxy");
        assert!(text.starts_with("pidproxy -- run command and proxy signals"));
        assert!(
            text.ends_with("Usage: /usr/bin/pidproxy <pidfile name> <command> [<cmdarg1> ...]\n")
        );
    }

    #[test]
    fn pidfile_is_read_like_python_int() {
        let dir = std::env::temp_dir().join(format!("pidproxy-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.pid");
        let path = f.to_string_lossy().into_owned();
        for (text, want) in [
            ("123\n", Some(123)),
            ("  +42  ", Some(42)),
            ("1_000", Some(1000)),
            ("abc", None),
            ("", None),
            ("0", None),
            ("-5", None),
            ("99999999999", None),
        ] {
            std::fs::write(&f, text).unwrap();
            assert_eq!(read_pid(&path), want, "{text:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(read_pid(&path), None);
    }

    #[test]
    fn exit_codes_like_a_shell() {
        assert_eq!(exit_code(3 << 8), 3);
        assert_eq!(exit_code(libc::SIGTERM), 128 + 15);
    }
}
