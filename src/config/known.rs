//! The options each section type understands, and did-you-mean suggestions for unknown ones.

pub const SUPERVISORD: &[&str] = &[
    "logfile",
    "logfile_maxbytes",
    "logfile_backups",
    "loglevel",
    "pidfile",
    "umask",
    "nodaemon",
    "silent",
    "minfds",
    "minprocs",
    "nocleanup",
    "childlogdir",
    "user",
    "directory",
    "strip_ansi",
    "environment",
    "identifier",
    "profile_options",
    // Ours (docs/extensions.md).
    "exit_when_idle",
    "env_file",
];
pub const UNIX_HTTP_SERVER: &[&str] = &["file", "chmod", "chown", "username", "password"];
pub const INET_HTTP_SERVER: &[&str] = &[
    "port",
    "username",
    "password",
    "allowed_hosts",
    "protected_mode",
];
pub const SUPERVISORCTL: &[&str] = &[
    "serverurl",
    "username",
    "password",
    "prompt",
    "history_file",
];
pub const PROGRAM: &[&str] = &[
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "startsecs",
    "startretries",
    "autorestart",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "directory",
    "umask",
    "serverurl",
    // Ours (docs/extensions.md).
    "essential",
    "log_prefix",
    "log_timestamps",
    "env_file",
    // Extensions (the reference ignores them): dependencies and restart policies.
    "depends_on",
    "restart_delay",
    "restart_delay_max",
    "restart_jitter",
    "backoff_max",
    // Health checks (docs/extensions.md).
    "healthcheck",
    "healthcheck_interval",
    "healthcheck_timeout",
    "healthcheck_retries",
    "healthcheck_start_period",
    "healthcheck_action",
];
pub const EVENTLISTENER_EXTRA: &[&str] = &["events", "buffer_size", "result_handler"];
pub const FCGI_EXTRA: &[&str] = &["socket", "socket_backlog", "socket_owner", "socket_mode"];
pub const GROUP: &[&str] = &["programs", "priority"];
pub const INCLUDE: &[&str] = &["files"];

/// Section names (or prefixes before `:`) the reference reads.
pub const SECTION_KINDS: &[&str] = &[
    "supervisord",
    "unix_http_server",
    "inet_http_server",
    "supervisorctl",
    "program",
    "group",
    "include",
    "eventlistener",
    "fcgi-program",
    "rpcinterface",
    "ctlplugin",
];

/// Event type names `events=` accepts (the reference's EventTypes).
pub const EVENT_TYPES: &[&str] = &[
    "EVENT",
    "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDERR",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_GROUP",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
    "PROCESS_LOG",
    "PROCESS_LOG_STDERR",
    "PROCESS_LOG_STDOUT",
    "PROCESS_STATE",
    "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_EXITED",
    "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING",
    "PROCESS_STATE_STARTING",
    "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_UNKNOWN",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK",
    "TICK_3600",
    "TICK_5",
    "TICK_60",
];

/// Levenshtein distance between two short strings.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate within a distance that still looks like a typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let cases = [
            ("autorestrat", PROGRAM, Some("autorestart")),
            ("comand", PROGRAM, Some("command")),
            (
                "stdout_logfile_maxbyte",
                PROGRAM,
                Some("stdout_logfile_maxbytes"),
            ),
            ("numproc", PROGRAM, Some("numprocs")),
            ("xyzzy", PROGRAM, None),
            ("loglvl", SUPERVISORD, Some("loglevel")),
            ("programs", SECTION_KINDS, Some("program")),
        ];
        for (word, cands, want) in cases {
            assert_eq!(suggest(word, cands), want, "{word}");
        }
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
