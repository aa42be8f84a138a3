//! A `SpawnPlan` and how it is built for a process before fork: command lookup, environment, user,
//! directory. `spawn.rs` carries the plan out.

use std::collections::BTreeMap;
use std::ffi::{CString, OsString};
use std::marker::PhantomData;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;

use super::command;
use crate::config::model::{ProcessConfig, User};

/// Switching to another user in the child.
#[derive(Debug, Clone)]
pub struct UserSwitch {
    pub uid: u32,
    pub gid: Option<u32>,
    /// Supplementary groups, primary gid first (as the reference).
    pub groups: Vec<libc::gid_t>,
}

/// Everything the child needs, resolved before fork.
pub struct SpawnPlan<'a> {
    pub process_name: String,
    pub filename: CString,
    pub argv: Vec<CString>,
    pub env: ChildEnv<'a>,
    pub directory: Option<CString>,
    pub umask: Option<u32>,
    pub user: Option<UserSwitch>,
    /// A privilege-drop failure known before fork (the child reports it and exits 127).
    pub user_error: Option<String>,
    pub redirect_stderr: bool,
    /// The FastCGI listening socket to put on fd 0 (instead of a stdin pipe).
    pub stdin_socket: Option<RawFd>,
    /// RLIMIT_NOFILE (soft, hard) to restore in the child (supervisord raised its own).
    pub nofile: Option<(u64, u64)>,
    /// Highest fd to close in the child when close_range is unavailable.
    pub minfds: u64,
}

/// supervisord's own environment, read once at start-up as ready `KEY=VALUE` C strings that every
/// child's environment points into (the daemon never changes its environment; reading and
/// re-encoding it for each of 500 spawns was a sixth of start-up CPU).
pub struct BaseEnvironment {
    entries: Vec<EnvVar>,
}

/// One `KEY=VALUE` entry.
pub struct EnvVar {
    key_len: usize,
    pair: CString,
}

impl EnvVar {
    fn new(key: &[u8], value: &[u8]) -> Option<EnvVar> {
        let mut pair = Vec::with_capacity(key.len() + 1 + value.len());
        pair.extend_from_slice(key);
        pair.push(b'=');
        pair.extend_from_slice(value);
        let pair = CString::new(pair).ok()?;
        Some(EnvVar {
            key_len: key.len(),
            pair,
        })
    }

    fn key(&self) -> &[u8] {
        &self.pair.as_bytes()[..self.key_len]
    }

    fn value(&self) -> &[u8] {
        &self.pair.as_bytes()[self.key_len + 1..]
    }
}

impl BaseEnvironment {
    /// The current process environment, less `$NOTIFY_SOCKET`: systemd's readiness socket is
    /// supervisord's alone (a child writing READY=1 there would be rejected by systemd at best,
    /// or taken as supervisord's readiness with NotifyAccess=all). `environment=` can still
    /// set it for a program.
    pub fn current() -> BaseEnvironment {
        BaseEnvironment::from_pairs(
            std::env::vars_os().filter(|(k, _)| k != super::notify::NOTIFY_SOCKET),
        )
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (OsString, OsString)>) -> BaseEnvironment {
        let entries = pairs
            .into_iter()
            .filter_map(|(k, v)| EnvVar::new(k.as_bytes(), v.as_bytes()))
            .collect();
        BaseEnvironment { entries }
    }

    fn get(&self, key: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|e| e.key() == key.as_bytes())
            .map(EnvVar::value)
    }
}

/// A child's environment as execve takes it: NULL-terminated pointers to `KEY=VALUE` strings.
/// Inherited variables point into the daemon's `BaseEnvironment`, which is neither copied nor
/// reference-counted per spawn: after fork, every page the daemon writes costs it a
/// copy-on-write fault, so the spawn path leaves shared data untouched. Replaced and added
/// variables are owned here.
pub struct ChildEnv<'a> {
    _owned: Vec<EnvVar>,
    pointers: Vec<*const libc::c_char>,
    _base: PhantomData<&'a BaseEnvironment>,
}

