//! Misbehaving event listeners, side by side with the reference: one that dies, is killed or
//! is stopped while BUSY, one that answers garbage or talks out of turn, a rejection into a full
//! buffer, READY before RUNNING, a pool of three, a member with a closed stdin, and (ours only)
//! one that never reads its stdin. Each scenario runs under both daemons; what the listeners
//! record and what the main log says about the protocol are compared.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use crate::util::{self, RPC_INTERFACE, TempDir, WAIT, wait_for};

/// One listener process. It records every event as `<process> <pid> <serial> <poolserial>
/// <payload>` in `events.txt` and acts on the REMOTE_COMMUNICATION type, the first time an event
/// (by serial) is seen by any process of its pool: `die` exits without answering, `hang`
/// never answers, `answerdie` answers OK and exits, `failwhengo` answers FAIL once the file
/// `go` exists, `garbage` answers a line that is not a result, `fail` answers FAIL, `chatter`
/// answers OK and READY and then more output; `hold` answers OK once the file `go` exists; anything
/// else OK at once; `<type>@<pool>` acts so in that pool only (OK elsewhere). Mode `badready` greets with a line that is not READY; mode `deaf` never
/// reads stdin and answers each time more bytes wait in its stdin pipe (FIONREAD), so the pipe
/// fills up; mode `closed0` closes its stdin and says READY.
const LISTENER: &str = r#"import fcntl, os, struct, sys, termios, time
d = sys.argv[1]
mode = sys.argv[2] if len(sys.argv) > 2 else ""
name = os.environ.get("SUPERVISOR_PROCESS_NAME", "?")
with open(os.path.join(d, "pids.txt"), "a") as f:
    f.write("%d\n" % os.getpid())
def say(s):
    sys.stdout.write(s); sys.stdout.flush()
