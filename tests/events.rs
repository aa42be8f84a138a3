//! Differential test of events: one scenario run under the reference supervisord and under ours,
//! a recording event listener in each, and the two recordings compared (headers and payloads).

use std::path::{Path, PathBuf};

use crate::util::{self, RPC_INTERFACE, TempDir, WAIT, wait_for};

/// Records every event verbatim (header line and payload, escaped onto one line) and answers OK;
/// the first delivery of a REMOTE_COMMUNICATION of type `failme` is answered FAIL.
const LISTENER: &str = r#"import sys
out = open(sys.argv[1], "a", encoding="utf-8", newline="")
inp = open(0, "r", encoding="utf-8", newline="")
def esc(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
failed = False
while True:
    sys.stdout.write("READY\n"); sys.stdout.flush()
    header = inp.readline()
    if not header:
        break
    fields = dict(t.split(":", 1) for t in header.split())
    payload = inp.read(int(fields["len"]))
    out.write(esc(header) + "||" + esc(payload) + "\n"); out.flush()
    if not failed and payload.startswith("type:failme\n"):
        failed = True
        sys.stdout.write("RESULT 4\nFAIL"); sys.stdout.flush()
    else:
        sys.stdout.write("RESULT 2\nOK"); sys.stdout.flush()
"#;

/// Output on both channels: non-ASCII text, capture-mode blocks, a token split across writes, an
/// undecodable byte. Each write waits for the test to create `go<n>` (after it saw the previous
/// write's event; `go0` after RUNNING), so read boundaries are the same in both runs; every write is longer than a
/// capture token (the reference holds back shorter ones, see docs/differences.md).
const TALKER: &str = r#"step() { while [ ! -e "$1/go$2" ]; do sleep 0.02; done; }
step "$1" 0
printf 'plain ascii, long enough to pass\n'
step "$1" 1
printf 'caf\303\251 \342\202\254 \360\237\230\200 non-ASCII text here\n'
step "$1" 2
printf 'to stderr: \303\274ber, long enough too\n' >&2
step "$1" 3
printf 'before the block\n<!--XSUPERVISOR:BEGIN-->captured \303\251\nline2<!--XSUPERVISOR:END-->after the block, long enough\n'
step "$1" 4
printf 'err <!--XSUPERVISOR:BEGIN-->err captured<!--XSUPERVISOR:END-->' >&2
step "$1" 5
printf 'a token split across writes <!--XSUPERV'
step "$1" 6
printf 'ISOR:BEGIN-->split capture<!--XSUPERVISOR:END-->and the rest of the line\n'
step "$1" 7
printf 'bad \377 byte, and more text after it\n'
step "$1" 8
printf 'talker done, this is the end\n'
exec sleep 1000
"#;

/// Output with events on but no log file and no capture mode, stderr redirected to stdout:
/// short writes are events at once, ANSI escapes stripped (`strip_ansi`); gated like the talker
/// (`goe<n>`).
const ECHO: &str = r#"step() { while [ ! -e "$1/goe$2" ]; do sleep 0.02; done; }
step "$1" 0
printf 'hi\n'
step "$1" 1
printf 'oops\n' >&2
step "$1" 2
printf '\033[1;31mred text\033[0m\n'
exec sleep 1000
"#;

/// What the recording shows after each echo write.
const ECHO_STEPS: &[&str] = &[
    "processname:echo groupname:echo from_state:STARTING",
    "channel:stdout\\nhi\\n",
    "channel:stdout\\noops\\n",
    "red text",
];

/// What the recording shows after each talker write: the test waits for it, then lets the
/// talker go on.
const TALKER_STEPS: &[&str] = &[
    "processname:talker groupname:talker from_state:STARTING",
    "plain ascii",
    "non-ASCII text here",
    "long enough too",
    "after the block, long enough",
    "PROCESS_COMMUNICATION_STDERR",
    "a token split across writes ",
    "and the rest of the line",
    "and more text after it",
    "talker done",
];

/// Which programs the config holds: the scenario's start, plus `extra` (for addProcessGroup), or
/// only the listeners and `stay` (for the restart).
#[derive(PartialEq)]
enum Phase {
    Start,
    Extra,
    Restart,
}

fn config(dir: &TempDir, python: &Path, phase: Phase) -> PathBuf {
    let mut conf = format!(
        r#"[unix_http_server]
file=%(here)s/s.sock

[supervisord]
logfile=%(here)s/s.log
pidfile=%(here)s/s.pid
childlogdir=%(here)s
loglevel=debug
strip_ansi=true

{RPC_INTERFACE}[eventlistener:rec]
command={python} -u %(here)s/listener.py %(here)s/events.txt
events=PROCESS_STATE,PROCESS_LOG,PROCESS_COMMUNICATION,REMOTE_COMMUNICATION,PROCESS_GROUP,SUPERVISOR_STATE_CHANGE
buffer_size=1000
startsecs=0

[eventlistener:tick]
command={python} -u %(here)s/listener.py %(here)s/ticks.txt
events=TICK_5
startsecs=0
priority=1

[eventlistener:small]
command={python} -u %(here)s/listener.py %(here)s/groups.txt
events=PROCESS_GROUP
buffer_size=3
startsecs=0
priority=0

[program:stay]
command=sleep 1000
startsecs=1
"#,
        python = python.display()
    );
    if phase == Phase::Restart {
        return dir.write("s.conf", &conf);
    }
    conf.push_str(
        r#"
[program:exitok]
command=sh -c 'sleep 0.3; exit 0'
startsecs=0
autorestart=false

[program:exitbad]
command=sh -c 'sleep 0.3; exit 3'
startsecs=0
autorestart=false

[program:missing]
command=/nonexistent/program
startretries=1

[program:crashy]
command=sh -c 'exit 2'
startsecs=3
startretries=0

[program:flaky]
command=sh -c 'if [ -e %(here)s/flaky.ran ]; then exec sleep 1000; fi; touch %(here)s/flaky.ran; sleep 0.3; exit 3'
startsecs=0

[program:echo]
command=sh %(here)s/echo.sh %(here)s
startsecs=0
autorestart=false
redirect_stderr=true
stdout_logfile=NONE
stdout_events_enabled=true

[program:talker]
command=sh %(here)s/talker.sh %(here)s
startsecs=0
autorestart=false
stdout_events_enabled=true
stderr_events_enabled=true
stdout_capture_maxbytes=1KB
stderr_capture_maxbytes=1KB
"#,
    );
    if phase == Phase::Extra {
        conf.push_str("\n[program:extra]\ncommand=sleep 1000\nstartsecs=0\n");
    }
    dir.write("s.conf", &conf)
}

/// One XML-RPC call over the unix socket; the raw reply (panics on a fault).
fn rpc(sock: &Path, method: &str, params: &[&str]) -> String {
    let reply = rpc_reply(sock, method, params);
    assert!(!reply.contains("<fault>"), "{method}{params:?}: {reply}");
    reply
}

/// One XML-RPC call over the unix socket; the raw reply, fault or not.
fn rpc_reply(sock: &Path, method: &str, params: &[&str]) -> String {
    util::rpc_call(sock, method, params, WAIT)
}

/// A recording, and what the scenario waited for in vain (it stops at the first stall).
struct Run {
    /// Pool `rec`: everything but TICKs.
    recording: String,
    /// Pool `tick`: TICK_5.
    ticks: String,
    /// Pool `small`: PROCESS_GROUP, in a 3-event buffer that overflows at start-up.
    groups: String,
    stalled: Option<String>,
}

/// Runs the scenario under `supervisord` and stops it; the listener's recording.
fn run_scenario(supervisord: &Path, python: &Path, dir: &TempDir) -> Run {
    dir.write("listener.py", LISTENER);
    dir.write("talker.sh", TALKER);
    dir.write("echo.sh", ECHO);
    let conf = config(dir, python, Phase::Start);
    let mut daemon = util::spawn_foreground(supervisord, dir, &conf);
    let stalled = drive(dir, python, daemon.id() as i32).err();
    let ended = util::terminate(&mut daemon, WAIT).is_some();
    assert!(ended, "{}: supervisord did not exit", dir.path.display());
    Run {
        recording: dir.read("events.txt"),
        ticks: dir.read("ticks.txt"),
        groups: dir.read("groups.txt"),
        stalled,
    }
}

/// The scenario's steps, each waiting (bounded) for the events it causes; Err names the step
/// whose events never came.
fn drive(dir: &TempDir, python: &Path, pid: i32) -> Result<(), String> {
    let sock = dir.join("s.sock");
    let settle_in = |file: &str, what: &str, needles: &[&str]| {
        let seen = wait_for(WAIT, || {
            let events = dir.read(file);
            needles.iter().all(|n| events.contains(n))
        });
        if seen {
            Ok(())
        } else {
            Err(format!("{what}: no event with one of {needles:?}"))
        }
    };
    let settle = |what: &str, needles: &[&str]| settle_in("events.txt", what, needles);

    for (n, needle) in TALKER_STEPS.iter().enumerate() {
        settle("talker", &[needle])?;
        dir.write(&format!("go{n}"), "");
    }
    for (n, needle) in ECHO_STEPS.iter().enumerate() {
        settle("echo", &[needle])?;
        dir.write(&format!("goe{n}"), "");
    }
    settle(
        "start-up",
        &[
            "processname:stay groupname:stay from_state:STARTING",
            "processname:exitok groupname:exitok from_state:RUNNING",
            "processname:exitbad groupname:exitbad from_state:RUNNING",
            "processname:missing groupname:missing from_state:BACKOFF",
            "processname:crashy groupname:crashy from_state:BACKOFF",
            "processname:flaky groupname:flaky from_state:EXITED",
        ],
    )?;
    // Starting a program whose command does not exist is refused (NO_FILE) before any state
    // change: no event.
    assert!(rpc_reply(&sock, "supervisor.startProcess", &["missing"]).contains("<fault>"));
    rpc(&sock, "supervisor.stopProcess", &["stay"]);
    settle(
        "stop",
        &["processname:stay groupname:stay from_state:STOPPING"],
    )?;
    rpc(&sock, "supervisor.startProcess", &["stay"]);
    settle(
        "start",
        &["processname:stay groupname:stay from_state:STOPPED"],
    )?;
    rpc(
        &sock,
        "supervisor.sendRemoteCommEvent",
        &["failme", "rejected once"],
    );
    rpc(
        &sock,
        "supervisor.sendRemoteCommEvent",
        &["note", "h\u{e9}llo <w\u{f6}rld> & \u{1f600}\nsecond line"],
    );
    settle("remote", &["type:note"])?;
    config(dir, python, Phase::Extra);
    rpc(&sock, "supervisor.reloadConfig", &[]);
    rpc(&sock, "supervisor.addProcessGroup", &["extra"]);
    settle(
        "add",
        &["processname:extra groupname:extra from_state:STARTING"],
    )?;
    rpc(&sock, "supervisor.stopProcess", &["extra:extra"]);
    rpc(&sock, "supervisor.removeProcessGroup", &["extra"]);
    settle("remove", &["eventname:PROCESS_GROUP_REMOVED"])?;
    settle_in("groups.txt", "small", &["eventname:PROCESS_GROUP_REMOVED"])?;
    // Restart (SIGHUP) with a smaller config: pools are recreated (pool serials from 0 again),
    // the global serial goes on.
    config(dir, python, Phase::Restart);
    util::unsafe_kill(pid, 1);
    let restarted = wait_for(WAIT, || {
        dir.read("events.txt")
            .matches("processname:stay groupname:stay from_state:STARTING")
            .count()
            >= 3
    });
    if !restarted {
        return Err("restart: no third RUNNING of stay".to_string());
    }
    settle_in("ticks.txt", "tick", &["eventname:TICK_5"])
}

/// One recorded event: header fields in order and the payload.
#[derive(Debug, Clone, PartialEq)]
struct Record {
    fields: Vec<(String, String)>,
    payload: String,
}

impl Record {
    fn field(&self, key: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// The process an event is about (its per-process stream), or "" for daemon-wide events.
    fn stream(&self) -> String {
        self.payload
            .strip_prefix("processname:")
            .and_then(|rest| rest.split([' ', '\n']).next())
            .unwrap_or("")
            .to_string()
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn parse(recording: &str) -> Vec<Record> {
    recording
        .lines()
        .map(|line| {
            let (header, payload) = line.split_once("||").unwrap_or((line, ""));
            let header = unescape(header);
            let fields = header
                .split_whitespace()
                .map(|t| {
                    let (k, v) = t.split_once(':').unwrap_or((t, ""));
                    (k.to_string(), v.to_string())
                })
                .collect();
            Record {
                fields,
                payload: unescape(payload),
            }
        })
        .collect()
}

/// Facts each run must satisfy on its own: `len` counts the payload's characters, the global
/// serial only grows (a rejected event comes back with its serial), pool serials count up by one
/// from `first_pool_serial` (None: from wherever the recording starts), again after a restart
/// (a pool serial not above the one before, other than a redelivery) recreated the pool.
fn self_check(records: &[Record], first_pool_serial: Option<u64>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut last_serial: Option<u64> = None;
    let mut next_pool_serial = 0;
    for (i, r) in records.iter().enumerate() {
        let restarted = match (i, records.get(i.wrapping_sub(1))) {
            (0, _) => true,
            (_, Some(before)) => {
                before != r
                    && r.field("poolserial").parse::<u64>().unwrap_or(0)
                        <= before.field("poolserial").parse::<u64>().unwrap_or(0)
            }
            _ => false,
        };
        if restarted {
            next_pool_serial =
                first_pool_serial.unwrap_or_else(|| r.field("poolserial").parse().unwrap_or(0));
        }
        let chars = r.payload.chars().count().to_string();
        if r.field("len") != chars {
            problems.push(format!(
                "#{i} {}: len:{} but the payload has {chars} characters",
                r.field("eventname"),
                r.field("len")
            ));
        }
        let serial: u64 = r.field("serial").parse().unwrap_or(u64::MAX);
        let pool_serial: u64 = r.field("poolserial").parse().unwrap_or(u64::MAX);
        let redelivery = i > 0 && records[i - 1] == *r;
        if !redelivery {
            if last_serial.is_some_and(|s| serial <= s) {
                problems.push(format!("#{i}: serial {serial} after {last_serial:?}"));
            }
            if pool_serial != next_pool_serial {
                problems.push(format!(
                    "#{i}: poolserial {pool_serial}, expected {next_pool_serial}"
                ));
            }
            next_pool_serial = pool_serial.wrapping_add(1);
        }
        last_serial = Some(serial);
    }
    problems
}

/// Replaces `pid:<digits>` by `pid:PID`.
fn mask_pids(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(pos) = rest.find("pid:") {
        out.push_str(&rest[..pos + 4]);
        rest = &rest[pos + 4..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push_str("PID");
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// The record as compared: serials masked (checked by `self_check`), pids masked, `len`
/// recomputed for the masked payload.
fn normalized(r: &Record) -> String {
    normalized_keeping_pool_serial(r, false)
}

/// `normalized`, optionally with the pool serial as it was (when it does not depend on timing).
fn normalized_keeping_pool_serial(r: &Record, keep_pool_serial: bool) -> String {
    let payload = mask_pids(&r.payload);
    let header: Vec<String> = r
        .fields
        .iter()
        .map(|(k, v)| match k.as_str() {
            "poolserial" if keep_pool_serial => format!("{k}:{v}"),
            "serial" | "poolserial" => format!("{k}:N"),
            "len" => format!("len:{}", payload.chars().count()),
            _ => format!("{k}:{v}"),
        })
        .collect();
    format!("{} || {}", header.join(" "), payload.escape_debug())
}

type Streams = std::collections::BTreeMap<String, Vec<String>>;

/// Events grouped by process (daemon-wide events under ""), in delivery order: the order within
/// a process is fixed, between independent processes it is not. Returns the live streams and the
/// shutdown tails: what came after a SUPERVISOR_STATE_CHANGE_STOPPING until the pool was
/// recreated (restart) or the end. The reference stops the listener as soon as the group before
/// it is stopped, often in the same loop pass, so it may lose the last of those events (ours
/// lets the pool drain); only its tails must be prefixes of ours.
fn streams(records: &[Record]) -> (Streams, Streams) {
    let mut live = Streams::new();
    let mut tails = Streams::new();
    let mut generation = 0;
    let mut stopping = false;
    // From a (re)start to SUPERVISOR_STATE_CHANGE_RUNNING only daemon-wide events reach the
    // pool, so their pool serials are fixed (0 for the first after a restart).
    let mut starting = true;
    let pool_serial = |r: &Record| r.field("poolserial").parse::<u64>().unwrap_or(0);
    for (i, r) in records.iter().enumerate() {
        let name = r.field("eventname");
        let restarted =
            i > 0 && records[i - 1] != *r && pool_serial(r) <= pool_serial(&records[i - 1]);
        if restarted {
            generation += 1;
            stopping = false;
            starting = true;
        }
        let stream = r.stream();
        let keep = starting && stream.is_empty() && !stopping;
        let record = normalized_keeping_pool_serial(r, keep);
        if stopping {
            tails
                .entry(format!("{stream} (shutdown {generation})"))
                .or_default()
                .push(record);
        } else {
            live.entry(stream).or_default().push(record);
        }
        match name {
            "SUPERVISOR_STATE_CHANGE_RUNNING" => starting = false,
            "SUPERVISOR_STATE_CHANGE_STOPPING" => stopping = true,
            _ => {}
        }
    }
    (live, tails)
}

fn diff(ours: &[String], theirs: &[String]) -> String {
    let mut out = String::new();
    let same = ours.iter().zip(theirs).take_while(|(a, b)| a == b).count();
    for line in &theirs[..same] {
        out.push_str(&format!("    {line}\n"));
    }
    for line in &theirs[same..] {
        out.push_str(&format!("  - {line}\n"));
    }
    for line in &ours[same..] {
        out.push_str(&format!("  + {line}\n"));
    }
    out
}

/// Every difference between our recording and the reference's, readable ("-" reference, "+"
/// ours, from the first differing event of a stream on).
fn compare(ours: &str, theirs: &str) -> Vec<String> {
    let (ours, theirs) = (parse(ours), parse(theirs));
    let mut problems = Vec::new();
    for (who, records) in [("ours", &ours), ("reference", &theirs)] {
        for p in self_check(records, Some(0)) {
            problems.push(format!("{who}: {p}"));
        }
    }
    let ((ours, our_tails), (theirs, their_tails)) = (streams(&ours), streams(&theirs));
    // Ours lets the listener drain: every process but the listener itself is seen stopped.
    for (name, events) in &our_tails {
        let count = |what: &str| events.iter().filter(|e| e.contains(what)).count();
        if !name.starts_with("rec ")
            && count("eventname:PROCESS_STATE_STOPPING ")
                != count("eventname:PROCESS_STATE_STOPPED ")
        {
            problems.push(format!(
                "ours: {name}: a STOPPING without STOPPED at shutdown:\n{}",
                events.join("\n")
            ));
        }
    }
    let empty = Vec::new();
    for (ours, theirs, prefix_only) in [(&ours, &theirs, false), (&our_tails, &their_tails, true)] {
        let mut names: Vec<&String> = ours.keys().chain(theirs.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            let a = ours.get(name).unwrap_or(&empty);
            let b = theirs.get(name).unwrap_or(&empty);
            let same = if prefix_only {
                a.starts_with(b)
            } else {
                a == b
            };
            if !same {
                let title = if name.is_empty() { "daemon-wide" } else { name };
                problems.push(format!("stream {title}:\n{}", diff(a, b)));
            }
        }
    }
    problems
}

/// The other two pools: `small` (PROCESS_GROUP, overflowing at start-up) must match exactly
/// with its events carrying the same global serials as in `rec`; `tick` must deliver well-formed
/// TICK_5 events.
fn compare_other_pools(ours: &Run, theirs: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    for (who, run) in [("ours", ours), ("reference", theirs)] {
        let rec = parse(&run.recording);
        let groups = parse(&run.groups);
        let ticks = parse(&run.ticks);
        for p in self_check(&groups, None) {
            problems.push(format!("{who}: pool small: {p}"));
        }
        for p in self_check(&ticks, Some(0)) {
            problems.push(format!("{who}: pool tick: {p}"));
        }
        for g in &groups {
            let same = rec.iter().find(|r| r.field("serial") == g.field("serial"));
            let what = |r: &Record| (r.field("eventname").to_string(), r.payload.clone());
            if same.map(what) != Some(what(g)) {
                problems.push(format!(
                    "{who}: serial {}: pool small got {:?}, pool rec {:?}",
                    g.field("serial"),
                    what(g),
                    same.map(what)
                ));
            }
        }
        for t in &ticks {
            let when = t
                .payload
                .strip_prefix("when:")
                .and_then(|w| w.parse::<u64>().ok());
            if t.field("eventname") != "TICK_5" || when.is_none_or(|w| w % 5 != 0) {
                problems.push(format!("{who}: pool tick: bad tick {t:?}"));
            }
        }
    }
    let first_pool_serial = |run: &Run| {
        parse(&run.groups)
            .first()
            .map(|r| r.field("poolserial").to_string())
    };
    if first_pool_serial(ours) != first_pool_serial(theirs) {
        problems.push(format!(
            "pool small: first pool serial {:?}, the reference's {:?} (start-up overflow)",
            first_pool_serial(ours),
            first_pool_serial(theirs)
        ));
    }
    let normalized_all = |text: &str| parse(text).iter().map(normalized).collect::<Vec<_>>();
    let (a, b) = (normalized_all(&ours.groups), normalized_all(&theirs.groups));
    if a != b {
        problems.push(format!("pool small:\n{}", diff(&a, &b)));
    }
    let first_tick = |text: &str| {
        parse(text).first().map(|r| {
            let mut r = r.clone();
            r.payload = "when:T".to_string();
            normalized(&r)
        })
    };
    if first_tick(&ours.ticks) != first_tick(&theirs.ticks) {
        problems.push(format!(
            "pool tick: first tick {:?}, the reference's {:?}",
            first_tick(&ours.ticks),
            first_tick(&theirs.ticks)
        ));
    }
    problems
}

#[test]
fn events_match_the_reference() {
    let Some((ours, theirs)) = util::side_by_side("events_match_the_reference", |imp| {
        let dir = TempDir::new(&imp.tag("ev"));
        run_scenario(&imp.supervisord(&dir), &imp.python(), &dir)
    }) else {
        return;
    };
    assert!(
        theirs.stalled.is_none(),
        "the reference stalled: {:?}\n{}",
        theirs.stalled,
        theirs.recording
    );
    let mut problems = compare(&ours.recording, &theirs.recording);
    problems.extend(compare_other_pools(&ours, &theirs));
    problems.extend(
        ours.stalled
            .as_ref()
            .map(|s| format!("ours stalled at {s}")),
    );
    let raw = |run: &Run| {
        format!(
            "{}pool small:\n{}pool tick:\n{}",
            run.recording, run.groups, run.ticks
        )
    };
    assert!(
        problems.is_empty(),
        "events differ from the reference (- reference, + ours):\n{}\nours raw:\n{}\nreference raw:\n{}",
        problems.join("\n"),
        raw(&ours),
        raw(&theirs)
    );
}

#[test]
fn the_comparison_catches_a_changed_field() {
    let recording = "ver:3.0 server:supervisor serial:0 pool:rec poolserial:0 eventname:PROCESS_STATE_RUNNING len:58\\n||processname:stay groupname:stay from_state:STARTING pid:42\n";
    assert!(compare(recording, recording).is_empty());
    let other_pid = recording
        .replace("pid:42", "pid:4242")
        .replace("len:58", "len:60");
    assert!(compare(recording, &other_pid).is_empty(), "pids are masked");
    let wrong_len = recording.replace("len:58", "len:59");
    assert_eq!(compare(&wrong_len, recording).len(), 1);
    let wrong_state = recording
        .replace("STARTING", "BACKOFF")
        .replace("len:58", "len:57");
    assert_eq!(compare(&wrong_state, recording).len(), 1);
    let wrong_serial = recording.replace("poolserial:0", "poolserial:1");
    assert_eq!(compare(&wrong_serial, recording).len(), 1);
}
