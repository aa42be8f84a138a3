//! Finding the config file when none is given: the reference's search order.

use crate::python::dirname;
use std::path::{Path, PathBuf};

/// The reference's default config paths for a program started as `argv0`.
pub fn search_paths(argv0: &str) -> Vec<String> {
    // Python sees the script's full path in argv[0]; resolve a bare name through PATH likewise.
    // Callers may pass the display name `supervisor supervisord`; the program is its first word.
    let argv0 = if argv0.contains(' ') && !Path::new(argv0).exists() {
        argv0.split(' ').next().unwrap_or(argv0)
    } else {
        argv0
    };
    let mut exe = argv0.to_string();
    if !exe.contains('/')
        && let Some(path) = std::env::var_os("PATH")
    {
        for dir in std::env::split_paths(&path) {
            let cand = dir.join(argv0);
            if cand.exists() {
                exe = cand.to_string_lossy().into_owned();
                break;
            }
        }
    }
    let here = dirname(dirname(&exe)).to_string();
    let join = |rest: &str| {
        if here.is_empty() {
            rest.to_string()
        } else if here.ends_with('/') {
            format!("{here}{rest}")
        } else {
            format!("{here}/{rest}")
        }
    };
    vec![
        join("etc/supervisord.conf"),
        join("supervisord.conf"),
        "supervisord.conf".into(),
        "etc/supervisord.conf".into(),
        "/etc/supervisord.conf".into(),
        "/etc/supervisor/supervisord.conf".into(),
    ]
}

/// The first existing default config file, or the reference's usage error text.
pub fn find_config_file(argv0: &str) -> Result<PathBuf, String> {
    let paths = search_paths(argv0);
    for p in &paths {
        if Path::new(p).exists() {
            return Ok(PathBuf::from(p));
        }
    }
    Err(format!(
        "No config file found at default paths ({}); use the -c option to specify a config file at a different path",
        paths.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_paths_follow_argv0() {
        assert_eq!(
            search_paths("/opt/sv/bin/supervisord"),
            [
                "/opt/sv/etc/supervisord.conf",
                "/opt/sv/supervisord.conf",
                "supervisord.conf",
                "etc/supervisord.conf",
                "/etc/supervisord.conf",
                "/etc/supervisor/supervisord.conf"
            ]
        );
        assert_eq!(search_paths("./supervisord")[0], "etc/supervisord.conf");
        assert_eq!(search_paths("/supervisord")[0], "/etc/supervisord.conf");
        assert_eq!(
            search_paths("/opt/sv/bin/supervisor supervisord")[0],
            "/opt/sv/etc/supervisord.conf"
        );
    }
}
