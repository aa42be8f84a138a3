//! `GET /metrics`: Prometheus text exposition format 0.0.4 for every process and for the daemon
//! itself (the standard `process_*` series from /proc/self). Written straight into the
//! connection's output buffer, with no allocation per process, so a scrape stays cheaper than
//! `getAllProcessInfo` (docs/bench-notes.md, "/metrics scrape").

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::rpc::backend::{Health, ProcessState, ProcessStatus};

/// The content type Prometheus expects for the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Output bytes per process (all families, typical names), for the up-front capacity.
const BYTES_PER_PROCESS: usize = 1600;

/// The daemon's own figures (the client libraries' `process_*` collector); None when /proc could
/// not tell.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SelfStats {
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<f64>,
    pub virtual_bytes: Option<f64>,
    pub start_time: Option<f64>,
    pub open_fds: Option<f64>,
    pub max_fds: Option<f64>,
}

/// What a scrape keeps for the next one.
#[derive(Debug, Default)]
pub struct Metrics {
    /// The daemon's start time once known: it never changes, and computing it reads /proc/stat
    /// (for the boot time), which the kernel builds from every CPU's counters on each read.
    start_time: Option<f64>,
}

impl Metrics {
    /// Appends the `/metrics` body to `out` (the connection's output buffer).
    pub fn write(&mut self, out: &mut Vec<u8>, statuses: &[ProcessStatus<'_>], wall: SystemTime) {
        let me = self_stats(wall, self.start_time);
        self.start_time = me.start_time;
        render_into(out, statuses, &me);
    }
}

/// The whole exposition: one family after another (the format wants a family's samples
/// together), each with HELP and TYPE.
pub fn render_into(out: &mut Vec<u8>, statuses: &[ProcessStatus<'_>], me: &SelfStats) {
    out.reserve(2048 + statuses.len() * BYTES_PER_PROCESS);
    // Every family repeats each process's labels: escape them once, into one buffer.
    let labels = Labels::new(statuses);
    let rows = || statuses.iter().enumerate().map(|(i, p)| (labels.get(i), p));
    family(
        out,
        "supervisor_up",
        "gauge",
        "Whether supervisord is serving (always 1 in a reply).",
    );
    out.extend_from_slice(b"supervisor_up 1\n");

    // The codes' legend comes from the wire table, the one home of state names and codes.
    let mut legend = String::from("The process state's numeric code (");
    for (i, state) in ProcessState::ALL.into_iter().enumerate() {
        if i > 0 {
            legend.push_str(", ");
        }
        let _ = write!(legend, "{} {}", state.code(), state.name());
    }
    legend.push_str(").");
    family(out, "supervisor_process_state", "gauge", &legend);
    for (l, p) in rows() {
        let code = i64::from(p.state.code());
        sample(out, "supervisor_process_state", l, "", "", Num::Int(code));
    }
    family(
        out,
        "supervisor_process_state_info",
        "gauge",
        "1 for the process's current state, 0 for the others.",
    );
    for (l, p) in rows() {
        // Every state, so each process has exactly one `state_info` series at 1.
        for state in ProcessState::ALL {
            let value = Num::Int(i64::from(state == p.state));
            let metric = "supervisor_process_state_info";
            sample(out, metric, l, "state", state.name(), value);
        }
    }
    family(
        out,
        "supervisor_process_up",
        "gauge",
        "1 while the process is RUNNING.",
    );
    for (l, p) in rows() {
        let up = Num::Int(i64::from(p.state == ProcessState::Running));
        sample(out, "supervisor_process_up", l, "", "", up);
    }
    family(
        out,
        "supervisor_process_start_time_seconds",
        "gauge",
        "When the process was last spawned, seconds since the epoch (0: never).",
    );
    for (l, p) in rows() {
        let metric = "supervisor_process_start_time_seconds";
        sample(out, metric, l, "", "", Num::Float(p.start_time));
    }
    family(
        out,
        "supervisor_process_restarts_total",
        "counter",
        "Spawns after the first, whatever caused them.",
    );
    for (l, p) in rows() {
        let restarts = Num::Uint(p.spawns.saturating_sub(1));
        sample(
            out,
            "supervisor_process_restarts_total",
            l,
            "",
            "",
            restarts,
        );
    }
    family(
        out,
        "supervisor_process_exit_status",
        "gauge",
        "The last exit status (the exit code, -1 after a signal), kept across restarts (processes that have exited).",
    );
    for (l, p) in rows() {
        if let Some(code) = p.last_exitstatus {
            let code = Num::Int(i64::from(code));
            sample(out, "supervisor_process_exit_status", l, "", "", code);
        }
    }
    if statuses.iter().any(|p| p.healthy.is_some()) {
        family(
            out,
            "supervisor_process_healthy",
            "gauge",
            "1 while the process's health check passes (processes with a health check).",
        );
        for (l, p) in rows() {
            if let Some(healthy) = p.healthy {
                let value = Num::Int(i64::from(healthy == Health::Healthy));
                sample(out, "supervisor_process_healthy", l, "", "", value);
            }
        }
    }
    family(
        out,
        "supervisor_log_bytes_total",
        "counter",
        "Output bytes captured from the process, per channel.",
    );
    for (l, p) in rows() {
        for (channel, bytes) in ["stdout", "stderr"].into_iter().zip(p.log_bytes) {
            let metric = "supervisor_log_bytes_total";
            sample(out, metric, l, "channel", channel, Num::Uint(bytes));
        }
    }
    self_series(out, me);
}

/// The whole exposition as text (tests).
#[cfg(test)]
pub fn render(statuses: &[ProcessStatus<'_>], me: &SelfStats) -> String {
    let mut out = Vec::new();
    render_into(&mut out, statuses, me);
    String::from_utf8(out).unwrap_or_default()
}

/// Every process's escaped `group="..",name=".."`, in one String.
struct Labels {
    text: String,
    ends: Vec<usize>,
}

impl Labels {
    fn new(statuses: &[ProcessStatus<'_>]) -> Labels {
        let mut text = String::with_capacity(statuses.len() * 48);
        let mut ends = Vec::with_capacity(statuses.len());
        for p in statuses {
            text.push_str("group=\"");
            escape_label(&mut text, p.group);
            text.push_str("\",name=\"");
            escape_label(&mut text, p.name);
            text.push('"');
            ends.push(text.len());
        }
        Labels { text, ends }
    }

    fn get(&self, i: usize) -> &str {
        let start = match i.checked_sub(1) {
            Some(before) => self.ends.get(before).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.text.get(start..end).unwrap_or("")
    }
}

/// A sample value; integers skip the formatting machinery (a scrape writes thousands).
#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i64),
    Uint(u64),
    Float(f64),
}

fn family(out: &mut Vec<u8>, name: &str, kind: &str, help: &str) {
    // HELP text escapes only backslash and newline; ours have neither.
    let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
}

/// `metric{LABELS[,extra="value"]} number`; `labels` already escaped, `extra` needs none.
fn sample(out: &mut Vec<u8>, metric: &str, labels: &str, extra: &str, value: &str, num: Num) {
    out.extend_from_slice(metric.as_bytes());
    out.push(b'{');
    out.extend_from_slice(labels.as_bytes());
    if !extra.is_empty() {
        out.push(b',');
        out.extend_from_slice(extra.as_bytes());
        out.extend_from_slice(b"=\"");
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b"} ");
    match num {
        Num::Int(v) => {
            if v < 0 {
                out.push(b'-');
            }
            push_digits(out, v.unsigned_abs());
        }
        Num::Uint(v) => push_digits(out, v),
        Num::Float(v) => {
            let _ = write!(out, "{v}");
        }
    }
    out.push(b'\n');
}

fn push_digits(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[at..]);
}

/// A label value as the format wants it: backslash, double quote and newline escaped.
fn escape_label(out: &mut String, value: &str) {
    if !value.contains(['\\', '"', '\n']) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn self_series(out: &mut Vec<u8>, me: &SelfStats) {
    let series = [
        (
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            me.cpu_seconds,
        ),
        (
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            me.open_fds,
        ),
        (
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
            me.max_fds,
        ),
        (
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            me.virtual_bytes,
        ),
        (
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            me.resident_bytes,
        ),
        (
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            me.start_time,
        ),
    ];
    for (name, kind, help, value) in series {
        if let Some(value) = value {
            family(out, name, kind, help);
            let _ = writeln!(out, "{name} {value}");
        }
    }
}

/// The figures of `/proc/self/stat` (text after the command's closing parenthesis): CPU seconds,
/// virtual and resident bytes, start time. `ticks` = clock ticks per second, `boot` = the
/// kernel's boot time (epoch seconds, `/proc/stat` btime).
pub fn parse_stat(stat: &str, ticks: f64, page: f64, boot: f64) -> SelfStats {
    let mut me = SelfStats::default();
    // The command may contain spaces and parentheses: the fields start after the last ')'.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return me;
    };
    // rest's first field is field 3 (state); utime is field 14.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
    if let (Some(utime), Some(stime)) = (field(14), field(15)) {
        me.cpu_seconds = Some((utime + stime) / ticks);
    }
    me.start_time = field(22).map(|start| boot + start / ticks);
    me.virtual_bytes = field(23);
    me.resident_bytes = field(24).map(|pages| pages * page);
    me
}

/// The boot time from `/proc/stat` (`btime <epoch seconds>`).
pub fn parse_boot_time(stat: &str) -> Option<f64> {
    stat.lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|t| t.trim().parse().ok())
}

/// Reads the daemon's own figures (/proc/self/stat, the size of /proc/self/fd; /proc/stat only
/// while the start time is not `known`).
fn self_stats(wall: SystemTime, known: Option<f64>) -> SelfStats {
    // SAFETY: sysconf only reads system constants.
    let (ticks, page) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let boot = match known {
        // Any boot time: the start time computed from it is replaced below.
        Some(_) => Some(0.0),
        None => std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| parse_boot_time(&s)),
    };
    let mut me = match (std::fs::read_to_string("/proc/self/stat"), boot) {
        (Ok(stat), Some(boot)) if ticks > 0 && page > 0 => {
            parse_stat(&stat, ticks as f64, page as f64, boot)
        }
        _ => SelfStats::default(),
    };
    // Never in the future, whatever the boot-time rounding.
    let now = wall
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    me.start_time = known.or(me.start_time.map(|t| t.min(now)));
    me.open_fds = count_open_fds();
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        me.max_fds = Some(limit.rlim_cur as f64);
    }
    me
}

