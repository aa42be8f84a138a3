//! The loader the section resolvers share: the parsed document, the expansion names
//! (`ENV_*`, `here`, `host_node_name`), typed option access with the reference's defaults, and the
//! collected errors and warnings. `load.rs` drives it; `servers.rs` and `programs.rs` resolve
//! their sections through it.

use super::error::ConfigError;
use super::expand::{ExpValue, Expansions, expand};
use super::model::*;
use super::source::{Document, Entry};
use super::values;
use crate::python::py_repr;
use std::path::{Path, PathBuf};

/// One config file being resolved.
pub(super) struct Loader {
    pub doc: Document,
    /// The main config path as given (the reference names it so in errors).
    pub config_path: PathBuf,
    /// Absolute directory of the main config file (`%(here)s`).
    pub here: String,
    pub host_node_name: String,
    /// `ENV_*` names: supervisord's environment, then `[supervisord] environment` keys.
    pub env: Expansions,
    pub errors: Vec<ConfigError>,
    pub warnings: Vec<Warning>,
    pub infos: Vec<String>,
    /// Set while resolving a program section: errors get the reference's
    /// ` in section '..' (file: '..')` suffix.
    pub wrap_section: Option<String>,
}

/// Python `os.path.abspath(os.path.expanduser(p))`.
pub fn normalize_path(p: &str) -> PathBuf {
    let expanded = values::expanduser(p);
    let joined = if expanded.starts_with('/') {
        PathBuf::from(&expanded)
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(&expanded)
    };
    let mut parts: Vec<&str> = Vec::new();
    let s = joined.to_string_lossy().into_owned();
    for comp in s.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    PathBuf::from(format!("/{}", parts.join("/")))
}

/// Shortens the reference's "Available names: ENV_A, ENV_B, ..., here" list: the environment
/// names say little and can be hundreds long.
fn abbreviate_env_names(problem: &str) -> String {
    const MARK: &str = "Available names: ";
    let Some(at) = problem.find(MARK) else {
        return problem.to_string();
    };
    let (head, list) = problem.split_at(at + MARK.len());
    let names: Vec<&str> = list.split(", ").collect();
    let env = names.iter().filter(|n| n.starts_with("ENV_")).count();
    if env == 0 {
        return problem.to_string();
    }
    let mut rest: Vec<String> = vec![format!("ENV_* ({env} environment variables)")];
    rest.extend(
        names
            .iter()
            .filter(|n| !n.starts_with("ENV_"))
            .map(|n| n.to_string()),
    );
    format!("{head}{}", rest.join(", "))
}

