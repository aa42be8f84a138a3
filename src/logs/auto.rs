//! AUTO child log files: creating `<name>-<channel>---<identifier>-<random>.log` in childlogdir
//! (like mkstemp: 0600, O_EXCL) and removing old ones at startup with the reference's pattern.

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::python::py_repr;

/// Which pipe of a child a log belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Stdout,
    Stderr,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Stderr => "stderr",
        }
    }
}

/// Python's tempfile name alphabet.
const RANDOM_ALPHABET: &[u8; 37] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
const RANDOM_LEN: usize = 8;
/// Attempts before giving up on finding an unused name (tempfile tries 10000).
const CREATE_ATTEMPTS: usize = 100;

/// Eight characters from `[a-z0-9_]`, uniform. The generator is seeded once per process from
/// the kernel (one getrandom call instead of opening /dev/urandom for every name); O_EXCL
/// creation, not the generator, is what keeps names unique.
pub fn random_suffix() -> String {
    let mut out = String::with_capacity(RANDOM_LEN);
    while out.len() < RANDOM_LEN {
        for b in next_random().to_le_bytes() {
            // Rejection sampling keeps the distribution uniform: 222 = 6 * 37.
            if b < 222 && out.len() < RANDOM_LEN {
                out.push(RANDOM_ALPHABET[(b % 37) as usize] as char);
            }
        }
    }
    out
}

