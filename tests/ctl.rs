//! supervisorctl compatibility: a script of commands run through the reference supervisorctl and
//! through ours (or against the reference daemon and ours), compared step by step after
//! normalising pids, uptimes, dates and paths. Each step prepares the daemon's state first, so
//! both sides see the same state when their command runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{self, RPC_INTERFACE, TempDir, WAIT, free_port};

/// Which supervisord a side talks to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum DaemonKind {
    Reference,
    Ours,
}

/// A running supervisord on its own temp dir, unix socket and (authenticated) TCP port.
struct Env {
    dir: TempDir,
    refbin: PathBuf,
    conf: PathBuf,
    port: u16,
    kind: DaemonKind,
    daemon: Option<Child>,
}

/// The ctl output of one run: stdout, stderr, exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    stdout: String,
    stderr: String,
    rc: Option<i32>,
}

/// The config versions the script moves through (v2 changes grp, drops multi, adds newprog;
/// v3 adds a program that ignores SIGTERM so shutdown takes a while).
fn config(env_dir: &Path, port: u16, version: u8) -> String {
    let d = env_dir.display();
    let mut c = format!(
        "[unix_http_server]\nfile={d}/s.sock\n\n\
         [inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword=123\n\n\
         [supervisord]\nlogfile={d}/main.log\npidfile={d}/sd.pid\nchildlogdir={d}\nloglevel=info\n\n\
         {RPC_INTERFACE}\
         [supervisorctl]\nserverurl=unix://{d}/s.sock\n\n\
         [program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n\n\
         [program:printer]\ncommand=/bin/sh -c \"echo out-line; echo err-line 1>&2; exec sleep 1000\"\nstartsecs=0\n\
         stdout_logfile={d}/printer.out\nstderr_logfile={d}/printer.err\n\n\
         [program:echoer]\ncommand=cat\nstartsecs=0\nstdout_logfile={d}/echoer.out\n\n\
         [program:quick]\ncommand=/bin/sh -c \"echo hello; exit 1\"\nautostart=false\nstartsecs=1\nstartretries=0\n\n\
         [program:missing]\ncommand=/no/such/cmd\nautostart=false\n\n\
         [program:nolog]\ncommand=sleep 1000\nautostart=false\nstdout_logfile=NONE\n\n\
         [group:grp]\nprograms=g1,g2\npriority=500\n\n\
         [program:g1]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\n\n\
         [program:g2]\ncommand=sleep 1001\nautostart=false\nstartsecs=0\n\n"
    );
    if version == 1 {
        c.push_str(
            "[program:multi]\ncommand=sleep 1000\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)02d\nautostart=false\n\n",
        );
    } else {
        c = c.replace("command=sleep 1001", "command=sleep 1002");
        c.push_str("[program:newprog]\ncommand=sleep 1000\nstartsecs=0\n\n");
    }
    if version == 3 {
        c.push_str(
            "[program:stubborn]\ncommand=/bin/sh -c \"trap '' TERM; while :; do sleep 1; done\"\nstartsecs=0\nstopwaitsecs=3600\n\n",
        );
    }
    c
}

impl Env {
    fn start(refbin: &Path, kind: DaemonKind, tag: &str) -> Env {
        let mut env = Env::launch(refbin, kind, tag, |dir, port| config(dir, port, 1));
        env.wait_ready();
        env.wait_states(&[("sleeper", "RUNNING"), ("printer", "RUNNING")]);
        env
    }

    /// Starts a daemon on the config `make_config(dir, port)` without waiting for it.
    fn launch(
        refbin: &Path,
        kind: DaemonKind,
        tag: &str,
        make_config: fn(&Path, u16) -> String,
    ) -> Env {
        let dir = TempDir::new(tag);
        let port = free_port();
        let conf = dir.write("sup.conf", &make_config(&dir.path, port));
        let daemon_bin = match kind {
            DaemonKind::Reference => refbin.join("supervisord"),
            DaemonKind::Ours => dir.applet("supervisord"),
        };
        let daemon = util::spawn_foreground(&daemon_bin, &dir, &conf);
        Env {
            dir,
            refbin: refbin.to_path_buf(),
            conf,
            port,
            kind,
            daemon: Some(daemon),
        }
    }

    fn write_config(&self, version: u8) {
        self.dir
            .write("sup.conf", &config(&self.dir.path, self.port, version));
    }

    /// Runs the reference supervisorctl with `-c conf` for preparing state (output ignored
    /// unless asked for).
    fn refctl(&self, cmd: &str) -> Outcome {
        run_ctl(
            &self.refbin.join("supervisorctl"),
            self,
            &with_conf(self, cmd),
            None,
        )
    }

