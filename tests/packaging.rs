//! Manual pages (mandoc lint, every option and command documented), `make install-files` /
//! `make uninstall` into a staging directory, and the Debian package installed with dpkg,
//! run on its packaged config, and purged without leftovers (root only).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::util::{TempDir, binary, stderr, stdout, wait_for};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have(program: &str) -> bool {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .any(|d| Path::new(d).join(program).is_file())
}

fn cmd(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn man(page: &str) -> String {
    std::fs::read_to_string(root().join("man").join(page)).unwrap()
}

/// Roff source to plain words: drop escapes that split option names (`\-`, `\fB`).
fn plain(roff: &str) -> String {
    roff.replace("\\-", "-")
        .replace("\\fB", "")
        .replace("\\fR", "")
        .replace("\\fI", "")
}

#[test]
fn man_pages_lint_clean() {
    if !have("mandoc") {
        eprintln!("SKIP man_pages_lint_clean: mandoc is not installed (apt-get install mandoc)");
        return;
    }
    let pages: Vec<String> = std::fs::read_dir(root().join("man"))
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .collect();
    assert_eq!(pages.len(), 6, "{pages:?}");
    // Warnings and errors fail (style hints are left to `mandoc -T lint`).
    let mut args = vec!["-T", "lint", "-W", "warning"];
    args.extend(pages.iter().map(|p| p.as_str()));
    let out = cmd("mandoc", &args);
    assert_eq!(
        (stdout(&out), stderr(&out)),
        (String::new(), String::new()),
        "mandoc -T lint"
    );
}

#[test]
fn man_pages_document_every_option_and_command() {
    // supervisord(8): every long option of `supervisord -h`.
    let help = stdout(&cmd(binary().to_str().unwrap(), &["supervisord", "-h"]));
    let page = plain(&man("supervisord.8"));
    let longs: Vec<&str> = help
        .split_whitespace()
        .filter_map(|w| w.split('/').find(|p| p.starts_with("--")))
        .collect();
    assert!(longs.len() >= 19, "{longs:?}");
    for opt in longs {
        assert!(page.contains(opt), "supervisord.8 lacks {opt}");
    }
    // supervisorctl(1): every option and every command of `help`.
    let page = plain(&man("supervisorctl.1"));
    for opt in [
        "--configuration",
        "--serverurl",
        "--username",
        "--password",
        "--interactive",
        "--history_file",
        "--help",
    ] {
        assert!(page.contains(opt), "supervisorctl.1 lacks {opt}");
    }
    let help = stdout(&cmd(binary().to_str().unwrap(), &["ctl", "help"]));
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("====="))
        .skip(1)
        .flat_map(|l| l.split_whitespace())
        .collect();
    assert!(commands.len() >= 20, "{help}");
    for c in commands {
        let documented = page.lines().any(|l| {
            (l.starts_with(".B ") || l.starts_with(".BR "))
                && l.split(|ch: char| ch.is_whitespace() || ch == '"' || ch == ',')
                    .any(|w| w == c)
        });
        assert!(documented, "supervisorctl.1 lacks the command {c}");
    }
    // supervisord.conf(5): every option of every section.
    let page = plain(&man("supervisord.conf.5"));
    use supervisor::config::known;
    for (section, options) in [
        ("supervisord", known::SUPERVISORD),
        ("unix_http_server", known::UNIX_HTTP_SERVER),
        ("inet_http_server", known::INET_HTTP_SERVER),
        ("supervisorctl", known::SUPERVISORCTL),
        ("program", known::PROGRAM),
        ("eventlistener", known::EVENTLISTENER_EXTRA),
        ("fcgi-program", known::FCGI_EXTRA),
        ("group", known::GROUP),
        ("include", known::INCLUDE),
    ] {
        assert!(
            page.contains(&format!(".SS [{section}")),
            "no section {section}"
        );
        for o in options {
            // profile_options is accepted and ignored, like the reference's without a profiler.
            if *o == "profile_options" {
                continue;
            }
            assert!(page.contains(o), "supervisord.conf.5 lacks [{section}] {o}");
        }
    }
    for name in [
        "here",
        "ENV_",
        "program_name",
        "group_name",
        "host_node_name",
        "process_num",
        "numprocs",
        "${",
        "EXTENSIONS",
    ] {
        assert!(page.contains(name), "supervisord.conf.5 lacks {name}");
    }
    // Every page is named in supervisor(1)'s SEE ALSO.
    let page = man("supervisor.1");
    for p in [
        "supervisord (8)",
        "supervisorctl (1)",
        "supervisord.conf (5)",
        "echo_supervisord_conf (1)",
        "pidproxy (1)",
    ] {
        assert!(page.contains(p), "supervisor.1 does not point to {p}");
    }
}

