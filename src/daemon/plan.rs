//! Building a `SpawnPlan` for a process before fork: command lookup, environment, user, directory.

use std::collections::BTreeMap;
use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use super::command;
use super::spawn::{SpawnPlan, UserSwitch};
use crate::config::model::{ProcessConfig, User};

/// What the plan needs from supervisord's own config.
pub struct SpawnContext<'a> {
    pub global_environment: &'a BTreeMap<String, String>,
    /// supervisord's SUPERVISOR_SERVER_URL (first unix server, else first inet server).
    pub serverurl: Option<&'a str>,
    pub minfds: u64,
    /// RLIMIT_NOFILE for children when supervisord raised its own.
    pub nofile: Option<(u64, u64)>,
}

fn cstring(bytes: Vec<u8>) -> Result<CString, String> {
    CString::new(bytes).map_err(|_| "argument contains a NUL byte".to_string())
}

/// The child's environment, lowest precedence first: supervisord's own, the SUPERVISOR_*
/// variables, `[supervisord] environment`, the program's `environment`.
pub fn environment(
    process: &ProcessConfig,
    group: &str,
    ctx: &SpawnContext,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let mut set = |k: &str, v: &str| {
        let key = OsString::from(k);
        match env.iter_mut().find(|(ek, _)| *ek == key) {
            Some(slot) => slot.1 = OsString::from(v),
            None => env.push((key, OsString::from(v))),
        }
    };
    set("SUPERVISOR_ENABLED", "1");
    if let Some(url) = process.serverurl.as_deref().or(ctx.serverurl) {
        set("SUPERVISOR_SERVER_URL", url);
    }
    set("SUPERVISOR_PROCESS_NAME", &process.name);
    set("SUPERVISOR_GROUP_NAME", group);
    for (k, v) in ctx.global_environment {
        set(k, v);
    }
    for (k, v) in &process.environment {
        set(k, v);
    }
    env
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
pub fn build(
    process: &ProcessConfig,
    group: &str,
    ctx: &SpawnContext,
) -> Result<SpawnPlan, String> {
    let env = environment(process, group, ctx);
    let path_var = process
        .environment
        .get("PATH")
        .cloned()
        .or_else(|| std::env::var("PATH").ok());
    let resolved = command::resolve(&process.command, path_var.as_deref())?;
    let filename = cstring(resolved.filename.into_bytes())?;
    let argv = resolved
        .argv
        .into_iter()
        .map(|a| cstring(a.into_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let env = env
        .into_iter()
        .filter_map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).ok()
        })
        .collect();
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
        let ctx = SpawnContext {
            global_environment: &global,
            serverurl: Some("unix:///tmp/s.sock"),
            minfds: 1024,
            nofile: None,
        };
        let env = environment(&p, "grp", &ctx);
        let get = |k: &str| {
            env.iter()
                .find(|(ek, _)| ek == k)
                .map(|(_, v)| v.to_string_lossy().into_owned())
        };
        assert_eq!(get("A").as_deref(), Some("program"));
        assert_eq!(get("B").as_deref(), Some("global"));
        assert_eq!(get("SUPERVISOR_ENABLED").as_deref(), Some("1"));
        assert_eq!(
            get("SUPERVISOR_SERVER_URL").as_deref(),
            Some("unix:///tmp/s.sock")
        );
        assert_eq!(get("SUPERVISOR_PROCESS_NAME").as_deref(), Some("web"));
        assert_eq!(get("SUPERVISOR_GROUP_NAME").as_deref(), Some("mine"));
        assert!(get("PATH").is_some() || std::env::var_os("PATH").is_none());
    }
}
