//! Multicall dispatch: the applet is the exact basename of argv[0], or argv[1] when called as
//! `supervisor`. Each applet's entry point takes its own arguments and returns an exit code.

pub mod check_config;
pub mod completions;
pub mod pidproxy;
pub mod probe;
pub mod sample;
pub mod supervisorctl;
pub mod supervisord;
pub mod version;

use std::ffi::OsString;
use std::path::Path;

use crate::wire::SUPERVISOR_VERSION;

/// Our own package version, shown by `supervisor version`.
pub const PACKAGE_VERSION: &str = env!("CARGO_PKG_VERSION");

const APPLETS: &str = "supervisord (daemon), supervisorctl (ctl), check-config, sample-config, pidproxy, completions, probe, version, help";

/// Runs the applet named by argv and returns the process exit code.
pub fn dispatch(args: Vec<OsString>) -> i32 {
    let argv0 = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "supervisor".to_string());
    let base = Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rest: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match base.as_str() {
        "supervisord" => supervisord::main(&argv0, &rest),
        "supervisorctl" => supervisorctl::main(&argv0, &rest),
        "echo_supervisord_conf" => sample::echo(),
        "supervisor-check-config" => check_config::main(&argv0, &rest),
        "pidproxy" => pidproxy::main(&argv0, &rest),
        _ => dispatch_subcommand(&argv0, &rest),
    }
}

fn dispatch_subcommand(argv0: &str, rest: &[String]) -> i32 {
    let Some(applet) = rest.first() else {
        // A usage error: the text goes to stderr, like every other usage error.
        eprint!("{}", help_text(argv0));
        return 2;
    };
    let args = &rest[1..];
    let name = format!("{argv0} {applet}");
    match applet.as_str() {
        "supervisord" | "daemon" => supervisord::main(&name, args),
        "supervisorctl" | "ctl" => supervisorctl::main(&name, args),
        "check-config" => check_config::main(&name, args),
        "sample-config" => sample::main(&name, args),
        "echo_supervisord_conf" => sample::echo(),
        "pidproxy" => pidproxy::main(&name, args),
        "completions" => completions::main(&name, args),
        "probe" => probe::main(&name, args),
        "version" | "--version" | "-V" => version::main(&name, args),
        "help" | "--help" | "-h" => {
            print!("{}", help_text(argv0));
            0
        }
        other => {
            eprintln!("{argv0}: unknown applet '{other}'; applets: {APPLETS}");
            127
        }
    }
}

fn help_text(argv0: &str) -> String {
    format!(
        "usage: {argv0} APPLET [ARGS...]\n\n\
         A process supervisor compatible with supervisord 4.3.0, in one binary.\n\n\
         applets:\n  \
         supervisord | daemon   run the daemon (also: this binary named supervisord)\n  \
         supervisorctl | ctl    control a running daemon (also: named supervisorctl)\n  \
         check-config [-c FILE] [--dump]   validate a config, print a summary or the resolved model\n  \
         sample-config          print a commented sample config (also: named echo_supervisord_conf)\n  \
         pidproxy PIDFILE CMD   run a daemon that forks, standing for the pid in PIDFILE (also: named pidproxy)\n  \
         completions SHELL      print the bash, zsh or fish completion script\n  \
         probe [PATH]           GET /readyz (or PATH) from supervisord; exit 0 on 200 (HEALTHCHECK)\n  \
         version                print the version\n  \
         help                   this text\n"
    )
}

/// Parses an argh applet's arguments. `Err` carries the exit code once argh has answered: its
/// help on stdout (0), or its complaint as `Error: ...` plus where help is (2), like supervisord.
fn parse_args<T: argh::FromArgs>(argv0: &str, applet: &str, words: &[&str]) -> Result<T, i32> {
    match T::from_args(&[applet], words) {
        Ok(args) => Ok(args),
        Err(exit) if exit.status.is_ok() => {
            print!("{}", exit.output);
            Err(0)
        }
        Err(exit) => Err(crate::getopt::usage_error(argv0, exit.output.trim_end())),
    }
}
