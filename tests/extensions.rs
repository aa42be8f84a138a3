//! Our config keys beyond the reference (docs/extensions.md) through the real binary with real
//! children: `env_file` (values vs python-dotenv and a table, precedence, re-read at each spawn,
//! errors), `essential` / `exit_when_idle` (the daemon's exit status), `log_prefix` /
//! `log_timestamps` (line-prefixed output of chatty programs); the reference still starts on
//! the same configs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::util::{Daemon, TempDir, reap, require_reference, stdout, unsafe_kill, wait_for};

const WAIT: Duration = Duration::from_secs(20);

/// `[supervisord]` writing everything into the test dir, plus `extra`.
fn conf(dir: &TempDir, supervisord_extra: &str, programs: &str) -> PathBuf {
    dir.write(
        "s.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\nchildlogdir=%(here)s\n\
             {supervisord_extra}\n[unix_http_server]\nfile=%(here)s/s.sock\n\n\
             [rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
             {programs}"
        ),
    )
}

fn check_config(dir: &TempDir, conf: &Path) -> Output {
    Command::new(crate::util::binary())
        .arg("check-config")
        .arg("-c")
        .arg(conf)
        .current_dir(&dir.path)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs python code with the reference venv's interpreter (python-dotenv is installed there by
/// `make ref`); None (skip) without the reference.
fn ref_python(test: &str, code: &str, args: &[&str]) -> Option<String> {
    let bin = require_reference(test)?;
    let out = Command::new(bin.join("python3"))
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(stdout(&out))
}

/// The reference supervisord starts on `conf` (it ignores our keys) and runs `program`.
fn reference_starts(test: &str, dir: &TempDir, conf: &Path, program: &str) {
    let Some(bin) = require_reference(test) else {
        return;
    };
    let mut child = crate::util::spawn_foreground(&bin.join("supervisord"), dir, conf);
    let log = || dir.read("s.log");
    let started = wait_for(WAIT, || log().contains(&format!("spawned: '{program}'")));
    unsafe_kill(child.id() as i32, 15);
    reap(&mut child, WAIT);
    assert!(started, "the reference did not start {program}:\n{}", log());
}

/// A child that dumps its environment as JSON into `out` (sorted keys), then exits.
const ENV_DUMP: &str = "import os, json, sys\n\
     tmp = sys.argv[1] + '.tmp'\n\
     json.dump(dict(os.environ), open(tmp, 'w'), sort_keys=True)\n\
     os.rename(tmp, sys.argv[1])\n";

/// Quoting cases: (dotenv line, the value a child must see).
const QUOTING: &[(&str, &str, &str)] = &[
    ("PLAIN", "PLAIN=hello", "hello"),
    ("EXPORTED", "export EXPORTED=yes", "yes"),
    ("SPACED", "SPACED =  padded  ", "padded"),
    ("COMMENTED", "COMMENTED=value # comment", "value"),
    ("HASH", "HASH=a#b", "a#b"),
    ("SINGLE", "SINGLE='$HOME \\n literal'", "$HOME \\n literal"),
    ("SINGLE_ESC", "SINGLE_ESC='it\\'s'", "it's"),
    ("DOUBLE", "DOUBLE=\"line1\\nline2\"", "line1\nline2"),
    ("DOUBLE_Q", "DOUBLE_Q=\"say \\\"hi\\\"\"", "say \"hi\""),
    ("DOUBLE_BS", "DOUBLE_BS=\"a\\\\b\"", "a\\b"),
    ("DOUBLE_TAB", "DOUBLE_TAB=\"x\\ty\"", "x\ty"),
    ("MULTI", "MULTI=\"first\nsecond\"", "first\nsecond"),
    ("NOEXPAND", "NOEXPAND=${PLAIN}", "${PLAIN}"),
    ("EMPTY", "EMPTY=", ""),
    ("QUOTED_KEY", "'QUOTED_KEY'=k", "k"),
    ("UNICODE", "UNICODE=é ü", "é ü"),
];

fn quoting_file() -> String {
    let mut text = String::from("# a comment line\n\n");
    for (_, line, _) in QUOTING {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str("NOVALUE\n");
    text
}

/// Every quoting case reaches a real child as the table says and as python-dotenv parses it.
#[test]
fn env_file_values_match_the_table_and_python_dotenv() {
    let dir = TempDir::new("envq");
    let env = dir.write("app.env", &quoting_file());
    dir.write("dump.py", ENV_DUMP);
    let c = conf(
        &dir,
        "",
        "[program:dump]\ncommand=python3 %(here)s/dump.py %(here)s/env.json\n\
         env_file=app.env\nautorestart=false\nstartsecs=0\n",
    );
    let dump = Command::new(crate::util::binary())
        .args(["check-config", "--dump", "-c"])
        .arg(&c)
        .output()
        .unwrap();
    assert!(
        stdout(&dump).contains(&format!(
            "\"env_file\": [\n            \"{}\"",
            env.display()
        )),
        "{}",
        stdout(&dump)
    );
    let mut d = Daemon::start(&dir, &c);
    let out = dir.join("env.json");
    assert!(
        wait_for(WAIT, || out.exists()),
        "no dump:\n{}",
        dir.read("s.log")
    );
    assert_eq!(d.stop(WAIT), Some(0));
    // The table, checked inside python (no JSON parser here).
    let table: Vec<String> = QUOTING
        .iter()
        .map(|(k, _, v)| format!("({k:?}, {})", py_str(v)))
        .collect();
    let code = format!(
        "import json, sys\nenv = json.load(open(sys.argv[1]))\n\
         table = [{}]\n\
         bad = [(k, env.get(k), v) for k, v in table if env.get(k) != v]\n\
         print('NOVALUE' in env, bad)\n\
         from dotenv import dotenv_values\n\
         want = {{k: v for k, v in dotenv_values(sys.argv[2], interpolate=False).items() if v is not None}}\n\
         print(len(want), [(k, env.get(k), v) for k, v in want.items() if env.get(k) != v])\n",
        table.join(", ")
    );
    let Some(result) = ref_python(
        "env_file_values_match_the_table_and_python_dotenv",
        &code,
        &[out.to_str().unwrap(), env.to_str().unwrap()],
    ) else {
        return;
    };
    assert_eq!(result, format!("False []\n{} []\n", QUOTING.len()));
    reference_starts("env_file reference", &dir, &c, "dump");
}

/// A Python string literal for `s`.
fn py_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// supervisord's environment < [supervisord] env_file < [program] env_file (later wins) <
/// environment=; a restart reads the files again; a file that vanishes is a spawn error.
#[test]
fn env_file_precedence_reread_and_vanishing_file() {
    let dir = TempDir::new("envp");
    dir.write(
        "dump.py",
        &format!("{ENV_DUMP}import time\ntime.sleep(0.3)\n"),
    );
    dir.write(
        "global.env",
        "A=global\nB=global\nC=global\nD=global\nE=global\n",
    );
    dir.write("one.env", "A=one\nB=one\nD=one\nV=1\n");
    dir.write("two.env", "A=two\n");
    let c = conf(
        &dir,
        "env_file=global.env\nenvironment=D=\"supervisord\"",
        "[program:dump]\ncommand=python3 %(here)s/dump.py %(here)s/env.json\n\
         env_file=one.env, %(here)s/two.env\nenvironment=A=\"program\"\n\
         autorestart=true\nstartsecs=0\nstartretries=1\n",
    );
    let mut d = Daemon {
        child: Command::new(dir.applet("supervisord"))
            .args(["-n", "-c"])
            .arg(&c)
            .current_dir(&dir.path)
            .env("E", "daemon")
            .env("F", "daemon")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    };
    let out = dir.join("env.json");
    let check = |want: &str| -> Option<String> {
        let code = "import json, sys\nenv = json.load(open(sys.argv[1]))\n\
                    print(' '.join(k + '=' + env.get(k, '-') for k in 'ABCDEFV'))";
        let got = ref_python("env_file_precedence", code, &[out.to_str().unwrap()])?;
        assert_eq!(got.trim(), want);
        Some(got)
    };
    assert!(wait_for(WAIT, || out.exists()), "{}", dir.read("s.log"));
    if check("A=program B=one C=global D=supervisord E=global F=daemon V=1").is_none() {
        return;
    }
    // A later spawn (autorestart) reads the edited file. A spawn already under way when the file
    // changes still dumps V=1 (it read the file before), so wait for a dump with the new value.
    dir.write("one.env", "A=one\nB=one\nD=one\nV=2\n");
    assert!(
        wait_for(WAIT, || std::fs::read_to_string(&out)
            .is_ok_and(|s| s.contains("\"V\": \"2\""))),
        "{}",
        dir.read("s.log")
    );
    check("A=program B=one C=global D=supervisord E=global F=daemon V=2");
    // A file that vanished: the spawn fails, naming it.
    std::fs::remove_file(dir.join("two.env")).unwrap();
    let missing = format!(
        "spawnerr: {}: cannot read env file",
        dir.join("two.env").display()
    );
    assert!(
        wait_for(WAIT, || dir.read("s.log").contains(&missing)),
        "{}",
        dir.read("s.log")
    );
    assert!(
        wait_for(WAIT, || dir.read("s.log").contains("gave up: dump")),
        "{}",
        dir.read("s.log")
    );
    assert_eq!(d.stop(WAIT), Some(0));
}

/// Bad values of our keys are config errors naming file, line, section and option (a missing
/// or malformed env file names the env file and its line): check-config lists them all and
/// supervisord refuses to start.
#[test]
fn bad_extension_values_are_config_errors() {
    let dir = TempDir::new("enve");
    dir.write("bad.env", "A=1\n\nB=\"unterminated\nC=3\n");
    let c = conf(
        &dir,
        "env_file=missing.env\nexit_when_idle=perhaps",
        "[program:p]\ncommand=sleep 5\nenv_file=bad.env\n\n\
         [program:q]\ncommand=sleep 5\nenv_file=,\nessential=maybe\nlog_timestamps=sometimes\n\
         log_prefix=%(nosuch)s\n",
    );
    let out = check_config(&dir, &c);
    let text = stdout(&out) + &crate::util::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let cpath = c.display();
    for want in [
        format!(
            "{cpath}:5: [supervisord] env_file: {}: cannot read env file",
            dir.join("missing.env").display()
        ),
        format!("{cpath}:6: [supervisord] exit_when_idle: not a valid boolean value: 'perhaps'"),
        format!(
            "[program:p] env_file: {}:3: could not parse statement",
            dir.join("bad.env").display()
        ),
        "[program:q] env_file: empty path in the list".to_string(),
        format!("{cpath}:20: [program:q] essential: not a valid boolean value: 'maybe'"),
        format!("{cpath}:21: [program:q] log_timestamps: not a valid boolean value: 'sometimes'"),
        format!("{cpath}:22: [program:q] log_prefix: "),
    ] {
        assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    }
    let run = crate::util::run(&dir, "supervisord", &["-n", "-c", c.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        crate::util::stderr(&run).starts_with("Error: "),
        "{}",
        crate::util::stderr(&run)
    );
}

/// Runs supervisord on `conf` until it exits by itself (bounded); its exit code and main log.
fn run_to_exit(dir: &TempDir, conf: &Path) -> (Option<i32>, String) {
    let mut child = crate::util::spawn_foreground(&dir.applet("supervisord"), dir, conf);
    let status = reap(&mut child, WAIT);
    (status.and_then(|s| s.code()), dir.read("s.log"))
}

/// The first essential program to end decides supervisord's exit status: its exit code,
/// 128+N after signal N, 1 for FATAL; the others are stopped first, with one line saying why.
#[test]
fn essential_program_exit_status_becomes_supervisords() {
    let cases = [
        (
            "sh -c 'sleep 0.5; exit 7'",
            7,
            "essential program first exited (exit status 7): stopping all processes, exit status 7",
        ),
        (
            "sh -c 'sleep 0.5; kill -USR1 $$'",
            138,
            "essential program first exited (terminated by SIGUSR1): stopping all processes, exit status 138",
        ),
        (
            "/nonexistent/program",
            1,
            "essential program first entered FATAL state: stopping all processes, exit status 1",
        ),
    ];
    for (i, (command, code, line)) in cases.into_iter().enumerate() {
        let dir = TempDir::new(&format!("ess{i}"));
        let c = conf(
            &dir,
            "",
            &format!(
                "[program:first]\ncommand={command}\nessential=true\nautorestart=false\n\
                 startsecs=0\nstartretries=0\n\n\
                 [program:second]\ncommand=sh -c 'sleep 3; exit 5'\nessential=true\n\
                 autorestart=false\nstartsecs=0\n\n\
                 [program:bystander]\ncommand=sleep 100\n"
            ),
        );
        let (status, log) = run_to_exit(&dir, &c);
        assert_eq!(status, Some(code), "{command}:\n{log}");
        assert_eq!(log.matches("essential program").count(), 1, "{log}");
        assert!(log.contains(line), "{log}");
        assert!(log.contains("stopped: bystander"), "{log}");
        if i < 2 {
            assert!(log.contains("stopped: second"), "{log}");
        } else {
            // FATAL at once: the shutdown began before `second` was due to start.
            assert!(!log.contains("spawned: 'second'"), "{log}");
        }
        if i == 0 {
            reference_starts("essential reference", &dir, &c, "first");
        }
    }
}

/// An operator's stop of an essential program is no failure; exits caused by a shutdown
/// (SIGTERM) leave the exit status at 0.
#[test]
fn essential_program_stopped_by_operator_or_shutdown_exits_0() {
    let dir = TempDir::new("essop");
    let c = conf(
        &dir,
        "",
        "[program:web]\ncommand=sh -c 'trap \"exit 3\" TERM; sleep 100 & wait'\n\
         essential=true\nautorestart=false\nstartsecs=0\n\n\
         [program:db]\ncommand=sleep 100\nessential=true\nstartsecs=0\n",
    );
    let mut d = Daemon::start(&dir, &c);
    let log = || dir.read("s.log");
    assert!(wait_for(WAIT, || log().contains("spawned: 'web'")
        && log().contains("spawned: 'db'")));
    let sock = dir.join("s.sock");
    assert!(wait_for(WAIT, || sock.exists()));
    let reply = crate::util::rpc_call(&sock, "supervisor.stopProcess", &["web"], WAIT);
    assert!(reply.contains("<boolean>1</boolean>"), "{reply}");
    assert!(
        wait_for(WAIT, || log().contains("stopped: web")),
        "{}",
        log()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        matches!(d.child.try_wait(), Ok(None)),
        "supervisord exited after an operator's stop:\n{}",
        log()
    );
    assert_eq!(d.stop(WAIT), Some(0), "{}", log());
    assert!(!log().contains("essential program"), "{}", log());
}

/// `exit_when_idle`: once every program has finished and none will start again, exit 0.
#[test]
fn exit_when_idle_exits_0_after_the_last_one_shot() {
    let dir = TempDir::new("idle");
    let c = conf(
        &dir,
        "exit_when_idle=true",
        "[program:quick]\ncommand=sh -c 'sleep 0.3'\nautorestart=false\nstartsecs=0\n\n\
         [program:slower]\ncommand=sh -c 'sleep 1; exit 4'\nautorestart=false\nstartsecs=0\n\n\
         [program:manual]\ncommand=sleep 100\nautostart=false\n",
    );
    let (status, log) = run_to_exit(&dir, &c);
    assert_eq!(status, Some(0), "{log}");
    let idle = log
        .find("exit_when_idle: no program is running or will start")
        .expect(&log);
    let last_exit = log.find("exited: slower").expect(&log);
    assert!(last_exit < idle, "{log}");
    reference_starts("exit_when_idle reference", &dir, &c, "quick");
}

/// A chatty child: argv[1] lines, each written in two halves to stdout and to stderr, then a
/// last line without a newline.
const CHATTY: &str = "import sys\n\
     name, n = sys.argv[1], int(sys.argv[2])\n\
     streams = (sys.stdout.buffer, sys.stderr.buffer)\n\
     for i in range(n):\n\
     \x20   line = ('%s line %d %s\\n' % (name, i, 'x' * (i % 97))).encode()\n\
     \x20   for s in streams:\n\
     \x20       s.write(line[:len(line) // 2]); s.flush(); s.write(line[len(line) // 2:]); s.flush()\n\
     for s in streams:\n\
     \x20   s.write(('%s tail' % name).encode()); s.flush()\n";

/// `2026-12-04T21:07:03.123Z `: an RFC 3339 UTC time with three fractional digits and a space.
fn stamped(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    let shape = b.len() > 25
        && [4, 7].iter().all(|&i| b[i] == b'-')
        && b[10] == b'T'
        && [13, 16].iter().all(|&i| b[i] == b':')
        && b[19] == b'.'
        && b[23] == b'Z'
        && b[24] == b' '
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    shape.then(|| &line[25..])
}

/// Every program line of `text` is whole, stamped and prefixed `[name] `, in order per
/// program, ending with the completed last line; other lines (main log copies) hold no
/// program output. Returns the number of program lines.
fn check_prefixed_lines(text: &str, names: &[&str], n: usize) -> Result<usize, String> {
    let mut next = vec![0usize; names.len()];
    let mut count = 0;
    for line in text.lines() {
        let Some(rest) = stamped(line) else {
            if line.contains(" line ") || line.contains(" tail") {
                return Err(format!("unstamped program output: {line:?}"));
            }
            continue;
        };
        count += 1;
        let Some(k) = names
            .iter()
            .position(|name| rest.starts_with(&format!("[{name}] {name} ")))
        else {
            return Err(format!("bad line: {line:?}"));
        };
        let body = &rest[names[k].len() * 2 + 4..];
        let want = match next[k] {
            i if i < n => format!("line {i} {}", "x".repeat(i % 97)),
            i if i == n => "tail".to_string(),
            _ => return Err(format!("line after the tail: {line:?}")),
        };
        if body != want {
            return Err(format!("expected {want:?}, got {line:?}"));
        }
        next[k] += 1;
    }
    if next.iter().any(|&c| c != n + 1) {
        return Err(format!("lines per program: {next:?} (want {})", n + 1));
    }
    Ok(count)
}

/// Three chatty programs writing half lines to the same stdout (a pipe, as under a container
/// runtime) and the same file: every line arrives whole, stamped and prefixed; the last line
/// without a newline gets one; a program without the keys keeps its bytes untouched. The
/// reference starts on the same config.
#[test]
fn log_prefix_and_timestamps_keep_lines_whole_on_a_shared_stream() {
    let dir = TempDir::new("prefix");
    dir.write("chatty.py", CHATTY);
    let n = 3000;
    let mut programs = String::new();
    for name in ["alpha", "beta", "gamma"] {
        programs.push_str(&format!(
            "[program:{name}]\ncommand=python3 %(here)s/chatty.py {name} {n}\n\
             log_prefix=\"[%(program_name)s] \"\nlog_timestamps=true\n\
             stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n\
             stderr_logfile=%(here)s/shared.log\nstderr_logfile_maxbytes=0\n\
             autorestart=false\nstartsecs=0\n\n"
        ));
    }
    programs.push_str(
        "[program:expand]\ncommand=echo hello\n\
         log_prefix=%(group_name)s:%(process_num)d:%(host_node_name)s|\n\
         stdout_logfile=%(here)s/expand.log\nautorestart=false\nstartsecs=0\n\n\
         [program:plain]\ncommand=python3 %(here)s/chatty.py plain 50\n\
         stdout_logfile=%(here)s/plain.log\nstderr_logfile=NONE\nautorestart=false\nstartsecs=0\n",
    );
    let c = conf(&dir, "exit_when_idle=true", &programs);
    let mut child = Command::new(dir.applet("supervisord"))
        .args(["-n", "-c"])
        .arg(&c)
        .current_dir(&dir.path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut pipe = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = std::io::Read::read_to_end(&mut pipe, &mut out);
        out
    });
    let status = reap(&mut child, Duration::from_secs(60));
    let out = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{}",
        dir.read("s.log")
    );
    let names = ["alpha", "beta", "gamma"];
    assert_eq!(check_prefixed_lines(&out, &names, n), Ok(3 * (n + 1)));
    let shared = dir.read("shared.log");
    assert_eq!(check_prefixed_lines(&shared, &names, n), Ok(3 * (n + 1)));
    assert!(shared.lines().all(|l| stamped(l).is_some()));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        dir.read("expand.log"),
        format!("expand:0:{}|hello\n", host.trim())
    );
    let mut plain = String::new();
    for i in 0..50 {
        plain.push_str(&format!("plain line {i} {}\n", "x".repeat(i % 97)));
    }
    plain.push_str("plain tail");
    assert_eq!(dir.read("plain.log"), plain);
    reference_starts("log_prefix reference", &dir, &c, "alpha");
}
