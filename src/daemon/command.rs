//! Turning a `command=` line into an executable path and argv before fork, with the reference's
//! spawnerr messages (shlex split, PATH lookup, existence/permission checks).

use crate::config::values::shlex_split;
use crate::python::py_repr;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The reference's default search path when PATH is unset or empty.
const DEFAULT_PATH: &str = "/bin:/usr/bin:/usr/local/bin";

/// A resolved command: the file to execve and the argv (argv[0] as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub filename: String,
    pub argv: Vec<String>,
}

/// Resolves `command` as the reference's `get_execv_args` + `check_execv_args`.
/// `path_var` is the program's `environment` PATH if set, else supervisord's PATH.
pub fn resolve(command: &str, path_var: Option<&str>) -> Result<Resolved, String> {
    let argv = shlex_split(command)
        .map_err(|e| format!("can't parse command {}: {}", py_repr(command), e))?;
    let Some(program) = argv.first().cloned() else {
        return Err("command is empty".to_string());
    };
    let (filename, meta) = if program.contains('/') {
        let meta = std::fs::metadata(&program).ok();
        (program, meta)
    } else {
        let path = match path_var {
            Some(p) if !p.is_empty() => p,
            _ => DEFAULT_PATH,
        };
        let found = path.split(':').find_map(|dir| {
            let candidate = Path::new(dir).join(&program);
            std::fs::metadata(&candidate)
                .ok()
                .map(|m| (candidate.to_string_lossy().into_owned(), m))
        });
        match found {
            Some((f, m)) => (f, Some(m)),
            None => (program, None),
        }
    };
    let Some(meta) = meta else {
        return Err(format!("can't find command {}", py_repr(&filename)));
    };
    if meta.is_dir() {
        return Err(format!("command at {} is a directory", py_repr(&filename)));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(format!(
            "command at {} is not executable",
            py_repr(&filename)
        ));
    }
    if !can_execute(&filename) {
        return Err(format!(
            "no permission to run command {}",
            py_repr(&filename)
        ));
    }
    Ok(Resolved { filename, argv })
}

fn can_execute(filename: &str) -> bool {
    let Ok(c) = CString::new(Path::new(filename).as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path; access(2) only reads it.
    unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
}

/// Linux errno names as Python's `errno.errorcode` spells them.
pub fn errno_name(code: i32) -> Option<&'static str> {
    const NAMES: &[(i32, &str)] = &[
        (libc::EPERM, "EPERM"),
        (libc::ENOENT, "ENOENT"),
        (libc::ESRCH, "ESRCH"),
        (libc::EINTR, "EINTR"),
        (libc::EIO, "EIO"),
        (libc::ENXIO, "ENXIO"),
        (libc::E2BIG, "E2BIG"),
        (libc::ENOEXEC, "ENOEXEC"),
        (libc::EBADF, "EBADF"),
        (libc::ECHILD, "ECHILD"),
        (libc::EAGAIN, "EAGAIN"),
        (libc::ENOMEM, "ENOMEM"),
        (libc::EACCES, "EACCES"),
        (libc::EFAULT, "EFAULT"),
        (libc::EBUSY, "EBUSY"),
        (libc::EEXIST, "EEXIST"),
        (libc::ENODEV, "ENODEV"),
        (libc::ENOTDIR, "ENOTDIR"),
        (libc::EISDIR, "EISDIR"),
        (libc::EINVAL, "EINVAL"),
        (libc::ENFILE, "ENFILE"),
        (libc::EMFILE, "EMFILE"),
        (libc::ETXTBSY, "ETXTBSY"),
        (libc::EFBIG, "EFBIG"),
        (libc::ENOSPC, "ENOSPC"),
        (libc::EROFS, "EROFS"),
        (libc::EPIPE, "EPIPE"),
        (libc::ENAMETOOLONG, "ENAMETOOLONG"),
        (libc::ENOSYS, "ENOSYS"),
        (libc::ELOOP, "ELOOP"),
        (libc::ELIBBAD, "ELIBBAD"),
        (libc::EOVERFLOW, "EOVERFLOW"),
    ];
    NAMES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_messages() {
        let cases: &[(&str, Option<&str>, Result<&str, &str>)] = &[
            ("sh -c true", Some("/nonexistent:/bin"), Ok("/bin/sh")),
            (
                "nosuchcmd-xyz",
                Some("/bin"),
                Err("can't find command 'nosuchcmd-xyz'"),
            ),
            (
                "/no/such/cmd",
                None,
                Err("can't find command '/no/such/cmd'"),
            ),
            ("/tmp", None, Err("command at '/tmp' is a directory")),
            (
                "/etc/passwd",
                None,
                Err("command at '/etc/passwd' is not executable"),
            ),
            ("", None, Err("command is empty")),
            (
                "'x",
                None,
                Err("can't parse command \"'x\": No closing quotation"),
            ),
        ];
        for (cmd, path, want) in cases {
            let got = resolve(cmd, *path);
            match want {
                Ok(f) => assert_eq!(got.unwrap().filename, *f, "{cmd}"),
                Err(e) => assert_eq!(got.unwrap_err(), *e, "{cmd}"),
            }
        }
    }
}
