//! Reconfiguring a running daemon: one scenario (programs added, changed, removed, untouched,
//! a group's members changed, an [include] file added; `update <group>`; `add`/`remove`; a
//! config that fails to load) run against the reference supervisord with its supervisorctl and
//! against ours with ours. Each side is checked by pids and states; the two transcripts of
//! `reread`/`update`/`add`/`remove` output and exit codes must match line for line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{self, RPC_INTERFACE, TempDir, WAIT};

/// One supervisord (reference or ours) with the matching supervisorctl.
struct Side {
    name: &'static str,
    dir: TempDir,
    conf: PathBuf,
    ctl: PathBuf,
    daemon: Child,
}

/// What one ctl run printed and returned.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    stdout: String,
    rc: Option<i32>,
}

/// A process as `status` shows it: state and pid (when running).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Proc {
    state: String,
    pid: Option<i32>,
}

fn base_config(d: &Path) -> String {
    let d = d.display();
    format!(
        "[unix_http_server]\nfile={d}/s.sock\n\n\
         [supervisord]\nlogfile={d}/main.log\npidfile={d}/sd.pid\nchildlogdir={d}\nloglevel=info\n\n\
         {RPC_INTERFACE}\
         [supervisorctl]\nserverurl=unix://{d}/s.sock\n\n"
    )
}

fn program(name: &str, seconds: u32) -> String {
    format!("[program:{name}]\ncommand=sleep {seconds}\nstartsecs=0\nstopwaitsecs=5\n\n")
}

/// v1: the starting point. v2: `change` gets a new command, `gone` is removed, `added` is new,
/// `lazy` (autostart=false) is new, grp's members go from ga,gb to ga,gc, and an [include]
/// brings in `inc`. v3: v2 with `other` and `added` changed (for `update other`).
fn config(d: &Path, version: u8) -> String {
    let mut c = base_config(d);
    c.push_str(&program("keep", 1000));
    c.push_str(&program("ga", 1003));
    match version {
        1 => {
            c.push_str(&program("change", 1001));
            c.push_str(&program("gone", 1002));
            c.push_str("[group:grp]\nprograms=ga,gb\n\n");
            c.push_str(&program("gb", 1004));
            c.push_str("[group:other]\nprograms=oa\n\n");
            c.push_str(&program("oa", 1006));
        }
        _ => {
            c.push_str(&program("change", 1011));
            c.push_str("[group:grp]\nprograms=ga,gc\n\n");
            c.push_str(&program("gc", 1005));
            c.push_str("[group:other]\nprograms=oa\n\n");
            c.push_str("[program:lazy]\ncommand=sleep 1009\nautostart=false\n\n");
            if version == 2 {
                c.push_str(&program("oa", 1006));
                c.push_str(&program("added", 1007));
            } else {
                c.push_str(&program("oa", 1016));
                c.push_str(&program("added", 1017));
            }
            c.push_str("[include]\nfiles=conf.d/*.ini\n\n");
        }
    }
    c
}

impl Side {
    fn start(daemon_bin: &Path, ctl: &Path, name: &'static str) -> Side {
        let dir = TempDir::new(&format!("reconf-{name}"));
        let conf = dir.write("sup.conf", &config(&dir.path, 1));
        let daemon = util::spawn_foreground(daemon_bin, &dir, &conf);
        Side {
            name,
            dir,
            conf,
            ctl: ctl.to_path_buf(),
            daemon,
        }
    }

    fn write_config(&self, version: u8) {
        self.dir.write("sup.conf", &config(&self.dir.path, version));
    }

    /// Runs `supervisorctl -c conf <cmd>` (bounded), output with the temp dir masked.
    fn ctl(&self, cmd: &str) -> Outcome {
        let out_path = self.dir.join(".ctl.out");
        let mut child = Command::new(&self.ctl)
            .arg("-c")
            .arg(&self.conf)
            .args(cmd.split_whitespace())
            .current_dir(&self.dir.path)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + WAIT;
        let rc = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{}: `supervisorctl {cmd}` did not finish", self.name);
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stdout = std::fs::read_to_string(&out_path)
            .unwrap()
            .replace(&self.dir.path.display().to_string(), "DIR");
        Outcome { stdout, rc }
    }

    /// `status` parsed into namespec → (state, pid).
    fn status(&self) -> BTreeMap<String, Proc> {
        let mut procs = BTreeMap::new();
        for line in self.ctl("status").stdout.lines() {
            let mut words = line.split_whitespace();
            let (Some(name), Some(state)) = (words.next(), words.next()) else {
                continue;
            };
            let pid = line
                .split("pid ")
                .nth(1)
                .and_then(|rest| rest.split(',').next())
                .and_then(|p| p.parse().ok());
            procs.insert(
                name.to_string(),
                Proc {
                    state: state.to_string(),
                    pid,
                },
            );
        }
        procs
    }

