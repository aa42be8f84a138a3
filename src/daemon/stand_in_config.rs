//! A minimal config reader used until `config::load` lands (only the options the daemon tests
//! use; no includes, no numprocs, only `%(here)s`). Deleted when the config area lands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::model::*;

fn boolean(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!("not a valid boolean value: '{v}'")),
    }
}

fn int<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("invalid literal for int() with base 10: '{v}'"))
}

fn user(v: &str) -> Result<User, String> {
    let by_name = nix::unistd::User::from_name(v).ok().flatten();
    let found = match by_name {
        Some(u) => Some(u),
        None => v.parse::<u32>().ok().and_then(|uid| {
            nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
                .ok()
                .flatten()
        }),
    };
    found
        .map(|u| User {
            name: Some(u.name),
            uid: u.uid.as_raw(),
            gid: Some(u.gid.as_raw()),
        })
        .ok_or_else(|| format!("Invalid user name {v}"))
}

fn environment(v: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for pair in v.split(',') {
        if let Some((k, val)) = pair.split_once('=') {
            let val = val.trim().trim_matches(|c| c == '"' || c == '\'');
            out.insert(k.trim().to_string(), val.to_string());
        }
    }
    out
}

fn log_target(v: Option<&str>) -> LogTarget {
    match v {
        None => LogTarget::Auto,
        Some(s) if s.eq_ignore_ascii_case("auto") => LogTarget::Auto,
        Some(s) if s.eq_ignore_ascii_case("none") || s.eq_ignore_ascii_case("off") => {
            LogTarget::None
        }
        Some(s) => LogTarget::File(PathBuf::from(s)),
    }
}

fn level(v: &str) -> Result<LogLevel, String> {
    Ok(match v.to_ascii_lowercase().as_str() {
        "critical" => LogLevel::Critical,
        "error" => LogLevel::Error,
        "warn" => LogLevel::Warn,
        "info" => LogLevel::Info,
        "debug" => LogLevel::Debug,
        "trace" => LogLevel::Trace,
        "blather" => LogLevel::Blather,
        _ => return Err(format!("bad logging level name '{v}'")),
    })
}

