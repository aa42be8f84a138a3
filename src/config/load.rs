//! Builds the model from a config file: reads the main file and its `[include]`s, resolves
//! `[supervisord]` and drives the other section resolvers (`servers.rs`, `programs.rs`). Every
//! problem is collected, not only the first.

use super::error::ConfigError;
use super::expand::Expansions;
use super::known;
use super::loader::{Loader, normalize_path, str_exp};
use super::model::*;
use super::source;
use super::users;
use super::values;
use std::path::{Path, PathBuf};

/// Everything check-config reports: the model when there were no errors, plus all findings.
#[derive(Debug, Clone)]
pub struct Report {
    pub config: Option<Config>,
    pub errors: Vec<ConfigError>,
    pub warnings: Vec<Warning>,
    /// What would fail once the daemon runs (check-config only; see `runtime.rs`).
    pub runtime: super::runtime::Findings,
}

/// Python's `tempfile.gettempdir()`: $TMPDIR, $TEMP, $TMP, then the usual directories; the first
/// existing directory wins (Python also insists it is writable).
fn python_tempdir() -> String {
    let from_env = ["TMPDIR", "TEMP", "TMP"]
        .iter()
        .filter_map(|v| std::env::var(v).ok());
    let fixed = ["/tmp", "/var/tmp", "/usr/tmp"]
        .iter()
        .map(|s| s.to_string());
    from_env
        .chain(fixed)
        .find(|d| Path::new(d).is_dir())
        .unwrap_or_else(|| "/tmp".to_string())
}