/// splitmix64 over a per-process seed.
fn next_random() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    STATE.with(|state| {
        let next = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(next);
        let mut z = next;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

fn seed() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: getrandom writes at most buf.len() bytes into buf.
    let got = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if got == 8 {
        return u64::from_le_bytes(buf);
    }
    // No getrandom (very old kernel): time and pid still differ between daemons.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

/// The fixed part of an AUTO name: `<name>-<channel>---<identifier>-`.
pub fn auto_log_prefix(process_name: &str, channel: Channel, identifier: &str) -> String {
    format!("{process_name}-{}---{identifier}-", channel.as_str())
}

/// A fresh AUTO log name in `childlogdir` (nothing is created yet).
pub fn auto_log_name(
    childlogdir: &Path,
    process_name: &str,
    channel: Channel,
    identifier: &str,
) -> PathBuf {
    let prefix = auto_log_prefix(process_name, channel, identifier);
    childlogdir.join(format!("{prefix}{}.log", random_suffix()))
}

/// Creates the empty AUTO log file `path` (mode 0600, never an existing file); when the name is
/// taken, tries fresh names for the same process and channel. Returns the path created.
pub fn create_auto_log_at(
    path: &Path,
    process_name: &str,
    channel: Channel,
    identifier: &str,
) -> io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    let mut last_error = io::Error::from(io::ErrorKind::AlreadyExists);
    for _ in 0..CREATE_ATTEMPTS {
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = e,
            Err(e) => return Err(e),
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        path = auto_log_name(dir, process_name, channel, identifier);
    }
    Err(last_error)
}

/// Names and creates a new AUTO log file at once; returns its path.
#[cfg(test)]
pub fn create_auto_log(
    childlogdir: &Path,
    process_name: &str,
    channel: Channel,
    identifier: &str,
) -> io::Result<PathBuf> {
    let path = auto_log_name(childlogdir, process_name, channel, identifier);
    create_auto_log_at(&path, process_name, channel, identifier)
}

/// Python's `\s` for str patterns: str.isspace() (includes \x1c-\x1f, unlike Rust's is_whitespace).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Whether `name` matches the reference's cleanup pattern `.+?---<identifier>-\S+\.log\.?\d{0,4}`
/// with `re.match` (anchored at the start only, so anything may follow).
///
/// That is: a non-empty prefix without newline, then `---<identifier>-`, then at least one
/// non-space character, then `.log`, where everything between the identifier and `.log` is
/// non-space. The identifier is taken literally (the reference interpolates it into the regex
/// unescaped; see docs/logs-notes.md).
pub fn is_auto_log_name(name: &str, identifier: &str) -> bool {
    let marker = format!("---{identifier}-");
    let chars: Vec<(usize, char)> = name.char_indices().collect();
    for (index, &(start, c)) in chars.iter().enumerate() {
        if c == '\n' {
            // `.` does not match a newline: no later marker can have an all-`.` prefix.
            return false;
        }
        let marker_at = start + c.len_utf8();
        if !name[marker_at..].starts_with(&marker) {
            continue;
        }
        // chars[..=index] is the (non-empty) lazy prefix.
        let _ = index;
        let rest = &name[marker_at + marker.len()..];
        if rest_matches(rest) {
            return true;
        }
    }
    false
}

/// `\S+\.log` at the start of `rest`.
fn rest_matches(rest: &str) -> bool {
    let run_end = rest
        .char_indices()
        .find(|&(_, c)| is_py_space(c))
        .map(|(i, _)| i)
        .unwrap_or(rest.len());
    let run = &rest[..run_end];
    // `\S+` must keep at least one char before `.log`; backtracking can end the run anywhere.
    run.match_indices(".log").any(|(i, _)| i >= 1)
}

/// Removes AUTO logs of earlier runs with this identifier (unless `nocleanup`); returns the
/// warnings to log, in the reference's words.
pub fn cleanup_auto_logs(childlogdir: &Path, identifier: &str) -> Vec<String> {
    let entries = match std::fs::read_dir(childlogdir) {
        Ok(entries) => entries,
        Err(_) => return vec!["Could not clear childlog dir".to_string()],
    };
    let mut warnings = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let name = file_name.to_string_lossy();
        if !is_auto_log_name(&name, identifier) {
            continue;
        }
        let path = childlogdir.join(&file_name);
        if std::fs::remove_file(&path).is_err() {
            warnings.push(format!(
                "Failed to clean up {}",
                py_repr(&path.to_string_lossy())
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::testutil::TempDir;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn cleanup_pattern_table() {
        let cases = [
            ("quick-stdout---supervisor-unzf8oh6.log", true),
            ("quick-stdout---supervisor-unzf8oh6.log.1", true),
            ("quick-stdout---supervisor-unzf8oh6.log.10", true),
            ("quick-stdout---supervisor-unzf8oh6.logs", true), // re.match: trailing text is fine
            ("x---supervisor-a.log", true),
            ("x---supervisor-.log", false), // \S+ needs one char before .log
            ("x---supervisor-..log", true),
            ("---supervisor-abc.log", false), // .+? needs one char before the marker
            ("a---supervisor-abc.txt", false),
            ("a---other-abc.log", false),
            ("a---supervisor-ab c.log", false), // space breaks \S+
            ("a b---supervisor-abc.log", true), // the prefix may contain spaces
            ("a\n---supervisor-abc.log", false), // but not a newline
            ("a---supervisor-x y---supervisor-abc.log", true), // a later marker can match
            ("a---supervisor-\x1cabc.log", false),
            ("a---supervisor-é.log", true),
            ("supervisord.log", false),
            ("cat-stdout---sup2id-80h7o7zf.log", false),
        ];
        for (name, expected) in cases {
            assert_eq!(is_auto_log_name(name, "supervisor"), expected, "{name:?}");
        }
        assert!(is_auto_log_name(
            "cat-stdout---sup2id-80h7o7zf.log",
            "sup2id"
        ));
    }

    #[test]
    fn random_suffix_alphabet() {
        for _ in 0..50 {
            let s = random_suffix();
            assert_eq!(s.len(), 8);
            assert!(s.bytes().all(|b| RANDOM_ALPHABET.contains(&b)), "{s}");
        }
        assert_ne!(random_suffix(), random_suffix());
    }

    #[test]
    fn a_taken_name_is_replaced_by_a_fresh_one() {
        let dir = TempDir::new("auto-taken");
        let wanted = auto_log_name(dir.path(), "p", Channel::Stderr, "supervisor");
        std::fs::write(&wanted, b"someone else's").unwrap();
        let got = create_auto_log_at(&wanted, "p", Channel::Stderr, "supervisor").unwrap();
        assert_ne!(got, wanted);
        let name = got.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("p-stderr---supervisor-"), "{name}");
        assert_eq!(std::fs::read(&wanted).unwrap(), b"someone else's");
        assert_eq!(std::fs::metadata(&got).unwrap().len(), 0);
        // A free name is used as given.
        let free = auto_log_name(dir.path(), "p", Channel::Stdout, "supervisor");
        assert_eq!(
            create_auto_log_at(&free, "p", Channel::Stdout, "supervisor").unwrap(),
            free
        );
    }

    #[test]
    fn create_names_and_mode() {
        let dir = TempDir::new("auto");
        let a = create_auto_log(dir.path(), "quick", Channel::Stdout, "supervisor").unwrap();
        let b = create_auto_log(dir.path(), "quick", Channel::Stderr, "supervisor").unwrap();
        let a_name = a.file_name().unwrap().to_str().unwrap();
        assert!(a_name.starts_with("quick-stdout---supervisor-"), "{a_name}");
        assert!(a_name.ends_with(".log"));
        assert_eq!(a_name.len(), "quick-stdout---supervisor-".len() + 8 + 4);
        assert!(
            b.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("quick-stderr---supervisor-")
        );
        let mode = std::fs::metadata(&a).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::metadata(&a).unwrap().len(), 0);
        assert!(is_auto_log_name(a_name, "supervisor"));
    }

    #[test]
    fn cleanup_removes_only_matching_files() {
        let dir = TempDir::new("cleanup");
        let keep = ["supervisord.log", "x---other-abc.log", "notes.txt"];
        let remove = [
            "a-stdout---supervisor-abcdefgh.log",
            "a-stdout---supervisor-abcdefgh.log.1",
            "b-stderr---supervisor-12345678.log.3",
        ];
        for name in keep.iter().chain(remove.iter()) {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        let created = create_auto_log(dir.path(), "c", Channel::Stdout, "supervisor").unwrap();
        assert!(cleanup_auto_logs(dir.path(), "supervisor").is_empty());
        for name in keep {
            assert!(dir.join(name).exists(), "{name} was removed");
        }
        for name in remove {
            assert!(!dir.join(name).exists(), "{name} was kept");
        }
        assert!(!created.exists());
    }

    #[test]
    fn cleanup_of_missing_dir_warns() {
        let dir = TempDir::new("cleanupmissing");
        assert_eq!(
            cleanup_auto_logs(&dir.join("nope"), "supervisor"),
            ["Could not clear childlog dir"]
        );
    }

    #[test]
    fn cleanup_failure_names_the_path() {
        let dir = TempDir::new("cleanupfail");
        // A directory with a matching name cannot be removed with remove_file.
        std::fs::create_dir(dir.join("d---supervisor-abc.log")).unwrap();
        let warnings = cleanup_auto_logs(dir.path(), "supervisor");
        assert_eq!(
            warnings,
            [format!(
                "Failed to clean up '{}'",
                dir.join("d---supervisor-abc.log").display()
            )]
        );
    }
}
