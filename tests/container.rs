//! The image (packaging/Dockerfile) in a real container runtime: Debian's podman with runc builds
//! the FROM-scratch image from the static binary (`make static`, which `make test` runs first)
//! and runs it with no registry or network access. Shows: supervisord is PID 1, programs start,
//! a `user=` program runs under a name from the image's /etc/passwd, orphaned grandchildren are
//! reaped at once, output reaches `podman logs`, an essential program's exit code becomes the
//! container's, `podman stop` stops everything within stopwaitsecs and exits 0, and
//! `podman healthcheck run` reports healthy once /readyz is 200. Test programs are busybox-static
//! bind-mounted into the container. Where podman cannot run, the same root filesystem runs under
//! `unshare --pid --fork --mount-proc` + chroot, and the output says so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{self, TempDir};

const STATIC_BIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/x86_64-unknown-linux-gnu/release/supervisor"
);
const REPO: &str = env!("CARGO_MANIFEST_DIR");
const BUSYBOX: &str = "/bin/busybox";
const RUNC: &str = "/usr/sbin/runc";
const IMAGE: &str = "localhost/supervisor-test:latest";

/// Checks from inside: PID 1's command line, orphans left to PID 1 and whether any stays a zombie.
const CHECK_SH: &str = r#"bb=/bin/busybox
echo "pid1: $($bb tr '\0' ' ' < /proc/1/cmdline)"
# Each inner shell exits at once: its sleep is orphaned to PID 1, which must reap it.
for i in 1 2 3 4 5; do $bb sh -c "$bb sleep 0.3 &"; done
$bb sleep 1.5
z=0
for f in /proc/[0-9]*/stat; do
  case "$($bb cat $f 2>/dev/null)" in *") Z "*) z=$((z+1));; esac
done
echo "zombies: $z"
exec $bb sleep 1000
"#;

/// The long-running container's programs (its /etc/supervisor/conf.d).
const PROGRAMS: &str = "[program:who]\n\
command=/bin/busybox sh -c 'echo \"user: $(/bin/busybox id -un) $(/bin/busybox id -u)\"; exec /bin/busybox sleep 1000'\n\
user=app\nlog_prefix=\"[%(program_name)s] \"\nstartsecs=0\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\nredirect_stderr=true\n\n\
[program:check]\ncommand=/bin/busybox sh /test/check.sh\nstartsecs=0\n\
stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\nredirect_stderr=true\n\n\
[program:stubborn]\ncommand=/bin/busybox sh -c 'trap \"\" TERM; while :; do /bin/busybox sleep 1; done'\n\
startsecs=0\nstopwaitsecs=2\n\n\
[program:late]\ncommand=/bin/busybox sleep 1000\nstartsecs=2\n";

/// The run-to-completion container: an essential program's exit status ends it.
const ESSENTIAL: &str = "[program:job]\n\
command=/bin/busybox sh -c '/bin/busybox sleep 0.3; echo job done; exit 3'\n\
startsecs=0\nautorestart=false\nessential=true\n\
stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n\n\
[program:sidecar]\ncommand=/bin/busybox sleep 1000\nstartsecs=0\n";

/// Whether the daemon knows `essential=` (it lands separately; until then that part is skipped).
fn knows_essential(dir: &TempDir) -> bool {
    let conf = dir.write(
        "essential-probe.conf",
        "[supervisord]\n[program:x]\ncommand=/bin/true\nessential=true\n",
    );
    let out = Command::new(util::binary())
        .args(["check-config", "--dump", "-c"])
        .arg(&conf)
        .output();
    out.is_ok_and(|o| o.status.success() && util::stdout(&o).contains("\"essential\": true"))
}

fn podman_usable() -> Result<(), String> {
    for path in ["/usr/bin/podman", RUNC] {
        if !Path::new(path).exists() {
            return Err(format!("{path} missing"));
        }
    }
    Ok(())
}

