//! The health-check options of `[program:x]` (an extension the reference ignores):
//! `healthcheck=` (exec:/http:///tcp:), `healthcheck_interval`, `healthcheck_timeout`,
//! `healthcheck_retries`, `healthcheck_start_period`, `healthcheck_action`.
//!
//! Host names are resolved here, never in the daemon's loop: an IP literal or `localhost`
//! (127.0.0.1) is accepted, any other name is refused (a DNS lookup would block the loop, and a
//! lookup at config time would pin an address the name may no longer have).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::expand::Expansions;
use super::loader::Loader;
use super::model::{HealthAction, HealthCheck, Probe};

/// The option names, in the order `--dump` and the docs list them.
pub const KEYS: &[&str] = &[
    "healthcheck",
    "healthcheck_interval",
    "healthcheck_timeout",
    "healthcheck_retries",
    "healthcheck_start_period",
    "healthcheck_action",
];

/// Longest duration accepted (a day): larger values are almost certainly typos, and the
/// deadline arithmetic stays far from overflow.
const MAX_SECONDS: f64 = 86_400.0;

/// A duration in seconds, fractions allowed (`0.5`); `positive` refuses 0.
pub fn seconds(value: &str, positive: bool) -> Result<Duration, String> {
    let v = value.trim();
    // Only plain decimal numbers: Rust's float parser would also take `inf`, `NaN`, `1e3`.
    let plain = !v.is_empty()
        && v.chars().all(|c| c.is_ascii_digit() || c == '.')
        && v.chars().filter(|&c| c == '.').count() <= 1
        && v != ".";
    let n: f64 = match v.parse() {
        Ok(n) if plain => n,
        _ => return Err(format!("not a duration in seconds: '{value}'")),
    };
    if n > MAX_SECONDS {
        return Err(format!(
            "duration too long (at most {MAX_SECONDS} s): '{value}'"
        ));
    }
    if positive && n == 0.0 {
        return Err(format!("duration must be above 0: '{value}'"));
    }
    Ok(Duration::from_secs_f64(n))
}

/// `healthcheck_retries`: a whole number from 1.
pub fn retries(value: &str) -> Result<u32, String> {
    match value.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("not a whole number of 1 or more: '{value}'")),
    }
}

/// `healthcheck_action`: none or restart.
pub fn action(value: &str) -> Result<HealthAction, String> {
    match value.trim().to_lowercase().as_str() {
        "none" => Ok(HealthAction::None),
        "restart" => Ok(HealthAction::Restart),
        _ => Err(format!("unknown action '{value}' (none or restart)")),
    }
}

/// `HOST` of a URL or tcp: spec into an address: IP literal (IPv6 in brackets) or localhost.
fn host_ip(host: &str) -> Result<IpAddr, String> {
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().map_err(|_| {
        format!(
            "host '{host}' is not an IP address or localhost (names are not resolved: a DNS lookup would block the daemon)"
        )
    })
}

/// `HOST:PORT` (`[v6]:PORT` for IPv6); `default_port` when the port is left out.
fn host_port(text: &str, default_port: Option<u16>) -> Result<SocketAddr, String> {
    let (host, port) = if text.starts_with('[') {
        match text.find(']') {
            Some(i) => match &text[i + 1..] {
                "" => (&text[..=i], None),
                rest => match rest.strip_prefix(':') {
                    Some(p) => (&text[..=i], Some(p)),
                    None => return Err(format!("bad address '{text}'")),
                },
            },
            None => return Err(format!("bad address '{text}'")),
        }
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err(format!("no host in '{text}'"));
    }
    let port = match (port, default_port) {
        (Some(p), _) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("bad port '{p}' (1..65535)")),
        },
        (None, Some(d)) => d,
        (None, None) => return Err(format!("no port in '{text}' (HOST:PORT)")),
    };
    Ok(SocketAddr::new(host_ip(host)?, port))
}

/// `healthcheck=`: `exec:COMMAND ARGS`, `http://HOST[:PORT]/PATH` or `tcp:HOST:PORT`.
pub fn probe(value: &str) -> Result<Probe, String> {
    let v = value.trim();
    if let Some(command) = v.strip_prefix("exec:") {
        // Split (like `command=`) and looked up when the check runs, as a program's command.
        if command.trim().is_empty() {
            return Err("exec: needs a command".to_string());
        }
        return Ok(Probe::Exec(command.trim().to_string()));
    }
    if let Some(rest) = v.strip_prefix("http://") {
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if path.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(format!("bad URL path '{path}'"));
        }
        if authority.contains('@') {
            return Err("credentials in the URL are not supported".to_string());
        }
        let addr = host_port(authority, Some(80))?;
        return Ok(Probe::Http {
            addr,
            host: authority.to_string(),
            path: path.to_string(),
        });
    }
    if v.starts_with("https://") {
        return Err("https is not supported (use http://, tcp: or exec:)".to_string());
    }
    if let Some(rest) = v.strip_prefix("tcp:") {
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let addr = host_port(rest, None)?;
        return Ok(Probe::Tcp(addr));
    }
    Err(format!(
        "unknown health check '{value}' (exec:COMMAND, http://HOST:PORT/PATH or tcp:HOST:PORT)"
    ))
}