pub(super) fn str_exp(v: &str) -> ExpValue {
    ExpValue::Str(v.to_string())
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `ENV_<name>` for every variable of this process's environment.
pub fn environ_expansions() -> Expansions {
    std::env::vars_os()
        .map(|(k, v)| {
            (
                format!("ENV_{}", k.to_string_lossy()),
                ExpValue::Str(v.to_string_lossy().into_owned()),
            )
        })
        .collect()
}

impl Loader {
    pub(super) fn new(config_path: &Path) -> Loader {
        let here = normalize_path(&config_path.to_string_lossy())
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|| "/".to_string());
        Loader {
            doc: Document::default(),
            config_path: config_path.to_path_buf(),
            here,
            host_node_name: hostname(),
            env: environ_expansions(),
            errors: Vec::new(),
            warnings: Vec::new(),
            infos: Vec::new(),
            wrap_section: None,
        }
    }

    pub fn entry(&self, section: &str, option: &str) -> Option<Entry> {
        self.doc.get(section, option).cloned()
    }

    /// Records a problem with an option (or a whole section when `option` is None).
    pub fn error(
        &mut self,
        section: &str,
        option: Option<&str>,
        problem: String,
        value: Option<&str>,
    ) {
        self.error_worded(section, option, problem, value, None);
    }

    /// Like `error`, with the reference's own (odd) wording when it differs from ours.
    pub fn error_worded(
        &mut self,
        section: &str,
        option: Option<&str>,
        problem: String,
        value: Option<&str>,
        reference_inner: Option<String>,
    ) {
        let inner = reference_inner.unwrap_or_else(|| problem.clone());
        let problem = abbreviate_env_names(&problem);
        let entry = option.and_then(|o| self.entry(section, o));
        let sect = self.doc.section(section);
        let (file, line) = match (&entry, sect) {
            (Some(e), _) => (Some(e.file.clone()), Some(e.line)),
            (None, Some(s)) => (Some(s.file.clone()), Some(s.line)),
            (None, None) => (Some(self.config_path.clone()), None),
        };
        let reference = match &self.wrap_section {
            Some(ws) => {
                let f = self
                    .doc
                    .section(ws)
                    .map(|s| s.file.clone())
                    .unwrap_or_else(|| self.config_path.clone());
                format!(
                    "{inner} in section {} (file: {})",
                    py_repr(ws),
                    py_repr(&f.to_string_lossy())
                )
            }
            None => inner,
        };
        let mut err = ConfigError::new(problem)
            .section(section)
            .reference(reference);
        err.file = file;
        err.line = line;
        if let Some(o) = option {
            err = err.option(o);
        }
        if let Some(v) = value {
            err = err.value(v);
        }
        // Options read twice (a program's priority is also its group's) report once.
        let same = |e: &ConfigError| {
            e.file == err.file
                && e.line == err.line
                && e.section == err.section
                && e.option == err.option
                && e.problem == err.problem
        };
        if !self.errors.iter().any(same) {
            self.errors.push(err);
        }
    }

    pub fn warn(&mut self, message: String) {
        let w = Warning { message };
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Where an option is written, as `FILE:LINE: ` for warnings.
    pub fn location(&self, section: &str, option: &str) -> String {
        match self.entry(section, option) {
            Some(e) => format!("{}:{}: ", e.file.display(), e.line),
            None => String::new(),
        }
    }

    /// Expands one value; on failure records the error and returns None.
    pub fn expand_value(
        &mut self,
        section: &str,
        option: &str,
        raw: &str,
        exps: &Expansions,
        name: &str,
        dollar: bool,
    ) -> Option<String> {
        match expand(raw, exps, name, dollar) {
            Ok(out) => {
                for var in out.unset {
                    let loc = self.location(section, option);
                    self.warn(format!(
                        "{loc}[{section}] {option}: ${{{var}}} is not set in supervisord's environment; left as written"
                    ));
                }
                Some(out.text)
            }
            Err(problem) => {
                self.error(section, Some(option), problem, Some(raw));
                None
            }
        }
    }

    /// The reference's `saneget`: the option's raw value expanded with ENV_* plus `extra`.
    /// Ok(None) = not set; Err(()) = set but the expansion failed (already recorded).
    pub fn get(
        &mut self,
        section: &str,
        option: &str,
        extra: &Expansions,
    ) -> Result<Option<String>, ()> {
        let Some(entry) = self.entry(section, option) else {
            return Ok(None);
        };
        // Without '%' or '$' expansion is the identity: skip building the expansion map (most
        // values; this halves the load time of a config with a thousand programs).
        if !entry.value.contains(['%', '$']) {
            return Ok(Some(entry.value.clone()));
        }
        let mut exps = self.env.clone();
        exps.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        let name = format!("{section}.{option}");
        self.expand_value(section, option, &entry.value, &exps, &name, true)
            .map(Some)
            .ok_or(())
    }

    /// A typed option: `default` when unset or invalid (invalid values are recorded).
    pub fn typed<T>(
        &mut self,
        section: &str,
        option: &str,
        extra: &Expansions,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> T {
        match self.get(section, option, extra) {
            Ok(Some(v)) => match parse(&v) {
                Ok(t) => t,
                Err(problem) => {
                    self.error(section, Some(option), problem, Some(&v));
                    default
                }
            },
            _ => default,
        }
    }

    /// A typed option without a default.
    pub fn typed_opt<T>(
        &mut self,
        section: &str,
        option: &str,
        extra: &Expansions,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        self.typed(section, option, extra, None, |v| parse(v).map(Some))
    }

    pub fn here_exps(&self) -> Expansions {
        let mut e = Expansions::new();
        e.insert("here".into(), str_exp(&self.here));
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_abbreviated_in_our_wording_only() {
        assert_eq!(
            abbreviate_env_names("x. Available names: ENV_A, ENV_B, here, program_name"),
            "x. Available names: ENV_* (2 environment variables), here, program_name"
        );
        assert_eq!(
            abbreviate_env_names("Available names: here"),
            "Available names: here"
        );
    }

    #[test]
    fn normalize_paths() {
        assert_eq!(normalize_path("/a/b/../c/./d"), PathBuf::from("/a/c/d"));
        assert_eq!(normalize_path("//a//b/"), PathBuf::from("/a/b"));
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(normalize_path("x.sock"), cwd.join("x.sock"));
    }
}