impl ChildEnv<'_> {
    /// The NULL-terminated `envp` array.
    pub fn pointers(&self) -> &[*const libc::c_char] {
        &self.pointers
    }

    /// The `KEY=VALUE` strings in order.
    #[cfg(test)]
    pub fn vars(&self) -> impl Iterator<Item = &std::ffi::CStr> {
        self.pointers
            .iter()
            .take_while(|p| !p.is_null())
            // SAFETY: every non-null pointer is a C string owned by `_owned` or by the base
            // environment, both outliving `self`.
            .map(|&p| unsafe { std::ffi::CStr::from_ptr(p) })
    }
}

/// What the plan needs from supervisord's own config.
pub struct SpawnContext<'a> {
    pub base_environment: &'a BaseEnvironment,
    pub global_environment: &'a BTreeMap<String, String>,
    /// `[supervisord] env_file`: read at every spawn, under the program's own files.
    pub global_env_files: &'a [std::path::PathBuf],
    /// supervisord's SUPERVISOR_SERVER_URL (first unix server, else first inet server).
    pub serverurl: Option<&'a str>,
    pub minfds: u64,
    /// RLIMIT_NOFILE for children when supervisord raised its own.
    pub nofile: Option<(u64, u64)>,
}

impl<'a> SpawnContext<'a> {
    /// The context of every spawn (programs and exec health checks) under supervisord's config.
    pub fn new(
        base_environment: &'a BaseEnvironment,
        sd: &'a crate::config::model::SupervisordConfig,
        serverurl: Option<&'a str>,
        nofile: Option<(u64, u64)>,
    ) -> SpawnContext<'a> {
        SpawnContext {
            base_environment,
            global_environment: &sd.environment,
            global_env_files: &sd.extensions.env_file,
            serverurl,
            minfds: sd.minfds,
            nofile,
        }
    }
}

/// The PATH a program's command is looked up in: its own `environment=PATH`, else the last
/// PATH of its env files, else supervisord's.
pub fn search_path(
    process: &ProcessConfig,
    file_vars: &[(String, String)],
    base: &BaseEnvironment,
) -> Option<String> {
    process
        .environment
        .get("PATH")
        .or_else(|| {
            file_vars
                .iter()
                .rev()
                .find(|(k, _)| k == "PATH")
                .map(|(_, v)| v)
        })
        .cloned()
        .or_else(|| {
            let path = base.get("PATH")?;
            std::str::from_utf8(path).ok().map(str::to_string)
        })
}

/// The variables of the env files (`[supervisord]`'s, then the program's), read now so a
/// restart sees edits; Err is the spawnerr naming the file (and line).
pub fn env_file_vars(
    process: &ProcessConfig,
    ctx: &SpawnContext,
) -> Result<Vec<(String, String)>, String> {
    let own = &process.extensions.env_file;
    if own.is_empty() && ctx.global_env_files.is_empty() {
        return Ok(Vec::new());
    }
    let mut vars = crate::config::dotenv::read_files(ctx.global_env_files)?;
    vars.extend(crate::config::dotenv::read_files(own)?);
    Ok(vars)
}

fn cstring(bytes: Vec<u8>) -> Result<CString, String> {
    CString::new(bytes).map_err(|_| "argument contains a NUL byte".to_string())
}