    fn wait_ready(&mut self) {
        let ok = util::wait_for(WAIT, || self.refctl("pid").rc == Some(0));
        assert!(
            ok,
            "{:?} daemon did not come up: {}",
            self.kind,
            self.dir.read("daemon.err")
        );
    }

    /// Waits until `status` shows each (name, state).
    fn wait_states(&self, want: &[(&str, &str)]) {
        let mut last = String::new();
        let ok = util::wait_for(WAIT, || {
            last = self.refctl("status").stdout;
            want.iter().all(|(name, state)| {
                last.lines().any(|l| {
                    let mut w = l.split_whitespace();
                    w.next() == Some(name) && w.next() == Some(state)
                })
            })
        });
        assert!(ok, "states {want:?} not reached; status:\n{last}");
    }

    /// Waits until `name` is in none of the transitional states.
    fn wait_settled(&self, name: &str) {
        let mut last = String::new();
        let ok = util::wait_for(WAIT, || {
            last = self.refctl(&format!("status {name}")).stdout;
            !["STARTING", "BACKOFF", "STOPPING"]
                .iter()
                .any(|s| last.contains(s))
        });
        assert!(ok, "{name} did not settle:\n{last}");
    }

    /// Waits (bounded) for the daemon to exit by itself.
    fn wait_exit(&mut self, timeout: Duration) -> bool {
        let Some(child) = self.daemon.as_mut() else {
            return true;
        };
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                self.daemon = None;
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(child) = self.daemon.as_ref() {
            util::unsafe_kill(child.id() as i32, 15);
            if !self.wait_exit(WAIT.saturating_mul(2))
                && let Some(mut child) = self.daemon.take()
            {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn with_conf(env: &Env, cmd: &str) -> Vec<String> {
    let mut args = vec!["-c".to_string(), env.conf.display().to_string()];
    args.extend(cmd.split_whitespace().map(str::to_string));
    args
}

/// A command in its own session: no controlling terminal, so password prompts read stdin
/// (as in CI) instead of waiting on the developer's terminal. SIGINT gets its default action
/// back: a shell running the tests in the background (`cargo test &`) ignores it, and Python
/// keeps an inherited "ignore", so the reference ctl would never see the test's Ctrl-C.
fn detached(program: &Path) -> Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(program);
    // SAFETY: setsid and signal are async-signal-safe and touch no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    cmd
}

/// Runs a ctl binary to completion (bounded), with optional stdin text.
fn run_ctl(ctl: &Path, env: &Env, args: &[String], stdin: Option<&str>) -> Outcome {
    let mut child = detached(ctl)
        .args(args)
        .current_dir(&env.dir.path)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let _ = pipe.write_all(text.as_bytes());
    }
    finish(child, WAIT.saturating_mul(3), None)
}

/// Waits (at most `limit`) until process `pid` has been asleep (state S) for 300 ms in a row,
/// i.e. it is back waiting for input rather than handling the output it just printed.
fn wait_until_sleeping(pid: u32, limit: Duration) {
    let asleep = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let after = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
                Some(after == 'S')
            })
            .unwrap_or(false)
    };
    let deadline = Instant::now() + limit;
    let mut since: Option<Instant> = None;
    while Instant::now() < deadline {
        if asleep() {
            let start = *since.get_or_insert_with(Instant::now);
            if start.elapsed() >= Duration::from_millis(300) {
                return;
            }
        } else {
            since = None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Collects a child's output; after `interrupt_when` sees its text on stdout, sends SIGINT.
fn finish(mut child: Child, timeout: Duration, interrupt_when: Option<&str>) -> Outcome {
    use std::io::Read;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let out_thread = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            let _ = tx.send(buf[..n].to_vec());
        }
        all
    });
    let err_thread = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = err.read_to_end(&mut all);
        all
    });
    let mut deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    let mut interrupted = interrupt_when.is_none();
    let mut rc = None;
    loop {
        while let Ok(chunk) = rx.try_recv() {
            seen.extend_from_slice(&chunk);
        }
        if !interrupted && String::from_utf8_lossy(&seen).contains(interrupt_when.unwrap_or("")) {
            // Let the client return to waiting first: the reference reports a Ctrl-C that lands
            // inside its read handler as a connection error, and under load it may need longer
            // than any fixed pause to get there.
            wait_until_sleeping(child.id(), Duration::from_secs(3));
            util::unsafe_kill(child.id() as i32, 2);
            interrupted = true;
            deadline = deadline.min(Instant::now() + Duration::from_secs(5));
        }
        if let Ok(Some(status)) = child.try_wait() {
            rc = status.code();
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Outcome {
        stdout: String::from_utf8_lossy(&out_thread.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_thread.join().unwrap()).into_owned(),
        rc,
    }
}

/// One side of a comparison: a daemon environment and the supervisorctl binary to run.
struct Side<'a> {
    env: &'a Env,
    ctl: PathBuf,
    label: &'static str,
    /// Both sides read the same daemon's main log (false across daemons).
    same_log: bool,
}