def first(tag):
    try:
        os.close(os.open(os.path.join(d, "seen-" + tag), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False
if mode == "badready":
    say("HELLO!\n")
    time.sleep(1000)
if mode == "closed0":
    os.close(0)
    say("READY\n")
    time.sleep(1000)
if mode == "deaf":
    last = 0
    while True:
        say("READY\n")
        while True:
            n = struct.unpack("i", fcntl.ioctl(0, termios.FIONREAD, b"\0\0\0\0"))[0]
            if n > last:
                break
            time.sleep(0.005)
        last = n
        with open(os.path.join(d, "deaf.txt"), "a") as f:
            f.write("%d\n" % n)
        say("RESULT 2\nOK")
out = open(os.path.join(d, "events.txt"), "a", encoding="utf-8", newline="")
inp = open(0, "r", encoding="utf-8", newline="")
say("READY\n")
while True:
    header = inp.readline()
    if not header:
        break
    f = dict(t.split(":", 1) for t in header.split())
    payload = inp.read(int(f["len"]))
    kind, _, only = payload.split("\n", 1)[0][5:].partition("@")
    if only and only != f["pool"]:
        kind = "ok"
    out.write("%s %d %s %s %s\n" % (name, os.getpid(), f["serial"], f["poolserial"],
                                    payload.replace("\n", "|")))
    out.flush()
    tag = "%s-%s-%s" % (f["pool"], kind, f["serial"])
    if kind == "die" and first(tag):
        os._exit(3)
    if kind == "answerdie" and first(tag):
        say("RESULT 2\nOK")
        os._exit(3)
    if kind == "hang" and first(tag):
        time.sleep(1000)
    if kind == "garbage" and first(tag):
        say("this is no result\n")
        continue
    if kind == "failwhengo" and first(tag):
        while not os.path.exists(os.path.join(d, "go")):
            time.sleep(0.01)
        say("RESULT 4\nFAILREADY\n")
        continue
    if kind == "fail" and first(tag):
        say("RESULT 4\nFAILREADY\n")
        continue
    if kind == "chatter" and first(tag):
        say("RESULT 2\nOKREADY\nchatter while ready\n")
        continue
    if kind == "hold":
        while not os.path.exists(os.path.join(d, "go")):
            time.sleep(0.01)
    say("RESULT 2\nOKREADY\n")
"#;

/// One daemon running a scenario.
struct Side {
    dir: TempDir,
    child: Child,
    sock: PathBuf,
}

impl Side {
    fn start(supervisord: &Path, dir: TempDir, python: &Path, programs: &str) -> Side {
        dir.write("listener.py", LISTENER);
        let conf = format!(
            "[unix_http_server]\nfile=%(here)s/s.sock\n\n\
             [supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\n\
             childlogdir=%(here)s\nloglevel=debug\n\n\
             {RPC_INTERFACE}{}",
            programs.replace("PYTHON", &python.display().to_string())
        );
        let conf = dir.write("s.conf", &conf);
        let child = util::spawn_foreground(supervisord, &dir, &conf);
        let sock = dir.join("s.sock");
        Side { dir, child, sock }
    }

    fn rpc(&self, method: &str, params: &[&str]) -> String {
        let reply = util::rpc_call(&self.sock, method, params, WAIT);
        assert!(
            !reply.contains("<fault>"),
            "{}: {method}{params:?}: {reply}",
            self.dir.path.display()
        );
        reply
    }

    fn send(&self, kind: &str, data: &str) {
        self.rpc("supervisor.sendRemoteCommEvent", &[kind, data]);
    }

    fn recording(&self) -> Vec<Recorded> {
        self.dir
            .read("events.txt")
            .lines()
            .filter_map(Recorded::parse)
            .collect()
    }

    /// How many deliveries of the event with this data were recorded.
    fn deliveries(&self, data: &str) -> usize {
        self.recording().iter().filter(|r| r.data() == data).count()
    }

    fn await_deliveries(&self, data: &str, count: usize) -> Result<(), String> {
        if wait_for(WAIT, || self.deliveries(data) >= count) {
            Ok(())
        } else {
            Err(format!(
                "{data}: {} deliveries, waited for {count}",
                self.deliveries(data)
            ))
        }
    }

    /// The main log's messages (timestamp and level stripped, continuation lines dropped).
    fn log(&self) -> Vec<String> {
        self.dir
            .read("s.log")
            .lines()
            .filter_map(|l| {
                let mut parts = l.splitn(4, ' ');
                let (_, _, level, msg) =
                    (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
                ["CRIT", "ERRO", "WARN", "INFO", "DEBG", "TRAC", "BLAT"]
                    .contains(&level)
                    .then(|| format!("{level} {msg}"))
            })
            .collect()
    }

    fn await_log(&self, needle: &str, count: usize) -> Result<(), String> {
        let seen = || self.log().iter().filter(|l| l.contains(needle)).count();
        if wait_for(WAIT, || seen() >= count) {
            Ok(())
        } else {
            Err(format!("log: {} x {needle:?}, waited for {count}", seen()))
        }
    }

    fn state_of(&self, name: &str) -> String {
        let reply = self.rpc("supervisor.getProcessInfo", &[name]);
        let tail = reply.split("<name>statename</name>").nth(1).unwrap_or("");
        tail.split("<string>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap_or("")
            .to_string()
    }

    /// Stops the daemon (SIGTERM, bounded); whether it was still running until then.
    fn stop(mut self) -> (TempDir, bool) {
        let alive = matches!(self.child.try_wait(), Ok(None));
        let ended = util::terminate(&mut self.child, WAIT).is_some();
        // A daemon that crashed leaves its listeners behind (the reference does, see
        // docs/differences.md): end the ones this scenario started.
        for pid in self.dir.read("pids.txt").lines() {
            if let Ok(pid) = pid.parse::<i32>()
                && util::pid_alive(pid)
            {
                util::unsafe_kill(pid, 9);
            }
        }
        assert!(
            ended,
            "{}: supervisord did not exit",
            self.dir.path.display()
        );
        (self.dir, alive)
    }
}

/// One recorded delivery.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Recorded {
    process: String,
    pid: u32,
    serial: u64,
    pool_serial: u64,
    payload: String,
}

impl Recorded {
    fn parse(line: &str) -> Option<Recorded> {
        let mut parts = line.splitn(5, ' ');
        Some(Recorded {
            process: parts.next()?.to_string(),
            pid: parts.next()?.parse().ok()?,
            serial: parts.next()?.parse().ok()?,
            pool_serial: parts.next()?.parse().ok()?,
            payload: parts.next()?.to_string(),
        })
    }

    /// The REMOTE_COMMUNICATION data (after `type:<kind>|`).
    fn data(&self) -> &str {
        self.payload.split_once('|').map(|(_, d)| d).unwrap_or("")
    }

    /// As compared: pid replaced by which instance of the process this is (0, 1, ...).
    fn shown(&self, instance: usize) -> String {
        format!(
            "{}#{instance} serial:{} poolserial:{} {}",
            self.process, self.serial, self.pool_serial, self.payload
        )
    }
}

/// The recording with pids replaced by instance numbers per process name, by serial (which pool
/// takes an event first is timing; a process's own deliveries keep their order).
fn instances(recording: &[Recorded]) -> Vec<String> {
    let mut recording = recording.to_vec();
    recording.sort_by(|a, b| (a.serial, &a.process).cmp(&(b.serial, &b.process)));
    let mut seen: Vec<(String, u32)> = Vec::new();
    recording
        .iter()
        .map(|r| {
            if !seen.iter().any(|(n, p)| *n == r.process && *p == r.pid) {
                seen.push((r.process.clone(), r.pid));
            }
            let instance = seen
                .iter()
                .filter(|(n, _)| *n == r.process)
                .position(|(_, p)| *p == r.pid)
                .unwrap_or(0);
            r.shown(instance)
        })
        .collect()
}

/// Log messages about the event protocol of one pool (what the comparison looks at); its
/// processes' names start with `pool`.
fn protocol_log(log: &[String], pool: &str) -> Vec<String> {
    log.iter()
        .filter(|l| {
            let msg = l.split_once(' ').map(|(_, m)| m).unwrap_or("");
            let process = |prefix: &str| {
                msg.strip_prefix(prefix)
                    .and_then(|rest| rest.split([' ', ':']).next())
                    .is_some_and(|name| name.starts_with(pool))
            };
            msg.starts_with("rebuffering event ") && msg.contains(&format!(" for pool {pool} "))
                || msg.starts_with(&format!("pool {pool} event buffer overflowed"))
                || msg.starts_with("event ") && msg.contains(&format!(" sent to listener {pool}"))
                || msg.starts_with("epipe occurred ")
                    && msg.contains(&format!(" to listener {pool}"))
                || process("")
                || process("exited: ")
                || process("stopped: ")
        })
        .cloned()
        .collect()
}

/// What a scenario saw: named observations, compared line by line between the two daemons.
type Observed = Vec<(String, Vec<String>)>;

/// Runs `scenario` under ours and under the reference (`util::side_by_side`): both results.
fn side_by_side(
    test: &str,
    programs: &str,
    scenario: fn(&Side) -> Result<Observed, String>,
) -> Option<(Result<Observed, String>, Result<Observed, String>)> {
    util::side_by_side(test, |imp| {
        let dir = TempDir::new(&imp.tag("ls"));
        let side = Side::start(&imp.supervisord(&dir), dir, &imp.python(), programs);
        let result = scenario(&side);
        let (_dir, alive) = side.stop();
        result.and_then(|r| alive.then_some(r).ok_or("the daemon died".to_string()))
    })
}

/// Panics with every difference between the two observations.
fn assert_same(ours: Result<Observed, String>, theirs: Result<Observed, String>) {
    let theirs = theirs.unwrap_or_else(|e| panic!("the reference: {e}"));
    let ours = ours.unwrap_or_else(|e| panic!("ours: {e}\nthe reference saw: {theirs:#?}"));
    let mut problems = Vec::new();
    for ((what, a), (_, b)) in ours.iter().zip(&theirs) {
        if a != b {
            problems.push(format!(
                "{what}:\n  reference:\n    {}\n  ours:\n    {}",
                b.join("\n    "),
                a.join("\n    ")
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "differs from the reference:\n{}",
        problems.join("\n")
    );
}

const CRASHY: &str = "[eventlistener:crash]
command=PYTHON -u %(here)s/listener.py %(here)s
events=REMOTE_COMMUNICATION
startsecs=0
";

/// A listener that exits, is killed, or is stopped while BUSY: its event goes back to the head
/// of the pool's buffer and the next instance gets it again, same serials. One that answers
/// and then exits has its answer counted.
fn busy_death(side: &Side) -> Result<Observed, String> {
    side.await_log("crash: ACKNOWLEDGED -> READY", 1)?;
    side.send("ok", "first");
    side.await_deliveries("first", 1)?;
    side.send("die", "dies");
    side.await_deliveries("dies", 2)?;
    side.await_log("crash: ACKNOWLEDGED -> READY", 2)?;
    side.send("hang", "killed");
    side.await_deliveries("killed", 1)?;
    side.rpc("supervisor.signalProcess", &["crash", "KILL"]);
    side.await_deliveries("killed", 2)?;
    side.await_log("crash: ACKNOWLEDGED -> READY", 3)?;
    side.send("hang", "stopped");
    side.await_deliveries("stopped", 1)?;
    side.rpc("supervisor.stopProcess", &["crash"]);
    side.send("ok", "while stopped");
    side.await_log("rebuffering event 3 ", 1)?;
    side.rpc("supervisor.startProcess", &["crash"]);
    side.await_deliveries("stopped", 2)?;
    side.await_deliveries("while stopped", 1)?;
    side.await_log("crash: ACKNOWLEDGED -> READY", 9)?;
    // An answer written just before the exit counts: no redelivery.
    side.send("answerdie", "answered");
    side.await_log("crash: ACKNOWLEDGED -> READY", 10)?;
    side.send("ok", "last");
    side.await_deliveries("last", 1)?;
    side.await_log("crash: ACKNOWLEDGED -> READY", 11)?;
    Ok(vec![
        ("recording".into(), instances(&side.recording())),
        ("log".into(), protocol_log(&side.log(), "crash")),
    ])
}

#[test]
fn a_listener_dying_while_busy_gets_its_event_again() {
    if let Some((ours, theirs)) = side_by_side("listener busy death", CRASHY, busy_death) {
        assert_same(ours, theirs);
    }
}

const GARBAGE: &str = "[eventlistener:bad]
command=PYTHON -u %(here)s/listener.py %(here)s
events=REMOTE_COMMUNICATION
buffer_size=3
startsecs=0

[eventlistener:mute]
command=PYTHON -u %(here)s/listener.py %(here)s badready
events=REMOTE_COMMUNICATION
buffer_size=2
startsecs=0
priority=5

[eventlistener:chatty]
command=PYTHON -u %(here)s/listener.py %(here)s
events=REMOTE_COMMUNICATION
startsecs=0
priority=7
";

/// A listener that answers garbage enters UNKNOWN: it keeps running, its event goes back to the
/// buffer, nothing more is sent to it; the buffer overflows; a restarted instance gets what is
/// left. A listener that greets with something else than READY never gets anything; one that
/// writes after its READY is UNKNOWN too (its answered event is done).
fn garbage(side: &Side) -> Result<Observed, String> {
    side.await_log("bad: ACKNOWLEDGED -> READY", 1)?;
    side.await_log("chatty: ACKNOWLEDGED -> READY", 1)?;
    side.await_log("mute: has entered the UNKNOWN state", 1)?;
    side.send("chatter@chatty", "g1");
    side.await_deliveries("g1", 2)?;
    side.await_log("chatty: has entered the UNKNOWN state", 1)?;
    side.send("garbage@bad", "g2");
    side.await_log("bad: has entered the UNKNOWN state", 1)?;
    for data in ["g3", "g4", "g5", "g6"] {
        side.send("ok", data);
    }
    side.await_log("pool bad event buffer overflowed, discarding event 2", 1)?;
    let state_while_unknown = side.state_of("bad");
    side.rpc("supervisor.stopProcess", &["bad"]);
    side.rpc("supervisor.startProcess", &["bad"]);
    side.await_deliveries("g6", 1)?;
    side.await_log("bad: ACKNOWLEDGED -> READY", 6)?;
    Ok(vec![
        ("state while UNKNOWN".into(), vec![state_while_unknown]),
        ("recording".into(), instances(&side.recording())),
        ("log bad".into(), protocol_log(&side.log(), "bad")),
        ("log mute".into(), protocol_log(&side.log(), "mute")),
        ("log chatty".into(), protocol_log(&side.log(), "chatty")),
    ])
}

#[test]
fn a_listener_answering_garbage_is_unknown_until_restarted() {
    if let Some((ours, theirs)) = side_by_side("listener garbage", GARBAGE, garbage) {
        assert_same(ours, theirs);
    }
}

const FULL: &str = "[eventlistener:full]
command=PYTHON -u %(here)s/listener.py %(here)s
events=REMOTE_COMMUNICATION
buffer_size=2
startsecs=0
";

/// An event rejected while the buffer is full goes back to the head all the same; the oldest
/// queued event is discarded for it.
fn rejected_into_full_buffer(side: &Side) -> Result<Observed, String> {
    side.await_log("full: ACKNOWLEDGED -> READY", 1)?;
    side.send("failwhengo", "f");
    side.await_deliveries("f", 1)?;
    for data in ["q1", "q2", "q3"] {
        side.send("ok", data);
    }
    side.await_log("discarding event 1", 1)?;
    side.dir.write("go", "");
    side.await_deliveries("f", 2)?;
    side.await_deliveries("q3", 1)?;
    side.await_log("full: ACKNOWLEDGED -> READY", 4)?;
    Ok(vec![
        ("recording".into(), instances(&side.recording())),
        ("log".into(), protocol_log(&side.log(), "full")),
    ])
}

#[test]
fn a_rejected_event_goes_back_into_a_full_buffer() {
    if let Some((ours, theirs)) = side_by_side("listener full", FULL, rejected_into_full_buffer) {
        assert_same(ours, theirs);
    }
}

const SLOW_START: &str = "[eventlistener:late]
command=PYTHON -u %(here)s/listener.py %(here)s
events=REMOTE_COMMUNICATION
startsecs=1
";

/// A listener that says READY while still STARTING gets nothing until it is RUNNING.
fn ready_before_running(side: &Side) -> Result<Observed, String> {
    side.await_log("late: ACKNOWLEDGED -> READY", 1)?;
    let state_when_ready = side.state_of("late");
    side.send("ok", "early");
    side.await_deliveries("early", 1)?;
    side.await_log("late: ACKNOWLEDGED -> READY", 2)?;
    let log: Vec<String> = side
        .log()
        .into_iter()
        .filter(|l| {
            l.contains("success: late ") || protocol_log(std::slice::from_ref(l), "late").len() == 1
        })
        .collect();
    Ok(vec![
        ("state when READY".into(), vec![state_when_ready]),
        ("log".into(), log),
    ])
}

#[test]
fn a_listener_gets_events_only_once_running() {
    if let Some((ours, theirs)) = side_by_side("listener late", SLOW_START, ready_before_running) {
        assert_same(ours, theirs);
    }
}

const TRIO: &str = "[eventlistener:trio]
command=PYTHON -u %(here)s/listener.py %(here)s
process_name=%(program_name)s_%(process_num)d
numprocs=3
events=REMOTE_COMMUNICATION
startsecs=0
";

/// A pool of three: events go to whichever members are READY (three held events keep all three
/// busy); a rejected event, or the event of a member that died, comes back with its
/// serials and is delivered again.
fn pool_of_three(side: &Side) -> Result<Observed, String> {
    for n in 0..3 {
        side.await_log(&format!("trio_{n}: ACKNOWLEDGED -> READY"), 1)?;
    }
    for data in ["s1", "s2", "s3"] {
        side.send("hold", data);
    }
    for data in ["s1", "s2", "s3"] {
        side.await_deliveries(data, 1)?;
    }
    side.dir.write("go", "");
    let mut members: Vec<String> = side.recording().into_iter().map(|r| r.process).collect();
    members.sort();
    side.send("fail", "f1");
    side.send("ok", "o1");
    side.send("ok", "o2");
    side.await_deliveries("f1", 2)?;
    side.await_deliveries("o1", 1)?;
    side.await_deliveries("o2", 1)?;
    side.await_log("event was rejected", 1)?;
    side.send("die", "d1");
    side.await_deliveries("d1", 2)?;
    let mut deliveries: Vec<String> = side
        .recording()
        .iter()
        .map(|r| {
            format!(
                "serial:{} poolserial:{} {}",
                r.serial, r.pool_serial, r.payload
            )
        })
        .collect();
    deliveries.sort();
    let rejected: Vec<String> = side
        .log()
        .into_iter()
        .filter(|l| l.contains("event was rejected"))
        .map(|l| l.replace(|c: char| c.is_ascii_digit(), "N"))
        .collect();
    Ok(vec![
        ("members that took the held events".into(), members),
        ("deliveries (sorted)".into(), deliveries),
        ("rejections".into(), rejected),
    ])
}

#[test]
fn a_pool_of_three_shares_events_and_redelivers_a_rejected_one() {
    if let Some((ours, theirs)) = side_by_side("listener pool", TRIO, pool_of_three) {
        assert_same(ours, theirs);
    }
}

const PAIR: &str = "[eventlistener:pair]
command=PYTHON -u %(here)s/listener.py %(here)s closed%(process_num)d
process_name=%(program_name)s_%(process_num)d
numprocs=2
events=REMOTE_COMMUNICATION
startsecs=0
";

/// A pool member (`pair_0`, the first one asked) that closed its stdin stays READY; every event
/// meets EPIPE there and goes to the next member.
fn closed_stdin(side: &Side) -> Result<Observed, String> {
    side.await_log("pair_0: ACKNOWLEDGED -> READY", 1)?;
    side.await_log("pair_1: ACKNOWLEDGED -> READY", 1)?;
    for data in ["p1", "p2", "p3"] {
        side.send("ok", data);
        side.await_deliveries(data, 1)?;
    }
    side.await_log("pair_1: ACKNOWLEDGED -> READY", 4)?;
    // Which member said READY first at start-up is timing.
    let log: Vec<String> = protocol_log(&side.log(), "pair")
        .into_iter()
        .skip_while(|l| !l.contains("epipe occurred"))
        .collect();
    Ok(vec![
        ("recording".into(), instances(&side.recording())),
        ("log".into(), log),
    ])
}

#[test]
fn a_pool_member_with_closed_stdin_is_skipped() {
    if let Some((ours, theirs)) = side_by_side("listener closed stdin", PAIR, closed_stdin) {
        assert_same(ours, theirs);
    }
}

const DEAF: &str = "[eventlistener:deaf]
command=PYTHON -u %(here)s/listener.py %(here)s deaf
events=REMOTE_COMMUNICATION
buffer_size=4
startsecs=0

[program:stay]
command=sleep 1000
startsecs=0
";

/// Events of about 4 KB for a listener that answers without reading: its stdin pipe fills after
/// about a dozen; ours then sends it nothing more and the next events wait in the pool's buffer
/// of 4, which overflows. The daemon keeps serving RPC and other programs throughout. (The
/// reference crashes with BlockingIOError at the first envelope that does not fit, leaving its
/// children behind: docs/differences.md.)
fn deaf(side: &Side) -> Result<DeafRun, String> {
    side.await_log("deaf: ACKNOWLEDGED -> READY", 1)?;
    let answers = || side.dir.read("deaf.txt").lines().count();
    let big = "x".repeat(4000);
    let mut pipe_full = false;
    for n in 0..30 {
        let data = format!("{n:02}{big}");
        let reply = util::try_rpc_call(
            &side.sock,
            "supervisor.sendRemoteCommEvent",
            &["big", &data],
            WAIT,
        );
        if !reply.is_some_and(|r| r.contains("<boolean>1</boolean>")) {
            return Err(format!("sendRemoteCommEvent #{n} got no reply"));
        }
        // Until the pipe is full the listener answers each event; wait for it so that the
        // buffer only overflows once nothing is taken any more.
        if !pipe_full && !wait_for(Duration::from_secs(2), || answers() > n) {
            pipe_full = true;
        }
    }
    if !pipe_full {
        return Err(format!("the pipe never filled ({} answers)", answers()));
    }
    let answered = answers();
    side.await_log("pool deaf event buffer overflowed, discarding event 25", 1)?;
    let state = util::try_rpc_call(&side.sock, "supervisor.getState", &[], WAIT)
        .ok_or("getState got no reply")?;
    if !state.contains("RUNNING") {
        return Err(format!("getState: {state}"));
    }
    side.rpc("supervisor.stopProcess", &["stay"]);
    side.rpc("supervisor.startProcess", &["stay"]);
    for name in ["deaf", "stay"] {
        if side.state_of(name) != "RUNNING" {
            return Err(format!("{name}: {}", side.state_of(name)));
        }
    }
    let overflows: Vec<String> = side
        .log()
        .into_iter()
        .filter(|l| l.contains("event buffer overflowed"))
        .collect();
    let sent = side
        .log()
        .iter()
        .filter(|l| l.contains(" sent to listener deaf"))
        .count();
    let waiting: usize = side
        .dir
        .read("deaf.txt")
        .lines()
        .last()
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    Ok(DeafRun {
        answered,
        sent,
        waiting,
        overflows,
    })
}

/// What the deaf scenario saw.
struct DeafRun {
    /// Events the listener answered (each time more bytes were waiting in its pipe).
    answered: usize,
    /// Envelopes the daemon wrote (or queued) for it (`event N sent to listener deaf`).
    sent: usize,
    /// Bytes waiting in its stdin pipe at the last answer.
    waiting: usize,
    overflows: Vec<String>,
}

/// The length of the envelope of big event `serial` (serial and pool serial are equal).
fn big_envelope_len(serial: usize) -> usize {
    format!(
        "ver:3.0 server:supervisor serial:{serial} pool:deaf poolserial:{serial} eventname:REMOTE_COMMUNICATION len:4011\n"
    )
    .len()
        + 4011
}

#[test]
fn a_listener_that_never_reads_blocks_nothing() {
    let Some(refbin) = util::require_reference("listener deaf (its python)") else {
        return;
    };
    let dir = TempDir::new("lsdeaf");
    let exe = dir.applet("supervisord");
    let side = Side::start(&exe, dir, &refbin.join("python"), DEAF);
    let result = deaf(&side);
    let (_dir, alive) = side.stop();
    let run = result.unwrap();
    assert!(alive, "the daemon died");
    // Either the last answered envelope was only partly written (the rest waits in our memory;
    // nothing more is sent until it is out) or it filled the pipe exactly, and the next one was
    // sent without a byte fitting (the listener never answers it).
    let written: usize = (0..run.answered).map(big_envelope_len).sum();
    let partial = run.waiting < written;
    let first_in_pool = if partial {
        run.answered
    } else {
        run.answered + 1
    };
    let discarded: Vec<String> = (first_in_pool..=25)
        .map(|s| format!("ERRO pool deaf event buffer overflowed, discarding event {s}"))
        .collect();
    assert_eq!(
        (run.sent, &run.overflows),
        (first_in_pool, &discarded),
        "{} answers, {} bytes waiting of {written} written",
        run.answered,
        run.waiting
    );
}

/// A listener that announces a result of a gigabyte and then writes 64 MiB: ours counts the
/// body instead of buffering it (the reference would hold all of it), so the daemon's peak
/// memory stays small while the listener stays BUSY and the daemon keeps serving. Ours only.
#[test]
fn a_huge_result_length_is_not_buffered() {
    let dir = TempDir::new("lshuge");
    let conf = dir.write(
        "supervisord.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/sd.pid\n\n\
             {}\n\
             [program:tick]\ncommand=/bin/sleep 1000\nstartsecs=0\n\n\
             [eventlistener:huge]\nevents=PROCESS_STATE_RUNNING\nstartsecs=0\n\
             command=/bin/sh -c 'printf \"READY\\n\"; read -r header; \
             printf \"RESULT 1000000000\\n\"; head -c 67108864 /dev/zero; touch %(here)s/wrote; \
             exec sleep 1000'\n",
            util::RPC_SECTIONS
        ),
    );
    let mut daemon = util::Daemon::start(&dir, &conf);
    let sock = dir.join("s.sock");
    assert!(
        wait_for(WAIT, || dir.join("wrote").exists()),
        "the listener never finished writing"
    );
    // `head` has written everything into the pipe; the daemon has read all but the last pipe
    // buffer once a request behind it is answered.
    let state = util::rpc_call(&sock, "supervisor.getProcessInfo", &["huge"], WAIT);
    assert!(state.contains("RUNNING"), "{state}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.pid())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(peak_kib < 32 * 1024, "daemon peak RSS {peak_kib} KiB");
    // Still reading the result: neither answered nor a protocol violation.
    let log = dir.read("main.log");
    assert!(!log.contains("huge: event was"), "{log}");
    assert!(
        !log.contains("huge: has entered the UNKNOWN state"),
        "{log}"
    );
    assert_eq!(daemon.stop(WAIT), Some(0));
}
