//! `supervisor version`: our package version and the supervisord version we are compatible with.

use super::{PACKAGE_VERSION, SUPERVISOR_VERSION};

/// The applet takes no arguments; argh answers `-h` and rejects anything else.
#[derive(argh::FromArgs)]
#[argh(description = "Prints the version.", help_triggers("-h", "--help"))]
struct Args {}

pub fn main(argv0: &str, args: &[String]) -> i32 {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match super::parse_args::<Args>(argv0, "version", &words) {
        Ok(Args {}) => {
            println!("supervisor {PACKAGE_VERSION} (supervisord {SUPERVISOR_VERSION} compatible)");
            0
        }
        Err(code) => code,
    }
}
