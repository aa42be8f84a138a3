//! Output capture under load: coalesced small writes and grown pipes keep every byte, in order,
//! while the child is still running (not only when its exit drains the pipe); large writes spliced
//! into rotating files end exactly at maxbytes; processing channels (strip_ansi, debug copies)
//! still see the bytes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::{Daemon, RPC_INTERFACE, TempDir, WAIT, wait_for};

fn start(dir: &TempDir, command: &str) -> Daemon {
    let conf = dir.write(
        "s.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\nchildlogdir=%(here)s\n\n[program:talker]\ncommand={command}\nstdout_logfile=%(here)s/out.log\nstdout_logfile_maxbytes=0\nstartsecs=0\nautorestart=false\n"
        ),
    );
    Daemon::start(dir, &conf)
}

#[test]
fn many_small_writes_all_reach_the_log_and_a_later_write_still_arrives() {
    let dir = TempDir::new("coalesce");
    // One write per line (sh's echo), a pause, then one more line while the child lives on:
    // the last line proves the pipe is watched again after a coalescing window.
    let mut d = start(
        &dir,
        "sh -c 'i=0; while [ $i -lt 5000 ]; do echo line$i; i=$((i+1)); done; sleep 0.5; echo DONE; exec sleep 1000'",
    );
    let mut expected: String = (0..5000).map(|i| format!("line{i}\n")).collect();
    expected.push_str("DONE\n");
    assert!(
        wait_for(WAIT, || dir.read("out.log") == expected),
        "log has {} of {} bytes",
        dir.read("out.log").len(),
        expected.len()
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn a_large_burst_arrives_whole_while_the_child_runs() {
    let dir = TempDir::new("burst");
    let mut d = start(
        &dir,
        "sh -c 'head -c 3000000 /dev/zero | tr \"\\\\0\" x; echo; echo END; exec sleep 1000'",
    );
    let mut expected = "x".repeat(3_000_000);
    expected.push_str("\nEND\n");
    assert!(wait_for(WAIT, || dir.read("out.log").len() >= expected.len()));
    assert!(
        dir.read("out.log") == expected,
        "log differs from the burst"
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

/// A config with a socket for supervisorctl, `global` added to `[supervisord]` and `program`
/// to `[program:talker]`.
fn start_with(dir: &TempDir, global: &str, program: &str) -> (Daemon, std::path::PathBuf) {
    let conf = dir.write(
        "s.conf",
        &format!(
            "[unix_http_server]\nfile=%(here)s/s.sock\n\n\
             {RPC_INTERFACE}\
             [supervisorctl]\nserverurl=unix://%(here)s/s.sock\n\n\
             [supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\nchildlogdir=%(here)s\n{global}\n\n\
             [program:talker]\nstartsecs=0\nautorestart=false\n{program}\n"
        ),
    );
    (Daemon::start(dir, &conf), conf)
}

/// 16-byte numbered records: any lost, doubled or reordered range shows.
fn records(count: usize) -> Vec<u8> {
    (0..count)
        .flat_map(|i| format!("{i:015}\n").into_bytes())
        .collect()
}

fn write_bytes(dir: &TempDir, name: &str, data: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// `<base>.N` .. `<base>.1`, `<base>` (oldest first).
fn rotated_set(base: &Path, backups: u32) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = (1..=backups)
        .rev()
        .map(|i| std::path::PathBuf::from(format!("{}.{i}", base.display())))
        .collect();
    files.push(base.to_path_buf());
    files
}

#[test]
fn large_writes_rotate_exactly_at_maxbytes_with_every_byte_in_order() {
    let dir = TempDir::new("splicerot");
    let data = records(1 << 20); // 16 MiB
    let input = write_bytes(&dir, "input", &data);
    let maxbytes = 1_000_000u64;
    let (mut d, _) = start_with(
        &dir,
        "",
        &format!(
            "command=sh -c 'cat {}; exec sleep 1000'\nstdout_logfile=%(here)s/out.log\n\
             stdout_logfile_maxbytes={maxbytes}\nstdout_logfile_backups=40\n",
            input.display()
        ),
    );
    let files = rotated_set(&dir.join("out.log"), 40);
    let total = || files.iter().map(|f| size(f)).sum::<u64>();
    assert!(
        wait_for(WAIT.saturating_mul(3), || total() >= data.len() as u64),
        "logs hold {} of {} bytes",
        total(),
        data.len()
    );
    let logged: Vec<u8> = files
        .iter()
        .flat_map(|f| std::fs::read(f).unwrap_or_default())
        .collect();
    assert!(
        logged == data,
        "rotated logs differ from what the child wrote"
    );
    // 16 full backups of exactly maxbytes (a read+write path overshoots by part of a chunk).
    for (i, f) in files[files.len() - 17..files.len() - 1].iter().enumerate() {
        assert_eq!(size(f), maxbytes, "{} (#{i})", f.display());
    }
    assert_eq!(size(&dir.join("out.log")), data.len() as u64 % maxbytes);
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn output_written_just_before_exit_is_all_logged_on_both_channels() {
    let dir = TempDir::new("spliceexit");
    let out = records(1 << 19); // 8 MiB
    let err: Vec<u8> = records(300_000).iter().map(|b| b ^ 0x20).collect();
    let out_path = write_bytes(&dir, "out.in", &out);
    let err_path = write_bytes(&dir, "err.in", &err);
    let (mut d, _) = start_with(
        &dir,
        "",
        &format!(
            "command=sh -c 'cat {} & cat {} >&2; wait'\nstdout_logfile=%(here)s/out.log\n\
             stdout_logfile_maxbytes=0\nstderr_logfile=%(here)s/err.log\n\
             stderr_logfile_maxbytes=0\n",
            out_path.display(),
            err_path.display()
        ),
    );
    // The child exits at once; its exit handling drains both pipes to the end.
    assert!(
        wait_for(WAIT, || dir.read("s.log").contains("exited: talker")),
        "no exit logged: {}",
        dir.read("s.log")
    );
    assert!(wait_for(WAIT, || size(&dir.join("out.log"))
        >= out.len() as u64
        && size(&dir.join("err.log")) >= err.len() as u64));
    assert!(
        std::fs::read(dir.join("out.log")).unwrap() == out,
        "stdout log differs"
    );
    assert!(
        std::fs::read(dir.join("err.log")).unwrap() == err,
        "stderr log differs"
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn strip_ansi_still_strips_large_writes() {
    let dir = TempDir::new("splicestrip");
    let mut colored = Vec::new();
    let mut plain = Vec::new();
    for i in 0..200_000 {
        colored.extend(format!("\x1b[31mred {i}\x1b[0m and \x1b[1;32mgreen\x1b[0m\n").as_bytes());
        plain.extend(format!("red {i} and green\n").as_bytes());
    }
    let input = write_bytes(&dir, "input", &colored);
    let (mut d, _) = start_with(
        &dir,
        "strip_ansi=true",
        &format!(
            "command=sh -c 'cat {}; exec sleep 1000'\nstdout_logfile=%(here)s/out.log\n\
             stdout_logfile_maxbytes=0\n",
            input.display()
        ),
    );
    assert!(
        wait_for(WAIT, || size(&dir.join("out.log")) >= plain.len() as u64),
        "log has {} of {} bytes",
        size(&dir.join("out.log")),
        plain.len()
    );
    let logged = std::fs::read(dir.join("out.log")).unwrap();
    assert!(!logged.contains(&0x1b), "escape sequences reached the log");
    assert!(logged == plain, "stripped log differs");
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn debug_loglevel_still_copies_output_into_the_main_log() {
    let dir = TempDir::new("splicedebug");
    let (mut d, _) = start_with(
        &dir,
        "loglevel=debug",
        "command=sh -c 'echo marker-for-debug; exec sleep 1000'\n\
         stdout_logfile=%(here)s/out.log\nstdout_logfile_maxbytes=0\n",
    );
    assert!(
        wait_for(WAIT, || dir
            .read("s.log")
            .contains("'talker' stdout output:\nmarker-for-debug\n")),
        "main log: {}",
        dir.read("s.log")
    );
    assert_eq!(dir.read("out.log"), "marker-for-debug\n");
    assert_eq!(d.stop(WAIT), Some(0));
}

#[test]
fn tail_follows_a_spliced_log_as_it_grows() {
    let dir = TempDir::new("splicetail");
    let input = write_bytes(&dir, "input", &records(1 << 16));
    let gate = dir.join("gate");
    let (mut d, conf) = start_with(
        &dir,
        "",
        &format!(
            "command=sh -c 'cat {}; while [ ! -e {} ]; do sleep 0.05; done; echo after-the-gate; exec sleep 1000'\n\
             stdout_logfile=%(here)s/out.log\nstdout_logfile_maxbytes=0\n",
            input.display(),
            gate.display()
        ),
    );
    assert!(wait_for(WAIT, || size(&dir.join("out.log")) >= 1 << 20));
    let mut follower = Command::new(dir.applet("supervisorctl"))
        .args(["-c", conf.to_str().unwrap(), "tail", "-f", "talker"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_line = |wanted: &str| {
        let deadline = std::time::Instant::now() + WAIT;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) if line == wanted => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    };
    // The tail shows the end of what is there, then what the child writes later.
    let saw_end = wait_line("000000000065535");
    std::fs::write(&gate, b"").unwrap();
    let saw_later = saw_end && wait_line("after-the-gate");
    let _ = follower.kill();
    let _ = follower.wait();
    assert!(saw_end, "tail -f did not show the end of the log");
    assert!(
        saw_later,
        "tail -f did not show output written after it started"
    );
    let out = dir.read("out.log");
    assert!(out.ends_with("000000000065535\nafter-the-gate\n"));
    assert_eq!(d.stop(WAIT), Some(0));
}

/// A full filesystem under a spliced channel: the child is not held up, the failure is logged
/// once, and output written after space returns reaches the log with the loss reported. Needs
/// root and permission to mount a small tmpfs; skipped (with the reason) otherwise.
#[test]
fn full_disk_under_a_spliced_log_drops_reports_once_and_recovers() {
    let test = "full_disk_under_a_spliced_log_drops_reports_once_and_recovers";
    if !crate::util::require_root(test, "mounting a small tmpfs needs root") {
        return;
    }
    let dir = TempDir::new("splicefull");
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status();
    if !matches!(mounted, Ok(s) if s.success()) {
        eprintln!("SKIP {test}: cannot mount tmpfs here");
        return;
    }
    let outcome = std::panic::catch_unwind(|| {
        // Fill the filesystem completely (the write stops at ENOSPC).
        let _ = std::fs::write(mnt.join("filler"), vec![0u8; 2 << 20]);
        let input = write_bytes(&dir, "input", &records(32 * 1024)); // 512 KiB
        let (wrote, gate) = (dir.join("wrote"), dir.join("gate"));
        let (mut d, _) = start_with(
            &dir,
            "",
            &format!(
                "command=sh -c 'cat {}; touch {}; while [ ! -e {} ]; do sleep 0.05; done; \
                 echo recovered-line; exec sleep 1000'\n\
                 stdout_logfile={}/out.log\nstdout_logfile_maxbytes=0\n",
                input.display(),
                wrote.display(),
                gate.display(),
                mnt.display()
            ),
        );
        // The daemon keeps draining (dropping) while the disk is full: the child gets through.
        assert!(
            wait_for(WAIT, || wrote.exists()),
            "child still blocked writing to a full log"
        );
        assert!(wait_for(WAIT, || dir
            .read("s.log")
            .contains("could not write to log file")));
        std::fs::remove_file(mnt.join("filler")).unwrap();
        std::fs::write(&gate, b"").unwrap();
        assert!(
            wait_for(WAIT, || std::fs::read_to_string(mnt.join("out.log"))
                .is_ok_and(|s| s.ends_with("recovered-line\n"))),
            "output after recovery missing"
        );
        // The recovery line is logged after the bytes it reports reached out.log.
        assert!(
            wait_for(WAIT, || dir.read("s.log").contains("works again (")),
            "{}",
            dir.read("s.log")
        );
        let main_log = dir.read("s.log");
        assert_eq!(
            main_log.matches("could not write to log file").count(),
            1,
            "{main_log}"
        );
        assert_eq!(d.stop(WAIT), Some(0));
    });
    let _ = Command::new("umount").arg(&mnt).status();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