/// The child's environment, lowest precedence first: supervisord's own, the SUPERVISOR_*
/// variables, the env files' (`file_vars`, in order), `[supervisord] environment`, the
/// program's `environment`. A later value replaces an earlier one in place (keeping the first
/// one's position); values with a NUL are dropped.
pub fn environment<'a>(
    process: &ProcessConfig,
    group: &str,
    file_vars: &[(String, String)],
    ctx: &SpawnContext<'a>,
) -> ChildEnv<'a> {
    let base = &ctx.base_environment.entries;
    let mut owned: Vec<EnvVar> = Vec::new();
    // Per base variable, its replacement in `owned`; then the added variables, in order.
    let mut replaced: Vec<Option<usize>> = vec![None; base.len()];
    let mut added: Vec<usize> = Vec::new();
    let mut set = |k: &str, v: &str| {
        let Some(var) = EnvVar::new(k.as_bytes(), v.as_bytes()) else {
            return;
        };
        let known = match base.iter().position(|e| e.key() == k.as_bytes()) {
            Some(i) => replaced[i].ok_or(Some(i)),
            None => added
                .iter()
                .copied()
                .find(|&j| owned[j].key() == k.as_bytes())
                .ok_or(None),
        };
        match known {
            Ok(j) => owned[j] = var,
            Err(Some(i)) => {
                replaced[i] = Some(owned.len());
                owned.push(var);
            }
            Err(None) => {
                added.push(owned.len());
                owned.push(var);
            }
        }
    };
    set("SUPERVISOR_ENABLED", "1");
    if let Some(url) = process.serverurl.as_deref().or(ctx.serverurl) {
        set("SUPERVISOR_SERVER_URL", url);
    }
    set("SUPERVISOR_PROCESS_NAME", &process.name);
    set("SUPERVISOR_GROUP_NAME", group);
    for (k, v) in file_vars {
        set(k, v);
    }
    for (k, v) in ctx.global_environment {
        set(k, v);
    }
    for (k, v) in &process.environment {
        set(k, v);
    }
    let mut pointers = Vec::with_capacity(base.len() + added.len() + 1);
    for (entry, replacement) in base.iter().zip(&replaced) {
        let pair = match replacement {
            Some(j) => &owned[*j].pair,
            None => &entry.pair,
        };
        pointers.push(pair.as_ptr());
    }
    pointers.extend(added.iter().map(|&j| owned[j].pair.as_ptr()));
    pointers.push(std::ptr::null());
    ChildEnv {
        _owned: owned,
        pointers,
        _base: PhantomData,
    }
}

fn user_switch(user: &User) -> (UserSwitch, Option<String>) {
    // SAFETY: getuid never fails.
    let current = unsafe { libc::getuid() };
    let mut groups = Vec::new();
    if let Some(gid) = user.gid {
        groups.push(gid);
        if let Some(name) = &user.name {
            for g in crate::config::users::supplementary_groups(name) {
                if !groups.contains(&g) {
                    groups.push(g);
                }
            }
        }
    }
    let error = (current != user.uid && current != 0)
        .then(|| "Can't drop privilege as nonroot user".to_string());
    (
        UserSwitch {
            uid: user.uid,
            gid: user.gid,
            groups,
        },
        error,
    )
}

/// Resolves everything for one spawn; Err is the spawnerr message.
pub fn build<'a>(
    process: &ProcessConfig,
    group: &str,
    ctx: &SpawnContext<'a>,
) -> Result<SpawnPlan<'a>, String> {
    build_command(process, &process.command, group, ctx)
}

