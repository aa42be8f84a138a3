//! Test helpers for the logs unit tests: appending like another writer, a tiny tmpfs that really
//! fills up (temporary directories come from the crate-wide `crate::testutil`).

use std::path::Path;

pub use crate::testutil::TempDir;

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// Appends `data` to `path` (creating it), as another writer of a log would.
pub fn append(path: &Path, data: &[u8]) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap()
        .write_all(data)
        .unwrap();
}

/// Runs `test` with a directory on a fresh 64 KiB tmpfs (a filesystem that really fills up),
/// unmounted afterwards even when the test fails. Needs root and permission to mount: otherwise
/// the test is skipped with a line saying so.
pub fn with_tiny_tmpfs(test_name: &str, test: impl FnOnce(&Path) + std::panic::UnwindSafe) {
    let dir = TempDir::new(test_name);
    let mount_point = dir.join("mnt");
    std::fs::create_dir(&mount_point).unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mount_point)
        .stderr(std::process::Stdio::null())
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!("skipping {test_name}: cannot mount tmpfs here");
        return;
    }
    let result = std::panic::catch_unwind(|| test(&mount_point));
    let _ = std::process::Command::new("umount")
        .arg(&mount_point)
        .status();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
