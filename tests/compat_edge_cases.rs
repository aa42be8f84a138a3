//! Compatibility checks found uncovered by the audit (docs/compat-coverage.md): each test runs the same
//! config and commands on our supervisord/supervisorctl and on the reference's, and compares the
//! normalised transcripts (output, exit codes, raw XML-RPC replies, selected main-log lines).

use crate::util::{self, Implementation, RPC_INTERFACE, RPC_SECTIONS, TempDir, WAIT, wait_for};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One side of a comparison: a temp dir with a config, a supervisord and the matching ctl.
struct Side {
    dir: TempDir,
    daemon: Option<Child>,
    supervisord: PathBuf,
    ctl: PathBuf,
}

impl Side {
    /// A fresh dir for `test` with the binaries of `imp`.
    fn new(imp: &Implementation, test: &str) -> Side {
        let dir = TempDir::new(&imp.tag(test));
        let (supervisord, ctl) = (imp.supervisord(&dir), imp.supervisorctl(&dir));
        Side {
            dir,
            daemon: None,
            supervisord,
            ctl,
        }
    }

    /// Starts `supervisord -n -c s.conf <args>` in the dir and waits for its socket to answer.
    fn start(&mut self, args: &[&str]) {
        let out = std::fs::File::create(self.dir.join("daemon.out")).unwrap();
        let err = std::fs::File::create(self.dir.join("daemon.err")).unwrap();
        let child = Command::new(&self.supervisord)
            .args(["-n", "-c"])
            .arg(self.dir.join("s.conf"))
            .args(args)
            .current_dir(&self.dir.path)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap();
        self.daemon = Some(child);
        let sock = self.dir.join("s.sock");
        assert!(
            wait_for(WAIT, || util::try_rpc_call(
                &sock,
                "supervisor.getPID",
                &[],
                WAIT
            )
            .is_some_and(|r| r.contains("<int>"))),
            "{} did not come up: {}",
            self.supervisord.display(),
            self.dir.read("daemon.err")
        );
    }

