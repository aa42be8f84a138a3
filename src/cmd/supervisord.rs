//! Entry point of the `supervisord` applet (being built; see the issue tracker).

pub fn main(argv0: &str, _args: &[String]) -> i32 {
    eprintln!("{argv0}: not built yet");
    1
}
