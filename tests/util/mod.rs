//! Shared helpers for integration tests: a temp dir per test, the binary under its applet names,
//! starting a daemon, and bounded waits (poll a condition until a deadline; never a bare sleep).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a test waits for something that should happen (a daemon coming up, a state change,
/// a log line). Every wait polls and returns as soon as the condition holds, so a generous
/// deadline costs nothing when things work and only bounds how long a broken build hangs.
pub const WAIT: Duration = Duration::from_secs(20);

/// The built multicall binary.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_supervisor"))
}

/// A temporary directory removed on drop, holding symlinks to the binary named
/// supervisord, supervisorctl and echo_supervisord_conf.
pub struct TempDir {
    pub path: PathBuf,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        // Short paths: unix socket paths are limited to ~107 bytes.
        let path = PathBuf::from(format!("/tmp/svt-{}-{}-{}", std::process::id(), n, tag));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(path.join("bin")).unwrap();
        for name in ["supervisord", "supervisorctl", "echo_supervisord_conf"] {
            std::os::unix::fs::symlink(binary(), path.join("bin").join(name)).unwrap();
        }
        TempDir { path }
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.path.join(p)
    }

    /// Path of an applet symlink (`supervisord`, `supervisorctl`, `echo_supervisord_conf`).
    pub fn applet(&self, name: &str) -> PathBuf {
        self.path.join("bin").join(name)
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path.join(name)).unwrap_or_default()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Runs an applet to completion with the given args, in `dir`.
pub fn run(dir: &TempDir, applet: &str, args: &[&str]) -> Output {
    Command::new(dir.applet(applet))
        .args(args)
        .current_dir(&dir.path)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts `exe -n -c conf` (our supervisord or the reference's) in `dir`, output to files
/// `daemon.out`/`daemon.err`.
pub fn spawn_foreground(exe: &Path, dir: &TempDir, conf: &Path) -> Child {
    let out = std::fs::File::create(dir.join("daemon.out")).unwrap();
    let err = std::fs::File::create(dir.join("daemon.err")).unwrap();
    Command::new(exe)
        .arg("-n")
        .arg("-c")
        .arg(conf)
        .current_dir(&dir.path)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap()
}

/// A daemon started in the foreground (`-n`) for a test; killed (SIGKILL to its process group
/// is not used, so children must be stopped by the test or by SIGTERM) on drop.
pub struct Daemon {
    pub child: Child,
}

impl Daemon {
    /// Starts `supervisord -n -c conf` in `dir`, output to files `daemon.out`/`daemon.err`.
    pub fn start(dir: &TempDir, conf: &Path) -> Daemon {
        Daemon {
            child: spawn_foreground(&dir.applet("supervisord"), dir, conf),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends SIGTERM and waits (bounded) for the daemon to exit; returns its exit code (None
    /// if it hung and was killed, or died of a signal).
    pub fn stop(&mut self, timeout: Duration) -> Option<i32> {
        terminate(&mut self.child, timeout).and_then(|status| status.code())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop(Duration::from_secs(15));
        }
    }
}

/// Waits up to `timeout` for `child` to exit by itself; kills it if it does not. Its exit
/// status if it ended in time.
pub fn reap(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let mut status = None;
    wait_for(timeout, || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    status
}

/// SIGTERM to `child`, then [`reap`]: its exit status if it ended within `timeout`.
pub fn terminate(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    unsafe_kill(child.id() as i32, 15);
    reap(child, timeout)
}

/// kill(2) via the `kill` command-free path: uses /bin/kill to avoid a libc dependency in tests.
pub fn unsafe_kill(pid: i32, sig: i32) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Whether a process with this pid exists (and is not a zombie).
pub fn pid_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit(')')
            .next()
            .map(|rest| rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// The reference supervisor's venv bin directory, if installed (set REF_BIN or run `make ref`).
pub fn reference_bin() -> Option<PathBuf> {
    let dir = std::env::var_os("REF_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.ref-venv/bin")));
    if dir.join("supervisord").exists() {
        Some(dir)
    } else {
        None
    }
}

/// One implementation in a side-by-side run: ours (the applet symlinks in a test's dir) or the
/// reference's (its venv). Both sides use the reference's python for helper scripts.
pub struct Implementation {
    ref_bin: PathBuf,
    reference: bool,
}

impl Implementation {
    /// Our binaries alone, for a test that checks ours against recorded reference output.
    pub fn ours() -> Implementation {
        Implementation {
            ref_bin: reference_bin().unwrap_or_default(),
            reference: false,
        }
    }

    /// Whether this side runs the reference supervisor.
    pub fn is_reference(&self) -> bool {
        self.reference
    }

    /// `tag` with `-r` (reference) or `-o` (ours) appended, for temp dir names.
    pub fn tag(&self, tag: &str) -> String {
        format!("{tag}-{}", if self.reference { "r" } else { "o" })
    }

    /// This side's supervisord (ours: the symlink in `dir`).
    pub fn supervisord(&self, dir: &TempDir) -> PathBuf {
        self.applet(dir, "supervisord")
    }

    /// This side's supervisorctl (ours: the symlink in `dir`).
    pub fn supervisorctl(&self, dir: &TempDir) -> PathBuf {
        self.applet(dir, "supervisorctl")
    }

    fn applet(&self, dir: &TempDir, name: &str) -> PathBuf {
        if self.reference {
            self.ref_bin.join(name)
        } else {
            dir.applet(name)
        }
    }

    /// The reference venv's python, for probes and listener scripts on either side.
    pub fn python(&self) -> PathBuf {
        self.ref_bin.join("python")
    }

    /// The reference venv's bin dir (for its supervisorctl driving either daemon).
    pub fn ref_bin(&self) -> &Path {
        &self.ref_bin
    }
}

/// The one "run ours and the reference, then compare" runner: runs `scenario` for both
/// implementations at once (the reference in a second thread, so a slow side costs no extra
/// time) and returns `(ours, reference)`. None, with the skip printed, when the reference is not
/// installed and REQUIRE_REF is unset. A panic on either side fails the test with its message.
pub fn side_by_side<T: Send>(
    test: &str,
    scenario: impl Fn(&Implementation) -> T + Sync,
) -> Option<(T, T)> {
    let ref_bin = require_reference(test)?;
    let ours = Implementation {
        ref_bin: ref_bin.clone(),
        reference: false,
    };
    let theirs = Implementation {
        ref_bin,
        reference: true,
    };
    std::thread::scope(|s| {
        let reference = s.spawn(|| scenario(&theirs));
        let ours = scenario(&ours);
        let theirs = reference
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Some((ours, theirs))
    })
}

/// `[rpcinterface:supervisor]`: every daemon that answers XML-RPC (and so supervisorctl) needs it.
pub const RPC_INTERFACE: &str = "[rpcinterface:supervisor]\n\
    supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n";

/// The control socket `s.sock` next to the config, and the XML-RPC interface on it.
pub const RPC_SECTIONS: &str = "[unix_http_server]\nfile=%(here)s/s.sock\n\n\
    [rpcinterface:supervisor]\n\
    supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n";

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// True when the tests run as root; otherwise prints that `test` is skipped and why.
pub fn require_root(test: &str, reason: &str) -> bool {
    // SAFETY: getuid never fails.
    if unsafe { libc::getuid() } == 0 {
        return true;
    }
    eprintln!("SKIP {test}: {reason}");
    false
}

/// The reference's bin dir, or panics with how to install it when REQUIRE_REF is set (CI),
/// or returns None with a printed skip reason otherwise.
pub fn require_reference(test: &str) -> Option<PathBuf> {
    match reference_bin() {
        Some(d) => Some(d),
        None if std::env::var_os("REQUIRE_REF").is_some() => {
            panic!("{test}: reference supervisor not installed (run `make ref`)")
        }
        None => {
            eprintln!("SKIP {test}: reference supervisor not installed (run `make ref`)");
            None
        }
    }
}

/// The body of an XML-RPC call with string parameters.
pub fn rpc_body(method: &str, params: &[&str]) -> String {
    let params: String = params
        .iter()
        .map(|p| {
            let p = p
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            format!("<param><value><string>{p}</string></value></param>")
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"
    )
}

/// Connects to a unix socket, retrying a refused connect for up to `timeout` (the socket file
/// appears at bind(), a moment before listen()).
pub fn connect_unix(sock: &Path, timeout: Duration) -> std::os::unix::net::UnixStream {
    let mut stream = None;
    assert!(
        wait_for(timeout, || {
            stream = std::os::unix::net::UnixStream::connect(sock).ok();
            stream.is_some()
        }),
        "could not connect to {}",
        sock.display()
    );
    stream.unwrap()
}

/// POSTs one XML-RPC body as HTTP/1.0 (the server closes after the reply) and reads the whole
/// raw reply; None when it did not come within `timeout`.
pub fn post_rpc(
    mut stream: std::os::unix::net::UnixStream,
    body: &str,
    timeout: Duration,
) -> Option<String> {
    use std::io::{Read, Write};
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
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

/// One XML-RPC call over a unix socket, connecting once; None when the connection is refused or
/// no full reply came within `timeout`.
pub fn try_rpc_call(
    sock: &Path,
    method: &str,
    params: &[&str],
    timeout: Duration,
) -> Option<String> {
    let stream = std::os::unix::net::UnixStream::connect(sock).ok()?;
    post_rpc(stream, &rpc_body(method, params), timeout)
}

/// One XML-RPC call over a unix socket (connect retried, see `connect_unix`); the raw reply.
pub fn rpc_call(sock: &Path, method: &str, params: &[&str], timeout: Duration) -> String {
    let stream = connect_unix(sock, timeout);
    post_rpc(stream, &rpc_body(method, params), timeout)
        .unwrap_or_else(|| panic!("{method}: no reply within {timeout:?}"))
}

/// Voluntary context switches of `pid` so far: each time its loop went to sleep.
pub fn voluntary_switches(pid: i32) -> u64 {
    ctxt_switches(pid, "voluntary_ctxt_switches:")
}

/// Voluntary + involuntary context switches of `pid` so far.
pub fn all_switches(pid: i32) -> u64 {
    ctxt_switches(pid, "voluntary_ctxt_switches:")
        + ctxt_switches(pid, "nonvoluntary_ctxt_switches:")
}

fn ctxt_switches(pid: i32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}