    /// Waits until exactly these processes exist, `running` ones RUNNING and `stopped` ones
    /// STOPPED; returns the running ones' pids.
    fn wait_procs(&self, running: &[&str], stopped: &[&str]) -> BTreeMap<String, i32> {
        let mut last = BTreeMap::new();
        let ok = util::wait_for(WAIT, || {
            last = self.status();
            last.len() == running.len() + stopped.len()
                && running.iter().all(|n| {
                    last.get(*n)
                        .is_some_and(|p| p.state == "RUNNING" && p.pid.is_some())
                })
                && stopped
                    .iter()
                    .all(|n| last.get(*n).is_some_and(|p| p.state == "STOPPED"))
        });
        assert!(
            ok,
            "{}: wanted exactly {running:?} RUNNING and {stopped:?} STOPPED; status: {last:#?}\n\
             daemon stderr: {}",
            self.name,
            self.dir.read("daemon.err")
        );
        last.into_iter()
            .filter_map(|(n, p)| p.pid.map(|pid| (n, pid)))
            .collect()
    }

    /// From v2 on: `lazy` (autostart=false) is added but never started by `update`.
    fn wait_running(&self, running: &[&str]) -> BTreeMap<String, i32> {
        self.wait_procs(running, &["lazy"])
    }

    fn stop(&mut self) {
        util::terminate(&mut self.daemon, WAIT);
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        if let Ok(None) = self.daemon.try_wait() {
            self.stop();
        }
    }
}

/// One transcript entry: the command, its (possibly sorted) output lines and exit code.
type Entry = (String, Vec<String>, Option<i32>);

/// Records a ctl run in the transcript; `sorted` where the reference's order is not defined.
fn record(side: &Side, log: &mut Vec<Entry>, cmd: &str, sorted: bool) -> Outcome {
    let out = side.ctl(cmd);
    let mut lines: Vec<String> = out.stdout.lines().map(normalise).collect();
    if sorted {
        lines.sort();
    }
    log.push((cmd.to_string(), lines, out.rc));
    out
}

/// A generic client error line names Python classes and files we can only approximate.
fn normalise(line: &str) -> String {
    if line.starts_with("error: ") {
        return "error: ...".into();
    }
    line.to_string()
}

fn lines_sorted(o: &Outcome) -> Vec<&str> {
    let mut l: Vec<&str> = o.stdout.lines().collect();
    l.sort();
    l
}

fn assert_dead(side: &Side, what: &str, pid: i32) {
    assert!(
        util::wait_for(WAIT, || !util::pid_alive(pid)),
        "{}: {what} (pid {pid}) still alive",
        side.name
    );
}

