//! What a config that loads would still get wrong once supervisord runs it: commands that cannot
//! be split, sockets and logs in missing or unwritable directories, a shell snippet whose
//! `${NAME:-default}` supervisor expanded first, an unauthenticated inet server open to all
//! (protected_mode=false).
//! check-config reports these; the daemon keeps the reference's behaviour (it starts, and the
//! program goes to FATAL or the server fails), so none of this is a load error.

use super::loader::Loader;
use super::model::{Config, LogTarget};
use super::values;
use crate::python::py_repr;
use std::path::Path;

/// Findings of [`check`]: errors (certain to fail at run time) and warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl Findings {
    fn error(&mut self, m: String) {
        if !self.errors.contains(&m) {
            self.errors.push(m);
        }
    }
    fn warn(&mut self, m: String) {
        if !self.warnings.contains(&m) {
            self.warnings.push(m);
        }
    }
}

/// Programs that interpret their `-c` argument as shell code.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "busybox"];

/// Checks the resolved `cfg`; `l` knows where each option was written.
pub(super) fn check(l: &Loader, cfg: &Config) -> Findings {
    let mut f = Findings::default();
    commands(l, cfg, &mut f);
    directories(l, cfg, &mut f);
    servers(l, cfg, &mut f);
    f
}

fn commands(l: &Loader, cfg: &Config, f: &mut Findings) {
    for g in &cfg.groups {
        for p in &g.processes {
            let loc = l.location(&p.section, "command");
            let words = match values::shlex_split(&p.command) {
                Ok(w) => w,
                Err(reason) => {
                    // The reference's spawnerr, word for word.
                    f.error(format!(
                        "{loc}[{}] command: can't parse command {}: {reason}{}",
                        p.section,
                        py_repr(&p.command),
                        comment_hint(l, &p.section)
                    ));
                    continue;
                }
            };
            if words.is_empty() {
                f.error(format!("{loc}[{}] command: command is empty", p.section));
                continue;
            }
            let Some(defaulted) = l
                .shell_defaults
                .iter()
                .find(|(s, _)| *s == p.section)
                .map(|(_, d)| d)
            else {
                continue;
            };
            if runs_shell_code(&words) {
                for form in defaulted {
                    f.warn(format!(
                        "{loc}[{}] command: {form} was expanded by supervisor before {} ran it (it is outside single quotes); write $${} or single-quote the script to leave it to the shell",
                        p.section,
                        words[0],
                        &form[1..]
                    ));
                }
            }
        }
    }
}

/// When the raw line had a ` ;` or ` #` that started an inline comment, say so: that is the
/// usual reason for an unclosed quote.
fn comment_hint(l: &Loader, section: &str) -> &'static str {
    let Some(e) = l.entry(section, "command") else {
        return "";
    };
    let raw = std::fs::read_to_string(&e.file).unwrap_or_default();
    let line = raw.lines().nth(e.line.saturating_sub(1)).unwrap_or("");
    if [" ;", "\t;", " #", "\t#"].iter().any(|c| line.contains(c)) {
        " (\" ;\" and \" #\" start an inline comment: the rest of the line was dropped)"
    } else {
        ""
    }
}

/// `sh -c '...'`, `bash -ec '...'`, `/bin/sh -c ...`.
fn runs_shell_code(words: &[String]) -> bool {
    let base = Path::new(&words[0])
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    SHELLS.contains(&base.as_str())
        && words[1..]
            .iter()
            .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('c'))
}