    /// `supervisorctl <args>` (split on spaces) run in `cwd` (relative to the dir); the transcript.
    fn ctl_in(&self, cwd: &str, args: &str, input: Option<&str>) -> String {
        let mut child = Command::new(&self.ctl)
            .args(args.split_whitespace())
            .current_dir(self.dir.join(cwd))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            let _ = stdin.write_all(input.unwrap_or("").as_bytes());
        }
        let out = wait_output(child, WAIT);
        format!(
            "$ {args}\n{}{}[rc={}]\n",
            self.mask(&String::from_utf8_lossy(&out.stdout)),
            self.mask(&String::from_utf8_lossy(&out.stderr)),
            out.status.code().unwrap_or(-1)
        )
    }

    fn ctl(&self, args: &str) -> String {
        self.ctl_in(".", &format!("-c s.conf {args}"), None)
    }

    /// The raw XML-RPC reply body of one call (string params), masked.
    fn rpc(&self, method: &str, params: &[&str]) -> String {
        let reply = util::rpc_call(&self.dir.join("s.sock"), method, params, WAIT);
        let body = reply.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        format!("{method}{params:?} -> {}\n", self.mask(body))
    }

    /// Waits until `supervisorctl status <name>` shows `state`.
    fn wait_state(&self, name: &str, state: &str) {
        assert!(
            wait_for(WAIT, || self.ctl(&format!("status {name}")).contains(state)),
            "{name} never became {state}: {}",
            self.ctl("status")
        );
    }

    /// SIGTERM, then waits (bounded) for the daemon to exit; its exit code.
    fn stop(&mut self) -> Option<i32> {
        let mut child = self.daemon.take()?;
        util::terminate(&mut child, WAIT).and_then(|s| s.code())
    }

    /// Main-log messages (timestamp cut) containing any of `needles`, masked, in file order.
    fn log_lines(&self, needles: &[&str]) -> Vec<String> {
        self.dir
            .read("main.log")
            .lines()
            .filter(|l| needles.iter().any(|n| l.contains(n)))
            .map(|l| self.mask(l.get(24..).unwrap_or(l)))
            .collect()
    }

    /// Hides the temp dir, pids, uptimes, stop times and random AUTO log name parts.
    fn mask(&self, text: &str) -> String {
        let text = text.replace(&self.dir.path.display().to_string(), "<D>");
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            out.push_str(&mask_line(line));
        }
        out
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Masks the generic error's `file: ... line: N`, `pid N, uptime X`, `with pid N`, `---<id>-<random>.log` and the status stop time.
fn mask_line(line: &str) -> String {
    let mut l = line.to_string();
    // The generic error line names the source of the failure: ours is not Python's.
    if let Some(pos) = l.find(": file: ") {
        let newline = if l.ends_with('\n') { "\n" } else { "" };
        l.truncate(pos);
        l.push_str(": file: F");
        l.push_str(newline);
    }
    if let Some(pos) = l.find("pid ") {
        let digits = l[pos + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        if digits > 0 {
            l.replace_range(pos + 4..pos + 4 + digits, "N");
        }
    }
    if let Some(pos) = l.find("uptime ") {
        let end = l[pos..].find('\n').map_or(l.len(), |e| pos + e);
        l.replace_range(pos + 7..end, "U");
    }
    while let Some(pos) = l.find("---") {
        // `<name>-stdout---<identifier>-<8 random chars>.log`: keep the identifier.
        let rest = &l[pos + 3..];
        let Some(dash) = rest.find('-') else { break };
        let Some(dot) = rest[dash..].find(".log") else {
            break;
        };
        let id = rest[..dash].to_string();
        l.replace_range(pos..pos + 3 + dash + dot, &format!("==={id}-R"));
    }
    l
}

/// Waits for a child with piped output, killing it after `timeout`.
fn wait_output(mut child: Child, timeout: Duration) -> std::process::Output {
    util::reap(&mut child, timeout);
    child.wait_with_output().unwrap()
}

/// Runs `scenario` on both sides (see `util::side_by_side`); the two transcripts.
fn compare(test: &str, scenario: impl Fn(&mut Side) -> String + Sync) -> Option<(String, String)> {
    util::side_by_side(test, |imp| scenario(&mut Side::new(imp, test)))
}

fn assert_same(test: &str, ours: &str, theirs: &str) {
    if ours != theirs {
        let first = ours
            .lines()
            .zip(theirs.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(ours.lines().count().min(theirs.lines().count()));
        panic!(
            "{test}: transcripts differ at line {}\n--- ours:\n{ours}\n--- reference:\n{theirs}",
            first + 1
        );
    }
}

/// ctl and RPC answers for programs whose command cannot run, whose logs are NONE or redirected,
/// whose stdin is closed, numprocs_start naming, status/avail columns of long and non-ASCII names, a non-default stopsignal, `[include]` log lines,
/// and the `-i`/`-q` command-line overrides (identifier in AUTO log names, cleanup of old AUTO
/// logs of that identifier only).
#[test]
fn program_edge_cases_match_the_reference() {
    let scenario = |side: &mut Side| {
        let d = &side.dir;
        d.write("noexec.sh", "#!/bin/sh\necho hi\n");
        std::fs::create_dir_all(d.join("adir")).unwrap();
        std::fs::create_dir_all(d.join("cl")).unwrap();
        for old in [
            "old-stdout---myid-abcd1234.log",
            "old-stdout---myid-abcd1234.log.1",
            "old-stdout---supervisor-zzzz1234.log",
            "keep.log",
        ] {
            d.write(&format!("cl/{old}"), "");
        }
        d.write(
            "inc/a.ini",
            "[program:incl]\ncommand=/bin/sleep 1000\nstartsecs=0\npriority=5\n",
        );
        d.write(
            "s.conf",
            &format!(
                "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/sd.pid\nchildlogdir=%(here)s\n\n\
                 [include]\nfiles=inc/*.ini nomatch/*.conf\n\n{RPC_SECTIONS}\
                 [supervisorctl]\nserverurl=unix://%(here)s/s.sock\n\n\
                 [program:noexec]\ncommand=%(here)s/noexec.sh\nautostart=false\n\n\
                 [program:isdir]\ncommand=%(here)s/adir\nautostart=false\n\n\
                 [program:nolog]\ncommand=/bin/sh -c \"echo out; echo err >&2; exec sleep 1000\"\nstdout_logfile=NONE\nstartsecs=0\n\n\
                 [program:redir]\ncommand=/bin/sh -c \"echo out; echo err >&2; exec sleep 1000\"\nredirect_stderr=true\nstartsecs=0\n\n\
                 [program:closer]\ncommand=/bin/sh -c \"exec 0<&-; exec sleep 1000\"\nstartsecs=0\n\n\
                 [program:np]\ncommand=/bin/sleep 1000\nnumprocs=2\nnumprocs_start=5\nprocess_name=np%(process_num)d\nstartsecs=0\nautostart=false\n\n\
                 [program:intstop]\ncommand=/bin/sleep 1000\nstopsignal=INT\nstartsecs=0\n\n\
                 [program:pröcess_with_a_rather_long_name_of_42_chars]\ncommand=/bin/sleep 1000\nautostart=false\n\n\
                 [program:x]\ncommand=/bin/sleep 1000\nautostart=false\n\n\
                 [group:grp_with_a_long_name_that_exceeds]\nprograms=x\n"
            ),
        );
        side.start(&["-i", "myid", "-q", &d.join("cl").display().to_string()]);
        for name in ["nolog", "redir", "closer", "intstop", "incl"] {
            side.wait_state(name, "RUNNING");
        }
        // The children's output must be in the logs before tail reads them.
        assert!(wait_for(WAIT, || side.ctl("tail redir").contains("err")));
        assert!(wait_for(WAIT, || side
            .ctl("tail nolog stderr")
            .contains("err")));
        let mut t = String::new();
        for cmd in [
            "start noexec",
            "start isdir",
            "start noexec isdir",
            "tail nolog",
            "tail nolog stderr",
            "tail redir",
            "tail redir stderr",
            "avail",
            "status",
            "status grp_with_a_long_name_that_exceeds:*",
            "pid np:np5 np:np7",
            "start np:*",
            "status np:",
            "stop intstop",
            "stop np:np6 np:np5",
        ] {
            t += &side.ctl(cmd);
        }
        t += &side.rpc("supervisor.getIdentification", &[]);
        t += &side.rpc("supervisor.startProcess", &["noexec"]);
        t += &side.rpc("supervisor.startProcess", &["isdir"]);
        t += &side.rpc("supervisor.sendProcessStdin", &["closer", "x"]);
        t += &side.rpc("supervisor.readProcessStderrLog", &["redir", "0", "0"]);
        t += &side.rpc("supervisor.readProcessStdoutLog", &["nolog", "0", "0"]);
        t += &side.rpc("supervisor.tailProcessStdoutLog", &["nolog", "0", "10"]);
        let mut files: Vec<String> = std::fs::read_dir(side.dir.join("cl"))
            .unwrap()
            .map(|e| mask_line(&e.unwrap().file_name().to_string_lossy()))
            .collect();
        files.sort();
        t += &format!("childlogdir: {files:?}\n");
        t += &format!("exit: {:?}\n", side.stop());
        for l in side.log_lines(&["include", "Included", "stopped: intstop"]) {
            t += &format!("log: {l}\n");
        }
        t
    };
    let test = "program_edge_cases_match_the_reference";
    if let Some((ours, theirs)) = compare(test, scenario) {
        assert_same(test, &ours, &theirs);
    }
}

/// supervisorctl's `[supervisorctl]` section: a relative `unix://` serverurl (resolved against
/// the CWD), credentials from the file and their command-line overrides, the prompt, and the
/// defaults when the section is empty.
#[test]
fn ctl_config_section_matches_the_reference() {
    let scenario = |side: &mut Side| {
        let d = &side.dir;
        std::fs::create_dir_all(d.join("sub")).unwrap();
        // {SHA} of "secret".
        d.write(
            "s.conf",
            &format!(
                "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/sd.pid\nchildlogdir=%(here)s\n\n\
                 [unix_http_server]\nfile=%(here)s/s.sock\nusername=alice\npassword={{SHA}}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4\n\n\
                 {RPC_INTERFACE}\
                 [program:sleeper]\ncommand=/bin/sleep 1000\nstartsecs=0\n"
            ),
        );
        d.write(
            "c1.conf",
            "[supervisorctl]\nserverurl=unix://s.sock\nusername=alice\npassword=secret\nprompt=mine\n",
        );
        d.write(
            "c2.conf",
            "[supervisorctl]\nserverurl=unix://%(here)s/s.sock\nusername=alice\npassword=wrong\n",
        );
        d.write("c3.conf", "[supervisorctl]\n");
        let sock = d.join("s.sock");
        let supervisord = side.supervisord.clone();
        let out = std::fs::File::create(d.join("daemon.out")).unwrap();
        side.daemon = Some(
            Command::new(&supervisord)
                .args(["-n", "-c"])
                .arg(d.join("s.conf"))
                .current_dir(&d.path)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        // With auth on, an unauthenticated call is a 401: the server is up once that comes back.
        assert!(wait_for(WAIT, || util::try_rpc_call(
            &sock,
            "supervisor.getPID",
            &[],
            WAIT
        )
        .is_some()));
        assert!(wait_for(WAIT, || side
            .ctl_in(".", "-c c1.conf status", None)
            .contains("RUNNING")));
        let mut t = String::new();
        for (cwd, args, input) in [
            (".", "-c c1.conf status", None),
            ("sub", "-c ../c1.conf status", None),
            (".", "-c c2.conf status", None),
            (".", "-c c2.conf -p secret status", None),
            (".", "-c c2.conf -u bob -p secret status", None),
            (".", "-c c1.conf", Some("version\n")),
            (".", "-c c3.conf status", None),
            (
                ".",
                "-c c3.conf -s unix://s.sock -u alice -p secret pid sleeper",
                None,
            ),
            (".", "-c c1.conf stop sleeper sleeper", None),
            (".", "-c c1.conf start sleeper", None),
        ] {
            let out = side.ctl_in(cwd, args, input);
            // `pid sleeper` prints a pid: keep only whether it is one.
            let out = if args.ends_with("pid sleeper") {
                out.lines()
                    .map(|l| {
                        if !l.is_empty() && l.chars().all(|c| c.is_ascii_digit()) {
                            "N"
                        } else {
                            l
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
                    + "\n"
            } else {
                out
            };
            t += &out;
        }
        t
    };
    let test = "ctl_config_section_matches_the_reference";
    if let Some((ours, theirs)) = compare(test, scenario) {
        assert_same(test, &ours, &theirs);
    }
}

/// Kills a daemonized supervisord (found by its pidfile) if the test ends early.
struct PidfileGuard(PathBuf);

impl Drop for PidfileGuard {
    fn drop(&mut self) {
        if let Some(pid) = std::fs::read_to_string(&self.0)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            util::unsafe_kill(pid, 15);
            wait_for(WAIT, || !util::pid_alive(pid));
        }
    }
}

/// A daemonized supervisord: `directory` and `umask` take effect (only when daemonizing), the
/// pidfile holds `<pid>\n` and goes away at shutdown, children see `SUPERVISOR_*` with the inet
/// server's URL, program `umask`/`directory` override, and the log files' modes.
#[test]
fn daemonized_supervisord_matches_the_reference() {
    let scenario = |side: &mut Side| {
        let d = &side.dir;
        let port = util::free_port();
        std::fs::create_dir_all(d.join("wd")).unwrap();
        d.write(
            "s.conf",
            &format!(
                "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/sd.pid\nchildlogdir=%(here)s\n\
                 directory=%(here)s/wd\numask=077\n\n\
                 [inet_http_server]\nport=127.0.0.1:{port}\n\n\
                 {RPC_INTERFACE}\
                 [supervisorctl]\nserverurl=http://127.0.0.1:{port}\n\n\
                 [program:env]\ncommand=/bin/sh -c \"env | grep ^SUPERVISOR_ | sort; umask; pwd; touch made; ls -l made | cut -c1-10; exec sleep 1000\"\nstartsecs=0\n\n\
                 [program:env2]\ncommand=/bin/sh -c \"umask; pwd; echo done; exec sleep 1000\"\nstartsecs=0\numask=027\ndirectory=/tmp\n"
            ),
        );
        let pidfile = d.join("sd.pid");
        let _guard = PidfileGuard(pidfile.clone());
        let launch = Command::new(&side.supervisord)
            .arg("-c")
            .arg(d.join("s.conf"))
            .current_dir(&d.path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let launched = wait_output(launch, WAIT);
        let mut t = format!("launch rc={:?}\n", launched.status.code());
        assert!(wait_for(WAIT, || side.ctl("tail env").contains("-rw")
            && side.ctl("tail env2").contains("done")));
        let pid_text = d.read("sd.pid");
        let pid: i32 = pid_text.trim().parse().unwrap();
        t += &format!(
            "pidfile is pid+newline: {}\n",
            pid_text == format!("{pid}\n")
        );
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
        t += &format!("daemon cwd: {}\n", side.mask(&cwd.display().to_string()));
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        t += &format!(
            "daemon {}\n",
            status
                .lines()
                .find(|l| l.starts_with("Umask"))
                .unwrap_or("")
        );
        for cmd in ["tail env", "tail env2"] {
            t += &side.ctl(cmd).replace(&port.to_string(), "PORT");
        }
        for file in ["main.log", "wd/made"] {
            let mode = std::fs::metadata(d.join(file)).map(|m| {
                use std::os::unix::fs::PermissionsExt;
                format!("{:o}", m.permissions().mode() & 0o777)
            });
            t += &format!("{file} mode {}\n", mode.unwrap_or_default());
        }
        t += &side.ctl("shutdown");
        let gone = wait_for(WAIT, || !pidfile.exists());
        t += &format!("pidfile removed: {gone}\n");
        assert!(wait_for(WAIT, || !util::pid_alive(pid)));
        t
    };
    let test = "daemonized_supervisord_matches_the_reference";
    if let Some((ours, theirs)) = compare(test, scenario) {
        assert_same(test, &ours, &theirs);
    }
}

/// supervisord's command-line overrides of `[supervisord]` options: `-l` log file, `-j` pidfile,
/// `-e` level, `-t` strip_ansi, `-y`/`-z` main log rotation.
#[test]
fn supervisord_option_overrides_match_the_reference() {
    let scenario = |side: &mut Side| {
        side.dir.write(
            "s.conf",
            &format!(
                "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/sd.pid\nchildlogdir=%(here)s\n\n{RPC_SECTIONS}\
                 [supervisorctl]\nserverurl=unix://%(here)s/s.sock\n\n\
                 [program:color]\ncommand=/bin/sh -c \"printf '\\\\033[31mred\\\\033[0m plain\\\\n'; exec sleep 1000\"\nstartsecs=0\n"
            ),
        );
        side.start(&[
            "-l", "x.log", "-j", "x.pid", "-e", "warn", "-t", "-y", "300", "-z", "1",
        ]);
        assert!(wait_for(WAIT, || side.ctl("tail color").contains("plain")));
        let mut t = side.ctl("tail color");
        // Each stop logs one WARN line: enough to rotate a 300-byte log once.
        for _ in 0..6 {
            t += &side.ctl("stop color");
            t += &side.ctl("start color");
        }
        t += &format!(
            "pidfile: {:?}\n",
            side.dir.read("x.pid").trim().parse::<u32>().is_ok()
        );
        t += &format!("exit: {:?}\n", side.stop());
        let mut files: Vec<String> = std::fs::read_dir(&side.dir.path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| !f.starts_with("color-") && f != "bin")
            .collect();
        files.sort();
        t += &format!("files: {files:?}\n");
        for log in ["x.log", "x.log.1"] {
            let text = side.dir.read(log);
            t += &format!(
                "{log}: lines {}, below warn {}\n",
                text.lines().count(),
                text.lines()
                    .any(|l| l.contains(" INFO ") || l.contains(" DEBG "))
            );
        }
        t
    };
    let test = "supervisord_option_overrides_match_the_reference";
    if let Some((ours, theirs)) = compare(test, scenario) {
        assert_same(test, &ours, &theirs);
    }
}

/// `GET <path>` over HTTP/1.0 on 127.0.0.1; the whole reply.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// The web UI's tail page: only NO_FILE reads as `No file for <name>`; an unknown name shows the
/// fault, and an empty `processname` counts as none (texts as the reference writes them). Blank
/// form values are dropped everywhere, as Python's parse_qs does (`action=` is no action).
#[test]
fn tail_page_reports_unknown_names_and_empty_processname_like_the_reference() {
    let mut side = Side::new(&Implementation::ours(), "uitail");
    let port = util::free_port();
    side.dir.write(
        "s.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/sd.pid\nchildlogdir=%(here)s\n\n{RPC_SECTIONS}\
             [inet_http_server]\nport=127.0.0.1:{port}\n\n\
             [program:talk]\ncommand=/bin/sleep 1000\nstartsecs=0\nstdout_logfile=NONE\n"
        ),
    );
    side.start(&[]);
    let cases = [
        ("processname=talk", "process talk<", "No file for talk"),
        (
            "processname=nope",
            "process nope<",
            "ERROR: unexpected rpc fault [10] BAD_NAME: nope",
        ),
        (
            "processname=nope:*",
            "process nope:*<",
            "ERROR: unexpected rpc fault [10] BAD_NAME: nope:*",
        ),
        ("processname=", "process None<", "No process name found"),
        (
            "processname=&limit=5",
            "process None<",
            "No process name found",
        ),
    ];
    for (query, title, body) in cases {
        let page = http_get(port, &format!("/tail.html?{query}"));
        assert!(page.starts_with("HTTP/1.0 200 OK\r\n"), "{query}: {page}");
        assert!(page.contains(title), "{query}: no {title:?} in {page}");
        assert!(page.contains(body), "{query}: no {body:?} in {page}");
    }
    // Blank form values are dropped: no action, no message.
    let page = http_get(port, "/index.html?processname=talk&action=");
    assert!(page.starts_with("HTTP/1.0 200 OK\r\n"), "{page}");
    let page = http_get(port, "/index.html?message=");
    assert!(page.starts_with("HTTP/1.0 200 OK\r\n"), "{page}");
    assert!(!page.contains("class=\"status_msg\""), "{page}");
    let page = http_get(port, "/index.html?message=hi%20there");
    assert!(page.contains("hi there"), "{page}");
    assert_eq!(side.stop(), Some(0));
}
