//! `supervisor version`: our package version and the supervisord version we are compatible with.

use super::{PACKAGE_VERSION, SUPERVISOR_VERSION};

/// The applet takes no arguments; argh answers `-h` and rejects anything else.
#[derive(argh::FromArgs)]
#[argh(description = "Prints the version.", help_triggers("-h", "--help"))]
struct Args {}

pub fn main(argv0: &str, args: &[String]) -> i32 {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match <Args as argh::FromArgs>::from_args(&["version"], &words) {
        Ok(Args {}) => {
            println!("supervisor {PACKAGE_VERSION} (supervisord {SUPERVISOR_VERSION} compatible)");
            0
        }
        Err(exit) if exit.status.is_ok() => {
            print!("{}", exit.output);
            0
        }
        Err(exit) => {
            eprintln!(
                "Error: {}\nFor help, use {argv0} -h",
                exit.output.trim_end()
            );
            2
        }
    }
}