impl Side<'_> {
    fn run(&self, step: &Step) -> Outcome {
        (step.prepare)(self.env);
        let args = if step.raw {
            step.cmd
                .replace("{DIR}", &self.env.dir.path.display().to_string())
                .replace("{PORT}", &self.env.port.to_string())
                .split_whitespace()
                .map(str::to_string)
                .collect()
        } else {
            with_conf(
                self.env,
                &step
                    .cmd
                    .replace("{DIR}", &self.env.dir.path.display().to_string()),
            )
        };
        if let Some(marker) = step.interrupt_when {
            let mut child = detached(&self.ctl)
                .args(&args)
                .current_dir(&self.env.dir.path)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // Input stays open until the command ends: end of input is not what is tested.
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = step.stdin {
                input.write_all(text.as_bytes()).unwrap();
            }
            let outcome = finish(child, WAIT.saturating_mul(2), Some(marker));
            drop(input);
            return outcome;
        }
        run_ctl(&self.ctl, self.env, &args, step.stdin)
    }

    /// Replaces what legitimately differs between runs and implementations.
    fn normalise(&self, step: &Step, o: &Outcome) -> Outcome {
        let fix = |text: &str| -> String {
            let text = text
                .replace(&self.ctl.display().to_string(), "CTL")
                .replace(&self.env.dir.path.display().to_string(), "DIR")
                .replace(&format!(":{}", self.env.port), ":PORT");
            let mut lines: Vec<String> = text.split('\n').map(normalise_line).collect();
            if step.log_tail && !self.same_log {
                // Two daemons log on their own timing (e.g. `waiting for x to stop` cadence):
                // only the framing is comparable.
                lines.truncate(usize::from(
                    lines.first().is_some_and(|l| l.starts_with("==>")),
                ));
            }
            if step.log_tail {
                // Another daemon's log: a different cut of the first line, races between
                // simultaneous events.
                let banner = lines.first().is_some_and(|l| l.starts_with("==>"));
                let first_line = usize::from(banner);
                if lines.len() > first_line {
                    lines.remove(first_line);
                }
                lines[first_line..].sort();
            }
            if step.sorted {
                let last = lines.pop();
                lines.sort();
                lines.extend(last);
            }
            lines.join("\n")
        };
        Outcome {
            stdout: if step.rc_only {
                String::new()
            } else {
                fix(&o.stdout)
            },
            stderr: if step.rc_only || step.stdout_only {
                String::new()
            } else {
                fix(&o.stderr)
            },
            rc: if step.ignore_rc { None } else { o.rc },
        }
    }
}