/// `build` for another command line run as the program (its user, directory, umask and
/// environment): an exec health check.
pub fn build_command<'a>(
    process: &ProcessConfig,
    command_line: &str,
    group: &str,
    ctx: &SpawnContext<'a>,
) -> Result<SpawnPlan<'a>, String> {
    let file_vars = env_file_vars(process, ctx)?;
    let env = environment(process, group, &file_vars, ctx);
    let path_var = search_path(process, &file_vars, ctx.base_environment);
    let resolved = command::resolve(command_line, path_var.as_deref())?;
    let filename = cstring(resolved.filename.into_bytes())?;
    let argv = resolved
        .argv
        .into_iter()
        .map(|a| cstring(a.into_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let directory = match &process.directory {
        Some(d) => Some(cstring(d.clone().into_bytes())?),
        None => None,
    };
    let (user, user_error) = match &process.user {
        Some(u) => {
            let (switch, err) = user_switch(u);
            (Some(switch), err)
        }
        None => (None, None),
    };
    Ok(SpawnPlan {
        process_name: process.name.clone(),
        filename,
        argv,
        env,
        directory,
        umask: process.umask,
        user,
        user_error,
        redirect_stderr: process.redirect_stderr,
        stdin_socket: None,
        nofile: ctx.nofile,
        minfds: ctx.minfds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::test_config;

    #[test]
    fn environment_precedence() {
        let mut p = test_config("web");
        p.environment.insert("A".into(), "program".into());
        p.environment
            .insert("SUPERVISOR_GROUP_NAME".into(), "mine".into());
        let mut global = BTreeMap::new();
        global.insert("A".to_string(), "global".to_string());
        global.insert("B".to_string(), "global".to_string());
        let base = BaseEnvironment::from_pairs([
            ("HOME".into(), "/root".into()),
            ("A".into(), "daemon".into()),
            ("SUPERVISOR_ENABLED".into(), "0".into()),
        ]);
        let ctx = SpawnContext {
            base_environment: &base,
            global_environment: &global,
            global_env_files: &[],
            serverurl: Some("unix:///tmp/s.sock"),
            minfds: 1024,
            nofile: None,
        };
        let files = [
            ("A".to_string(), "file".to_string()),
            ("C".to_string(), "file".to_string()),
        ];
        let env = environment(&p, "grp", &files, &ctx);
        let get = |k: &str| {
            let prefix = format!("{k}=");
            env.vars()
                .map(|v| v.to_string_lossy().into_owned())
                .find_map(|v| v.strip_prefix(&prefix).map(str::to_string))
        };
        assert_eq!(get("A").as_deref(), Some("program"));
        assert_eq!(get("B").as_deref(), Some("global"));
        assert_eq!(get("C").as_deref(), Some("file"));
        assert_eq!(get("SUPERVISOR_ENABLED").as_deref(), Some("1"));
        assert_eq!(
            get("SUPERVISOR_SERVER_URL").as_deref(),
            Some("unix:///tmp/s.sock")
        );
        assert_eq!(get("SUPERVISOR_PROCESS_NAME").as_deref(), Some("web"));
        assert_eq!(get("SUPERVISOR_GROUP_NAME").as_deref(), Some("mine"));
        assert_eq!(get("HOME").as_deref(), Some("/root"));
        // Overrides keep the daemon variable's position; new ones follow in precedence order.
        let keys: Vec<String> = env
            .vars()
            .filter_map(|v| Some(v.to_str().ok()?.split_once('=')?.0.to_string()))
            .collect();
        assert_eq!(
            keys,
            [
                "HOME",
                "A",
                "SUPERVISOR_ENABLED",
                "SUPERVISOR_SERVER_URL",
                "SUPERVISOR_PROCESS_NAME",
                "SUPERVISOR_GROUP_NAME",
                "C",
                "B"
            ]
        );
        assert_eq!(env.pointers().len(), keys.len() + 1);
        assert!(env.pointers().last().is_some_and(|p| p.is_null()));
    }

    #[test]
    fn search_path_prefers_the_program_environment() {
        let base = BaseEnvironment::from_pairs([("PATH".into(), "/daemon/bin".into())]);
        let mut p = test_config("web");
        assert_eq!(search_path(&p, &[], &base).as_deref(), Some("/daemon/bin"));
        let files = [
            ("PATH".to_string(), "/first/bin".to_string()),
            ("PATH".to_string(), "/file/bin".to_string()),
        ];
        assert_eq!(search_path(&p, &files, &base).as_deref(), Some("/file/bin"));
        p.environment.insert("PATH".into(), "/own/bin".into());
        assert_eq!(search_path(&p, &files, &base).as_deref(), Some("/own/bin"));
        let empty = BaseEnvironment::from_pairs([]);
        p.environment.clear();
        assert_eq!(search_path(&p, &[], &empty), None);
    }
}
