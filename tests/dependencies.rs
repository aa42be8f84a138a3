//! depends_on= and restart policies with real processes: start order gated by dependencies
//! (spawn times in the main log), stop order reversed, the exponential restart delays of a
//! crash loop, check-config errors for each bad value, and the reference ignoring the keys.

use std::time::Duration;

use crate::util::{self, Daemon, TempDir, WAIT};

/// Milliseconds since midnight of a main-log line's `YYYY-MM-DD HH:MM:SS,mmm` stamp.
fn stamp_ms(line: &str) -> Option<i64> {
    let time = line.get(11..23)?;
    let (hms, ms) = time.split_once(',')?;
    let mut parts = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    Some(((h * 60 + m) * 60 + s) * 1000 + ms.parse::<i64>().ok()?)
}

fn first_line<'a>(log: &'a str, needle: &str) -> Option<(usize, &'a str)> {
    log.lines().enumerate().find(|(_, l)| l.contains(needle))
}

fn check_config(conf: &std::path::Path) -> std::process::Output {
    std::process::Command::new(util::binary())
        .args(["check-config", "-c"])
        .arg(conf)
        .output()
        .unwrap()
}

const WEB: &str = "[program:db]\ncommand=sleep 1000\nstartsecs=1\npriority=999\n\n\
    [program:migrate]\ncommand=sh -c \"sleep 0.3; exit 0\"\nstartsecs=0\nautorestart=false\n\
    depends_on=db\n\n\
    [program:web]\ncommand=sleep 1000\nstartsecs=0\npriority=1\n\
    depends_on = db:running, migrate:exited\n\n";

/// web (priority 1: the reference would start it first and stop it last) depends on db
/// (running) and migrate (exited): it is spawned after both hold and stopped before db.
/// (Health checks had not landed: `db:running` stands in for `db:healthy`.)
#[test]
fn start_waits_for_dependencies_and_stop_reverses_it() {
    let dir = TempDir::new("deps-order");
    let conf = dir.write(
        "supervisord.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/main.log\nchildlogdir=%(here)s\npidfile=%(here)s/sd.pid\n\n{}{WEB}",
            util::RPC_SECTIONS
        ),
    );
    let mut daemon = Daemon::start(&dir, &conf);
    let sock = dir.join("s.sock");
    assert!(util::wait_for(WAIT, || dir.join("s.sock").exists()));
    // While web waits, status shows it STOPPED with what it waits for.
    let info = util::rpc_call(&sock, "supervisor.getProcessInfo", &["web"], WAIT);
    assert!(
        info.contains("waiting for db (running), migrate (exited)")
            || dir.read("main.log").contains("spawned: 'web'"),
        "{info}"
    );
    assert!(util::wait_for(WAIT, || dir
        .read("main.log")
        .contains("spawned: 'web'")));
    let log = dir.read("main.log");
    let (db_up, _) = first_line(&log, "success: db entered RUNNING").unwrap();
    let (migrate_done, _) = first_line(&log, "exited: migrate (exit status 0; expected)").unwrap();
    let (web_spawn, _) = first_line(&log, "spawned: 'web'").unwrap();
    let (migrate_spawn, _) = first_line(&log, "spawned: 'migrate'").unwrap();
    assert!(migrate_spawn > db_up, "{log}");
    assert!(web_spawn > db_up && web_spawn > migrate_done, "{log}");
    assert_eq!(daemon.stop(WAIT), Some(0));
    let log = dir.read("main.log");
    let (web_stop, _) = first_line(&log, "stopped: web").unwrap();
    let (db_stop, _) = first_line(&log, "stopped: db").unwrap();
    assert!(web_stop < db_stop, "{log}");
}

/// restart_delay=0.2 doubling to 1.6: the gaps between an unexpected exit and the next spawn.
#[test]
fn crash_loop_restart_delays_double_up_to_the_cap() {
    let dir = TempDir::new("deps-delay");
    let conf = dir.write(
        "supervisord.conf",
        "[supervisord]\nlogfile=%(here)s/main.log\nchildlogdir=%(here)s\npidfile=%(here)s/sd.pid\n\n\
         [program:crash]\ncommand=sh -c \"sleep 1.05; exit 1\"\nstartsecs=0\n\
         restart_delay=0.2\nrestart_delay_max=1.6\n",
    );
    let mut daemon = Daemon::start(&dir, &conf);
    let exits = |log: &str| log.matches("exited: crash").count();
    assert!(util::wait_for(Duration::from_secs(30), || exits(
        &dir.read("main.log")
    ) >= 5
        && dir.read("main.log").matches("spawned: 'crash'").count()
            >= 6));
    daemon.stop(WAIT);
    let log = dir.read("main.log");
    let mut gaps = Vec::new();
    let mut exit_at = None;
    for line in log.lines() {
        if line.contains("exited: crash") {
            exit_at = stamp_ms(line);
        } else if line.contains("spawned: 'crash'")
            && let Some(e) = exit_at.take()
        {
            gaps.push(stamp_ms(line).unwrap() - e);
        }
    }
    let want = [200, 400, 800, 1600, 1600];
    assert!(gaps.len() >= want.len(), "{gaps:?}\n{log}");
    for (got, want) in gaps.iter().zip(want) {
        assert!(
            (want - 20..want + 250).contains(got),
            "gaps {gaps:?} want {want:?}\n{log}"
        );
    }
}

