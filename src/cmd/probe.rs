//! `supervisor probe [-c FILE] [-s URL] [-u USER] [-p PASS] [-t SECS] [PATH]`: GETs PATH
//! (default `/readyz`) from the server supervisorctl would use, prints the body, and exits 0 on
//! 200, 1 otherwise (a container HEALTHCHECK in exec form: the image needs no shell or curl).

use std::path::PathBuf;
use std::time::Duration;

use crate::ctl::options::{read_ctl_section, search_config_file};

const USAGE: &str = "usage: probe [-c FILE] [-s URL] [-u USER] [-p PASSWORD] [-t SECONDS] [PATH]\n\n\
GETs PATH (default /readyz; also /healthz, /metrics) from supervisord, with the server URL and\n\
credentials of the config's [supervisorctl] section unless given; prints the body; exits 0 on\n\
HTTP 200 and 1 otherwise (the HEALTHCHECK convention).\n\n\
options:\n  \
-c, --configuration FILE  the config file (default: the paths supervisorctl searches)\n  \
-s, --serverurl URL       unix:///path or http://host:port\n  \
-u, --username USER       basic auth user\n  \
-p, --password PASSWORD   basic auth password\n  \
-t, --timeout SECONDS     give up after this long (default 5)\n  \
-h, --help                this text";

pub fn main(argv0: &str, args: &[String]) -> i32 {
    let mut file: Option<PathBuf> = None;
    let (mut url, mut user, mut pass) = (None, None, None);
    let mut timeout = 5.0_f64;
    let mut path = "/readyz".to_string();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if matches!(arg, "-h" | "--help") {
            println!("{USAGE}");
            return 0;
        }
        let takes_value = matches!(
            arg,
            "-c" | "--configuration"
                | "-s"
                | "--serverurl"
                | "-u"
                | "--username"
                | "-p"
                | "--password"
                | "-t"
                | "--timeout"
        );
        if takes_value {
            i += 1;
            let Some(value) = args.get(i).cloned() else {
                eprintln!("{argv0}: option {arg} requires an argument\n{USAGE}");
                return 2;
            };
            match arg {
                "-c" | "--configuration" => file = Some(PathBuf::from(value)),
                "-s" | "--serverurl" => url = Some(value),
                "-u" | "--username" => user = Some(value),
                "-p" | "--password" => pass = Some(value),
                _ => match value.parse::<f64>() {
                    Ok(t) if t > 0.0 && t.is_finite() => timeout = t,
                    _ => {
                        eprintln!("{argv0}: bad timeout {value:?}");
                        return 2;
                    }
                },
            }
        } else if arg.starts_with('-') {
            eprintln!("{argv0}: option {arg} not recognized\n{USAGE}");
            return 2;
        } else {
            path = if arg.starts_with('/') {
                arg.to_string()
            } else {
                format!("/{arg}")
            };
        }
        i += 1;
    }
    // The config's [supervisorctl] section fills in whatever the options did not give.
    // Given a URL (and no -c), no config file is read: the probe may run where none exists.
    let conf = match (file, &url) {
        (Some(file), _) => Some(file),
        (None, None) => search_config_file(argv0),
        (None, Some(_)) => None,
    };
    if let Some(conf) = conf {
        match read_ctl_section(&conf) {
            Ok(section) => {
                url = url.or(section.serverurl);
                user = user.or(section.username);
                pass = pass.or(section.password);
            }
            Err(e) => {
                eprintln!("{argv0}: {e}");
                return 1;
            }
        }
    }
    let url = url.unwrap_or_else(|| "http://localhost:9001".to_string());
    let timeout = Duration::from_secs_f64(timeout);
    match crate::ctl::probe::get(&url, user.as_deref(), pass.as_deref(), &path, timeout) {
        Ok((status, body)) => {
            use std::io::Write;
            let _ = std::io::stdout().write_all(&body);
            if status == 200 {
                0
            } else {
                eprintln!("{argv0}: {path}: HTTP {status}");
                1
            }
        }
        Err(e) => {
            eprintln!("{argv0}: {e}");
            1
        }
    }
}
