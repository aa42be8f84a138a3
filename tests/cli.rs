//! The multicall dispatch: applet names, subcommands, aliases and the unknown-applet exit status.

use std::process::{Command, Stdio};

use crate::util::{TempDir, binary, run, stderr, stdout};

fn supervisor(args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn unknown_applet_exits_127_naming_the_applets() {
    let out = supervisor(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(127));
    let err = stderr(&out);
    assert!(err.contains("unknown applet 'frobnicate'"), "{err}");
    assert!(err.contains("check-config"), "{err}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn no_applet_is_a_usage_error_on_stderr() {
    let out = supervisor(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("usage: "), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}

#[test]
fn help_and_version_subcommands() {
    let help = supervisor(&["help"]);
    assert_eq!(help.status.code(), Some(0));
    for applet in [
        "supervisord | daemon",
        "supervisorctl | ctl",
        "check-config",
        "sample-config",
    ] {
        assert!(stdout(&help).contains(applet), "{}", stdout(&help));
    }
    let version = supervisor(&["version"]);
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        stdout(&version),
        format!(
            "supervisor {} (supervisord 4.3.0 compatible)\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn subcommand_aliases_match_the_applet_symlinks() {
    let dir = TempDir::new("cli");
    // The daemon's -v and the client's -h, through every name they answer to.
    let by_link = run(&dir, "supervisord", &["-v"]);
    assert_eq!(stdout(&by_link), "4.3.0\n");
    for alias in ["supervisord", "daemon"] {
        let out = supervisor(&[alias, "-v"]);
        assert_eq!(out.status.code(), Some(0), "{alias}");
        assert_eq!(stdout(&out), stdout(&by_link), "{alias}");
    }
    let by_link = run(&dir, "supervisorctl", &["-h"]);
    assert_eq!(by_link.status.code(), Some(0));
    let link = dir.applet("supervisorctl").display().to_string();
    for alias in ["supervisorctl", "ctl"] {
        let out = supervisor(&[alias, "-h"]);
        assert_eq!(out.status.code(), Some(0), "{alias}");
        // The usage line names the program as invoked, like the reference.
        let invoked = format!("{} {alias}", binary().display());
        assert_eq!(
            stdout(&out),
            stdout(&by_link).replace(&link, &invoked),
            "{alias}"
        );
    }
    let sample = run(&dir, "echo_supervisord_conf", &[]);
    assert_eq!(sample.status.code(), Some(0));
    assert_eq!(stdout(&supervisor(&["sample-config"])), stdout(&sample));
    // Like the reference's confecho.main, echo_supervisord_conf reads no arguments at all.
    let with_args = run(&dir, "echo_supervisord_conf", &["-h", "extra"]);
    assert_eq!(with_args.status.code(), Some(0));
    assert_eq!(stdout(&with_args), stdout(&sample));
}
