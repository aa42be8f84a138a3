//! The structs the reference returns: process info (with its human description), result
//! structs of group operations, and config info of `getAllConfigInfo`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use super::backend::{GroupSnapshot, ProcessSnapshot, ProcessState};
use super::fault::{Fault, FaultCode};
use super::params::{capped_time, int, uint};
use super::wire::Value;
use crate::config::model::{Config, LogChannel, LogTarget, ProcessConfig};
use crate::sys::LocalTime;

/// Seconds since the epoch as a float (what Python's `time.time()` gives).
pub fn epoch_seconds(now: SystemTime) -> f64 {
    match now.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

fn path_text(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `getProcessInfo`'s struct, members in the reference's order.
pub fn process_info(group: &str, p: &ProcessSnapshot, now: SystemTime) -> Value {
    let start = capped_time(p.laststart);
    let stop = capped_time(p.laststop);
    let now = capped_time(epoch_seconds(now));
    let stdout = path_text(&p.stdout_logfile);
    let description = describe(p, start, stop, now);
    Value::structure([
        ("name", Value::string(p.id.name.clone())),
        ("group", Value::string(group)),
        ("start", int(start)),
        ("stop", int(stop)),
        ("now", int(now)),
        ("state", int(i64::from(p.state.code()))),
        ("statename", Value::string(p.state.name())),
        ("spawnerr", Value::string(p.spawnerr.clone())),
        ("exitstatus", int(p.exitstatus)),
        ("logfile", Value::string(stdout.clone())),
        ("stdout_logfile", Value::string(stdout)),
        (
            "stderr_logfile",
            Value::string(path_text(&p.stderr_logfile)),
        ),
        ("pid", int(i64::from(p.pid))),
        ("description", Value::string(description)),
    ])
}

/// The `description` member: what `supervisorctl status` prints after the state name.
fn describe(p: &ProcessSnapshot, start: i64, stop: i64, now: i64) -> String {
    if let Some(text) = p.hold.text() {
        return text.to_string();
    }
    match p.state {
        ProcessState::Running => match p.health {
            None => format!("pid {}, uptime {}", p.pid, uptime(now - start)),
            Some(h) => format!(
                "pid {}, uptime {}, {}",
                p.pid,
                uptime(now - start),
                h.name()
            ),
        },
        ProcessState::Fatal | ProcessState::Backoff => {
            if p.spawnerr.is_empty() {
                format!("unknown error (try \"tail {}\")", p.id.name)
            } else {
                p.spawnerr.clone()
            }
        }
        ProcessState::Stopped | ProcessState::Exited => {
            if start != 0 {
                local_stop_time(stop)
            } else {
                "Not started".to_string()
            }
        }
        _ => String::new(),
    }
}

/// Python's `str(timedelta)` of whole seconds: `H:MM:SS`, `1 day, H:MM:SS`, `N days, ...`;
/// a negative span (clock set back) shows as zero.
pub fn uptime(seconds: i64) -> String {
    let s = seconds.max(0);
    let (days, rest) = (s / 86400, s % 86400);
    let clock = format!("{}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        n => format!("{n} days, {clock}"),
    }
}

/// `%b %d %I:%M %p` in the C locale, e.g. `Nov 23 07:06 PM`.
pub fn format_stop_time(t: LocalTime) -> String {
    let hour12 = match t.hour % 12 {
        0 => 12,
        h => h,
    };
    let ampm = if t.hour < 12 { "AM" } else { "PM" };
    format!(
        "{} {:02} {hour12:02}:{:02} {ampm}",
        t.month_abbr(),
        t.day,
        t.minute
    )
}

fn local_stop_time(stop: i64) -> String {
    format_stop_time(LocalTime::from_epoch(stop))
}

/// One entry of a group operation's result array.
pub fn result_struct(group: &str, name: &str, outcome: &Result<(), Fault>) -> Value {
    let (status, description) = match outcome {
        Ok(()) => (FaultCode::Success.code(), "OK".to_string()),
        Err(f) => (f.code.code(), f.text()),
    };
    Value::structure([
        ("name", Value::string(name)),
        ("group", Value::string(group)),
        ("status", int(status)),
        ("description", Value::string(description)),
    ])
}

/// The stdout and stderr log paths of an active process.
type LivePaths<'a> = (&'a Option<PathBuf>, &'a Option<PathBuf>);

/// `getAllConfigInfo`: every process of the loaded config, sorted by process name (stable).
pub fn all_config_info(config: &Config, active: &[GroupSnapshot]) -> Value {
    let mut live_paths: HashMap<(&str, &str), LivePaths> = HashMap::new();
    for g in active {
        for p in &g.processes {
            live_paths.insert(
                (g.name.as_str(), p.id.name.as_str()),
                (&p.stdout_logfile, &p.stderr_logfile),
            );
        }
    }
    let mut entries: Vec<(&str, Value)> = Vec::new();
    for group in &config.groups {
        let inuse = active.iter().any(|g| g.name == group.name);
        for p in &group.processes {
            let live = live_paths.get(&(group.name.as_str(), p.name.as_str()));
            entries.push((
                p.name.as_str(),
                config_info(&group.name, group.priority, inuse, p, live.copied()),
            ));
        }
    }
    crate::sort::sort_by(&mut entries, |a, b| a.0.cmp(b.0));
    Value::Array(entries.into_iter().map(|(_, v)| v).collect())
}

/// A log target as the reference shows it: a path, `auto` until the file is named, `none`.
fn logfile_text(target: &LogTarget, live: Option<&Option<PathBuf>>) -> String {
    match target {
        LogTarget::File(p) => p.to_string_lossy().into_owned(),
        LogTarget::Auto => match live {
            Some(Some(path)) => path.to_string_lossy().into_owned(),
            _ => "auto".to_string(),
        },
        LogTarget::None | LogTarget::Syslog => "none".to_string(),
    }
}

fn config_info(
    group: &str,
    group_prio: i32,
    inuse: bool,
    p: &ProcessConfig,
    live: Option<LivePaths>,
) -> Value {
    let channel = |c: &LogChannel, live: Option<&Option<PathBuf>>| {
        (
            int(i64::try_from(c.capture_maxbytes).unwrap_or(i64::MAX)),
            Value::Bool(c.events_enabled),
            Value::string(logfile_text(&c.logfile, live)),
            int(i64::from(c.logfile_backups)),
            uint(c.logfile_maxbytes),
            Value::Bool(c.syslog || c.logfile == LogTarget::Syslog),
        )
    };
    let (out_cap, out_ev, out_log, out_bak, out_max, out_sys) =
        channel(&p.stdout, live.map(|l| l.0));
    let (err_cap, err_ev, mut err_log, err_bak, err_max, err_sys) =
        channel(&p.stderr, live.map(|l| l.1));
    if p.redirect_stderr {
        // The reference never creates a stderr log for a redirected process.
        err_log = Value::string("none");
    }
    let none = || Value::string("none");
    Value::structure([
        ("autostart", Value::Bool(p.autostart)),
        (
            "directory",
            p.directory.clone().map(Value::String).unwrap_or_else(none),
        ),
        (
            "uid",
            p.user
                .as_ref()
                .map(|u| int(i64::from(u.uid)))
                .unwrap_or_else(none),
        ),
        ("command", Value::string(p.command.clone())),
        (
            "exitcodes",
            Value::Array(p.exitcodes.iter().map(|c| int(i64::from(*c))).collect()),
        ),
        ("group", Value::string(group)),
        ("group_prio", int(i64::from(group_prio))),
        ("inuse", Value::Bool(inuse)),
        ("killasgroup", Value::Bool(p.killasgroup)),
        ("name", Value::string(p.name.clone())),
        ("process_prio", int(i64::from(p.priority))),
        ("redirect_stderr", Value::Bool(p.redirect_stderr)),
        ("startretries", int(i64::from(p.startretries))),
        ("startsecs", uint(p.startsecs)),
        ("stdout_capture_maxbytes", out_cap),
        ("stdout_events_enabled", out_ev),
        ("stdout_logfile", out_log),
        ("stdout_logfile_backups", out_bak),
        ("stdout_logfile_maxbytes", out_max),
        ("stdout_syslog", out_sys),
        ("stopsignal", int(i64::from(p.stopsignal))),
        ("stopwaitsecs", uint(p.stopwaitsecs)),
        ("stderr_capture_maxbytes", err_cap),
        ("stderr_events_enabled", err_ev),
        ("stderr_logfile", err_log),
        ("stderr_logfile_backups", err_bak),
        ("stderr_logfile_maxbytes", err_max),
        ("stderr_syslog", err_sys),
        (
            "serverurl",
            p.serverurl.clone().map(Value::String).unwrap_or_else(none),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::backend::ProcessId;
    use std::time::Duration;

    fn snapshot(state: ProcessState) -> ProcessSnapshot {
        ProcessSnapshot::never_started(ProcessId::new("grp", "proc"), state)
    }

    #[test]
    fn uptime_matches_python_timedelta() {
        let cases = [
            (0, "0:00:00"),
            (59, "0:00:59"),
            (61, "0:01:01"),
            (3599, "0:59:59"),
            (3600, "1:00:00"),
            (86399, "23:59:59"),
            (86400, "1 day, 0:00:00"),
            (90061, "1 day, 1:01:01"),
            (172801, "2 days, 0:00:01"),
            (864005, "10 days, 0:00:05"),
            (-5, "0:00:00"),
        ];
        for (secs, want) in cases {
            assert_eq!(uptime(secs), want, "{secs}");
        }
    }

    #[test]
    fn stop_time_uses_twelve_hour_clock() {
        let cases = [
            ((11, 23, 19, 6), "Nov 23 07:06 PM"),
            ((1, 1, 0, 0), "Jan 01 12:00 AM"),
            ((12, 31, 12, 59), "Dec 31 12:59 PM"),
            ((6, 9, 11, 5), "Jun 09 11:05 AM"),
        ];
        for ((month, day, hour, minute), want) in cases {
            let t = LocalTime {
                month,
                day,
                hour,
                minute,
                ..LocalTime::from_epoch(0)
            };
            assert_eq!(format_stop_time(t), want);
        }
    }

    #[test]
    fn descriptions_per_state() {
        let now = UNIX_EPOCH + Duration::from_secs(1000);
        let desc = |p: &ProcessSnapshot| {
            process_info("grp", p, now)
                .member_str("description")
                .unwrap()
                .to_string()
        };
        let mut running = snapshot(ProcessState::Running);
        running.pid = 42;
        running.laststart = 900.7;
        assert_eq!(desc(&running), "pid 42, uptime 0:01:40");

        let mut fatal = snapshot(ProcessState::Fatal);
        assert_eq!(desc(&fatal), "unknown error (try \"tail proc\")");
        fatal.spawnerr = "can't find command 'x'".into();
        assert_eq!(desc(&fatal), "can't find command 'x'");
        let backoff = snapshot(ProcessState::Backoff);
        assert_eq!(desc(&backoff), "unknown error (try \"tail proc\")");

        assert_eq!(desc(&snapshot(ProcessState::Stopped)), "Not started");
        assert_eq!(desc(&snapshot(ProcessState::Exited)), "Not started");
        let mut exited = snapshot(ProcessState::Exited);
        exited.laststart = 500.0;
        exited.laststop = 990.0;
        assert_eq!(desc(&exited), format_stop_time(LocalTime::from_epoch(990)));

        for s in [
            ProcessState::Starting,
            ProcessState::Stopping,
            ProcessState::Unknown,
        ] {
            assert_eq!(desc(&snapshot(s)), "");
        }
    }

    #[test]
    fn process_info_members_in_reference_order() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_460_781);
        let mut p = snapshot(ProcessState::Running);
        p.id = ProcessId::new("sleeper", "sleeper");
        p.pid = 9295;
        p.laststart = 1_795_460_758.5;
        p.stdout_logfile = Some("/tmp/out.log".into());
        let info = process_info("sleeper", &p, now);
        let names: Vec<&str> = info
            .as_struct()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "name",
                "group",
                "start",
                "stop",
                "now",
                "state",
                "statename",
                "spawnerr",
                "exitstatus",
                "logfile",
                "stdout_logfile",
                "stderr_logfile",
                "pid",
                "description"
            ]
        );
        // Timestamps are whole seconds; start is truncated, not rounded.
        assert_eq!(info.member_int("start"), Some(1_795_460_758));
        assert_eq!(info.member_int("now"), Some(1_795_460_781));
        assert_eq!(info.member_int("state"), Some(20));
        assert_eq!(info.member_str("logfile"), Some("/tmp/out.log"));
        assert_eq!(info.member_str("stderr_logfile"), Some(""));
        assert_eq!(
            info.member_str("description"),
            Some("pid 9295, uptime 0:00:23")
        );
    }

    #[test]
    fn timestamps_beyond_2038_are_capped() {
        let now = UNIX_EPOCH + Duration::from_secs(5_000_000_000);
        let mut p = snapshot(ProcessState::Running);
        p.laststart = 4_999_999_000.0;
        let info = process_info("grp", &p, now);
        assert_eq!(info.member_int("start"), Some(i64::from(i32::MAX)));
        assert_eq!(info.member_int("now"), Some(i64::from(i32::MAX)));
        assert_eq!(
            info.member_str("description"),
            Some("pid 0, uptime 0:00:00")
        );
    }

    #[test]
    fn result_structs() {
        let ok = result_struct("g", "p", &Ok(()));
        assert_eq!(
            ok,
            Value::structure([
                ("name", Value::string("p")),
                ("group", Value::string("g")),
                ("status", Value::Int(80)),
                ("description", Value::string("OK")),
            ])
        );
        let bad = result_struct("g", "p", &Err(Fault::with(FaultCode::SpawnError, "g:p")));
        assert_eq!(bad.member_int("status"), Some(50));
        assert_eq!(bad.member_str("description"), Some("SPAWN_ERROR: g:p"));
    }
}