/// Every bad value is a check-config error naming file, section and option.
#[test]
fn check_config_reports_each_bad_value() {
    let dir = TempDir::new("deps-check");
    let cases = [
        (
            "depends_on=nosuch",
            "[program:a] depends_on: names unknown program nosuch",
        ),
        (
            "depends_on=a",
            "[program:a] depends_on: a program cannot depend on itself",
        ),
        (
            "depends_on=b:healthy",
            "[program:a] depends_on: b (healthy): [program:b] has no healthcheck",
        ),
        ("depends_on=db web", "[program:a] depends_on: entry"),
        ("depends_on=g:", "[program:a] depends_on: bad entry"),
        (
            "restart_delay=-1",
            "[program:a] restart_delay: must be between 0",
        ),
        (
            "restart_delay_max=soon",
            "[program:a] restart_delay_max: not a number of seconds",
        ),
        (
            "restart_jitter=1.5",
            "[program:a] restart_jitter: must be between 0 and 1",
        ),
        (
            "backoff_max=0.5",
            "[program:a] backoff_max: must be at least 1 second",
        ),
    ];
    for (line, want) in cases {
        let conf = dir.write(
            "bad.conf",
            &format!(
                "[supervisord]\nlogfile=%(here)s/main.log\n\n[program:a]\ncommand=sleep 1\n{line}\n\n\
                 [program:b]\ncommand=sleep 1\n"
            ),
        );
        let out = check_config(&conf);
        let text = format!("{}{}", util::stdout(&out), util::stderr(&out));
        assert!(!out.status.success(), "{line}: {text}");
        assert!(text.contains(want), "{line}: {text}");
        assert!(text.contains("bad.conf:"), "{line}: {text}");
    }
    let conf = dir.write(
        "cycle.conf",
        "[supervisord]\nlogfile=%(here)s/main.log\n\n\
         [program:a]\ncommand=sleep 1\ndepends_on=b\n\n[program:b]\ncommand=sleep 1\ndepends_on=a:started\n",
    );
    let out = check_config(&conf);
    let text = format!("{}{}", util::stdout(&out), util::stderr(&out));
    assert!(
        text.contains("depends_on: dependency cycle: a -> b -> a"),
        "{text}"
    );
}

/// The reference supervisord ignores our keys: it starts on these configs.
#[test]
fn the_reference_starts_on_the_configs() {
    let Some(ref_bin) = util::require_reference("the_reference_starts_on_the_configs") else {
        return;
    };
    let dir = TempDir::new("deps-ref");
    let conf = dir.write(
        "supervisord.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/main.log\nchildlogdir=%(here)s\npidfile=%(here)s/sd.pid\n\n\
             {WEB}[program:crash]\ncommand=sleep 1000\nrestart_delay=0.2\nrestart_delay_max=1.6\n\
             restart_jitter=0.1\nbackoff_max=5\n"
        ),
    );
    let mut child = util::spawn_foreground(&ref_bin.join("supervisord"), &dir, &conf);
    assert!(util::wait_for(WAIT, || dir
        .read("main.log")
        .contains("spawned: 'web'")));
    util::terminate(&mut child, WAIT);
}

const HEAD: &str = "[supervisord]\nlogfile=%(here)s/main.log\nchildlogdir=%(here)s\npidfile=%(here)s/sd.pid\n\n\
     [supervisorctl]\nserverurl=unix://%(here)s/s.sock\n\n";

fn spawns(log: &str, name: &str) -> usize {
    log.matches(&format!("spawned: '{name}' with pid")).count()
}

/// `update` after a change of one program's depends_on / restart_delay / restart_delay_max /
/// restart_jitter / backoff_max restarts that program only (each key in turn).
#[test]
fn update_restarts_only_the_program_whose_key_changed() {
    let dir = TempDir::new("deps-update");
    let write = |a_extra: &str| {
        dir.write(
            "supervisord.conf",
            &format!(
                "{HEAD}{}[program:a]\ncommand=sleep 1000\nstartsecs=0\n{a_extra}\n\n\
                 [program:b]\ncommand=sleep 1000\nstartsecs=0\n",
                util::RPC_SECTIONS
            ),
        )
    };
    let conf = write("");
    let mut daemon = Daemon::start(&dir, &conf);
    assert!(util::wait_for(WAIT, || {
        let log = dir.read("main.log");
        spawns(&log, "a") == 1 && spawns(&log, "b") == 1
    }));
    let keys = [
        "depends_on=b",
        "depends_on=b:started",
        "restart_delay=0.5",
        "restart_delay=0.5\nrestart_delay_max=4",
        "restart_delay=0.5\nrestart_delay_max=4\nrestart_jitter=0.2",
        "backoff_max=3",
    ];
    for (i, extra) in keys.into_iter().enumerate() {
        write(extra);
        let conf_arg = conf.to_str().unwrap();
        let out = util::run(&dir, "supervisorctl", &["-c", conf_arg, "update"]);
        let text = util::stdout(&out);
        assert!(text.contains("a: updated process group"), "{extra}: {text}");
        assert!(!text.contains("b:"), "{extra}: {text}");
        assert!(
            util::wait_for(WAIT, || spawns(&dir.read("main.log"), "a") == i + 2),
            "{extra}: {}",
            dir.read("main.log")
        );
        assert_eq!(spawns(&dir.read("main.log"), "b"), 1, "{extra}");
    }
    assert_eq!(daemon.stop(WAIT), Some(0));
}