fn directories(l: &Loader, cfg: &Config, f: &mut Findings) {
    // With `user=` the daemon drops to another user before writing: permissions cannot be
    // judged from here.
    let as_us = cfg.supervisord.user.is_none();
    for u in &cfg.unix_http_servers {
        let loc = l.location(&u.section, "file");
        let dir = u.file.parent().unwrap_or(Path::new("/"));
        if !dir.is_dir() {
            f.error(format!(
                "{loc}[{}] file: the directory {} of the socket does not exist",
                u.section,
                dir.display()
            ));
        } else if as_us && !writable(dir) {
            f.warn(format!(
                "{loc}[{}] file: the directory {} of the socket is not writable by uid {}",
                u.section,
                dir.display(),
                uid()
            ));
        }
    }
    if !as_us {
        return;
    }
    let s = &cfg.supervisord;
    for (option, path) in [("logfile", &s.logfile), ("pidfile", &s.pidfile)] {
        let loc = l.location("supervisord", option);
        if !file_writable(path) {
            f.warn(format!(
                "{loc}[supervisord] {option}: {} is not writable by uid {}",
                path.display(),
                uid()
            ));
        }
    }
    let mut auto = false;
    for g in &cfg.groups {
        for p in &g.processes {
            for (option, ch) in [("stdout_logfile", &p.stdout), ("stderr_logfile", &p.stderr)] {
                match &ch.logfile {
                    LogTarget::Auto => auto = true,
                    LogTarget::File(path) if !file_writable(path) => {
                        let loc = l.location(&p.section, option);
                        f.warn(format!(
                            "{loc}[{}] {option}: {} is not writable by uid {}",
                            p.section,
                            path.display(),
                            uid()
                        ));
                    }
                    _ => {}
                }
            }
        }
    }
    if auto && !writable(&s.childlogdir) {
        let loc = l.location("supervisord", "childlogdir");
        f.warn(format!(
            "{loc}[supervisord] childlogdir: {} (for AUTO child logs) is not writable by uid {}",
            s.childlogdir.display(),
            uid()
        ));
    }
}

fn servers(l: &Loader, cfg: &Config, f: &mut Findings) {
    for s in &cfg.inet_http_servers {
        // Protected mode (the default) already refuses peers beyond loopback.
        if s.credentials.is_some() || s.protected_mode || loopback(&s.host) {
            continue;
        }
        let loc = l.location(&s.section, "port");
        let host = if s.host.is_empty() { "*" } else { &s.host };
        f.warn(format!(
            "{loc}[{}] port: {host}:{} serves the XML-RPC interface beyond this host without a username and password and with protected_mode off: anyone who can reach it can run and stop programs",
            s.section, s.port
        ));
    }
}

fn loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn uid() -> u32 {
    // SAFETY: getuid never fails.
    unsafe { libc::getuid() }
}

/// access(2) W_OK on `path` (a directory also needs X_OK to create entries in it).
fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    let mode = if path.is_dir() {
        libc::W_OK | libc::X_OK
    } else {
        libc::W_OK
    };
    // SAFETY: a valid NUL-terminated path; access only reads it.
    unsafe { libc::access(c.as_ptr(), mode) == 0 }
}

/// A log or pid file can be written: the file itself if it exists, else its directory.
fn file_writable(path: &Path) -> bool {
    if path.exists() {
        return writable(path);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::env::current_dir().unwrap_or_else(|_| "/".into()),
    };
    // A missing directory is already a load error (existing_dirpath).
    !dir.is_dir() || writable(&dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_code_is_recognised() {
        let w = |s: &str| values::shlex_split(s).unwrap();
        assert!(runs_shell_code(&w("sh -c 'echo hi'")));
        assert!(runs_shell_code(&w("/bin/bash -ec 'echo hi'")));
        assert!(!runs_shell_code(&w("sh script.sh")));
        assert!(!runs_shell_code(&w("python -c 'print(1)'")));
        assert!(!runs_shell_code(&w("bash --norc script")));
    }

    #[test]
    fn loopback_hosts() {
        for h in ["127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"] {
            assert!(loopback(h), "{h}");
        }
        for h in ["", "*", "0.0.0.0", "10.0.0.1", "example.com", "::"] {
            assert!(!loopback(h), "{h}");
        }
    }
}
