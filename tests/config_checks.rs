//! Configs mean what they say: `${..}` in `command=` follows shell quoting (side by side with
//! the reference for shell snippets), and check-config reports what would fail at run time.

use std::time::Duration;

use crate::util::{TempDir, require_reference, spawn_foreground, stderr, stdout, wait_for};

fn conf(programs: &str) -> String {
    format!(
        "[supervisord]\nlogfile=%(here)s/sd.log\npidfile=%(here)s/sd.pid\n\
         [unix_http_server]\nfile=%(here)s/s.sock\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
         [supervisorctl]\nserverurl=unix://%(here)s/s.sock\n{programs}"
    )
}

/// Runs `program` once under a daemon (`exe`, ours or the reference's) and returns its stdout.
fn output_under(exe: &std::path::Path, tag: &str, command: &str) -> String {
    let dir = TempDir::new(tag);
    let path = dir.write(
        "s.conf",
        &conf(&format!(
            "[program:snippet]\ncommand={command}\nstartsecs=0\nautorestart=false\n\
             stdout_logfile=%(here)s/out.log\n"
        )),
    );
    let mut daemon = spawn_foreground(exe, &dir, &path);
    let done = wait_for(Duration::from_secs(15), || {
        dir.read("sd.log").contains("exited: snippet")
    });
    crate::util::terminate(&mut daemon, Duration::from_secs(15));
    assert!(done, "{tag}: {}", dir.read("sd.log"));
    dir.read("out.log")
}

#[test]
fn shell_snippets_reach_the_shell_intact_like_the_reference() {
    let Some(refbin) =
        require_reference("shell_snippets_reach_the_shell_intact_like_the_reference")
    else {
        return;
    };
    let ours = TempDir::new("snip-bin");
    let ours = ours.applet("supervisord");
    let theirs = refbin.join("supervisord");
    let commands = [
        r#"sh -c 'i=5; echo "${i:-unset} ${j:-dflt}"'"#,
        r#"sh -c 'echo "%(program_name)s ${HOME:+set}"'"#,
    ];
    // Every daemon at once: the reference takes a while to start.
    std::thread::scope(|s| {
        let runs: Vec<_> = commands
            .iter()
            .map(|c| {
                (
                    c,
                    s.spawn(|| output_under(&ours, "snip-ours", c)),
                    s.spawn(|| output_under(&theirs, "snip-ref", c)),
                )
            })
            .collect();
        // Outside quotes and between double quotes our `${..}` still applies (the reference
        // would pass the text on literally: that is the extension).
        let ext = s.spawn(|| {
            output_under(
                &ours,
                "snip-ext",
                r#"/bin/echo ${HOME}/cat.log "${NOPE:-d} x" '${HOME}'"#,
            )
        });
        for ((command, a, b), want) in runs.into_iter().zip(["5 dflt\n", "snippet set\n"]) {
            let a = a.join().unwrap();
            assert_eq!(a, want, "{command}");
            assert_eq!(a, b.join().unwrap(), "{command}");
        }
        let home = std::env::var("HOME").unwrap_or_default();
        assert_eq!(
            ext.join().unwrap(),
            format!("{home}/cat.log d x ${{HOME}}\n")
        );
    });
}

#[test]
fn check_config_reports_what_would_fail_at_run_time() {
    let dir = TempDir::new("rtcheck");
    dir.write(
        "bad.conf",
        "[supervisord]\nlogfile=%(here)s/sd.log\n\
         [unix_http_server]\nfile=%(here)s/missing/s.sock\n\
         [inet_http_server]\nport=*:9\nprotected_mode=false\n\
         [inet_http_server:local]\nport=127.0.0.1:10\nprotected_mode=false\n\
         [inet_http_server:protected]\nport=*:11\n\
         [program:split]\ncommand=/bin/echo \"hello ;world\"\n\
         [program:dq]\ncommand=sh -c \"i=5; echo ${i:-unset}\"\n\
         [program:sq]\ncommand=sh -c 'i=5; echo ${i:-unset}'\n",
    );
    let out = std::process::Command::new(crate::util::binary())
        .args(["check-config", "-c", "bad.conf"])
        .current_dir(&dir.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = stderr(&out);
    let sock_dir = dir.join("missing");
    let want = [
        "warning: bad.conf:16: [program:dq] command: ${i:-unset} was expanded by supervisor before sh ran it (it is outside single quotes); write $${i:-unset} or single-quote the script to leave it to the shell".to_string(),
        "warning: bad.conf:6: [inet_http_server] port: *:9 serves the XML-RPC interface beyond this host without a username and password and with protected_mode off: anyone who can reach it can run and stop programs".to_string(),
        "bad.conf:14: [program:split] command: can't parse command '/bin/echo \"hello': No closing quotation (\" ;\" and \" #\" start an inline comment: the rest of the line was dropped)".to_string(),
        format!("bad.conf:4: [unix_http_server] file: the directory {} of the socket does not exist", sock_dir.display()),
        "bad.conf: 2 errors at run time".to_string(),
    ];
    assert_eq!(err.lines().collect::<Vec<_>>(), want, "{err}");

    // A user that does not exist is a load error, as in the reference.
    dir.write(
        "user.conf",
        "[supervisord]\nlogfile=%(here)s/sd.log\n[program:u]\ncommand=sleep 1\nuser=no-such-user-x\n",
    );
    let out = std::process::Command::new(crate::util::binary())
        .args(["check-config", "-c", "user.conf"])
        .current_dir(&dir.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("[program:u] user: Invalid user name no-such-user-x"),
        "{}",
        stderr(&out)
    );

    // The same programs fixed: clean.
    dir.write(
        "good.conf",
        "[supervisord]\nlogfile=%(here)s/sd.log\n\
         [unix_http_server]\nfile=%(here)s/s.sock\n\
         [inet_http_server]\nport=*:9\nusername=u\npassword=p\n\
         [program:split]\ncommand=/bin/echo \"hello;world\"\n\
         [program:sq]\ncommand=sh -c 'i=5; echo ${i:-unset}'\n",
    );
    let out = std::process::Command::new(crate::util::binary())
        .args(["check-config", "-c", "good.conf"])
        .current_dir(&dir.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stderr(&out), "");
    assert!(stdout(&out).starts_with("good.conf: OK"));
}
