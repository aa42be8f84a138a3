//! Entry point of the `supervisorctl` applet.

pub fn main(argv0: &str, args: &[String]) -> i32 {
    crate::ctl::main(argv0, args)
}