pub fn load(path: &Path) -> Result<Config, Vec<String>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| vec![format!("{}: {e}", path.display())])?;
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let here = abs
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = text.replace("%(here)s", &here);
    let ini = ini::Ini::load_from_str(&text).map_err(|e| vec![e.to_string()])?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut errors = Vec::new();
    let mut check = |r: Result<(), String>| {
        if let Err(e) = r {
            errors.push(e);
        }
    };
    let Some(sd) = ini.section(Some("supervisord")) else {
        return Err(vec![
            ".ini file does not include supervisord section".into(),
        ]);
    };
    let get = |k: &str| sd.get(k).map(str::trim);
    let mut s = SupervisordConfig {
        logfile: cwd.join(get("logfile").unwrap_or("supervisord.log")),
        logfile_maxbytes: 50 * 1024 * 1024,
        logfile_backups: 10,
        loglevel: LogLevel::Info,
        pidfile: cwd.join(get("pidfile").unwrap_or("supervisord.pid")),
        umask: 0o22,
        nodaemon: false,
        silent: false,
        minfds: 1024,
        minprocs: 200,
        nocleanup: false,
        childlogdir: PathBuf::from(get("childlogdir").unwrap_or("/tmp")),
        user: None,
        directory: get("directory").map(PathBuf::from),
        strip_ansi: false,
        environment: get("environment").map(environment).unwrap_or_default(),
        identifier: get("identifier").unwrap_or("supervisor").to_string(),
    };
    if let Some(v) = get("loglevel") {
        check(level(v).map(|l| s.loglevel = l));
    }
    if let Some(v) = get("nodaemon") {
        check(boolean(v).map(|b| s.nodaemon = b));
    }
    if let Some(v) = get("silent") {
        check(boolean(v).map(|b| s.silent = b));
    }
    if let Some(v) = get("nocleanup") {
        check(boolean(v).map(|b| s.nocleanup = b));
    }
    if let Some(v) = get("minfds") {
        check(int(v).map(|n| s.minfds = n));
    }
    if let Some(v) = get("minprocs") {
        check(int(v).map(|n| s.minprocs = n));
    }
    if let Some(v) = get("user") {
        check(user(v).map(|u| s.user = Some(u)));
    }
    if let Some(v) = get("umask") {
        check(
            u32::from_str_radix(v, 8)
                .map(|n| s.umask = n)
                .map_err(|_| format!("{v} can not be converted to an octal type")),
        );
    }
    let mut config = Config {
        path: path.to_path_buf(),
        files: vec![path.to_path_buf()],
        supervisord: s,
        unix_http_servers: Vec::new(),
        inet_http_servers: Vec::new(),
        supervisorctl: None,
        rpcinterfaces: Vec::new(),
        groups: Vec::new(),
        warnings: Vec::new(),
        infos: Vec::new(),
    };
    if let Some(u) = ini.section(Some("unix_http_server")) {
        config.unix_http_servers.push(UnixHttpServerConfig {
            section: "unix_http_server".into(),
            file: cwd.join(u.get("file").unwrap_or("supervisor.sock").trim()),
            chmod: 0o700,
            chown: None,
            credentials: None,
        });
    }
    if let Some(i) = ini.section(Some("inet_http_server")) {
        let port = i.get("port").unwrap_or("9001").trim();
        let (host, port) = port.rsplit_once(':').unwrap_or(("", port));
        config.inet_http_servers.push(InetHttpServerConfig {
            section: "inet_http_server".into(),
            host: host.to_lowercase(),
            port: port.parse().unwrap_or(9001),
            credentials: None,
        });
    }
    for (section, props) in ini.iter() {
        let section = section.unwrap_or_default();
        let (kind_name, name) = match section.split_once(':') {
            Some((k @ ("program" | "eventlistener"), n)) => (k, n),
            _ => continue,
        };
        let g = |k: &str| props.get(k).map(str::trim);
        let Some(command) = g("command") else {
            errors.push(format!(
                "program section program:{name} does not specify a command"
            ));
            continue;
        };
        let mut stopasgroup = false;
        let channel = |prefix: &str| LogChannel {
            logfile: log_target(g(&format!("{prefix}_logfile"))),
            logfile_maxbytes: 50 * 1024 * 1024,
            logfile_backups: 10,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: false,
        };
        let mut p = ProcessConfig {
            name: name.to_string(),
            section: format!("program:{name}"),
            program_name: name.to_string(),
            process_num: 0,
            command: command.to_string(),
            priority: 999,
            autostart: true,
            startsecs: 1,
            startretries: 3,
            autorestart: AutoRestart::Unexpected,
            exitcodes: vec![0],
            stopsignal: 15,
            stopwaitsecs: 10,
            stopasgroup: false,
            killasgroup: false,
            user: None,
            redirect_stderr: false,
            stdout: channel("stdout"),
            stderr: channel("stderr"),
            environment: g("environment").map(environment).unwrap_or_default(),
            directory: g("directory").map(str::to_string),
            umask: None,
            serverurl: None,
        };
        let mut errs = Vec::new();
        let mut chk = |r: Result<(), String>| {
            if let Err(e) = r {
                errs.push(format!("{e} in section 'program:{name}'"));
            }
        };
        if let Some(v) = g("priority") {
            chk(int(v).map(|n| p.priority = n));
        }
        if let Some(v) = g("autostart") {
            chk(boolean(v).map(|b| p.autostart = b));
        }
        if let Some(v) = g("startsecs") {
            chk(int(v).map(|n| p.startsecs = n));
        }
        if let Some(v) = g("startretries") {
            chk(int(v).map(|n| p.startretries = n));
        }
        if let Some(v) = g("stopwaitsecs") {
            chk(int(v).map(|n| p.stopwaitsecs = n));
        }
        if let Some(v) = g("autorestart") {
            let r = match v.to_ascii_lowercase().as_str() {
                "unexpected" => Ok(AutoRestart::Unexpected),
                other => boolean(other)
                    .map(|b| {
                        if b {
                            AutoRestart::Always
                        } else {
                            AutoRestart::Never
                        }
                    })
                    .map_err(|_| format!("invalid 'autorestart' value '{other}'")),
            };
            chk(r.map(|a| p.autorestart = a));
        }
        if let Some(v) = g("exitcodes") {
            let codes: Result<Vec<i32>, _> = v.split(',').map(|c| c.trim().parse()).collect();
            chk(codes
                .map(|c| p.exitcodes = c)
                .map_err(|_| format!("not a valid list of exit codes: '{v}'")));
        }
        if let Some(v) = g("stopsignal") {
            chk(crate::signals::parse(v).map(|n| p.stopsignal = n));
        }
        if let Some(v) = g("stopasgroup") {
            chk(boolean(v).map(|b| stopasgroup = b));
        }
        p.stopasgroup = stopasgroup;
        p.killasgroup = stopasgroup;
        if let Some(v) = g("killasgroup") {
            chk(boolean(v).map(|b| p.killasgroup = b));
        }
        if let Some(v) = g("redirect_stderr") {
            chk(boolean(v).map(|b| p.redirect_stderr = b));
        }
        if let Some(v) = g("user") {
            chk(user(v).map(|u| p.user = Some(u)));
        }
        if let Some(v) = g("umask") {
            chk(u32::from_str_radix(v, 8)
                .map(|n| p.umask = Some(n))
                .map_err(|_| format!("{v} can not be converted to an octal type")));
        }
        errors.extend(errs);
        let (kind, group_priority) = if kind_name == "eventlistener" {
            let events = g("events")
                .unwrap_or_default()
                .split(',')
                .map(|e| e.trim().to_ascii_uppercase())
                .filter(|e| !e.is_empty())
                .collect();
            let buffer_size = g("buffer_size").and_then(|v| v.parse().ok()).unwrap_or(10);
            let priority = g("priority").and_then(|v| v.parse().ok()).unwrap_or(-1);
            let opts = EventListenerOptions {
                events,
                buffer_size,
                result_handler: "supervisor.dispatchers:default_handler".into(),
            };
            (GroupKind::EventListener(opts), priority)
        } else {
            (GroupKind::Program, p.priority)
        };
        p.section = format!("{kind_name}:{name}");
        config.groups.push(GroupConfig {
            name: name.to_string(),
            priority: group_priority,
            kind,
            processes: vec![p],
        });
    }
    config
        .groups
        .sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
}
