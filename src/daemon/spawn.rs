//! The only fork/exec of a child program. Everything the child needs (C strings, environment,
//! user and groups, messages) is built before fork; the child only makes async-signal-safe calls.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::command::errno_name;
use super::plan::SpawnPlan;
use crate::sys;

/// The parent's ends of a new child's pipes.
pub struct Child {
    pub pid: u32,
    /// None when stdin is the group's FastCGI socket.
    pub stdin: Option<OwnedFd>,
    pub stdout: OwnedFd,
    pub stderr: Option<OwnedFd>,
}

fn errno_text(code: i32) -> String {
    errno_name(code).map_or_else(|| code.to_string(), str::to_string)
}

fn set_nonblocking(fd: RawFd) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
    }
}

/// Forks and execs the plan. Err is the reference's spawnerr text for pipe or fork failures.
pub fn spawn(plan: &SpawnPlan) -> Result<Child, String> {
    let pipe_error = |e: io::Error| match e.raw_os_error() {
        Some(libc::EMFILE) => format!("too many open files to spawn '{}'", plan.process_name),
        Some(code) => format!(
            "unknown error making dispatchers for '{}': {}",
            plan.process_name,
            errno_text(code)
        ),
        None => format!(
            "unknown error making dispatchers for '{}': {e}",
            plan.process_name
        ),
    };
    // A FastCGI program gets the group's listening socket as stdin instead of a pipe.
    let stdin_pipe = match plan.stdin_socket {
        Some(_) => None,
        None => Some(sys::pipe_cloexec().map_err(pipe_error)?),
    };
    let (parent_stdout, child_stdout) = sys::pipe_cloexec().map_err(pipe_error)?;
    let stderr_pipe = if plan.redirect_stderr {
        None
    } else {
        Some(sys::pipe_cloexec().map_err(pipe_error)?)
    };
    set_nonblocking(parent_stdout.as_raw_fd());
    if let Some((_, parent_stdin)) = &stdin_pipe {
        set_nonblocking(parent_stdin.as_raw_fd());
    }
    if let Some((parent_stderr, _)) = &stderr_pipe {
        set_nonblocking(parent_stderr.as_raw_fd());
    }

    let child_stderr_fd = match &stderr_pipe {
        Some((_, w)) => w.as_raw_fd(),
        None => child_stdout.as_raw_fd(),
    };
    let fds = (
        match (&stdin_pipe, plan.stdin_socket) {
            (Some((child_stdin, _)), _) => child_stdin.as_raw_fd(),
            (None, Some(socket)) => socket,
            (None, None) => -1,
        },
        child_stdout.as_raw_fd(),
        child_stderr_fd,
    );
    let pid = fork_exec(plan, fds)?;
    drop(child_stdout);
    let stdin = stdin_pipe.map(|(_child_end, parent_end)| parent_end);
    Ok(Child {
        pid,
        stdin,
        stdout: parent_stdout,
        stderr: stderr_pipe.map(|(r, _w)| r),
    })
}

/// Forks and execs an exec health check: stdin on `null` (an open /dev/null), stdout and
/// stderr into one pipe. Returns the pid and the pipe's non-blocking read end (the check's
/// output, for the log when it fails).
pub fn spawn_check(plan: &SpawnPlan, null: RawFd) -> Result<(u32, OwnedFd), String> {
    let (read, write) = sys::pipe_cloexec().map_err(|e| {
        let code = e.raw_os_error().unwrap_or(0);
        format!("pipe: {}", errno_text(code))
    })?;
    set_nonblocking(read.as_raw_fd());
    let pid = fork_exec(plan, (null, write.as_raw_fd(), write.as_raw_fd()))?;
    drop(write);
    Ok((pid, read))
}

/// The fork and the child's set-up over the given stdin/stdout/stderr descriptors.
fn fork_exec(plan: &SpawnPlan, fds: (RawFd, RawFd, RawFd)) -> Result<u32, String> {
    // Pointers for execve, built before fork.
    let mut argv: Vec<*const libc::c_char> = plan.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let envp = plan.env.pointers();
    let argv0 = plan
        .argv
        .first()
        .map(|a| a.as_bytes().to_vec())
        .unwrap_or_default();
    let exec_prefix = [b"supervisor: couldn't exec ".as_slice(), &argv0, b": "].concat();
    let chdir_prefix = plan.directory.as_ref().map(|d| {
        [
            b"supervisor: couldn't chdir to ".as_slice(),
            d.as_bytes(),
            b": ",
        ]
        .concat()
    });
    let user_error = plan.user.as_ref().and_then(|u| {
        plan.user_error
            .as_ref()
            .map(|m| format!("supervisor: couldn't setuid to {}: {}\n", u.uid, m).into_bytes())
    });
    let user_messages = plan.user.as_ref().map(|u| {
        let msg =
            |m: &str| format!("supervisor: couldn't setuid to {}: {}\n", u.uid, m).into_bytes();
        (
            msg("Could not set groups of effective user"),
            msg("Could not set group id of effective user"),
            msg("Could not set user id of effective user"),
        )
    });

    // Signals stay blocked across fork: one meant for the child that arrives before the child
    // has reset its handlers must not run the daemon's handler there (it would write to the
    // shared self-pipe and look like a signal to supervisord, and the child would miss it).
    // The child unblocks once its dispositions are back to default.
    // SAFETY: sigset_t is plain data; sigfillset/sigprocmask only touch these locals.
    let saved_mask = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut saved: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_BLOCK, &all, &mut saved);
        saved
    };
    // SAFETY: fork in a single-threaded daemon; the child branch below only calls
    // async-signal-safe functions on data prepared above and never returns.
    let pid = unsafe { libc::fork() };
    if pid != 0 {
        // SAFETY: restoring the mask saved above.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &saved_mask, std::ptr::null_mut()) };
    }
    if pid < 0 {
        let code = io::Error::last_os_error().raw_os_error().unwrap_or(0);
        return Err(if code == libc::EAGAIN {
            format!(
                "Too many processes in process table to spawn '{}'",
                plan.process_name
            )
        } else {
            format!(
                "unknown error during fork for '{}': {}",
                plan.process_name,
                errno_text(code)
            )
        });
    }
    if pid == 0 {
        // SAFETY: in the child; see above.
        unsafe {
            child_after_fork(
                plan,
                fds,
                &argv,
                envp,
                &exec_prefix,
                chdir_prefix.as_deref(),
                user_error.as_deref(),
                user_messages.as_ref(),
            )
        }
    }
    Ok(pid as u32)
}