/// Every file and symlink under `dir`, relative.
fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[test]
fn make_install_and_uninstall() {
    if !have("make") {
        eprintln!("SKIP make_install_and_uninstall: make is not installed");
        return;
    }
    let dir = TempDir::new("install");
    let dest = dir.join("stage");
    let make = |target: &str| {
        let out = Command::new("make")
            .args([
                "-s",
                "--no-print-directory",
                "-C",
                root().to_str().unwrap(),
                target,
                &format!("BIN={}", binary().display()),
                &format!("DESTDIR={}", dest.display()),
                "PREFIX=/usr/local",
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "make {target}: {out:?}");
    };
    make("install-files");
    let files = files_under(&dest);
    let want = [
        "usr/local/bin/supervisor",
        "usr/local/bin/supervisord",
        "usr/local/bin/supervisorctl",
        "usr/local/bin/echo_supervisord_conf",
        "usr/local/bin/pidproxy",
        "usr/local/share/man/man1/supervisor.1",
        "usr/local/share/man/man1/supervisorctl.1",
        "usr/local/share/man/man1/echo_supervisord_conf.1",
        "usr/local/share/man/man1/pidproxy.1",
        "usr/local/share/man/man5/supervisord.conf.5",
        "usr/local/share/man/man8/supervisord.8",
        "usr/local/share/bash-completion/completions/supervisor",
        "usr/local/share/bash-completion/completions/supervisorctl",
        "usr/local/share/zsh/site-functions/_supervisor",
        "usr/local/share/fish/vendor_completions.d/supervisor.fish",
        "usr/local/share/fish/vendor_completions.d/supervisorctl.fish",
        "usr/local/lib/systemd/system/supervisor.service",
    ];
    for f in want {
        assert!(files.contains(f), "{f} not installed: {files:?}");
    }
    // The applet links work where they are installed.
    let pidproxy = dest.join("usr/local/bin/pidproxy");
    let out = cmd(pidproxy.to_str().unwrap(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("pidproxy -- run command"));
    let unit =
        std::fs::read_to_string(dest.join("usr/local/lib/systemd/system/supervisor.service"))
            .unwrap();
    assert!(
        unit.contains(
            "ExecStart=/usr/local/bin/supervisord -n -c /etc/supervisor/supervisord.conf"
        ),
        "{unit}"
    );
    make("uninstall");
    assert_eq!(
        files_under(&dest),
        BTreeSet::new(),
        "left after make uninstall"
    );
}

/// Serialises the package test across test binaries of every worktree on this machine (they
/// share one dpkg database and /etc).
struct MachineLock {
    _held: std::fs::File,
}

impl MachineLock {
    fn take() -> MachineLock {
        use std::os::fd::AsRawFd;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open("/tmp/supervisor-rs-deb-test.lock")
            .unwrap();
        // SAFETY: flock on an fd we own; blocks until the other holder is done.
        unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
        MachineLock { _held: f }
    }
}

/// dpkg, retried while another dpkg/apt holds the database lock.
fn dpkg(args: &[&str]) -> Output {
    let mut last = None;
    wait_for(Duration::from_secs(120), || {
        let out = cmd("dpkg", args);
        let locked = !out.status.success() && stderr(&out).contains("lock");
        last = Some(out);
        !locked
    });
    last.unwrap()
}

fn installed(package: &str) -> bool {
    let out = cmd("dpkg-query", &["-W", "-f=${Status}", package]);
    stdout(&out).contains("ok installed") || stdout(&out).contains("config-files")
}

#[test]
fn deb_installs_runs_and_purges_cleanly() {
    let test = "deb_installs_runs_and_purges_cleanly";
    if !crate::util::require_root(test, "dpkg -i needs root") {
        return;
    }
    if !have("dpkg-deb") || !have("dpkg") {
        eprintln!("SKIP {test}: dpkg/dpkg-deb are not installed (not a Debian system)");
        return;
    }
    let _lock = MachineLock::take();
    if installed("supervisor") {
        eprintln!("SKIP {test}: Debian's own supervisor package is installed (ours replaces it)");
        return;
    }
    if installed("supervisor-rs") {
        // Left by an interrupted run.
        let _ = cmd("/usr/bin/supervisorctl", &["shutdown"]);
        dpkg(&["--purge", "supervisor-rs"]);
    }
    if Path::new("/run/supervisord.sock").exists() || Path::new("/etc/supervisor").exists() {
        eprintln!(
            "SKIP {test}: /run/supervisord.sock or /etc/supervisor exists (another supervisor is set up here)"
        );
        return;
    }
    let dir = TempDir::new("deb");
    // Uncompressed: xz of a debug binary takes most of a minute.
    let build = Command::new(root().join("packaging/debian/build.sh"))
        .args([binary().to_str().unwrap(), dir.path.to_str().unwrap()])
        .env("DEB_COMPRESSION", "none")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(build.status.success(), "{build:?}");
    let deb = stdout(&build).trim().to_string();
    // What exists before, to tell the package's leftovers from shared directories.
    let listing = stdout(&cmd("dpkg-deb", &["-c", &deb]));
    let paths: Vec<String> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .map(|p| p.trim_start_matches('.').trim_end_matches('/').to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let existed: BTreeSet<&String> = paths.iter().filter(|p| Path::new(p).exists()).collect();

    // The man-db trigger (mandb) is slow: it runs once, with the purge.
    let out = dpkg(&["--no-triggers", "-i", &deb]);
    assert!(out.status.success(), "dpkg -i: {out:?}");
    let result = std::panic::catch_unwind(|| run_installed(test));
    let _ = cmd("/usr/bin/supervisorctl", &["shutdown"]);
    wait_for(Duration::from_secs(20), || {
        !Path::new("/run/supervisord.pid").exists()
    });
    let _ = std::fs::remove_file("/etc/supervisor/conf.d/ops-test.conf");
    let out = dpkg(&["--purge", "supervisor-rs"]);
    assert!(out.status.success(), "dpkg --purge: {out:?}");
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    assert!(!installed("supervisor-rs"));
    let left: Vec<&String> = paths
        .iter()
        .filter(|p| !existed.contains(p))
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .collect();
    assert!(left.is_empty(), "left behind by the purge: {left:?}");
    for p in [
        "/var/log/supervisor",
        "/etc/supervisor",
        "/run/supervisord.sock",
        "/run/supervisord.pid",
    ] {
        assert!(!Path::new(p).exists(), "{p} left behind");
    }
}

/// With the package installed: the packaged config checks out, the installed daemon runs a
/// program from conf.d, supervisorctl sees it, logrotate makes it reopen its logs.
fn run_installed(test: &str) {
    assert!(Path::new("/var/log/supervisor").is_dir());
    let conf = "/etc/supervisor/supervisord.conf";
    let check = cmd("/usr/bin/supervisor", &["check-config", "-c", conf]);
    assert!(check.status.success(), "{check:?}");
    std::fs::write(
        "/etc/supervisor/conf.d/ops-test.conf",
        "[program:ops-test]\ncommand=sleep 1000\nstartsecs=0\n",
    )
    .unwrap();
    let check = cmd("/usr/bin/supervisor", &["check-config", "-c", conf]);
    assert!(check.status.success(), "{check:?}");
    assert!(stdout(&check).contains("ops-test"), "{}", stdout(&check));
    assert_eq!(stderr(&check), "", "a clean packaged config");
    // The installed daemon, daemonizing as it would outside systemd.
    let start = cmd("/usr/bin/supervisord", &["-c", conf]);
    assert!(start.status.success(), "{start:?}");
    let mut status = None;
    assert!(
        wait_for(Duration::from_secs(20), || {
            let out = cmd("/usr/bin/supervisorctl", &["status"]);
            let ok = out.status.success() && stdout(&out).contains("RUNNING");
            status = Some(out);
            ok
        }),
        "{status:?}"
    );
    assert!(stdout(status.as_ref().unwrap()).starts_with("ops-test"));
    let names = cmd(
        "bash",
        &[
            "-c",
            "source /usr/share/bash-completion/completions/supervisor; COMP_WORDS=(supervisorctl stop ops); COMP_CWORD=2; _supervisor; echo ${COMPREPLY[*]}",
        ],
    );
    assert_eq!(stdout(&names), "ops-test\n", "{names:?}");
    if have("systemd-analyze") {
        let v = cmd(
            "systemd-analyze",
            &["verify", "/lib/systemd/system/supervisor.service"],
        );
        assert!(v.status.success(), "{v:?}");
    }
    if have("logrotate") {
        let state = std::env::temp_dir().join(format!("ops-logrotate-{}", std::process::id()));
        let out = cmd(
            "logrotate",
            &[
                "-f",
                "-s",
                state.to_str().unwrap(),
                "/etc/logrotate.d/supervisor",
            ],
        );
        let _ = std::fs::remove_file(&state);
        assert!(out.status.success(), "{out:?}");
        // Rotated away, then reopened by supervisord on SIGUSR2 (like the reference, it says
        // so in the old file and writes the next message to the new one).
        let log = Path::new("/var/log/supervisor/supervisord.log");
        assert!(
            wait_for(Duration::from_secs(10), || log.exists()),
            "supervisord.log not reopened"
        );
        let restart = cmd("/usr/bin/supervisorctl", &["restart", "ops-test"]);
        assert!(restart.status.success(), "{restart:?}");
        let text = std::fs::read_to_string(log).unwrap_or_default();
        assert!(text.contains("ops-test"), "new supervisord.log: {text:?}");
        let rotated: Vec<String> = std::fs::read_dir("/var/log/supervisor")
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("supervisord.log-"))
            .collect();
        assert_eq!(rotated.len(), 1, "{rotated:?}");
        let old = std::fs::read_to_string(Path::new("/var/log/supervisor").join(&rotated[0]))
            .unwrap_or_default();
        assert!(old.ends_with("INFO supervisord logreopen\n"), "{old}");
    } else {
        eprintln!(
            "SKIP {test} (logrotate part): logrotate is not installed (apt-get install logrotate)"
        );
    }
}