fn normalise_line(line: &str) -> String {
    let mut l = line.to_string();
    // A main-log timestamp: `2026-11-23 22:36:43,624 `.
    let b = l.as_bytes();
    if b.len() > 24
        && b[4] == b'-'
        && b[10] == b' '
        && b[19] == b','
        && b[23] == b' '
        && b[..4].iter().all(u8::is_ascii_digit)
    {
        l.replace_range(..23, "TS");
    }
    // Help descriptions are our own words: compare the usage column only.
    if let Some(tab) = l.find('\t') {
        l.truncate(tab);
    }
    if l.starts_with("Note: ") {
        l = "Note:".into();
    }
    if let Some(pos) = l.find(": file: ") {
        l.truncate(pos);
        l.push_str(": file: F");
    }
    if let Some(pos) = l.find("uptime ") {
        l.truncate(pos);
        l.push_str("uptime T");
    }
    if let Some(pos) = l.find("pid ") {
        let digits: String = l[pos + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !digits.is_empty() {
            l.replace_range(pos + 4..pos + 4 + digits.len(), "N");
        }
    }
    if !l.is_empty() && l.chars().all(|c| c.is_ascii_digit()) {
        l = "N".into();
    }
    // A stop time such as `Nov 23 07:06 PM` at the end of a status line.
    if (l.ends_with(" AM") || l.ends_with(" PM")) && l.len() >= 15 {
        let cut = l.len() - 15;
        if l.is_char_boundary(cut) {
            l.truncate(cut);
            l.push_str("DATE");
        }
    }
    l
}

/// One scripted command: how to prepare state, what to run, how to compare.
struct Step {
    cmd: &'static str,
    prepare: fn(&Env),
    /// Arguments used as they are (no `-c conf`); `{DIR}` and `{PORT}` are substituted.
    raw: bool,
    stdin: Option<&'static str>,
    /// Lines may come in completion order: compare them sorted.
    sorted: bool,
    /// Compare exit statuses only (usage texts are our own words).
    rc_only: bool,
    /// Streamed command: SIGINT once stdout contains this.
    interrupt_when: Option<&'static str>,
    /// A main-log excerpt: timestamps masked, first (cut) line dropped, lines sorted.
    log_tail: bool,
    /// Python prints interpreter warnings on stderr (getpass without a terminal, thread
    /// shutdown after Ctrl-C in `fg`).
    stdout_only: bool,
    /// After Ctrl-C in `fg` the reference hangs in its streaming thread (a quirk we do not copy).
    ignore_rc: bool,
}

fn nothing(_: &Env) {}

const fn step(cmd: &'static str) -> Step {
    Step {
        cmd,
        prepare: nothing,
        raw: false,
        stdin: None,
        sorted: false,
        rc_only: false,
        interrupt_when: None,
        stdout_only: false,
        ignore_rc: false,
        log_tail: false,
    }
}

const fn prep(cmd: &'static str, prepare: fn(&Env)) -> Step {
    Step {
        prepare,
        ..step(cmd)
    }
}

const fn sorted(cmd: &'static str, prepare: fn(&Env)) -> Step {
    Step {
        prepare,
        sorted: true,
        ..step(cmd)
    }
}

const fn raw(cmd: &'static str) -> Step {
    Step {
        raw: true,
        ..step(cmd)
    }
}

fn stop_group(e: &Env) {
    e.refctl("stop grp:*");
    e.wait_states(&[("grp:g1", "STOPPED"), ("grp:g2", "STOPPED")]);
}

fn start_group(e: &Env) {
    e.refctl("start grp:*");
    e.wait_states(&[("grp:g1", "RUNNING"), ("grp:g2", "RUNNING")]);
}

fn quick_settled(e: &Env) {
    e.wait_settled("quick");
}

fn g1_running(e: &Env) {
    e.refctl("start grp:g1");
    e.wait_states(&[("grp:g1", "RUNNING")]);
}

fn g1_stopped(e: &Env) {
    e.refctl("stop grp:g1");
    e.wait_states(&[("grp:g1", "STOPPED")]);
}

fn fresh_echoer(e: &Env) {
    // The reference clears the logs of a running process only.
    e.refctl("restart echoer");
    e.wait_states(&[("echoer", "RUNNING")]);
    e.refctl("clear echoer");
}

fn sleeper_running(e: &Env) {
    e.wait_states(&[("sleeper", "RUNNING")]);
}

fn stop_all_but_sleeper_printer(e: &Env) {
    e.refctl("stop grp:* multi:* nolog quick");
    e.refctl("start sleeper printer");
    e.wait_states(&[("sleeper", "RUNNING"), ("printer", "RUNNING")]);
}

/// Back to config v1 applied, then v2 written but not applied.
fn v2_pending(e: &Env) {
    e.write_config(1);
    e.refctl("update");
    e.refctl("stop grp:*");
    e.write_config(2);
}

fn v2_applied(e: &Env) {
    e.write_config(2);
    e.refctl("update");
    e.wait_states(&[("newprog", "RUNNING")]);
}

fn grp_active_stopped(e: &Env) {
    v2_applied(e);
    e.refctl("add grp");
    stop_group(e);
}

fn grp_removed(e: &Env) {
    grp_active_stopped(e);
    e.refctl("remove grp");
}

fn broken_config(e: &Env) {
    e.dir.write(
        "sup.conf",
        &format!(
            "{}[program:bad]\nnumprocs=2\n",
            config(&e.dir.path, e.port, 2)
        ),
    );
}

fn after_reload(e: &Env) {
    e.write_config(2);
    let ok = util::wait_for(WAIT, || e.refctl("pid").rc == Some(0));
    assert!(ok, "daemon not back after reload");
    e.wait_states(&[
        ("sleeper", "RUNNING"),
        ("printer", "RUNNING"),
        ("newprog", "RUNNING"),
    ]);
}

/// The script, in order; each step leaves a state the next one's `prepare` can rely on.
fn script() -> Vec<Step> {
    vec![
        // status
        step("status"),
        step("status sleeper printer"),
        step("status nope nope:* grp: sleeper"),
        step("status all"),
        step("status grp:*"),
        // start
        step("start sleeper"),
        step("start missing"),
        prep("start quick", quick_settled),
        prep("status quick missing", quick_settled),
        sorted("start grp:", stop_group),
        prep("start grp:*", start_group),
        step("start grp"),
        step("start nope:*"),
        step("start nope"),
        step("start"),
        // stop
        prep("stop grp:g1", g1_running),
        prep("stop grp:g1", g1_stopped),
        step("stop nope:"),
        step("stop nope"),
        step("stop"),
        sorted("stop grp:*", start_group),
        sorted("stop multi:*", nothing),
        // restart
        prep("restart sleeper", sleeper_running),
        prep("restart nope", sleeper_running),
        step("restart"),
        // signal
        step("signal HUP missing"),
        prep("signal FOO sleeper", sleeper_running),
        prep("signal CONT sleeper printer", sleeper_running),
        step("signal CONT nope:*"),
        step("signal CONT nope"),
        step("signal HUP"),
        step("signal"),
        sorted("signal CONT all", sleeper_running),
        // pid
        step("pid"),
        prep("pid sleeper", sleeper_running),
        step("pid missing"),
        step("pid nope"),
        step("pid sleeper nope missing"),
        step("pid all"),
        // tail
        step("tail printer"),
        step("tail printer stderr"),
        step("tail printer STDERR"),
        step("tail -4 printer"),
        step("tail -0 printer"),
        step("tail -100 printer stdout"),
        step("tail printer foo"),
        step("tail -x printer"),
        step("tail"),
        step("tail a b c d"),
        step("tail nope"),
        step("tail nolog"),
        step("tail missing"),
        step("tail -f nope"),
        step("tail -f"),
        Step {
            interrupt_when: Some("out-line"),
            ..step("tail -f printer")
        },
        Step {
            interrupt_when: Some("err-line"),
            ..step("tail -f printer stderr")
        },
        // maintail (nothing changes state between the two runs here)
        Step {
            prepare: stop_all_but_sleeper_printer,
            log_tail: true,
            ..step("maintail -300")
        },
        step("maintail foo"),
        step("maintail -x"),
        step("maintail a b"),
        Step {
            interrupt_when: Some("INFO"),
            log_tail: true,
            ..step("maintail -f")
        },
        // clear
        step("clear printer"),
        step("tail printer"),
        step("clear nope"),
        step("clear grp:*"),
        step("clear"),
        sorted("clear all", nothing),
        // fg
        step("fg"),
        step("fg a b"),
        step("fg nope"),
        step("fg missing"),
        Step {
            prepare: fresh_echoer,
            stdin: Some("hello there\n"),
            interrupt_when: Some("hello there\n"),
            stdout_only: true,
            ignore_rc: true,
            ..step("fg echoer")
        },
        // avail / version / help / unknown
        step("avail"),
        step("avail x"),
        step("version"),
        step("version x"),
        step("help"),
        step("help start"),
        step("help tail"),
        step("help restart"),
        step("help maintail"),
        step("help open"),
        step("help help"),
        step("help nope"),
        step("help EOF"),
        step("?stop"),
        step("foo bar"),
        step("start-all"),
        step("quit"),
        step("exit"),
        step("EOF"),
        // open
        step("open ftp://x"),
        step("open unix://{DIR}/s.sock"),
        step("open unix://{DIR}/nosuch.sock"),
        // options and usage errors
        Step {
            rc_only: true,
            ..raw("-h")
        },
        raw("--bogus"),
        raw("-x status"),
        raw("-s notaurl status"),
        raw("-s http://a:1 -s http://b:2 status"),
        raw("--history-file x status"),
        raw("-c {DIR}/nonexistent.conf status"),
        raw("-c {DIR}/s.sock status"),
        raw("-c {DIR}/nosection.conf status"),
        // unreachable servers (ctl.md §3)
        raw("-s unix://{DIR}/nosuch.sock status"),
        raw("-s unix://{DIR}/nosuch.sock start foo"),
        raw("-s unix://{DIR}/nosuch.sock tail foo"),
        raw("-s unix://{DIR}/nosuch.sock shutdown"),
        raw("-s unix://{DIR}/nosuch.sock avail"),
        raw("-s unix://{DIR}/nosuch.sock reread"),
        raw("-s unix://{DIR}/nosuch.sock reload"),
        raw("-s unix://{DIR}/refused.sock status"),
        raw("-s unix://{DIR}/refused.sock stop x"),
        raw("-s unix://{DIR}/refused.sock shutdown"),
        raw("-s unix://{DIR}/refused.sock update"),
        // authentication on the TCP server
        raw("-s http://127.0.0.1:{PORT} status"),
        raw("-s http://127.0.0.1:{PORT} avail"),
        raw("-s http://127.0.0.1:{PORT} -u user -p wrong version"),
        raw("-s http://127.0.0.1:{PORT} -u user -p 123 version"),
        raw("-s http://127.0.0.1:{PORT} -u user -p 123 status sleeper"),
        raw("-s http://127.0.0.1:{PORT} -u user -p 123 tail -f nope"),
        // the interactive shell
        Step {
            stdin: Some("status sleeper\nfoo\n\nhelp help\nstart nope\nquit\n"),
            ..step("")
        },
        Step {
            stdin: Some("version\n"),
            ..step("")
        },
        Step {
            stdin: Some("n\n"),
            ..step("-i shutdown")
        },
        // 401 in the shell: username and password are asked for, then the command is retried.
        Step {
            stdin: Some("user\n123\nversion\nquit\n"),
            stdout_only: true,
            ..raw("-s http://127.0.0.1:{PORT}")
        },
        Step {
            stdin: Some("user\n123\n"),
            stdout_only: true,
            ..raw("-i -s http://127.0.0.1:{PORT} pid sleeper")
        },
        Step {
            stdin: Some("no\n"),
            ..step("-i reload")
        },
        // config changes
        prep("reread", v2_pending),
        prep("update nope", v2_pending),
        prep("update multi", v2_pending),
        prep("update", v2_pending),
        prep("update all", v2_pending),
        prep("avail", v2_pending),
        prep("reread", v2_applied),
        prep("remove newprog", v2_applied),
        prep("remove grp", grp_active_stopped),
        prep("add grp", grp_removed),
        prep("add grp", grp_active_stopped),
        step("add nope"),
        step("remove nope"),
        step("add"),
        prep("avail", v2_applied),
        prep("reread", broken_config),
        prep("update", broken_config),
        prep("reload x", v2_applied),
        prep("reload", v2_applied),
        prep("status", after_reload),
    ]
}

/// Runs the script on two sides and collects every difference.
fn compare(a: &Side, b: &Side) -> Vec<String> {
    // A socket path that exists but nobody listens on (connection refused).
    for env in [a.env, b.env] {
        let refused = env.dir.join("refused.sock");
        if !refused.exists() {
            drop(std::os::unix::net::UnixListener::bind(&refused).unwrap());
        }
        env.dir.write("nosection.conf", "[supervisord]\n");
    }
    let mut diffs = Vec::new();
    for s in script() {
        let (oa, ob) = (a.run(&s), b.run(&s));
        let (na, nb) = (a.normalise(&s, &oa), b.normalise(&s, &ob));
        if std::env::var_os("CTL_TEST_VERBOSE").is_some() {
            eprintln!("step `{}`: {:?}", s.cmd, na);
        }
        if na != nb {
            diffs.push(format!(
                "step `{}`:\n  {}: {:?}\n  {}: {:?}",
                s.cmd, a.label, na, b.label, nb
            ));
        }
    }
    diffs
}

/// Shutdown paths: the side's own ctl shuts the daemon down, then both ctls are compared
/// while the daemon waits for a process that ignores SIGTERM.
fn compare_shutdown(a: &Side, b: &Side) -> Vec<String> {
    let mut diffs = Vec::new();
    // The stubborn process holds each daemon in SHUTDOWN for as long as the steps take (its
    // stopwaitsecs is far beyond them, so a slow machine cannot end the window early); it is
    // killed by pid once the steps are done, and the daemons then finish shutting down.
    let mut stubborn = Vec::new();
    for side in [a, b] {
        let env = side.env;
        env.write_config(3);
        env.refctl("update");
        env.wait_states(&[("stubborn", "RUNNING")]);
        if let Ok(pid) = env.refctl("pid stubborn").stdout.trim().parse::<i32>() {
            stubborn.push(pid);
        }
    }
    // With one shared daemon only `b` (our ctl) gets to shut it down.
    for side in [b, a] {
        let o = run_ctl(&side.ctl, side.env, &with_conf(side.env, "shutdown"), None);
        if o.stdout != "Shut down\n" || o.rc != Some(0) {
            diffs.push(format!("{}: shutdown printed {:?}", side.label, o));
        }
        if std::ptr::eq(a.env, b.env) {
            break;
        }
    }
    let steps = [
        "shutdown",
        "status",
        "start sleeper",
        "stop sleeper",
        "avail",
        "reread",
        "update",
        "reload",
        "add grp",
        "remove grp",
        "version",
        "pid",
        "tail printer",
        "maintail",
    ];
    for cmd in steps {
        let s = step(cmd);
        let (oa, ob) = (a.run(&s), b.run(&s));
        let (na, nb) = (a.normalise(&s, &oa), b.normalise(&s, &ob));
        if na != nb {
            diffs.push(format!(
                "shutting down, `{cmd}`:\n  {}: {:?}\n  {}: {:?}",
                a.label, na, b.label, nb
            ));
        }
    }
    for pid in stubborn {
        util::unsafe_kill(pid, 9);
    }
    diffs
}

#[test]
fn ctl_matches_reference_ctl_on_reference_daemon() {
    let Some(refbin) = util::require_reference("ctl_matches_reference_ctl_on_reference_daemon")
    else {
        return;
    };
    let mut env = Env::start(&refbin, DaemonKind::Reference, "ctl");
    let reference = Side {
        env: &env,
        ctl: refbin.join("supervisorctl"),
        label: "reference ctl",
        same_log: true,
    };
    let ours = Side {
        env: &env,
        ctl: env.dir.applet("supervisorctl"),
        label: "our ctl",
        same_log: true,
    };
    let mut diffs = compare(&reference, &ours);
    diffs.extend(compare_shutdown(&reference, &ours));
    assert!(
        env.wait_exit(WAIT.saturating_mul(2)),
        "daemon did not finish shutting down"
    );
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn our_daemon_answers_the_reference_ctl_like_the_reference_daemon() {
    let Some(refbin) =
        util::require_reference("our_daemon_answers_the_reference_ctl_like_the_reference_daemon")
    else {
        return;
    };
    let mut reference_env = Env::start(&refbin, DaemonKind::Reference, "ctlr");
    let mut our_env = Env::start(&refbin, DaemonKind::Ours, "ctlo");
    let reference = Side {
        env: &reference_env,
        ctl: refbin.join("supervisorctl"),
        label: "reference daemon",
        same_log: false,
    };
    let ours = Side {
        env: &our_env,
        ctl: refbin.join("supervisorctl"),
        label: "our daemon",
        same_log: false,
    };
    let mut diffs = compare(&reference, &ours);
    diffs.extend(compare_shutdown(&reference, &ours));
    assert!(
        reference_env.wait_exit(WAIT.saturating_mul(2)),
        "reference daemon did not finish shutting down"
    );
    assert!(
        our_env.wait_exit(WAIT.saturating_mul(2)),
        "our daemon did not finish shutting down"
    );
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

/// A daemon without `[rpcinterface:supervisor]`: only `system.*` answers, so every command
/// explains the missing section or fails with UNKNOWN_METHOD.
fn no_rpcinterface_config(dir: &Path, _port: u16) -> String {
    let d = dir.display();
    format!(
        "[unix_http_server]\nfile={d}/s.sock\n\n[supervisord]\nlogfile={d}/main.log\npidfile={d}/sd.pid\n\
         childlogdir={d}\n\n[supervisorctl]\nserverurl=unix://{d}/s.sock\n\n[program:sleeper]\ncommand=sleep 1000\n"
    )
}

#[test]
fn ctl_without_rpcinterface_matches_reference() {
    let Some(refbin) = util::require_reference("ctl_without_rpcinterface_matches_reference") else {
        return;
    };
    let reference_env = Env::launch(
        &refbin,
        DaemonKind::Reference,
        "ctlnr",
        no_rpcinterface_config,
    );
    let our_env = Env::launch(&refbin, DaemonKind::Ours, "ctlno", no_rpcinterface_config);
    for env in [&reference_env, &our_env] {
        let up = util::wait_for(WAIT, || env.refctl("version").rc == Some(3));
        assert!(
            up,
            "{:?} daemon not answering: {:?}",
            env.kind,
            env.refctl("version")
        );
    }
    let pairs = [
        (
            Side {
                env: &reference_env,
                ctl: refbin.join("supervisorctl"),
                label: "reference ctl",
                same_log: true,
            },
            Side {
                env: &reference_env,
                ctl: reference_env.dir.applet("supervisorctl"),
                label: "our ctl",
                same_log: true,
            },
        ),
        (
            Side {
                env: &reference_env,
                ctl: refbin.join("supervisorctl"),
                label: "reference daemon",
                same_log: false,
            },
            Side {
                env: &our_env,
                ctl: refbin.join("supervisorctl"),
                label: "our daemon",
                same_log: false,
            },
        ),
    ];
    let mut diffs = Vec::new();
    for (a, b) in &pairs {
        for cmd in [
            "status",
            "start sleeper",
            "stop all",
            "version",
            "tail sleeper",
            "tail -f sleeper",
            "pid",
            "clear all",
            "avail",
            "reread",
            "update",
            "add x",
            "remove x",
            "reload",
            "shutdown",
            "fg sleeper",
            "maintail",
        ] {
            let s = step(cmd);
            let (na, nb) = (a.normalise(&s, &a.run(&s)), b.normalise(&s, &b.run(&s)));
            if na != nb {
                diffs.push(format!(
                    "`{cmd}`:\n  {}: {na:?}\n  {}: {nb:?}",
                    a.label, b.label
                ));
            }
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn normalising_keeps_real_differences() {
    assert_eq!(
        normalise_line("sleeper                          RUNNING   pid 123, uptime 0:00:02"),
        "sleeper                          RUNNING   pid N, uptime T"
    );
    assert_eq!(
        normalise_line("exiter    EXITED    Nov 23 07:06 PM"),
        "exiter    EXITED    DATE"
    );
    assert_eq!(normalise_line("4242"), "N");
    assert_eq!(
        normalise_line("2026-11-23 22:36:43,624 INFO spawned: 'g2' with pid 77"),
        "TS INFO spawned: 'g2' with pid N"
    );
    assert_eq!(
        normalise_line("start <name>\t\tStart a process"),
        "start <name>"
    );
    assert_eq!(
        normalise_line("error: <class 'X'>, boom: file: /a/b.py line: 3"),
        "error: <class 'X'>, boom: file: F"
    );
    assert_ne!(
        normalise_line("sleeper: started"),
        normalise_line("sleeper: stopped")
    );
    assert_ne!(normalise_line("pid 0"), normalise_line("pid nope"));
}

/// A stand-in server on a unix socket: answers every POST with `respond(request body)` as
/// (status line, body), keeping connections alive, so the client paths no real daemon takes
/// (other API version, HTTP 500, unparsable XML) can be compared.
fn fake_server(path: &Path, respond: fn(&str) -> (&'static str, String)) {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let (status, reply) = respond(&String::from_utf8_lossy(&body));
                    let head = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
                        reply.len()
                    );
                    if conn
                        .write_all(head.as_bytes())
                        .and_then(|_| conn.write_all(reply.as_bytes()))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
}

fn string_response(s: &str) -> String {
    format!(
        "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>{s}</string></value>\n</param>\n</params>\n</methodResponse>\n"
    )
}

#[test]
fn ctl_matches_reference_on_odd_servers() {
    let Some(refbin) = util::require_reference("ctl_matches_reference_on_odd_servers") else {
        return;
    };
    let dir = TempDir::new("ctlodd");
    fake_server(&dir.join("old.sock"), |_| {
        ("200 OK", string_response("2.0"))
    });
    fake_server(&dir.join("broken.sock"), |body| {
        if body.contains("getVersion") {
            ("200 OK", string_response("3.0"))
        } else {
            ("500 Internal Server Error", "<html>oops</html>".to_string())
        }
    });
    fake_server(&dir.join("garbage.sock"), |body| {
        if body.contains("getVersion") {
            ("200 OK", string_response("3.0"))
        } else {
            ("200 OK", "<methodResponse><params>".to_string())
        }
    });
    let mut diffs = Vec::new();
    for sock in ["old", "broken", "garbage"] {
        for cmd in [
            "status", "start x", "stop x", "tail x", "version", "pid", "avail", "fg x",
        ] {
            let args: Vec<String> = format!("-s unix://{}/{sock}.sock {cmd}", dir.path.display())
                .split_whitespace()
                .map(str::to_string)
                .collect();
            let run = |ctl: &Path| {
                let child = detached(ctl)
                    .args(&args)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let o = finish(child, WAIT.saturating_mul(2), None);
                let fix = |t: &str| {
                    t.replace(&dir.path.display().to_string(), "DIR")
                        .split('\n')
                        .map(normalise_line)
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                // Parser and type error messages are Python's own words: compare the class only.
                let stdout = fix(&o.stdout)
                    .split('\n')
                    .map(
                        |l| match l.find("ExpatError'>, ").or_else(|| l.find("TypeError'>, ")) {
                            Some(p) => {
                                l[..l[p..].find(", ").map_or(l.len(), |q| p + q)].to_string()
                            }
                            None => l.to_string(),
                        },
                    )
                    .collect::<Vec<_>>()
                    .join("\n");
                (stdout, fix(&o.stderr), o.rc)
            };
            let (theirs, ours) = (
                run(&refbin.join("supervisorctl")),
                run(&dir.applet("supervisorctl")),
            );
            if theirs != ours {
                diffs.push(format!(
                    "{sock} `{cmd}`:\n  reference: {theirs:?}\n  ours:      {ours:?}"
                ));
            }
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
