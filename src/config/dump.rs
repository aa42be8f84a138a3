//! The resolved model as JSON (`check-config --dump`): every group and process with every option,
//! written by hand (no serde). Process environments are shown merged with the global one, which is
//! what a child receives from the config.

use super::model::*;
use std::collections::BTreeMap;
use std::path::Path;

/// A JSON value built from the model, printed with stable key order.
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    /// Seconds with fractions (the extensions' durations).
    Num(f64),
    Str(String),
    List(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn write(&self, out: &mut String, indent: usize) {
        let pad = "  ".repeat(indent + 1);
        let end_pad = "  ".repeat(indent);
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Num(n) => out.push_str(&n.to_string()),
            Json::Str(s) => write_str(out, s),
            Json::List(items) if items.is_empty() => out.push_str("[]"),
            Json::List(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&pad);
                    item.write(out, indent + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                out.push_str(&end_pad);
                out.push(']');
            }
            Json::Object(fields) if fields.is_empty() => out.push_str("{}"),
            Json::Object(fields) => {
                out.push_str("{\n");
                for (i, (k, v)) in fields.iter().enumerate() {
                    out.push_str(&pad);
                    write_str(out, k);
                    out.push_str(": ");
                    v.write(out, indent + 1);
                    out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
                }
                out.push_str(&end_pad);
                out.push('}');
            }
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn obj(fields: Vec<(&str, Json)>) -> Json {
    Json::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

fn st(s: &str) -> Json {
    Json::Str(s.to_string())
}

fn path(p: &Path) -> Json {
    Json::Str(p.to_string_lossy().into_owned())
}

fn paths(list: &[std::path::PathBuf]) -> Json {
    Json::List(list.iter().map(|p| path(p)).collect())
}

fn opt_str(s: &Option<String>) -> Json {
    s.as_ref().map(|s| st(s)).unwrap_or(Json::Null)
}

fn int(n: impl Into<i64>) -> Json {
    Json::Int(n.into())
}

fn uint(n: u64) -> Json {
    Json::Int(n.min(i64::MAX as u64) as i64)
}

fn env(map: &BTreeMap<String, String>) -> Json {
    Json::Object(map.iter().map(|(k, v)| (k.clone(), st(v))).collect())
}

fn user(u: &Option<User>) -> Json {
    match u {
        None => Json::Null,
        Some(u) => obj(vec![
            ("name", opt_str(&u.name)),
            ("uid", int(u.uid)),
            ("gid", u.gid.map(int).unwrap_or(Json::Null)),
        ]),
    }
}

fn owner(o: &Option<(u32, Option<u32>)>) -> Json {
    match o {
        None => Json::Null,
        Some((uid, gid)) => Json::List(vec![int(*uid), gid.map(int).unwrap_or(Json::Null)]),
    }
}

fn log_target(t: &LogTarget) -> Json {
    match t {
        LogTarget::Auto => st("AUTO"),
        LogTarget::None => Json::Null,
        LogTarget::Syslog => st("syslog"),
        LogTarget::File(p) => path(p),
    }
}

pub fn level_name(l: LogLevel) -> &'static str {
    match l {
        LogLevel::Blather => "blather",
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
        LogLevel::Critical => "critical",
    }
}

fn credentials(c: &Option<Credentials>) -> Vec<(&'static str, Json)> {
    vec![
        (
            "username",
            c.as_ref().map(|c| st(&c.username)).unwrap_or(Json::Null),
        ),
        (
            "password",
            c.as_ref().map(|c| st(&c.password)).unwrap_or(Json::Null),
        ),
    ]
}

fn process(p: &ProcessConfig, global_env: &BTreeMap<String, String>) -> Json {
    let mut merged = global_env.clone();
    merged.extend(p.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut fields = vec![
        ("name", st(&p.name)),
        ("section", st(&p.section)),
        ("program_name", st(&p.program_name)),
        ("process_num", int(p.process_num)),
        ("command", st(&p.command)),
        ("priority", int(p.priority)),
        ("autostart", Json::Bool(p.autostart)),
        ("startsecs", uint(p.startsecs)),
        ("startretries", int(p.startretries)),
        (
            "autorestart",
            st(match p.autorestart {
                AutoRestart::Never => "false",
                AutoRestart::Unexpected => "unexpected",
                AutoRestart::Always => "true",
            }),
        ),
        (
            "exitcodes",
            Json::List(p.exitcodes.iter().map(|c| int(*c)).collect()),
        ),
        (
            "stopsignal",
            st(&crate::signals::name(p.stopsignal).unwrap_or_else(|| p.stopsignal.to_string())),
        ),
        ("stopwaitsecs", uint(p.stopwaitsecs)),
        ("stopasgroup", Json::Bool(p.stopasgroup)),
        ("killasgroup", Json::Bool(p.killasgroup)),
        ("user", user(&p.user)),
        ("redirect_stderr", Json::Bool(p.redirect_stderr)),
    ];
    for (name, ch) in [("stdout", &p.stdout), ("stderr", &p.stderr)] {
        let key = |suffix: &str| -> &'static str {
            // Static keys keep the field list simple.
            match (name, suffix) {
                ("stdout", "logfile") => "stdout_logfile",
                ("stdout", "maxbytes") => "stdout_logfile_maxbytes",
                ("stdout", "backups") => "stdout_logfile_backups",
                ("stdout", "capture") => "stdout_capture_maxbytes",
                ("stdout", "events") => "stdout_events_enabled",
                ("stdout", _) => "stdout_syslog",
                (_, "logfile") => "stderr_logfile",
                (_, "maxbytes") => "stderr_logfile_maxbytes",
                (_, "backups") => "stderr_logfile_backups",
                (_, "capture") => "stderr_capture_maxbytes",
                (_, "events") => "stderr_events_enabled",
                _ => "stderr_syslog",
            }
        };
        fields.push((key("logfile"), log_target(&ch.logfile)));
        fields.push((key("maxbytes"), uint(ch.logfile_maxbytes)));
        fields.push((key("backups"), int(ch.logfile_backups)));
        fields.push((key("capture"), uint(ch.capture_maxbytes)));
        fields.push((key("events"), Json::Bool(ch.events_enabled)));
        fields.push((key("syslog"), Json::Bool(ch.syslog)));
    }
    fields.extend([
        ("environment", env(&merged)),
        ("directory", opt_str(&p.directory)),
        ("umask", p.umask.map(int).unwrap_or(Json::Null)),
        (
            "serverurl",
            p.serverurl.as_ref().map(|s| st(s)).unwrap_or(st("AUTO")),
        ),
    ]);
    // Our keys appear only when set, so dumps of reference configs stay as they were.
    let ext = &p.extensions;
    if ext.essential {
        fields.push(("essential", Json::Bool(true)));
    }
    if let Some(prefix) = &ext.log_prefix {
        fields.push(("log_prefix", st(prefix)));
    }
    if ext.log_timestamps {
        fields.push(("log_timestamps", Json::Bool(true)));
    }
    if !ext.env_file.is_empty() {
        fields.push(("env_file", paths(&ext.env_file)));
    }
    // Extensions appear only when set: a config without them dumps as before.
    if !p.extensions.depends_on.is_empty() {
        let deps = p
            .extensions
            .depends_on
            .iter()
            .map(|d| st(&format!("{}:{}", d.label, d.condition.name())))
            .collect();
        fields.push(("depends_on", Json::List(deps)));
    }
    let r = &p.extensions.restart;
    if r.is_set() {
        fields.extend([
            ("restart_delay", Json::Num(r.restart_delay.as_secs_f64())),
            (
                "restart_delay_max",
                Json::Num(r.restart_delay_max.as_secs_f64()),
            ),
            (
                "restart_jitter",
                Json::Num(f64::from(r.restart_jitter_ppm) / 1e6),
            ),
            (
                "backoff_max",
                r.backoff_max
                    .map_or(Json::Null, |d| Json::Num(d.as_secs_f64())),
            ),
        ]);
    }
    if let Some(h) = &ext.healthcheck {
        fields.extend([
            ("healthcheck", st(&h.spec)),
            ("healthcheck_interval", Json::Num(h.interval.as_secs_f64())),
            ("healthcheck_timeout", Json::Num(h.timeout.as_secs_f64())),
            ("healthcheck_retries", int(h.retries)),
            (
                "healthcheck_start_period",
                Json::Num(h.start_period.as_secs_f64()),
            ),
            (
                "healthcheck_action",
                st(match h.action {
                    HealthAction::None => "none",
                    HealthAction::Restart => "restart",
                }),
            ),
        ]);
    }
    obj(fields)
}

fn group(g: &GroupConfig, global_env: &BTreeMap<String, String>) -> Json {
    let mut fields = vec![
        ("name", st(&g.name)),
        ("priority", int(g.priority)),
        (
            "kind",
            st(match g.kind {
                GroupKind::Program => "program",
                GroupKind::EventListener(_) => "eventlistener",
                GroupKind::FcgiProgram(_) => "fcgi-program",
            }),
        ),
    ];
    match &g.kind {
        GroupKind::Program => {}
        GroupKind::EventListener(e) => {
            let mut events = e.events.clone();
            crate::sort::sort(&mut events);
            fields.push(("events", Json::List(events.iter().map(|e| st(e)).collect())));
            fields.push(("buffer_size", int(e.buffer_size as i64)));
            fields.push(("result_handler", st(&e.result_handler)));
        }
        GroupKind::FcgiProgram(f) => {
            fields.push(("socket", st(&f.socket)));
            fields.push((
                "socket_backlog",
                f.socket_backlog.map(int).unwrap_or(Json::Null),
            ));
            fields.push(("socket_owner", owner(&f.socket_owner)));
            fields.push(("socket_mode", int(f.socket_mode)));
        }
    }
    fields.push((
        "processes",
        Json::List(g.processes.iter().map(|p| process(p, global_env)).collect()),
    ));
    obj(fields)
}

/// The whole model as JSON.
pub fn to_json(c: &Config) -> Json {
    let s = &c.supervisord;
    let mut supervisord = vec![
        ("logfile", path(&s.logfile)),
        ("logfile_maxbytes", uint(s.logfile_maxbytes)),
        ("logfile_backups", int(s.logfile_backups)),
        ("loglevel", st(level_name(s.loglevel))),
        ("pidfile", path(&s.pidfile)),
        ("umask", int(s.umask)),
        ("nodaemon", Json::Bool(s.nodaemon)),
        ("silent", Json::Bool(s.silent)),
        ("minfds", uint(s.minfds)),
        ("minprocs", uint(s.minprocs)),
        ("nocleanup", Json::Bool(s.nocleanup)),
        ("childlogdir", path(&s.childlogdir)),
        ("user", user(&s.user)),
        (
            "directory",
            s.directory.as_deref().map(path).unwrap_or(Json::Null),
        ),
        ("strip_ansi", Json::Bool(s.strip_ansi)),
        ("environment", env(&s.environment)),
        ("identifier", st(&s.identifier)),
    ];
    if s.extensions.exit_when_idle {
        supervisord.push(("exit_when_idle", Json::Bool(true)));
    }
    if !s.extensions.env_file.is_empty() {
        supervisord.push(("env_file", paths(&s.extensions.env_file)));
    }
    let supervisord = obj(supervisord);
    let unix = c
        .unix_http_servers
        .iter()
        .map(|u| {
            let mut f = vec![
                ("section", st(&u.section)),
                ("file", path(&u.file)),
                ("chmod", int(u.chmod)),
                ("chown", owner(&u.chown)),
            ];
            f.extend(credentials(&u.credentials));
            obj(f)
        })
        .collect();
    let inet = c
        .inet_http_servers
        .iter()
        .map(|i| {
            let mut f = vec![
                ("section", st(&i.section)),
                ("host", st(&i.host)),
                ("port", int(i.port)),
            ];
            f.extend(credentials(&i.credentials));
            f.push((
                "allowed_hosts",
                Json::List(i.allowed_hosts.iter().map(|h| st(h)).collect()),
            ));
            f.push(("protected_mode", Json::Bool(i.protected_mode)));
            obj(f)
        })
        .collect();
    let ctl = match &c.supervisorctl {
        None => Json::Null,
        Some(ctl) => obj(vec![
            ("serverurl", st(&ctl.serverurl)),
            ("username", opt_str(&ctl.username)),
            ("password", opt_str(&ctl.password)),
            ("prompt", st(&ctl.prompt)),
            (
                "history_file",
                ctl.history_file.as_deref().map(path).unwrap_or(Json::Null),
            ),
        ]),
    };
    obj(vec![
        ("path", path(&c.path)),
        (
            "files",
            Json::List(c.files.iter().map(|f| path(f)).collect()),
        ),
        ("supervisord", supervisord),
        ("unix_http_servers", Json::List(unix)),
        ("inet_http_servers", Json::List(inet)),
        ("supervisorctl", ctl),
        (
            "rpcinterfaces",
            Json::List(
                c.rpcinterfaces
                    .iter()
                    .map(|r| obj(vec![("name", st(&r.name)), ("factory", st(&r.factory))]))
                    .collect(),
            ),
        ),
        (
            "groups",
            Json::List(c.groups.iter().map(|g| group(g, &s.environment)).collect()),
        ),
        (
            "warnings",
            Json::List(c.warnings.iter().map(|w| st(&w.message)).collect()),
        ),
        ("infos", Json::List(c.infos.iter().map(|i| st(i)).collect())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_json_with_escapes() {
        let j = obj(vec![
            ("a", st("x\"y\\z\n")),
            ("b", Json::List(vec![int(1), Json::Null, Json::Bool(true)])),
            ("c", Json::Object(vec![])),
            ("d", Json::List(vec![])),
        ]);
        assert_eq!(
            j.render(),
            "{\n  \"a\": \"x\\\"y\\\\z\\n\",\n  \"b\": [\n    1,\n    null,\n    true\n  ],\n  \"c\": {},\n  \"d\": []\n}\n"
        );
    }
}