impl Loader {
    /// Reads the main file and, when it has an `[include]` section, the files it names.
    fn read_sources(&mut self) -> Result<(), ()> {
        let mut main = match source::read_file(&self.config_path) {
            Ok(f) => f,
            Err(errs) => {
                self.errors.extend(errs);
                return Err(());
            }
        };
        let has_include = main.has_section("include");
        if has_include {
            main.replace_here(&self.here);
        }
        self.doc.merge(main);
        if !has_include {
            return Ok(());
        }
        let Some(files) = self.entry("include", "files") else {
            self.error(
                "include",
                None,
                ".ini file has [include] section, but no files setting".into(),
                None,
            );
            return Err(());
        };
        let mut exps = self.here_exps();
        exps.insert("host_node_name".into(), str_exp(&self.host_node_name));
        let Some(files) = ({
            let mut all = self.env.clone();
            all.extend(exps);
            self.expand_value(
                "include",
                "files",
                &files.value,
                &all,
                "include.files",
                true,
            )
        }) else {
            return Err(());
        };
        for pattern in files.split_whitespace() {
            let pattern = if pattern.starts_with('/') {
                pattern.to_string()
            } else {
                format!("{}/{}", self.here.trim_end_matches('/'), pattern)
            };
            let mut matches = source::glob(&pattern);
            if matches.is_empty() {
                self.warn(format!("No file matches via include \"{pattern}\""));
                continue;
            }
            crate::sort::sort(&mut matches);
            for path in matches {
                self.infos.push(format!(
                    "Included extra file \"{}\" during parsing",
                    path.display()
                ));
                // Unreadable matches (directories, permissions) are skipped like the reference.
                if std::fs::read(&path).is_err() {
                    continue;
                }
                match source::read_file(&path) {
                    Ok(mut f) => {
                        let dir = normalize_path(&path.to_string_lossy())
                            .parent()
                            .map(|p| p.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        f.replace_here(&dir);
                        self.doc.merge(f);
                    }
                    Err(errs) => self.errors.extend(errs),
                }
            }
        }
        Ok(())
    }

    /// Unknown sections and options: ignored like the reference, but reported as warnings.
    fn check_unknown(&mut self) {
        let sections: Vec<(String, PathBuf, usize)> = self
            .doc
            .sections
            .iter()
            .map(|s| (s.name.clone(), s.file.clone(), s.line))
            .collect();
        for (name, file, line) in sections {
            let kind = name.split(':').next().unwrap_or("");
            let allowed: Vec<&str> = match kind {
                "supervisord" => known::SUPERVISORD.to_vec(),
                k if k.starts_with("unix_http_server") => known::UNIX_HTTP_SERVER.to_vec(),
                k if k.starts_with("inet_http_server") => known::INET_HTTP_SERVER.to_vec(),
                "supervisorctl" => known::SUPERVISORCTL.to_vec(),
                "program" => known::PROGRAM.to_vec(),
                "eventlistener" => [known::PROGRAM, known::EVENTLISTENER_EXTRA].concat(),
                "fcgi-program" => [known::PROGRAM, known::FCGI_EXTRA].concat(),
                "group" => known::GROUP.to_vec(),
                "include" => known::INCLUDE.to_vec(),
                // Plug-in sections pass every other key to the factory.
                "rpcinterface" | "ctlplugin" => continue,
                _ => {
                    let hint = known::suggest(&kind.to_lowercase(), known::SECTION_KINDS)
                        .map(|s| format!(" (did you mean [{s}{}]?)", &name[kind.len()..]))
                        .unwrap_or_default();
                    self.warn(format!(
                        "{}:{}: [{name}] unknown section, ignored{hint}",
                        file.display(),
                        line
                    ));
                    continue;
                }
            };
            for (key, entry) in self.doc.own_options(&name) {
                if allowed.contains(&key.as_str()) {
                    continue;
                }
                let hint = known::suggest(&key, &allowed)
                    .map(|s| format!(" (did you mean {s}?)"))
                    .unwrap_or_default();
                self.warn(format!(
                    "{}:{}: [{name}] {key}: unknown option, ignored{hint}",
                    entry.file.display(),
                    entry.line
                ));
            }
        }
    }

    fn supervisord(&mut self) -> SupervisordConfig {
        let s = "supervisord";
        let ex = self.here_exps();
        let non_negative = |n: i64| n.max(0) as u64;
        let minfds = non_negative(self.typed(s, "minfds", &ex, 1024, values::integer));
        let minprocs = non_negative(self.typed(s, "minprocs", &ex, 200, values::integer));
        let directory = self.typed_opt(s, "directory", &ex, values::existing_directory);
        let user = self.typed_opt(s, "user", &ex, |v| users::lookup_user(v).map(|u| u.user));
        let umask = self.typed(s, "umask", &ex, 0o22, values::octal);
        let logfile = self.typed(
            s,
            "logfile",
            &ex,
            PathBuf::from("supervisord.log"),
            values::existing_dirpath,
        );
        let logfile_maxbytes = non_negative(self.typed(
            s,
            "logfile_maxbytes",
            &ex,
            50 * 1024 * 1024,
            values::byte_size,
        ));
        let logfile_backups =
            non_negative(self.typed(s, "logfile_backups", &ex, 10, values::integer)) as u32;
        let loglevel = self.typed(s, "loglevel", &ex, LogLevel::Info, values::log_level);
        let pidfile = self.typed(
            s,
            "pidfile",
            &ex,
            PathBuf::from("supervisord.pid"),
            values::existing_dirpath,
        );
        let identifier = self
            .get(s, "identifier", &ex)
            .ok()
            .flatten()
            .unwrap_or_else(|| "supervisor".to_string());
        let nodaemon = self.typed(s, "nodaemon", &ex, false, values::boolean);
        let silent = self.typed(s, "silent", &ex, false, values::boolean);
        let tmp = python_tempdir();
        let childlogdir = self.typed(
            s,
            "childlogdir",
            &ex,
            PathBuf::from(tmp),
            values::existing_directory,
        );
        let nocleanup = self.typed(s, "nocleanup", &ex, false, values::boolean);
        let strip_ansi = self.typed(s, "strip_ansi", &ex, false, values::boolean);
        let environment = self.supervisord_environment();
        let extensions = SupervisordExtensions {
            exit_when_idle: self.typed(s, "exit_when_idle", &ex, false, values::boolean),
            env_file: self.env_files(s, &ex),
        };
        // Keys of the global environment become ENV_ names for every later section.
        for (k, v) in &environment {
            self.env.insert(format!("ENV_{k}"), str_exp(v));
        }
        SupervisordConfig {
            logfile,
            logfile_maxbytes,
            logfile_backups,
            loglevel,
            pidfile,
            umask,
            nodaemon,
            silent,
            minfds,
            minprocs,
            nocleanup,
            childlogdir,
            user,
            directory,
            strip_ansi,
            environment,
            identifier,
            extensions,
        }
    }

    /// `env_file = PATH[, PATH...]`: each path (relative to the directory of the file the
    /// option is written in) must exist and parse now; its values are read again at each spawn.
    pub fn env_files(&mut self, section: &str, exps: &Expansions) -> Vec<PathBuf> {
        let Ok(Some(raw)) = self.get(section, "env_file", exps) else {
            return Vec::new();
        };
        let dir = self
            .entry(section, "env_file")
            .and_then(|e| e.file.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        let mut files = Vec::new();
        for piece in raw.split(',').map(str::trim) {
            if piece.is_empty() {
                self.error(
                    section,
                    Some("env_file"),
                    "empty path in the list".into(),
                    Some(&raw),
                );
                continue;
            }
            let expanded = values::expanduser(piece);
            let path = normalize_path(&dir.join(expanded).to_string_lossy());
            if let Err(e) = super::dotenv::read_file(&path) {
                self.error(section, Some("env_file"), e.describe(&path), Some(&raw));
                continue;
            }
            files.push(path);
        }
        files
    }

    /// `[supervisord] environment` is expanded twice (the second time with host_node_name).
    fn supervisord_environment(&mut self) -> std::collections::BTreeMap<String, String> {
        let s = "supervisord";
        let Some(entry) = self.entry(s, "environment") else {
            return Default::default();
        };
        let mut first = self.env.clone();
        first.extend(self.here_exps());
        let Some(once) = self.expand_value(
            s,
            "environment",
            &entry.value,
            &first,
            "supervisord.environment",
            false,
        ) else {
            return Default::default();
        };
        let mut second = first;
        second.insert("host_node_name".into(), str_exp(&self.host_node_name));
        let Some(twice) = self.expand_value(s, "environment", &once, &second, "environment", true)
        else {
            return Default::default();
        };
        match values::environment(&twice) {
            Ok(env) => env,
            Err(problem) => {
                self.error(s, Some("environment"), problem, Some(&twice));
                Default::default()
            }
        }
    }
}

/// Loads and resolves a config file; every error found is returned.
pub fn check(path: &Path) -> Report {
    check_inner(path, false)
}

/// [`check`] plus what would fail once the daemon runs (`Report::runtime`): check-config's
/// view. The daemon does not pay for these file system probes on every (re)load.
pub fn check_all(path: &Path) -> Report {
    check_inner(path, true)
}

fn check_inner(path: &Path, runtime_checks: bool) -> Report {
    let mut l = Loader::new(path);
    let failed = l.read_sources().is_err();
    if failed || !l.errors.is_empty() {
        return l.into_report(None);
    }
    resolve(l, path, runtime_checks)
}

/// Resolves `text` as if it were the config file at `path`, without reading any file: an
/// `[include]` section's files are not read. The fuzz target's entry point.
pub fn check_text(text: &str, path: &Path) -> Report {
    let mut l = Loader::new(path);
    match source::parse(text, path) {
        Ok(main) => l.doc.merge(main),
        Err(errs) => {
            l.errors.extend(errs);
            return l.into_report(None);
        }
    }
    resolve(l, path, false)
}

/// Everything after reading the sources: `[supervisord]`, programs, servers, `[supervisorctl]`.
fn resolve(mut l: Loader, path: &Path, runtime_checks: bool) -> Report {
    if !l.doc.has_section("supervisord") {
        let mut err = ConfigError::new(".ini file does not include supervisord section").file(path);
        err.reference = Some(err.problem.clone());
        l.errors.push(err);
        return l.into_report(None);
    }
    l.check_unknown();
    let supervisord = l.supervisord();
    let rpcinterfaces = l.rpcinterfaces();
    let groups = super::programs::process_groups(&mut l);
    super::dependencies::validate(&mut l, &groups);
    let (unix_http_servers, inet_http_servers) = l.servers();
    let supervisorctl = if l.doc.has_section("supervisorctl") {
        Some(l.supervisorctl())
    } else {
        None
    };
    let mut files = vec![path.to_path_buf()];
    for s in &l.doc.sections {
        if !files.contains(&s.file) {
            files.push(s.file.clone());
        }
    }
    let config = Config {
        path: path.to_path_buf(),
        files,
        supervisord,
        unix_http_servers,
        inet_http_servers,
        supervisorctl,
        rpcinterfaces,
        groups: crate::config::model::shared(groups),
        warnings: l.warnings.clone(),
        infos: l.infos.clone(),
    };
    let runtime = if runtime_checks && l.errors.is_empty() {
        super::runtime::check(&l, &config)
    } else {
        Default::default()
    };
    let mut report = l.into_report(Some(config));
    report.runtime = runtime;
    report
}

impl Loader {
    fn into_report(self, config: Option<Config>) -> Report {
        let ok = self.errors.is_empty();
        Report {
            config: if ok { config } else { None },
            errors: self.errors,
            warnings: self.warnings,
            runtime: Default::default(),
        }
    }
}

/// `config::load`: the resolved model, or every error.
pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
    let report = check(path);
    match report.config {
        Some(c) => Ok(c),
        None => Err(report.errors),
    }
}

/// supervisorctl's view: built-in defaults without a file; with a file, `[supervisorctl]` must exist.
pub fn load_ctl(path: Option<&Path>) -> Result<CtlConfig, Vec<ConfigError>> {
    let Some(path) = path else {
        return Ok(CtlConfig {
            serverurl: "http://localhost:9001".into(),
            username: None,
            password: None,
            prompt: "supervisor".into(),
            history_file: None,
        });
    };
    let mut l = Loader::new(path);
    // Like the reference's client: no includes, and only [supervisorctl] (plus [DEFAULT]) is
    // resolved; the rest of the file is only checked for syntax.
    let wanted = |name: &str| name == "supervisorctl" || name == source::DEFAULT_SECTION;
    match source::read_file_keeping(path, wanted) {
        Ok(f) => l.doc.merge(f),
        Err(errs) => return Err(errs),
    }
    if !l.doc.has_section("supervisorctl") {
        return Err(vec![
            ConfigError::new(".ini file does not include supervisorctl section").file(path),
        ]);
    }
    let ctl = l.supervisorctl();
    if l.errors.is_empty() {
        Ok(ctl)
    } else {
        Err(l.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supervisorctl_section_defaults_and_rules() {
        let tmp = crate::testutil::TempDir::new("ctlconf");
        let dir = tmp.path();
        let defaults = load_ctl(None).unwrap();
        assert_eq!(defaults.serverurl, "http://localhost:9001");
        assert_eq!(defaults.prompt, "supervisor");
        let f = dir.join("a.conf");
        std::fs::write(
            &f,
            "[supervisorctl]\nserverurl=unix://rel.sock\nusername=u\npassword=p\nhistory_file=%(here)s/h\n",
        )
        .unwrap();
        let ctl = load_ctl(Some(&f)).unwrap();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            ctl.serverurl,
            format!("unix://{}", cwd.join("rel.sock").display())
        );
        assert_eq!(ctl.username.as_deref(), Some("u"));
        assert_eq!(ctl.password.as_deref(), Some("p"));
        assert_eq!(ctl.prompt, "supervisor");
        assert_eq!(ctl.history_file, Some(dir.join("h")));
        let g = dir.join("b.conf");
        std::fs::write(&g, "[supervisord]\n").unwrap();
        let errs = load_ctl(Some(&g)).unwrap_err();
        assert_eq!(
            errs[0].problem,
            ".ini file does not include supervisorctl section"
        );
        let missing = dir.join("missing.conf");
        let errs = load_ctl(Some(&missing)).unwrap_err();
        assert_eq!(
            errs[0].reference_message(),
            format!("could not find config file {}", missing.display())
        );
    }
}