const WAITS_FOR_DB: &str = "[program:db]\ncommand=sleep 1000\nstartsecs=2\n\n\
    [program:web]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db\n\n";

/// `stop all` while web waits for db cancels the wait: starting db afterwards does not start
/// web. (stopAllProcesses, the dashboard's "stop all" and stopProcessGroup share the path.)
#[test]
fn stop_all_cancels_pending_dependency_waits() {
    let dir = TempDir::new("deps-stopall");
    let conf = dir.write(
        "supervisord.conf",
        &format!("{HEAD}{}{WAITS_FOR_DB}", util::RPC_SECTIONS),
    );
    let mut daemon = Daemon::start(&dir, &conf);
    let conf_arg = conf.to_str().unwrap();
    assert!(util::wait_for(WAIT, || spawns(&dir.read("main.log"), "db") == 1));
    let out = util::run(&dir, "supervisorctl", &["-c", conf_arg, "stop", "all"]);
    assert!(
        util::stdout(&out).contains("db: stopped"),
        "{}",
        util::stdout(&out)
    );
    let out = util::run(&dir, "supervisorctl", &["-c", conf_arg, "start", "db"]);
    assert!(
        util::stdout(&out).contains("db: started"),
        "{}",
        util::stdout(&out)
    );
    // web would be spawned at once after db's RUNNING: give it a moment to show up.
    std::thread::sleep(Duration::from_millis(500));
    let log = dir.read("main.log");
    assert_eq!(spawns(&log, "web"), 0, "{log}");
    let status = util::stdout(&util::run(
        &dir,
        "supervisorctl",
        &["-c", conf_arg, "status", "web"],
    ));
    assert!(
        status.contains("STOPPED") && !status.contains("waiting"),
        "{status}"
    );
    assert_eq!(daemon.stop(WAIT), Some(0));
}

/// A shutdown while web waits for db never starts web.
#[test]
fn shutdown_cancels_pending_dependency_waits() {
    let dir = TempDir::new("deps-shutdown");
    let conf = dir.write("supervisord.conf", &format!("{HEAD}{WAITS_FOR_DB}"));
    let mut daemon = Daemon::start(&dir, &conf);
    assert!(util::wait_for(WAIT, || spawns(&dir.read("main.log"), "db") == 1));
    assert_eq!(daemon.stop(WAIT), Some(0));
    let log = dir.read("main.log");
    assert_eq!(spawns(&log, "web"), 0, "{log}");
}

/// exit_when_idle: a program waiting for its dependencies is work still to come (the daemon
/// stays until it ran); one blocked by a FATAL dependency is finished.
#[test]
fn exit_when_idle_waits_for_held_programs_but_not_blocked_ones() {
    let dir = TempDir::new("deps-idle");
    let run_to_exit = |programs: &str| {
        let conf = dir.write(
            "supervisord.conf",
            &format!("[supervisord]\nlogfile=%(here)s/main.log\nexit_when_idle=true\n\n{programs}"),
        );
        let _ = std::fs::remove_file(dir.join("main.log"));
        let mut child = util::spawn_foreground(&dir.applet("supervisord"), &dir, &conf);
        let status = util::reap(&mut child, WAIT).and_then(|s| s.code());
        (status, dir.read("main.log"))
    };
    let (status, log) = run_to_exit(
        "[program:migrate]\ncommand=sh -c \"sleep 0.3; exit 0\"\nstartsecs=0\nautorestart=false\n\n\
         [program:web]\ncommand=sh -c \"sleep 0.3; exit 0\"\nstartsecs=0\nautorestart=false\n\
         depends_on=migrate:exited\n",
    );
    assert_eq!(status, Some(0), "{log}");
    let web_exit = log.find("exited: web").expect(&log);
    let idle = log.find("exit_when_idle: no program").expect(&log);
    assert!(web_exit < idle, "{log}");
    let (status, log) = run_to_exit(
        "[program:db]\ncommand=sh -c \"exit 1\"\nstartsecs=1\nstartretries=0\n\n\
         [program:web]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db\n",
    );
    assert_eq!(status, Some(0), "{log}");
    assert!(log.contains("gave up: db entered FATAL"), "{log}");
    assert!(log.contains("exit_when_idle: no program"), "{log}");
    assert_eq!(spawns(&log, "web"), 0, "{log}");
}