/// Reads the health-check options of one program section; None when `healthcheck` is unset
/// (then any other `healthcheck_*` option is an error: it would silently do nothing).
pub(super) fn read(l: &mut Loader, section: &str, exps: &Expansions) -> Option<Box<HealthCheck>> {
    let spec = l.get(section, "healthcheck", exps).ok().flatten();
    let Some(spec) = spec else {
        for key in &KEYS[1..] {
            if l.entry(section, key).is_some() {
                l.error(
                    section,
                    Some(key),
                    format!("{key} is set but healthcheck is not"),
                    None,
                );
            }
        }
        return None;
    };
    let probe = match probe(&spec) {
        Ok(p) => Some(p),
        Err(problem) => {
            l.error(section, Some("healthcheck"), problem, Some(&spec));
            None
        }
    };
    let secs = |positive: bool| move |v: &str| seconds(v, positive);
    let interval = l.typed(
        section,
        "healthcheck_interval",
        exps,
        Duration::from_secs(10),
        secs(true),
    );
    let timeout = l.typed(
        section,
        "healthcheck_timeout",
        exps,
        Duration::from_secs(5),
        secs(true),
    );
    let retries = l.typed(section, "healthcheck_retries", exps, 3, retries);
    let start_period = l.typed(
        section,
        "healthcheck_start_period",
        exps,
        Duration::ZERO,
        secs(false),
    );
    let action = l.typed(
        section,
        "healthcheck_action",
        exps,
        HealthAction::None,
        action,
    );
    Some(Box::new(HealthCheck {
        spec: spec.trim().to_string(),
        probe: probe?,
        interval,
        timeout,
        retries,
        start_period,
        action,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_fractions_and_refuse_the_rest() {
        assert_eq!(seconds("0.5", true), Ok(Duration::from_millis(500)));
        assert_eq!(seconds("10", true), Ok(Duration::from_secs(10)));
        assert_eq!(seconds("0", false), Ok(Duration::ZERO));
        for bad in [
            "0", "-1", "abc", "1e3", "inf", "NaN", "", ".", "1.2.3", "100000",
        ] {
            assert!(seconds(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn retries_and_actions() {
        assert_eq!(retries("3"), Ok(3));
        assert!(retries("0").is_err());
        assert!(retries("x").is_err());
        assert_eq!(action("Restart"), Ok(HealthAction::Restart));
        assert_eq!(action("none"), Ok(HealthAction::None));
        assert!(action("reboot").is_err());
    }

    #[test]
    fn probes() {
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(
            probe("http://127.0.0.1:8080/health"),
            Ok(Probe::Http {
                addr: addr("127.0.0.1:8080"),
                host: "127.0.0.1:8080".into(),
                path: "/health".into()
            })
        );
        assert_eq!(
            probe("http://localhost"),
            Ok(Probe::Http {
                addr: addr("127.0.0.1:80"),
                host: "localhost".into(),
                path: "/".into()
            })
        );
        assert_eq!(
            probe("http://[::1]:81/x?y=1"),
            Ok(Probe::Http {
                addr: addr("[::1]:81"),
                host: "[::1]:81".into(),
                path: "/x?y=1".into()
            })
        );
        assert_eq!(
            probe("tcp:localhost:5432"),
            Ok(Probe::Tcp(addr("127.0.0.1:5432")))
        );
        assert_eq!(probe("tcp:[::1]:5432"), Ok(Probe::Tcp(addr("[::1]:5432"))));
        assert_eq!(
            probe("exec:pg_isready -h 'a b'"),
            Ok(Probe::Exec("pg_isready -h 'a b'".into()))
        );
        for bad in [
            "http://example.com/",
            "https://127.0.0.1/",
            "http://127.0.0.1:0/",
            "http://127.0.0.1:99999/",
            "http://:80/",
            "http://127.0.0.1/a b",
            "tcp:127.0.0.1",
            "tcp:db:5432",
            "exec:",
            "ping 127.0.0.1",
        ] {
            assert!(probe(bad).is_err(), "{bad}");
        }
    }
}
