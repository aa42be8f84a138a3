//! Entry point of `echo_supervisord_conf` / `sample-config` (being built).

pub fn main(_args: &[String]) -> i32 {
    1
}