/// dup2 that also works when the pipe already sits on the target fd (then only CLOEXEC is cleared).
unsafe fn move_fd(src: RawFd, dst: RawFd) {
    unsafe {
        if src == dst {
            libc::fcntl(dst, libc::F_SETFD, 0);
        } else {
            libc::dup2(src, dst);
        }
    }
}

unsafe fn write_all(fd: RawFd, data: &[u8]) {
    let mut rest = data;
    while !rest.is_empty() {
        match sys::write(fd, rest) {
            Ok(n) if n > 0 => rest = rest.get(n..).unwrap_or_default(),
            _ => return,
        }
    }
}

/// Writes an errno as its name (or decimal) without allocating.
unsafe fn write_errno(code: i32) {
    match errno_name(code) {
        Some(name) => unsafe { write_all(2, name.as_bytes()) },
        None => {
            let mut buf = [0u8; 12];
            let mut i = buf.len();
            let mut n = code.unsigned_abs();
            loop {
                i -= 1;
                buf[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            unsafe { write_all(2, &buf[i..]) };
        }
    }
}

unsafe fn fail(first: Option<&[u8]>) -> ! {
    unsafe {
        if let Some(msg) = first {
            write_all(2, msg);
        }
        write_all(2, b"supervisor: child process was not spawned\n");
        libc::_exit(127)
    }
}

#[allow(clippy::too_many_arguments)]
unsafe fn child_after_fork(
    plan: &SpawnPlan,
    (stdin, stdout, stderr): (RawFd, RawFd, RawFd),
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    exec_prefix: &[u8],
    chdir_prefix: Option<&[u8]>,
    user_error: Option<&[u8]>,
    user_messages: Option<&(Vec<u8>, Vec<u8>, Vec<u8>)>,
) -> ! {
    unsafe {
        // Signals: default dispositions and an empty mask, as a freshly exec'd program expects.
        for sig in 1..32 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());

        if let Some((soft, hard)) = plan.nofile {
            let lim = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }

        // Own process group, so signals to supervisord's group (Ctrl-C) do not reach children.
        libc::setpgid(0, 0);

        move_fd(stdin, 0);
        move_fd(stdout, 1);
        move_fd(stderr, 2);
        // Everything else is closed (our own fds are CLOEXEC; this catches inherited ones).
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
            let limit = plan.minfds.clamp(3, 65536) as i32;
            for fd in 3..limit {
                libc::close(fd);
            }
        }

        if let Some(user) = &plan.user {
            if let Some(msg) = user_error {
                fail(Some(msg));
            }
            if libc::getuid() != user.uid {
                let msgs = user_messages;
                if libc::setgroups(user.groups.len(), user.groups.as_ptr()) != 0 {
                    fail(msgs.map(|m| m.0.as_slice()));
                }
                if let Some(gid) = user.gid
                    && libc::setgid(gid) != 0
                {
                    fail(msgs.map(|m| m.1.as_slice()));
                }
                if libc::setuid(user.uid) != 0 {
                    fail(msgs.map(|m| m.2.as_slice()));
                }
            }
        }

        if let Some(dir) = &plan.directory
            && libc::chdir(dir.as_ptr()) != 0
        {
            let code = *libc::__errno_location();
            write_all(2, chdir_prefix.unwrap_or_default());
            write_errno(code);
            write_all(2, b"\n");
            fail(None);
        }
        if let Some(mask) = plan.umask {
            libc::umask(mask as libc::mode_t);
        }
        libc::execve(plan.filename.as_ptr(), argv.as_ptr(), envp.as_ptr());
        let code = *libc::__errno_location();
        write_all(2, exec_prefix);
        write_errno(code);
        write_all(2, b"\n");
        fail(None)
    }
}
