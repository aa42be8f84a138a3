//! Process-wide setup of supervisord itself: rlimits, dropping privileges, daemonizing, pidfile.

use std::io::Write;
use std::path::Path;

use crate::config::model::User;

/// Raises soft RLIMIT_NOFILE/RLIMIT_NPROC to minfds/minprocs. Ok = info lines to log;
/// Err = the reference's usage error text.
pub fn set_rlimits(minfds: u64, minprocs: u64) -> Result<Vec<String>, String> {
    let limits = [
        (
            libc::RLIMIT_NOFILE,
            "RLIMIT_NOFILE",
            minfds,
            "The minimum number of file descriptors required to run this process is {min} as per the \"minfds\" command-line argument or config file setting. The current environment will only allow you to open {hard} file descriptors.  Either raise the number of usable file descriptors in your environment (see README.rst) or lower the minfds setting in the config file to allow the process to start.",
        ),
        (
            libc::RLIMIT_NPROC,
            "RLIMIT_NPROC",
            minprocs,
            "The minimum number of available processes required to run this program is {min} as per the \"minprocs\" command-line argument or config file setting. The current environment will only allow you to open {hard} processes.  Either raise the number of usable processes in your environment (see README.rst) or lower the minprocs setting in the config file to allow the program to start.",
        ),
    ];
    let mut infos = Vec::new();
    for (resource, name, min, msg) in limits {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills the struct.
        if unsafe { libc::getrlimit(resource, &mut lim) } != 0 {
            continue;
        }
        let soft = lim.rlim_cur;
        let mut hard = lim.rlim_max;
        if soft != libc::RLIM_INFINITY && soft < min {
            if hard != libc::RLIM_INFINITY && hard < min {
                hard = min;
            }
            let new = libc::rlimit {
                rlim_cur: min,
                rlim_max: hard,
            };
            // SAFETY: setrlimit reads the struct.
            if unsafe { libc::setrlimit(resource, &new) } == 0 {
                infos.push(format!("Increased {name} limit to {min}"));
            } else {
                let shown = if hard == libc::RLIM_INFINITY {
                    -1i128
                } else {
                    i128::from(hard)
                };
                return Err(msg
                    .replace("{min}", &min.to_string())
                    .replace("{hard}", &shown.to_string()));
            }
        }
    }
    Ok(infos)
}

/// Raises supervisord's own soft RLIMIT_NOFILE to the hard limit (each running child costs
/// several descriptors); returns the limit children should get back (the one minfds set).
pub fn raise_own_nofile() -> Option<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0
        || lim.rlim_cur >= lim.rlim_max
    {
        return None;
    }
    let raised = libc::rlimit {
        rlim_cur: lim.rlim_max,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: setrlimit reads the struct.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return None;
    }
    Some((lim.rlim_cur, lim.rlim_max))
}

/// Drops supervisord's privileges to `user` (reference `drop_privileges`). Err = message.
pub fn drop_privileges(user: &User) -> Result<(), String> {
    // SAFETY: getuid never fails.
    let current = unsafe { libc::getuid() };
    if current == user.uid {
        return Ok(());
    }
    if current != 0 {
        return Err("Can't drop privilege as nonroot user".to_string());
    }
    let gid = user.gid.unwrap_or(user.uid);
    let mut groups = vec![gid];
    if let Some(name) = &user.name {
        for g in crate::config::users::supplementary_groups(name) {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
    }
    // SAFETY: plain credential syscalls with valid arguments.
    unsafe {
        if libc::setgroups(groups.len(), groups.as_ptr()) != 0 {
            return Err("Could not set groups of effective user".to_string());
        }
        if libc::setgid(gid) != 0 {
            return Err("Could not set group id of effective user".to_string());
        }
        if libc::setuid(user.uid) != 0 {
            return Err("Could not set user id of effective user".to_string());
        }
    }
    Ok(())
}

/// Detaches from the terminal: fork (parent exits 0), setsid, fork again, stdio to /dev/null,
/// umask, and chdir to `directory` (logged as the reference).
pub fn daemonize(umask: u32, directory: Option<&Path>) {
    // SAFETY: single-threaded at this point; the parent only _exits.
    unsafe {
        match libc::fork() {
            -1 => {
                log::error!(target: "crit", "could not fork to daemonize: {}", std::io::Error::last_os_error());
                return;
            }
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        match libc::fork() {
            -1 => {}
            0 => {}
            _ => libc::_exit(0),
        }
    }
    log::info!("daemonizing the supervisord process");
    if let Some(dir) = directory {
        match std::env::set_current_dir(dir) {
            Ok(()) => log::info!(
                "set current directory: {}",
                crate::python::py_repr(&dir.to_string_lossy())
            ),
            Err(e) => {
                log::error!(target: "crit", "can't chdir into {}: {}", crate::python::py_repr(&dir.to_string_lossy()), e)
            }
        }
    }
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 onto the standard descriptors.
        unsafe {
            libc::dup2(null.as_raw_fd(), 0);
            libc::dup2(null.as_raw_fd(), 1);
            libc::dup2(null.as_raw_fd(), 2);
        }
    }
    // SAFETY: umask never fails.
    unsafe { libc::umask(umask as libc::mode_t) };
}

/// Writes `<pid>\n`; logs the reference's messages. Returns whether it was written.
pub fn write_pidfile(path: &Path) -> bool {
    let pid = std::process::id();
    let written = std::fs::File::create(path).and_then(|mut f| writeln!(f, "{pid}"));
    match written {
        Ok(()) => {
            log::info!("supervisord started with pid {pid}");
            true
        }
        Err(_) => {
            log::error!(target: "crit", "could not write pidfile {}", path.display());
            false
        }
    }
}

/// Keeps the heap near what the daemon holds. glibc raises its mmap threshold after a large
/// buffer is freed (a getAllProcessInfo reply of 500 processes is ~600 kB), so later large
/// buffers come from the heap and their pages stay resident; fixed thresholds keep large buffers
/// in their own mappings and give freed heap tops back.
pub fn tune_allocator() {
    // SAFETY: mallopt only changes allocator parameters; failure leaves the defaults.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}
