//! `supervisor completions bash|zsh|fish`: each script is loaded into its real shell and asked
//! to complete supervisorctl lines against a running daemon (names come from `avail`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::{Daemon, TempDir, binary, run, stdout, wait_for};

const CONF: &str = "[supervisord]
logfile=%(here)s/sd.log
pidfile=%(here)s/sd.pid
[unix_http_server]
file=%(here)s/s.sock
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://%(here)s/s.sock
[program:web]
command=sleep 1000
autostart=false
[program:worker]
command=sleep 1000
process_name=%(program_name)s_%(process_num)d
numprocs=2
autostart=false
";

/// A daemon with `web` and the group `worker` (worker_0, worker_1), and `supervisor` on PATH.
fn setup(tag: &str) -> (TempDir, Daemon) {
    let dir = TempDir::new(tag);
    std::os::unix::fs::symlink(binary(), dir.applet("supervisor")).unwrap();
    let conf = dir.write("s.conf", CONF);
    let daemon = Daemon::start(&dir, &conf);
    assert!(
        wait_for(Duration::from_secs(10), || {
            stdout(&run(&dir, "supervisorctl", &["-c", "s.conf", "avail"])).contains("worker_1")
        }),
        "daemon did not come up: {}",
        dir.read("daemon.err")
    );
    (dir, daemon)
}

fn shell(dir: &TempDir, program: &str, args: &[&str]) -> std::process::Output {
    let path = format!(
        "{}:{}",
        dir.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new(program)
        .args(args)
        .current_dir(&dir.path)
        .env("PATH", path)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn have(program: &str) -> bool {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .any(|d| Path::new(d).join(program).is_file())
}

/// Runs `_supervisor` in bash for one COMP_WORDS line; the candidates, space-separated.
fn bash_complete(dir: &TempDir, words: &str, cword: usize) -> String {
    let script = format!(
        "source <(supervisor completions bash) || exit 9\n\
         COMP_WORDS=({words}); COMP_CWORD={cword}; _supervisor; echo \"${{COMPREPLY[*]}}\""
    );
    let out = shell(dir, "bash", &["-c", &script]);
    assert!(out.status.success(), "{out:?}");
    stdout(&out).trim_end().to_string()
}

#[test]
fn bash_completes_commands_options_and_names_from_the_daemon() {
    let (dir, _daemon) = setup("cbash");
    let cases: &[(&str, usize, &str)] = &[
        ("supervisorctl -c s.conf st", 3, "start status stop"),
        ("supervisorctl --s", 1, "--serverurl"),
        (
            "supervisorctl -c s.conf start ''",
            4,
            "all web worker:worker_0 worker:worker_1 worker:*",
        ),
        // Bash splits `worker:` at the colon; the candidates are what follows it.
        (
            "supervisorctl -c s.conf stop worker :",
            5,
            "worker_0 worker_1 *",
        ),
        (
            "supervisorctl -c s.conf stop worker : worker_1",
            6,
            "worker_1",
        ),
        // The multicall form, the server URL instead of the config file.
        (
            "supervisor ctl -s unix://s.sock restart w",
            5,
            "web worker:worker_0 worker:worker_1 worker:*",
        ),
        ("supervisorctl -c s.conf signal US", 4, "USR1 USR2"),
        (
            "supervisorctl -c s.conf signal HUP web ''",
            6,
            "all web worker:worker_0 worker:worker_1 worker:*",
        ),
        ("supervisorctl -c s.conf update ''", 4, "all web worker"),
        ("supervisorctl -c s.conf remove wo", 4, "worker"),
        ("supervisorctl -c s.conf tail web ''", 5, "stdout stderr"),
        (
            "supervisorctl -c s.conf help re",
            4,
            "reload remove reread restart",
        ),
        ("supervisor comp", 1, "completions"),
        ("supervisor completions ''", 2, "bash zsh fish"),
        (
            "supervisord --log",
            1,
            "--logfile --logfile_maxbytes --logfile_backups --loglevel",
        ),
        ("supervisor check-config --d", 2, "--dump"),
    ];
    for (words, cword, want) in cases {
        assert_eq!(bash_complete(&dir, words, *cword), *want, "{words}");
    }
    // No daemon at that address: names are simply missing, quietly.
    assert_eq!(
        bash_complete(
            &dir,
            "supervisorctl -s unix:///nonexistent.sock start ''",
            4
        ),
        "all"
    );
}

#[test]
fn zsh_script_loads_and_completes_names() {
    if !have("zsh") {
        eprintln!(
            "SKIP zsh_script_loads_and_completes_names: zsh is not installed (apt-get install zsh)"
        );
        return;
    }
    let (dir, _daemon) = setup("czsh");
    let check = shell(
        &dir,
        "sh",
        &["-c", "supervisor completions zsh > c.zsh && zsh -n c.zsh"],
    );
    assert!(check.status.success(), "{check:?}");
    // compadd only works inside a completion widget; a stand-in prints what would be offered.
    let script = "autoload -U compinit; compinit -u -D; source ./c.zsh\n\
        print -r -- ${_comps[supervisorctl]} ${_comps[pidproxy]} ${_comps[supervisor]}\n\
        compadd() { [[ $1 == -- ]] && shift; print -r -- \"$*\"; }\n\
        words=(supervisorctl -c s.conf start ''); CURRENT=5; _supervisor\n\
        words=(supervisor ctl -c s.conf update ''); CURRENT=6; _supervisor\n\
        words=(supervisorctl -c s.conf sig); CURRENT=4; _supervisor";
    let out = shell(&dir, "zsh", &["-fc", script]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        "_supervisor _supervisor _supervisor\n\
         all web worker:worker_0 worker:worker_1 worker:*\n\
         all web worker\n\
         add avail clear exit fg help maintail open pid quit reload remove reread restart shutdown signal start status stop tail update version\n"
    );
}

#[test]
fn fish_script_loads_and_completes_names() {
    if !have("fish") {
        eprintln!(
            "SKIP fish_script_loads_and_completes_names: fish is not installed (apt-get install fish)"
        );
        return;
    }
    let (dir, _daemon) = setup("cfish");
    let check = shell(
        &dir,
        "sh",
        &[
            "-c",
            "supervisor completions fish > c.fish && fish -n c.fish",
        ],
    );
    assert!(check.status.success(), "{check:?}");
    let script = "source ./c.fish\n\
        complete -C 'supervisorctl -c s.conf start '; echo ==\n\
        complete -C 'supervisor ctl -c s.conf update '; echo ==\n\
        complete -C 'supervisorctl -c s.conf sta'";
    let out = shell(&dir, "fish", &["--no-config", "-c", script]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        "all\nweb\nworker:*\nworker:worker_0\nworker:worker_1\n==\nall\nweb\nworker\n==\nstart\nstatus\n"
    );
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let out = Command::new(binary())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown shell 'tcsh'"));
}
