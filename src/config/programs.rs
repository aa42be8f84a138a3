//! Program-type sections into process groups: `[program:x]` (numprocs instances), `[group:x]`,
//! `[eventlistener:x]` and `[fcgi-program:x]`, in the reference's order and with its defaults.

use super::expand::{ExpValue, Expansions};
use super::known;
use super::loader::{Loader, normalize_path};
use super::model::*;
use super::users;
use super::values;
use std::collections::BTreeMap;

/// What a program-type section is; selects defaults and extra options.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Program,
    EventListener,
    Fcgi,
}

fn s(v: &str) -> ExpValue {
    ExpValue::Str(v.to_string())
}

fn clamp_i32(n: i64) -> i32 {
    n.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

fn clamp_u32(n: i64) -> u32 {
    n.clamp(0, u32::MAX as i64) as u32
}

fn non_negative(n: i64) -> u64 {
    n.max(0) as u64
}

pub(super) fn process_groups(l: &mut Loader) -> Vec<GroupConfig> {
    let all: Vec<String> = l.doc.sections.iter().map(|s| s.name.clone()).collect();
    let here = l.here_exps();
    let mut groups = Vec::new();
    let mut in_groups: Vec<String> = Vec::new();

    for section in all.iter().filter(|n| n.starts_with("group:")) {
        let group_name = match values::name(&section["group:".len()..]) {
            Ok(n) => n,
            Err(problem) => {
                l.error(section, None, problem, None);
                continue;
            }
        };
        let programs = l
            .get(section, "programs", &here)
            .ok()
            .flatten()
            .map(|v| values::list_of_strings(&v))
            .unwrap_or_default();
        let priority = clamp_i32(l.typed(section, "priority", &here, 999, values::integer));
        let mut processes = Vec::new();
        // The reference reuses its loop variable, so its messages name the member section
        // handled just before (or the group when none was).
        let mut reference_section = section.clone();
        for program in programs {
            let prog = format!("program:{program}");
            let fcgi = format!("fcgi-program:{program}");
            let (has_prog, has_fcgi) = (all.contains(&prog), all.contains(&fcgi));
            let member = match (has_prog, has_fcgi) {
                (false, false) => {
                    l.error_worded(
                        section,
                        Some("programs"),
                        format!("[{section}] names unknown program or fcgi-program {program}"),
                        None,
                        Some(format!(
                            "[{reference_section}] names unknown program or fcgi-program {program}"
                        )),
                    );
                    continue;
                }
                (true, true) => {
                    l.error_worded(
                        section,
                        Some("programs"),
                        format!("[{section}] name {program} is ambiguous (exists as program and fcgi-program)"),
                        None,
                        Some(format!(
                            "[{reference_section}] name {program} is ambiguous (exists as program and fcgi-program)"
                        )),
                    );
                    continue;
                }
                (true, false) => prog,
                (false, true) => fcgi,
            };
            reference_section = member.clone();
            in_groups.push(member.clone());
            processes.extend(processes_from_section(
                l,
                &member,
                &group_name,
                Kind::Program,
            ));
        }
        groups.push(GroupConfig {
            name: group_name,
            priority,
            kind: GroupKind::Program,
            processes,
        });
    }

    for section in all
        .iter()
        .filter(|n| n.starts_with("program:") && !in_groups.contains(n))
    {
        let name = match values::name(&section["program:".len()..]) {
            Ok(n) => n,
            Err(problem) => {
                l.error(section, None, problem, None);
                continue;
            }
        };
        let priority = clamp_i32(l.typed(section, "priority", &here, 999, values::integer));
        let processes = processes_from_section(l, section, &name, Kind::Program);
        groups.push(GroupConfig {
            name,
            priority,
            kind: GroupKind::Program,
            processes,
        });
    }

    for section in all.iter().filter(|n| n.starts_with("eventlistener:")) {
        let pool = section["eventlistener:".len()..].to_string();
        // Listener pools default to a high priority: started first, stopped last.
        let priority = clamp_i32(l.typed(section, "priority", &here, -1, values::integer));
        let buffer_size = l.typed(section, "buffer_size", &here, 10, values::integer);
        if buffer_size < 1 {
            l.error(
                section,
                Some("buffer_size"),
                format!("[{section}] section sets invalid buffer_size ({buffer_size})"),
                None,
            );
        }
        let default_handler = "supervisor.dispatchers:default_handler";
        let result_handler = l
            .get(section, "result_handler", &here)
            .ok()
            .flatten()
            .unwrap_or_else(|| default_handler.to_string());
        if result_handler != default_handler {
            l.error(
                section,
                Some("result_handler"),
                format!("{result_handler} cannot be resolved within [{section}]"),
                None,
            );
        }
        let mut events: Vec<String> = Vec::new();
        for e in values::list_of_strings(
            &l.get(section, "events", &here)
                .ok()
                .flatten()
                .unwrap_or_default(),
        ) {
            let e = e.to_uppercase();
            if !events.contains(&e) {
                events.push(e);
            }
        }
        if events.is_empty() {
            l.error(
                section,
                None,
                format!("[{section}] section requires an \"events\" line"),
                None,
            );
        }
        for e in &events {
            if !known::EVENT_TYPES.contains(&e.as_str()) {
                l.error(
                    section,
                    Some("events"),
                    format!("Unknown event type {e} in [{section}] events"),
                    None,
                );
            }
        }
        if l.typed(section, "redirect_stderr", &here, false, values::boolean) {
            l.error(
                section,
                Some("redirect_stderr"),
                format!(
                    "[{section}] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol"
                ),
                None,
            );
        }
        let processes = processes_from_section(l, section, &pool, Kind::EventListener);
        groups.push(GroupConfig {
            name: pool,
            priority,
            kind: GroupKind::EventListener(Box::new(EventListenerOptions {
                events,
                buffer_size: buffer_size.max(1) as usize,
                result_handler,
            })),
            processes,
        });
    }

    for section in all
        .iter()
        .filter(|n| n.starts_with("fcgi-program:") && !in_groups.contains(n))
    {
        let name = match values::name(&section["fcgi-program:".len()..]) {
            Ok(n) => n,
            Err(problem) => {
                l.error(section, None, problem, None);
                continue;
            }
        };
        let priority = clamp_i32(l.typed(section, "priority", &here, 999, values::integer));
        let Some(fcgi) = fcgi_options(l, section, &name) else {
            continue;
        };
        let processes = processes_from_section(l, section, &name, Kind::Fcgi);
        groups.push(GroupConfig {
            name,
            priority,
            kind: GroupKind::FcgiProgram(Box::new(fcgi)),
            processes,
        });
    }

    // Stable sort keeps the reference's order for equal (priority, name).
    crate::sort::sort_by(&mut groups, |a, b| {
        (a.priority, &a.name).cmp(&(b.priority, &b.name))
    });
    groups
}

fn fcgi_options(l: &mut Loader, section: &str, program_name: &str) -> Option<FcgiOptions> {
    let here = l.here_exps();
    let proc_uid = l.typed_opt(section, "user", &here, |v| {
        users::lookup_user(v).map(|u| u.user)
    });
    let socket_backlog = l.typed_opt(section, "socket_backlog", &here, |v| {
        let n = values::integer(v)?;
        if !(1..=65535).contains(&n) {
            return Err(format!("Invalid socket_backlog value {n}"));
        }
        Ok(n as u32)
    });
    let socket_owner = l.typed_opt(section, "socket_owner", &here, |v| {
        users::user_group(v).map_err(|_| format!("Invalid socket_owner value {v}"))
    });
    let socket_mode = l.typed_opt(section, "socket_mode", &here, |v| {
        values::octal(v).map_err(|_| format!("Invalid socket_mode value {v}"))
    });
    let mut exps = here.clone();
    exps.insert("program_name".into(), s(program_name));
    let socket = match l.get(section, "socket", &exps) {
        Ok(Some(v)) if !v.is_empty() => v,
        Ok(_) => {
            l.error(
                section,
                None,
                format!("[{section}] section requires a \"socket\" line"),
                None,
            );
            return None;
        }
        Err(()) => return None,
    };
    if let Some(path) = socket.strip_prefix("unix://") {
        if !path.starts_with('/') {
            l.error_worded(
                section,
                Some("socket"),
                format!("Unix socket path {path} is not an absolute path in [{section}] socket"),
                Some(&socket),
                // The reference passes printf-style arguments to ValueError and shows the tuple.
                Some(format!(
                    "('Unix socket path %s is not an absolute path', {}) in [{section}] socket",
                    crate::python::py_repr(path)
                )),
            );
            return None;
        }
        let owner = socket_owner.or_else(|| {
            let me = nix::unistd::getuid().as_raw();
            proc_uid
                .as_ref()
                .filter(|u| u.uid != me)
                .map(|u| (u.uid, u.gid))
        });
        return Some(FcgiOptions {
            socket: format!("unix://{}", normalize_path(path).display()),
            socket_backlog,
            socket_owner: owner,
            socket_mode: socket_mode.unwrap_or(0o700),
        });
    }
    if socket_owner.is_some() || socket_mode.is_some() {
        l.error(
            section,
            Some("socket"),
            format!(
                "socket_owner and socket_mode params should only be used with a Unix domain socket in [{section}] socket"
            ),
            Some(&socket),
        );
        return None;
    }
    let tcp = socket.strip_prefix("tcp://").and_then(|rest| {
        let (host, port) = rest.rsplit_once(':')?;
        let host_ok = !host.is_empty() && !host.contains(|c: char| c.is_whitespace() || c == ':');
        let port_ok = !port.is_empty() && port.chars().all(|c| c.is_ascii_digit());
        (host_ok && port_ok).then(|| (host.to_lowercase(), port.to_string()))
    });
    match tcp {
        Some((host, port)) => match port.parse::<u32>() {
            Ok(p) if (1..=65535).contains(&p) => Some(FcgiOptions {
                socket: format!("tcp://{host}:{p}"),
                socket_backlog,
                socket_owner: None,
                socket_mode: 0o700,
            }),
            _ => {
                l.error(
                    section,
                    Some("socket"),
                    format!("{port} is out of the port range 1..65535 in [{section}] socket"),
                    Some(&socket),
                );
                None
            }
        },
        None => {
            l.error_worded(
                section,
                Some("socket"),
                format!("Bad socket format {socket} in [{section}] socket"),
                Some(&socket),
                Some(format!(
                    "('Bad socket format %s', {}) in [{section}] socket",
                    crate::python::py_repr(&socket)
                )),
            );
            None
        }
    }
}

/// One program section into its processes (numprocs_start .. +numprocs), sorted by (priority, name).
fn processes_from_section(
    l: &mut Loader,
    section: &str,
    group_name: &str,
    kind: Kind,
) -> Vec<std::rc::Rc<ProcessConfig>> {
    let errors_before = l.errors.len();
    l.wrap_section = Some(section.to_string());
    let out = resolve_processes(l, section, group_name, kind);
    l.wrap_section = None;
    if l.errors.len() > errors_before {
        return Vec::new();
    }
    // Shared (not copied) by the loaded config, the running group and its process.
    crate::config::model::shared(out)
}

fn resolve_processes(
    l: &mut Loader,
    section: &str,
    group_name: &str,
    kind: Kind,
) -> Vec<ProcessConfig> {
    let raw_name = section.split_once(':').map(|(_, n)| n).unwrap_or("");
    let program_name = match values::name(raw_name) {
        Ok(n) => n,
        Err(problem) => {
            l.error(section, None, problem, None);
            return Vec::new();
        }
    };
    let mut common = l.here_exps();
    common.insert("program_name".into(), s(&program_name));
    common.insert("host_node_name".into(), s(&l.host_node_name));
    common.insert("group_name".into(), s(group_name));

    let priority = clamp_i32(l.typed(section, "priority", &common, 999, values::integer));
    let autostart = l.typed(section, "autostart", &common, true, values::boolean);
    let autorestart = l.typed(
        section,
        "autorestart",
        &common,
        AutoRestart::Unexpected,
        values::autorestart,
    );
    let startsecs = non_negative(l.typed(section, "startsecs", &common, 1, values::integer));
    let startretries = clamp_u32(l.typed(section, "startretries", &common, 3, values::integer));
    let stopsignal = l.typed(section, "stopsignal", &common, 15, values::signal);
    let stopwaitsecs = non_negative(l.typed(section, "stopwaitsecs", &common, 10, values::integer));
    let stopasgroup = l.typed(section, "stopasgroup", &common, false, values::boolean);
    let killasgroup = l.typed(
        section,
        "killasgroup",
        &common,
        stopasgroup,
        values::boolean,
    );
    let exitcodes = l.typed(section, "exitcodes", &common, vec![0], values::exitcodes);
    let redirect_stderr = l.typed(section, "redirect_stderr", &common, false, values::boolean);
    let numprocs = l.typed(section, "numprocs", &common, 1, values::integer);
    let numprocs_start = l.typed(section, "numprocs_start", &common, 0, values::integer);
    let environment_raw = l
        .entry(section, "environment")
        .map(|e| e.value)
        .unwrap_or_default();
    let stdout_cmax = non_negative(l.typed(
        section,
        "stdout_capture_maxbytes",
        &common,
        0,
        values::byte_size,
    ));
    let stdout_events = l.typed(
        section,
        "stdout_events_enabled",
        &common,
        false,
        values::boolean,
    );
    let stderr_cmax = non_negative(l.typed(
        section,
        "stderr_capture_maxbytes",
        &common,
        0,
        values::byte_size,
    ));
    let stderr_events = l.typed(
        section,
        "stderr_events_enabled",
        &common,
        false,
        values::boolean,
    );
    let serverurl = l
        .get(section, "serverurl", &common)
        .ok()
        .flatten()
        .filter(|u| u.trim().to_uppercase() != "AUTO");
    let user = l.typed_opt(section, "user", &common, |v| {
        users::lookup_user(v).map(|u| u.user)
    });
    let umask = l.typed_opt(section, "umask", &common, values::octal);
    let essential = l.typed(section, "essential", &common, false, values::boolean);
    let log_timestamps = l.typed(section, "log_timestamps", &common, false, values::boolean);
    let env_file = l.env_files(section, &common);
    let log_prefix_raw = l.entry(section, "log_prefix").map(|e| e.value);
    let depends_on = super::dependencies::read_depends_on(l, section, &common);
    let restart = super::dependencies::read_restart(l, section, &common);
    let process_name_raw = l
        .entry(section, "process_name")
        .map(|e| e.value)
        .unwrap_or_else(|| "%(program_name)s".to_string());
    let process_name = match values::name(&process_name_raw) {
        Ok(n) => n,
        Err(problem) => {
            l.error(
                section,
                Some("process_name"),
                problem,
                Some(&process_name_raw),
            );
            return Vec::new();
        }
    };
    if numprocs > 1 && !process_name.contains("%(process_num)") {
        l.error(
            section,
            Some("process_name"),
            "%(process_num) must be present within process_name when numprocs > 1".into(),
            Some(&process_name),
        );
    }
    if stopasgroup && !killasgroup {
        l.error(
            section,
            Some("killasgroup"),
            "Cannot set stopasgroup=true and killasgroup=false".into(),
            None,
        );
    }

    let mut processes = Vec::new();
    let mut exps = common;
    let mut num = numprocs_start;
    while num < numprocs_start.saturating_add(numprocs) {
        let process_num = num;
        num += 1;
        exps.insert("process_num".into(), ExpValue::Int(process_num));
        exps.insert("numprocs".into(), ExpValue::Int(numprocs));
        exps.extend(l.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        let environment: BTreeMap<String, String> = match l.expand_value(
            section,
            "environment",
            &environment_raw,
            &exps,
            "environment",
            true,
        ) {
            Some(text) => match values::environment(&text) {
                Ok(env) => env,
                Err(problem) => {
                    l.error(section, Some("environment"), problem, Some(&text));
                    break;
                }
            },
            None => break,
        };
        // The program's own variables are ENV_ names for the options read after it.
        for (k, v) in &environment {
            exps.insert(format!("ENV_{k}"), s(v));
        }
        let directory = l.get(section, "directory", &exps).ok().flatten();
        let stdout = log_channel(l, section, "stdout", &exps, stdout_cmax, stdout_events);
        let mut stderr = log_channel(l, section, "stderr", &exps, stderr_cmax, stderr_events);
        if redirect_stderr {
            if matches!(stderr.logfile, LogTarget::File(_)) {
                l.warn(format!(
                    "For [{section}], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored"
                ));
            }
            // The reference never creates a stderr log when stderr is redirected.
            stderr.logfile = LogTarget::None;
        }
        let command = match l.command(section, &exps) {
            Ok(Some(c)) => c,
            Ok(None) => {
                l.error(
                    section,
                    Some("command"),
                    format!("program section {section} does not specify a command"),
                    None,
                );
                break;
            }
            Err(()) => break,
        };
        let log_prefix = match &log_prefix_raw {
            Some(raw) => {
                match l.expand_value(section, "log_prefix", raw, &exps, "log_prefix", true) {
                    Some(text) => Some(values::quoted_text(&text)),
                    None => break,
                }
            }
            None => None,
        };
        let healthcheck = super::healthcheck::read(l, section, &exps);
        let Some(name) = l.expand_value(
            section,
            "process_name",
            &process_name,
            &exps,
            "process_name",
            true,
        ) else {
            break;
        };
        processes.push(ProcessConfig {
            name,
            section: section.to_string(),
            program_name: program_name.clone(),
            process_num: clamp_u32(process_num),
            command,
            priority,
            autostart,
            startsecs,
            startretries,
            autorestart,
            exitcodes: exitcodes.clone(),
            stopsignal,
            stopwaitsecs,
            stopasgroup,
            killasgroup,
            user: user.clone(),
            redirect_stderr,
            stdout,
            stderr,
            environment,
            directory,
            umask,
            serverurl: serverurl.clone(),
            extensions: ProgramExtensions {
                depends_on: depends_on.clone(),
                restart,
                essential,
                log_prefix,
                log_timestamps,
                env_file: env_file.clone(),
                healthcheck,
            },
        });
    }
    let _ = kind;
    crate::sort::sort_by(&mut processes, |a, b| {
        (a.priority, &a.name).cmp(&(b.priority, &b.name))
    });
    processes
}

/// One channel's log options; the logfile is expanded twice (the reference's quirk), and the
/// deprecated `syslog` filename turns into `*_syslog=true` with no file.
fn log_channel(
    l: &mut Loader,
    section: &str,
    channel: &str,
    exps: &Expansions,
    capture_maxbytes: u64,
    events_enabled: bool,
) -> LogChannel {
    let lf_key = format!("{channel}_logfile");
    let mut logfile = LogTarget::Auto;
    if let Some(entry) = l.entry(section, &lf_key) {
        let mut all = l.env.clone();
        all.extend(exps.iter().map(|(k, v)| (k.clone(), v.clone())));
        let once = l.expand_value(
            section,
            &lf_key,
            &entry.value,
            &all,
            &format!("{section}.{lf_key}"),
            false,
        );
        let twice = once.and_then(|v| l.expand_value(section, &lf_key, &v, exps, &lf_key, true));
        if let Some(v) = twice {
            match values::logfile_name(&v) {
                Ok(t) => logfile = t,
                Err(problem) => l.error(section, Some(&lf_key), problem, Some(&v)),
            }
        }
    }
    let backups = clamp_u32(l.typed(
        section,
        &format!("{channel}_logfile_backups"),
        exps,
        10,
        values::integer,
    ));
    let maxbytes = l.typed(
        section,
        &format!("{channel}_logfile_maxbytes"),
        exps,
        50 * 1024 * 1024,
        values::byte_size,
    );
    let mut syslog = l.typed(
        section,
        &format!("{channel}_syslog"),
        exps,
        false,
        values::boolean,
    );
    if logfile == LogTarget::Syslog {
        l.warn(format!(
            "For [{section}], {lf_key}=syslog but this is deprecated and will be removed.  Use {channel}_syslog=true to enable syslog instead."
        ));
        logfile = LogTarget::None;
        syslog = true;
    }
    if logfile == LogTarget::Auto && maxbytes == 0 {
        l.warn(format!(
            "For [{section}], AUTO logging used for {lf_key} without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally"
        ));
    }
    LogChannel {
        logfile,
        logfile_maxbytes: non_negative(maxbytes),
        logfile_backups: backups,
        capture_maxbytes,
        events_enabled,
        syslog,
    }
}
