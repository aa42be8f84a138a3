//! The interactive supervisorctl on a real terminal (tmux): Tab completion of commands and
//! process specs, history recall with Up, line editing; the command-name candidates side by
//! side with the reference's readline shell. Skipped with a reason when tmux is missing.

use std::process::{Command, Stdio};

use crate::util::{self, RPC_SECTIONS, TempDir, WAIT};

/// One tmux server (its own socket) running one command in a 120x30 pane.
struct Pane {
    socket: String,
}

impl Pane {
    fn start(socket: String, command: &str) -> Pane {
        let pane = Pane { socket };
        pane.tmux(&["new-session", "-d", "-x", "120", "-y", "30", command]);
        pane
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p"])
    }

    /// Waits (bounded) until the screen satisfies `cond`; the last screen either way.
    fn wait(&self, cond: impl Fn(&str) -> bool) -> (bool, String) {
        let mut last = String::new();
        let ok = util::wait_for(WAIT, || {
            last = self.screen();
            cond(&last)
        });
        (ok, last)
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

fn have_tmux(test: &str) -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIP {test}: tmux is not installed");
    }
    ok
}

fn config(dir: &TempDir) -> std::path::PathBuf {
    dir.write(
        "supervisord.conf",
        &format!(
            "[supervisord]\nlogfile=%(here)s/d.log\npidfile=%(here)s/d.pid\n\n{RPC_SECTIONS}\
             [supervisorctl]\nserverurl=unix://%(here)s/s.sock\nhistory_file=%(here)s/history\n\n\
             [program:flaky]\ncommand=sleep 1000\nstartsecs=0\n\n\
             [program:worker]\ncommand=sleep 1000\nnumprocs=2\n\
             process_name=%(program_name)s_%(process_num)s\nstartsecs=0\n"
        ),
    )
}

/// The last non-empty line of the screen.
fn last_line(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

#[test]
fn completion_history_and_editing_on_a_terminal() {
    let test = "completion_history_and_editing_on_a_terminal";
    if !have_tmux(test) {
        return;
    }
    let dir = TempDir::new("pty");
    let conf = config(&dir);
    let _daemon = util::Daemon::start(&dir, &conf);
    util::connect_unix(&dir.join("s.sock"), WAIT);
    let ctl = format!(
        "{} -c {}",
        dir.applet("supervisorctl").display(),
        conf.display()
    );
    let pane = Pane::start(format!("svt-pty-{}", std::process::id()), &ctl);
    let prompt = |s: &str| last_line(s).starts_with("supervisor>");
    let (ok, screen) = pane.wait(|s| s.contains("worker:worker_1") && prompt(s));
    assert!(ok, "{screen}");

    pane.keys(&["sta", "Tab", "Tab"]);
    let (ok, screen) = pane.wait(|s| {
        s.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["start", "status"])
    });
    assert!(ok, "{screen}");

    pane.keys(&["C-u", "start wo", "Tab"]);
    let (ok, screen) = pane.wait(|s| last_line(s) == "supervisor> start worker:");
    assert!(ok, "{screen}");

    // A typo fixed with Left/Backspace runs the right command.
    pane.keys(&[
        "C-u",
        "stoq flaky",
        "Left",
        "Left",
        "Left",
        "Left",
        "Left",
        "Left",
    ]);
    pane.keys(&["BSpace", "p", "Enter"]);
    let (ok, screen) = pane.wait(|s| s.contains("flaky: stopped") && prompt(s));
    assert!(ok, "{screen}");
    assert!(!screen.contains("Unknown syntax"), "{screen}");

    // Up recalls it.
    pane.keys(&["Up"]);
    let (ok, screen) = pane.wait(|s| last_line(s) == "supervisor> stop flaky");
    assert!(ok, "{screen}");

    // Ctrl-C at the prompt ends the shell (the reference's KeyboardInterrupt), keeping history.
    pane.keys(&["C-u", "C-c"]);
    assert!(
        util::wait_for(WAIT, || dir.read("history").contains("stop flaky")),
        "{}",
        pane.screen()
    );
}

/// `sta<Tab><Tab>` lists the same commands as the reference's readline completion.
#[test]
fn command_candidates_match_the_reference() {
    let test = "command_candidates_match_the_reference";
    if !have_tmux(test) {
        return;
    }
    let got = util::side_by_side(test, |imp| {
        let dir = TempDir::new(&imp.tag("ptyref"));
        let conf = config(&dir);
        let mut daemon = util::spawn_foreground(&imp.supervisord(&dir), &dir, &conf);
        util::connect_unix(&dir.join("s.sock"), WAIT);
        let ctl = format!(
            "{} -c {}",
            imp.supervisorctl(&dir).display(),
            conf.display()
        );
        let pane = Pane::start(
            format!("svt-{}-{}", imp.tag("ptyref"), std::process::id()),
            &ctl,
        );
        let mut lists = Vec::new();
        {
            let word = "sta";
            let (ok, screen) = pane.wait(|s| last_line(s).starts_with("supervisor>"));
            assert!(ok, "{screen}");
            pane.keys(&["C-u", word, "Tab", "Tab"]);
            let (_, screen) =
                pane.wait(|s| s.lines().filter(|l| l.starts_with("supervisor> ")).count() >= 2);
            // The candidates are listed between the first prompt and the new one (the shell
            // prints the processes' status above the first, whatever their states).
            let words: Vec<String> = screen
                .lines()
                .skip_while(|l| !l.starts_with("supervisor>"))
                .filter(|l| !l.starts_with("supervisor>"))
                .flat_map(|l| l.split_whitespace().map(str::to_string))
                .collect();
            lists.push(words);
        }
        pane.keys(&["C-d"]);
        util::terminate(&mut daemon, WAIT);
        lists
    });
    if let Some((ours, theirs)) = got {
        assert_eq!(ours, [["start", "status"]]);
        assert_eq!(ours, theirs);
    }
}