/// The whole scenario on one side: asserts pids and states, returns the transcript.
fn scenario(side: &Side) -> Vec<Entry> {
    let mut log = Vec::new();
    let n = side.name;
    let v1 = side.wait_procs(
        &["keep", "change", "gone", "grp:ga", "grp:gb", "other:oa"],
        &[],
    );

    // --- v2: added, changed, removed, untouched, group members changed, include added.
    side.write_config(2);
    side.dir.write(
        "conf.d/inc.ini",
        &program("inc", 1008).replace("\n\n", "\n"),
    );
    let reread = record(side, &mut log, "reread", true);
    assert_eq!(
        lines_sorted(&reread),
        [
            "added: available",
            "change: changed",
            "gone: disappeared",
            "grp: changed",
            "inc: available",
            "lazy: available"
        ],
        "{n}: reread"
    );
    assert_eq!(reread.rc, Some(0), "{n}: reread rc");
    let update = record(side, &mut log, "update", true);
    assert_eq!(
        lines_sorted(&update),
        [
            "added: added process group",
            "change: stopped",
            "change: updated process group",
            "gone: removed process group",
            "gone: stopped",
            "grp: stopped",
            "grp: updated process group",
            "inc: added process group",
            "lazy: added process group",
        ],
        "{n}: update"
    );
    assert_eq!(update.rc, Some(0), "{n}: update rc");
    // Removals are reported before changes, changes before additions.
    let phase = |l: &str| {
        if l.contains("added process group") {
            2
        } else if l.starts_with("gone:") {
            0
        } else {
            1
        }
    };
    let phases: Vec<u8> = update.stdout.lines().map(phase).collect();
    assert!(
        phases.windows(2).all(|w| w[0] <= w[1]),
        "{n}: update order: {}",
        update.stdout
    );
    let v2 = side.wait_running(&[
        "keep", "change", "added", "inc", "grp:ga", "grp:gc", "other:oa",
    ]);
    assert_eq!(v2["keep"], v1["keep"], "{n}: untouched program restarted");
    assert_eq!(
        v2["other:oa"], v1["other:oa"],
        "{n}: untouched group restarted"
    );
    assert_ne!(
        v2["change"], v1["change"],
        "{n}: changed program kept its pid"
    );
    assert_ne!(
        v2["grp:ga"], v1["grp:ga"],
        "{n}: changed group kept its pid"
    );
    assert_dead(side, "changed program's old process", v1["change"]);
    assert_dead(side, "removed program's process", v1["gone"]);
    assert_dead(side, "removed group member's process", v1["grp:gb"]);
    let pid_out = side.ctl("pid change");
    assert_eq!(pid_out.stdout.trim(), v2["change"].to_string());
    record(side, &mut log, "reread", false);
    record(side, &mut log, "update", false);
    record(side, &mut log, "avail", false);

    // --- v3: two groups changed, only one updated.
    side.write_config(3);
    let reread = record(side, &mut log, "reread", true);
    assert_eq!(
        lines_sorted(&reread),
        ["added: changed", "other: changed"],
        "{n}: v3 reread"
    );
    let update = record(side, &mut log, "update other", false);
    assert_eq!(
        update.stdout, "other: stopped\nother: updated process group\n",
        "{n}: update other"
    );
    let v3 = side.wait_running(&[
        "keep", "change", "added", "inc", "grp:ga", "grp:gc", "other:oa",
    ]);
    assert_ne!(
        v3["other:oa"], v2["other:oa"],
        "{n}: updated group kept its pid"
    );
    for name in ["added", "keep", "change", "inc", "grp:ga", "grp:gc"] {
        assert_eq!(v3[name], v2[name], "{n}: `update other` touched {name}");
    }
    record(side, &mut log, "reread", false);
    let bad = record(side, &mut log, "update nope", false);
    assert_eq!(
        bad.stdout, "ERROR: no such group: nope\n",
        "{n}: update nope"
    );
    record(side, &mut log, "update added other", true);
    let v3 = side.wait_running(&[
        "keep", "change", "added", "inc", "grp:ga", "grp:gc", "other:oa",
    ]);
    assert_ne!(v3["added"], v2["added"], "{n}: `update added` kept its pid");

    // --- remove / add a group.
    let busy = record(side, &mut log, "remove grp", false);
    assert_eq!(busy.stdout, "ERROR: process/group still running: grp\n");
    record(side, &mut log, "stop grp:*", true);
    let removed = record(side, &mut log, "remove grp", false);
    assert_eq!(removed.stdout, "grp: removed process group\n", "{n}");
    side.wait_running(&["keep", "change", "added", "inc", "other:oa"]);
    record(side, &mut log, "remove grp", false);
    record(side, &mut log, "reread", false);
    let added = record(side, &mut log, "add grp", false);
    assert_eq!(added.stdout, "grp: added process group\n", "{n}");
    record(side, &mut log, "add grp", false);
    record(side, &mut log, "add nope", false);
    record(side, &mut log, "remove nope", false);
    let before = side.wait_running(&[
        "keep", "change", "added", "inc", "grp:ga", "grp:gc", "other:oa",
    ]);

    // --- a config that fails to load changes nothing.
    side.dir.write(
        "sup.conf",
        &format!("{}[program:bad]\nnumprocs=2\n", config(&side.dir.path, 2)),
    );
    let failed = record(side, &mut log, "reread", false);
    assert!(
        failed.stdout.starts_with("ERROR: CANT_REREAD: "),
        "{n}: broken reread: {}",
        failed.stdout
    );
    assert_eq!(failed.rc, Some(1), "{n}: broken reread rc");
    let failed = record(side, &mut log, "update", false);
    assert_eq!(failed.rc, Some(1), "{n}: broken update rc");
    record(side, &mut log, "add added", false);
    let after = side.wait_running(&[
        "keep", "change", "added", "inc", "grp:ga", "grp:gc", "other:oa",
    ]);
    assert_eq!(
        after, before,
        "{n}: a broken config changed running processes"
    );

    // --- fixed again (back to v2): everything pending since v3 is applied by `update all`.
    side.write_config(2);
    let fixed = record(side, &mut log, "update all", true);
    assert_eq!(
        lines_sorted(&fixed),
        [
            "added: stopped",
            "added: updated process group",
            "other: stopped",
            "other: updated process group",
        ],
        "{n}: update all after the fix"
    );
    let last = side.wait_running(&[
        "keep", "change", "added", "inc", "grp:ga", "grp:gc", "other:oa",
    ]);
    for name in ["keep", "change", "inc", "grp:ga", "grp:gc"] {
        assert_eq!(last[name], after[name], "{n}: `update all` touched {name}");
    }
    record(side, &mut log, "reread", false);
    log
}

#[test]
fn reread_and_update_match_reference() {
    let Some((ours, reference)) = util::side_by_side("reread_and_update_match_reference", |imp| {
        let bins = TempDir::new("reconf-bin");
        let side = Side::start(
            &imp.supervisord(&bins),
            &imp.supervisorctl(&bins),
            if imp.is_reference() {
                "reference"
            } else {
                "ours"
            },
        );
        scenario(&side)
    }) else {
        return;
    };
    let mut diffs = Vec::new();
    for (i, (r, o)) in reference.iter().zip(&ours).enumerate() {
        if r != o {
            diffs.push(format!("step {i}:\n  reference: {r:?}\n  ours:      {o:?}"));
        }
    }
    // RECONFIG_SHOW=1 prints both transcripts (for checking new facts about the reference).
    if std::env::var_os("RECONFIG_SHOW").is_some() {
        eprintln!("{reference:#?}\n{ours:#?}");
    }
    assert_eq!(reference.len(), ours.len());
    assert!(
        diffs.is_empty(),
        "transcripts differ:\n{}",
        diffs.join("\n")
    );
}