/// The number of open descriptors. Since Linux 6.2 `stat` of /proc/self/fd reports it as the
/// size (one bitmap count in the kernel); older kernels report 0 there and get the listing.
fn count_open_fds() -> Option<f64> {
    // Listing the directory made the kernel look up a dentry per descriptor: with 1000 children
    // (~4000 pipes and log files) that was over half of a scrape's CPU.
    match std::fs::metadata("/proc/self/fd") {
        Ok(meta) if meta.len() > 0 => Some(meta.len() as f64),
        _ => list_open_fds(),
    }
}

/// Entries of /proc/self/fd, minus the directory's own descriptor (readdir, no allocation per
/// descriptor: a daemon with thousands of children has thousands of pipes).
fn list_open_fds() -> Option<f64> {
    // SAFETY: a NUL-terminated path; the handle is closed below.
    let dir = unsafe { libc::opendir(c"/proc/self/fd".as_ptr()) };
    if dir.is_null() {
        return None;
    }
    let mut count: u64 = 0;
    loop {
        // SAFETY: dir is an open directory stream; entries are only counted.
        let entry = unsafe { libc::readdir(dir) };
        if entry.is_null() {
            break;
        }
        // SAFETY: readdir returned a valid entry whose name is NUL-terminated.
        let name = unsafe { (*entry).d_name };
        if name[0] != b'.' as libc::c_char {
            count += 1;
        }
    }
    // SAFETY: closing the stream opened above.
    unsafe { libc::closedir(dir) };
    // The listing's own descriptor was open while counting.
    Some(count.saturating_sub(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(group: &'static str, name: &'static str) -> ProcessStatus<'static> {
        ProcessStatus {
            group,
            name,
            state: ProcessState::Running,
            autostart: true,
            exit_expected: false,
            restarts_after_exit: true,
            start_time: 1_796_000_000.5,
            exitstatus: None,
            last_exitstatus: None,
            spawns: 3,
            log_bytes: [120, 7],
            healthy: None,
            spawnerr: "",
        }
    }

    #[test]
    fn one_process_renders_every_family() {
        let p = process("web", "web");
        let out = render(&[p], &SelfStats::default());
        for line in [
            "# TYPE supervisor_up gauge\nsupervisor_up 1\n",
            "supervisor_process_state{group=\"web\",name=\"web\"} 20\n",
            "supervisor_process_state_info{group=\"web\",name=\"web\",state=\"RUNNING\"} 1\n",
            "supervisor_process_state_info{group=\"web\",name=\"web\",state=\"STOPPED\"} 0\n",
            "supervisor_process_up{group=\"web\",name=\"web\"} 1\n",
            "supervisor_process_start_time_seconds{group=\"web\",name=\"web\"} 1796000000.5\n",
            "# TYPE supervisor_process_restarts_total counter\n",
            "supervisor_process_restarts_total{group=\"web\",name=\"web\"} 2\n",
            "supervisor_log_bytes_total{group=\"web\",name=\"web\",channel=\"stdout\"} 120\n",
            "supervisor_log_bytes_total{group=\"web\",name=\"web\",channel=\"stderr\"} 7\n",
        ] {
            assert!(out.contains(line), "{line:?} missing in\n{out}");
        }
        assert_eq!(out.matches("state_info{").count(), ProcessState::ALL.len());
        // No exit yet, no health check: those families are left out for this process.
        assert!(!out.contains("supervisor_process_exit_status{"));
        assert!(!out.contains("supervisor_process_healthy"));
    }

    #[test]
    fn exactly_one_state_is_set_per_process() {
        for state in ProcessState::ALL {
            let p = ProcessStatus {
                state,
                ..process("g", "p")
            };
            let out = render(&[p], &SelfStats::default());
            let ones: Vec<&str> = out
                .lines()
                .filter(|l| l.starts_with("supervisor_process_state_info{") && l.ends_with(" 1"))
                .collect();
            assert_eq!(ones.len(), 1, "{out}");
            assert!(ones[0].contains(&format!("state=\"{}\"", state.name())));
        }
    }

    #[test]
    fn numbers_and_escaped_labels() {
        let mut out = Vec::new();
        for num in [
            Num::Int(0),
            Num::Int(-15),
            Num::Uint(u64::MAX),
            Num::Float(1.5),
        ] {
            sample(&mut out, "m", "a=\"b\"", "", "", num);
        }
        assert_eq!(
            String::from_utf8_lossy(&out),
            "m{a=\"b\"} 0\nm{a=\"b\"} -15\nm{a=\"b\"} 18446744073709551615\nm{a=\"b\"} 1.5\n"
        );
        let p = ProcessStatus {
            name: "we\"ird",
            ..process("g\\1", "x")
        };
        let q = process("g", "n");
        let labels = Labels::new(&[p, q]);
        assert_eq!(labels.get(0), "group=\"g\\\\1\",name=\"we\\\"ird\"");
        assert_eq!(labels.get(1), "group=\"g\",name=\"n\"");
        assert_eq!(labels.get(2), "");
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        escape_label(&mut out, "a\\b\"c\nd");
        assert_eq!(out, "a\\\\b\\\"c\\nd");
    }

    #[test]
    fn exit_status_and_health_where_known() {
        let p = ProcessStatus {
            state: ProcessState::Exited,
            exitstatus: Some(3),
            last_exitstatus: Some(3),
            healthy: Some(Health::Unhealthy),
            spawns: 0,
            ..process("g", "p")
        };
        let out = render(&[p], &SelfStats::default());
        assert!(out.contains("supervisor_process_exit_status{group=\"g\",name=\"p\"} 3\n"));
        assert!(out.contains("supervisor_process_healthy{group=\"g\",name=\"p\"} 0\n"));
        assert!(out.contains("supervisor_process_restarts_total{group=\"g\",name=\"p\"} 0\n"));
        assert!(out.contains("supervisor_process_up{group=\"g\",name=\"p\"} 0\n"));
    }

    #[test]
    fn the_last_exit_status_stays_after_a_restart() {
        // Running again after a crash: the reference's exitstatus is cleared, the metric is not.
        let p = ProcessStatus {
            exitstatus: None,
            last_exitstatus: Some(-1),
            ..process("g", "p")
        };
        let out = render(&[p], &SelfStats::default());
        assert!(out.contains("supervisor_process_exit_status{group=\"g\",name=\"p\"} -1\n"));
    }

    #[test]
    fn the_state_legend_lists_the_wire_codes() {
        let out = render(&[], &SelfStats::default());
        let legend = "(0 STOPPED, 10 STARTING, 20 RUNNING, 30 BACKOFF, 40 STOPPING, 100 EXITED, \
                      200 FATAL, 1000 UNKNOWN).\n";
        assert!(out.contains(legend), "{out}");
    }

    #[test]
    fn proc_self_stat_fields() {
        // pid (comm with ") (" inside) state ppid ... utime=14 stime=15 ... starttime=22
        // vsize=23 rss=24.
        let stat = "42 (a) (b) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 \
                    1000 8192000 300 18446744073709551615";
        let me = parse_stat(stat, 100.0, 4096.0, 1_700_000_000.0);
        assert_eq!(me.cpu_seconds, Some(3.0));
        assert_eq!(me.start_time, Some(1_700_000_010.0));
        assert_eq!(me.virtual_bytes, Some(8_192_000.0));
        assert_eq!(me.resident_bytes, Some(300.0 * 4096.0));
        assert_eq!(
            parse_stat("garbage", 100.0, 4096.0, 0.0),
            SelfStats::default()
        );
        assert_eq!(
            parse_boot_time("cpu 1 2\nbtime 1700000000\nprocesses 5\n"),
            Some(1_700_000_000.0)
        );
    }

    #[test]
    fn the_fd_count_agrees_with_the_listing() {
        // The stat size must count descriptors like the listing does (200 extra pipes make a
        // wrong unit show). Other test threads open and close descriptors meanwhile (some
        // hundreds of sockets at once): hence the slack, and a few tries for a quiet moment.
        let pipes: Vec<_> = (0..100)
            .filter_map(|_| crate::sys::pipe_cloexec().ok())
            .collect();
        assert_eq!(pipes.len(), 100);
        let mut tries = Vec::new();
        for _ in 0..5 {
            let (Some(counted), Some(listed)) = (count_open_fds(), list_open_fds()) else {
                panic!("no /proc/self/fd");
            };
            assert!(listed >= 200.0, "{listed}");
            if (counted - listed).abs() < 20.0 {
                return;
            }
            tries.push((counted, listed));
        }
        panic!("the stat size and the listing disagree: {tries:?}");
    }

    #[test]
    fn the_daemon_series_come_from_proc() {
        let me = self_stats(SystemTime::now(), None);
        assert!(me.cpu_seconds.is_some());
        assert!(me.resident_bytes.is_some_and(|b| b > 0.0));
        assert!(me.open_fds.is_some_and(|n| n >= 3.0));
        assert!(me.max_fds.is_some());
        let out = render(&[], &me);
        assert!(out.contains("# TYPE process_cpu_seconds_total counter\n"));
        assert!(out.contains("\nprocess_open_fds "));
        // Later scrapes keep the start time (it is read once).
        let again = self_stats(SystemTime::now(), Some(12.5));
        assert_eq!(again.start_time, Some(12.5));
        assert!(again.cpu_seconds.is_some());
    }
}