/// `podman` with a private store (vfs: no overlay-on-overlay), runc, cgroupfs, no journald.
struct Podman {
    root: PathBuf,
    conf: PathBuf,
}

impl Podman {
    fn new(dir: &TempDir) -> Podman {
        // The default nofile/nproc limits exceed this machine's hard limits.
        let conf = dir.write(
            "containers.conf",
            "[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = \"cgroupfs\"\n\
             events_logger = \"file\"\n",
        );
        Podman {
            root: dir.join("store"),
            conf,
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", &self.conf)
            .arg("--root")
            .arg(self.root.join("root"))
            .arg("--runroot")
            .arg(self.root.join("run"))
            .args(["--storage-driver", "vfs", "--runtime", RUNC])
            .args(args)
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn logs(&self, name: &str) -> String {
        let o = self.run(&["logs", name]);
        util::stdout(&o) + &util::stderr(&o)
    }
}

/// The image's build context: the Dockerfile's two inputs at their repo paths.
fn stage_context(dir: &TempDir) -> PathBuf {
    let ctx = dir.join("context");
    let bin_dir = ctx.join("target/x86_64-unknown-linux-gnu/release");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::fs::create_dir_all(ctx.join("packaging")).unwrap();
    std::fs::copy(STATIC_BIN, bin_dir.join("supervisor")).unwrap();
    let cp = Command::new("cp")
        .arg("-a")
        .arg(Path::new(REPO).join("packaging/rootfs"))
        .arg(ctx.join("packaging/"))
        .status()
        .unwrap();
    assert!(cp.success());
    ctx
}

#[test]
fn the_image_runs_in_a_container_runtime() {
    if !util::require_root(
        "the_image_runs_in_a_container_runtime",
        "podman and chroot need root",
    ) {
        return;
    }
    if !Path::new(STATIC_BIN).exists() || !Path::new(BUSYBOX).exists() {
        // `make test` builds the static binary first (and sets REQUIRE_CONTAINER); .ci/run
        // installs busybox-static. A plain `cargo test` without them skips.
        assert!(
            std::env::var_os("REQUIRE_CONTAINER").is_none(),
            "the container test needs {STATIC_BIN} (make static) and {BUSYBOX} (busybox-static)"
        );
        eprintln!(
            "SKIP the_image_runs_in_a_container_runtime: needs {STATIC_BIN} (make static) and \
             {BUSYBOX} (busybox-static)"
        );
        return;
    }
    let dir = TempDir::new("image");
    let essential = knows_essential(&dir);
    let usable = match std::env::var_os("CONTAINER_TEST_CHROOT") {
        Some(_) => Err("CONTAINER_TEST_CHROOT is set".to_string()),
        None => podman_usable(),
    };
    match usable {
        Ok(()) => in_podman(&dir, essential),
        Err(why) => {
            eprintln!(
                "NOTE the_image_runs_in_a_container_runtime: podman unusable ({why}); \
                 running the image's root filesystem under unshare + chroot instead"
            );
            in_chroot(&dir, essential);
        }
    }
}

fn in_podman(dir: &TempDir, essential: bool) {
    let podman = Podman::new(dir);
    let ctx = stage_context(dir);
    let t0 = Instant::now();
    let build = podman.run(&[
        "build",
        "--format",
        "docker",
        "--network",
        "none",
        "--pull=never",
        "-q",
        "-t",
        IMAGE,
        "-f",
        &format!("{REPO}/packaging/Dockerfile"),
        ctx.to_str().unwrap(),
    ]);
    assert!(build.status.success(), "podman build: {build:?}");
    eprintln!("container test: image built in {:.1?}", t0.elapsed());

    let conf_d = dir.join("conf.d");
    std::fs::create_dir_all(&conf_d).unwrap();
    std::fs::write(conf_d.join("test.conf"), PROGRAMS).unwrap();
    let check = dir.write("check.sh", CHECK_SH);
    let mounts = |conf_d: &Path| {
        vec![
            "-v".to_string(),
            format!("{}:/etc/supervisor/conf.d:ro", conf_d.display()),
            "-v".to_string(),
            format!("{BUSYBOX}:/bin/busybox:ro"),
            "-v".to_string(),
            format!("{}:/test/check.sh:ro", check.display()),
        ]
    };
    let name = format!("svt-{}", std::process::id());
    let mut args: Vec<String> = ["run", "-d", "--name", &name, "--network", "none"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["--health-interval".into(), "disable".into()]);
    args.extend(mounts(&conf_d));
    args.push(IMAGE.into());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = podman.run(&argv);
    assert!(started.status.success(), "podman run: {started:?}");

    // Output of supervisord and of the programs reaches `podman logs`.
    let mut logs = String::new();
    let seen = util::wait_for(Duration::from_secs(20), || {
        logs = podman.logs(&name);
        logs.contains("zombies: ") && logs.contains("user: ")
    });
    let mut health = Vec::new();
    let healthy = seen
        && util::wait_for(Duration::from_secs(20), || {
            let o = podman.run(&["healthcheck", "run", &name]);
            health.push(o.status.code());
            o.status.success()
        });
    let t_stop = Instant::now();
    let stop = podman.run(&["stop", "-t", "10", &name]);
    let stop_secs = t_stop.elapsed().as_secs_f64();
    let exit = podman.run(&["inspect", "--format", "{{.State.ExitCode}}", &name]);
    let final_logs = podman.logs(&name);
    let _ = podman.run(&["rm", "-f", &name]);
    eprintln!("container test: podman logs:\n{final_logs}");

    assert!(seen, "programs' output never reached podman logs:\n{logs}");
    assert!(
        logs.contains("pid1: /usr/bin/supervisord -n -c /etc/supervisord.conf"),
        "supervisord is not PID 1:\n{logs}"
    );
    // A name from the image's /etc/passwd, and the program's log_prefix on its lines.
    assert!(logs.contains("[who] user: app 1000"), "{logs}");
    // supervisord logs each orphan it reaps; none is left a zombie.
    assert!(logs.matches("reaped unknown pid").count() >= 5, "{logs}");
    assert!(
        logs.contains("zombies: 0"),
        "orphans were not reaped:\n{logs}"
    );
    assert!(
        final_logs.contains("success: late entered RUNNING state"),
        "supervisord's own log is not on stdout:\n{final_logs}"
    );
    assert!(healthy, "healthcheck never passed: {health:?}");
    eprintln!("container test: healthcheck exit codes until healthy: {health:?}");
    assert!(stop.status.success(), "podman stop: {stop:?}");
    assert!(
        stop_secs < 8.0,
        "podman stop took {stop_secs:.1}s (stubborn's stopwaitsecs=2)"
    );
    assert_eq!(util::stdout(&exit).trim(), "0", "{exit:?}\n{final_logs}");
    assert!(
        final_logs.contains("stubborn") && final_logs.contains("SIGKILL"),
        "{final_logs}"
    );
    eprintln!("container test: podman stop took {stop_secs:.1}s, exit 0");

    if !essential {
        eprintln!(
            "NOTE container test: essential= not known to this build; exit-code part skipped"
        );
        return;
    }
    let conf_e = dir.join("conf.e");
    std::fs::create_dir_all(&conf_e).unwrap();
    std::fs::write(conf_e.join("job.conf"), ESSENTIAL).unwrap();
    let mut args: Vec<String> = ["run", "--rm", "--network", "none"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(mounts(&conf_e));
    args.push(IMAGE.into());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let t_run = Instant::now();
    let out_path = dir.join("essential.out");
    let out_file = std::fs::File::create(&out_path).unwrap();
    let mut run = podman
        .cmd(&argv)
        .stdout(out_file.try_clone().unwrap())
        .stderr(out_file)
        .spawn()
        .unwrap();
    let status = util::reap(&mut run, Duration::from_secs(30));
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    if status.is_none() {
        let _ = podman.run(&["rm", "-f", "-a", "-t", "0"]);
    }
    assert_eq!(status.and_then(|s| s.code()), Some(3), "{out}");
    assert!(out.contains("job done"), "{out}");
    eprintln!(
        "container test: essential job's exit 3 became podman run's in {:.1?}",
        t_run.elapsed()
    );
}

/// No podman: the image's root filesystem (rootfs + static binary + busybox) as PID 1 of a new
/// PID namespace, chrooted.
fn in_chroot(dir: &TempDir, essential: bool) {
    let ctx = stage_context(dir);
    let root = ctx.join("packaging/rootfs");
    std::fs::copy(STATIC_BIN, root.join("usr/bin/supervisor")).unwrap();
    for sub in ["bin", "test", "proc", "dev"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    std::fs::copy(BUSYBOX, root.join("bin/busybox")).unwrap();
    std::fs::write(root.join("test/check.sh"), CHECK_SH).unwrap();
    std::fs::write(root.join("etc/supervisor/conf.d/test.conf"), PROGRAMS).unwrap();
    // /dev/null and /dev/stdout for the config's logfile and the programs' output.
    let null = Command::new("mknod")
        .arg(root.join("dev/null"))
        .args(["c", "1", "3"])
        .status();
    assert!(null.is_ok_and(|s| s.success()));
    let _ = std::os::unix::fs::symlink("/proc/self/fd/1", root.join("dev/stdout"));
    let _ = std::os::unix::fs::symlink("/proc/self/fd/2", root.join("dev/stderr"));
    // A pipe, as a container runtime gives: a file shared by supervisord's log and the programs'
    // /dev/stdout would be written at two offsets.
    let script =
        "mount -t proc proc proc && exec chroot . /usr/bin/supervisord -n -c /etc/supervisord.conf";
    let mut child = Command::new("unshare")
        .args(["--pid", "--fork", "--mount", "--mount-proc", "sh", "-c"])
        .arg(format!("cd {} && {script} 2>&1", root.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let collected = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut pipe = child.stdout.take().unwrap();
    let sink = collected.clone();
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut text) = sink.lock() {
                text.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
    });
    let read = || collected.lock().map(|t| t.clone()).unwrap_or_default();
    let seen = util::wait_for(Duration::from_secs(20), || {
        read().contains("zombies: ") && read().contains("user: ")
    });
    let sock = root.join("run/supervisor.sock");
    let ready = util::wait_for(Duration::from_secs(20), || {
        Command::new(util::binary())
            .args(["probe", "-s", &format!("unix://{}", sock.display())])
            .args(["-u", "supervisor", "-p", "supervisor"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    // SIGTERM to unshare's child (the namespace's PID 1, supervisord after exec).
    let t_stop = Instant::now();
    let pid1 = Command::new("pgrep")
        .args(["-P", &child.id().to_string()])
        .output()
        .unwrap();
    let pid1 = util::stdout(&pid1).trim().to_string();
    util::unsafe_kill(pid1.parse().unwrap_or(0), 15);
    let status = util::reap(&mut child, Duration::from_secs(10));
    let _ = reader.join();
    let logs = read();
    eprintln!("container test (unshare + chroot, no podman):\n{logs}");
    assert!(seen, "{logs}");
    assert!(
        logs.contains("pid1: /usr/bin/supervisord -n -c /etc/supervisord.conf"),
        "{logs}"
    );
    assert!(logs.contains("user: app 1000"), "{logs}");
    assert!(logs.contains("zombies: 0"), "{logs}");
    assert!(ready, "/readyz never answered 200");
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{logs}");
    assert!(t_stop.elapsed() < Duration::from_secs(8));
    if essential {
        eprintln!("NOTE container test: the essential exit code is only checked under podman");
    }
}
