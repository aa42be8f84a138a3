//! One parser per config value type, with the reference's accepted syntax and error texts.
//! Each returns the reference's message on failure; callers attach file/section/option.

use super::model::{AutoRestart, LogLevel, LogTarget};
use super::users;
use crate::python::py_repr;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Python `int(s, radix)` within the i64 range (a larger value is refused as invalid).
fn py_int_radix(s: &str, radix: u32) -> Option<i64> {
    crate::python::int(s, radix).and_then(|n| i64::try_from(n).ok())
}

pub fn int_error(value: &str) -> String {
    format!("invalid literal for int() with base 10: {}", py_repr(value))
}

/// `integer`: Python `int()`.
pub fn integer(value: &str) -> Result<i64, String> {
    py_int_radix(value, 10).ok_or_else(|| int_error(value))
}

/// `boolean`: true/yes/on/1, false/no/off/0, any case.
pub fn boolean(value: &str) -> Result<bool, String> {
    match value.to_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("not a valid boolean value: {}", py_repr(value))),
    }
}

/// `byte_size`: an int with an optional KB/MB/GB suffix (any case); negative values pass.
pub fn byte_size(value: &str) -> Result<i64, String> {
    let v = value.to_lowercase();
    for (suffix, mult) in [
        ("kb", 1024i64),
        ("mb", 1024 * 1024),
        ("gb", 1024 * 1024 * 1024),
    ] {
        if let Some(num) = v.strip_suffix(suffix) {
            return integer(num).map(|n| n.saturating_mul(mult));
        }
    }
    integer(&v)
}

/// `signal_number`: a name (with or without SIG, any case) or a number the platform defines.
pub fn signal(value: &str) -> Result<i32, String> {
    let num = crate::signals::parse(value)?;
    // Python only knows the numbers that have a name: RTMIN (34) and RTMAX (64) but none between.
    if (32..=63).contains(&num) && num != 34 {
        return Err(format!(
            "value {} is not a valid signal number",
            py_repr(value)
        ));
    }
    Ok(num)
}

/// `list_of_exitcodes`: comma-separated ints in 0..=255; empty means none.
pub fn exitcodes(value: &str) -> Result<Vec<i32>, String> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let err = || format!("not a valid list of exit codes: {}", py_repr(value));
    value
        .split(',')
        .map(|part| match py_int_radix(part, 10) {
            Some(n) if (0..=255).contains(&n) => Ok(n as i32),
            _ => Err(err()),
        })
        .collect()
}

/// `octal_type`: Python `int(v, 8)`.
pub fn octal(value: &str) -> Result<u32, String> {
    py_int_radix(value, 8)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("{value} can not be converted to an octal type"))
}

/// `auto_restart`: unexpected, or a boolean word.
pub fn autorestart(value: &str) -> Result<AutoRestart, String> {
    let v = value.to_lowercase();
    match v.as_str() {
        "yes" | "true" | "on" | "1" => Ok(AutoRestart::Always),
        "no" | "false" | "off" | "0" => Ok(AutoRestart::Never),
        "unexpected" => Ok(AutoRestart::Unexpected),
        _ => Err(format!("invalid 'autorestart' value {}", py_repr(&v))),
    }
}

/// A text value of ours: a value in double quotes keeps its leading and trailing spaces (the
/// ini reader trims them otherwise); the quotes are removed.
pub fn quoted_text(value: &str) -> String {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => inner.to_string(),
        None => value.to_string(),
    }
}

/// Python `os.path.expanduser`.
pub fn expanduser(path: &str) -> String {
    if !path.starts_with('~') {
        return path.to_string();
    }
    let end = path[1..].find('/').map(|i| i + 1).unwrap_or(path.len());
    let home = if end == 1 {
        match std::env::var("HOME") {
            Ok(h) => Some(h),
            Err(_) => users::lookup_user(&nix::unistd::getuid().as_raw().to_string())
                .ok()
                .and_then(|u| u.home),
        }
    } else {
        users::lookup_user_by_name(&path[1..end]).and_then(|u| u.home)
    };
    match home {
        Some(h) => {
            let joined = format!("{}{}", h.trim_end_matches('/'), &path[end..]);
            if joined.is_empty() {
                "/".to_string()
            } else {
                joined
            }
        }
        None => path.to_string(),
    }
}

/// `existing_dirpath`: `~` expanded; the parent directory (if any is named) must exist.
pub fn existing_dirpath(value: &str) -> Result<PathBuf, String> {
    let nv = expanduser(value);
    let dir = crate::python::dirname(&nv);
    if dir.is_empty() || Path::new(dir).is_dir() {
        return Ok(PathBuf::from(nv));
    }
    Err(format!(
        "The directory named as part of the path {value} does not exist"
    ))
}

/// `existing_directory`: `~` expanded; must be a directory.
pub fn existing_directory(value: &str) -> Result<PathBuf, String> {
    let nv = expanduser(value);
    if Path::new(&nv).is_dir() {
        return Ok(PathBuf::from(nv));
    }
    Err(format!("{value} is not an existing directory"))
}

/// `logfile_name`: AUTO, NONE/OFF, syslog, or a path whose directory exists.
pub fn logfile_name(value: &str) -> Result<LogTarget, String> {
    match value.to_lowercase().as_str() {
        "none" | "off" => Ok(LogTarget::None),
        "auto" => Ok(LogTarget::Auto),
        "syslog" => Ok(LogTarget::Syslog),
        _ => existing_dirpath(value).map(LogTarget::File),
    }
}

/// `logging_level`: the reference's level words (`warning` is not one of them).
pub fn log_level(value: &str) -> Result<LogLevel, String> {
    match value.to_lowercase().as_str() {
        "critical" => Ok(LogLevel::Critical),
        "error" => Ok(LogLevel::Error),
        "warn" => Ok(LogLevel::Warn),
        "info" => Ok(LogLevel::Info),
        "debug" => Ok(LogLevel::Debug),
        "trace" => Ok(LogLevel::Trace),
        "blather" => Ok(LogLevel::Blather),
        _ => Err(format!("bad logging level name {}", py_repr(value))),
    }
}

/// `process_or_group_name`: stripped; no space, `:` or `/`.
pub fn name(value: &str) -> Result<String, String> {
    let s = value.trim();
    for c in [' ', ':', '/'] {
        if s.contains(c) {
            return Err(format!(
                "Invalid name: {} because of character: {}",
                py_repr(value),
                py_repr(&c.to_string())
            ));
        }
    }
    Ok(s.to_string())
}

/// `inet_address`: PORT, HOST:PORT, *:PORT or :PORT -> (lower-cased host, "" = all, port).
pub fn inet_address(value: &str) -> Result<(String, u16), String> {
    let port_number = |s: &str| -> Result<u16, String> {
        let n = integer(s)?;
        if n < 1 {
            return Err(format!("{n} is below lower bound (1)"));
        }
        if n > 65535 {
            return Err(format!("{n} is above upper bound (65535)"));
        }
        Ok(n as u16)
    };
    let (host, port) = match value.rsplit_once(':') {
        Some((host, port)) => {
            if port.is_empty() {
                return Err(format!("no port number specified in {}", py_repr(port)));
            }
            (host.to_lowercase(), port_number(port)?)
        }
        None => (
            String::new(),
            port_number(value)
                .map_err(|_| format!("not a valid port number: {} ", py_repr(value)))?,
        ),
    };
    let host = if host == "*" { String::new() } else { host };
    Ok((host, port))
}

/// `allowed_hosts`: host names or IP literals separated by commas or blanks, lower-cased, a
/// trailing dot dropped; `*` allows any. Ports are not part of a name (the Host check ignores them).
pub fn host_names(value: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for word in value.split([',', ' ', '\t']).filter(|w| !w.is_empty()) {
        let name = word.to_lowercase();
        let name = name.strip_suffix('.').unwrap_or(&name).to_string();
        let literal = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(&name);
        let valid = name == "*"
            || literal.parse::<std::net::IpAddr>().is_ok()
            || (!name.is_empty()
                && name.len() <= 253
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                }));
        if !valid {
            return Err(format!("not a host name or IP address: {}", py_repr(word)));
        }
        names.push(literal.to_string());
    }
    Ok(names)
}

/// `list_of_strings`: comma-separated, each stripped; empty means none.
pub fn list_of_strings(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    value.split(',').map(|s| s.trim().to_string()).collect()
}

/// Splits a `command=` like Python's `shlex.split` (POSIX mode, no comments), with its error
/// texts (`No closing quotation`, `No escaped character`).
pub fn shlex_split(s: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                word.push(chars.next().ok_or("No escaped character")?);
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(q) => word.push(q),
                        None => return Err("No closing quotation"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => word.push(e),
                            Some(other) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => return Err("No escaped character"),
                        },
                        Some(q) => word.push(q),
                        None => return Err("No closing quotation"),
                    }
                }
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Tokens of Python's `shlex.shlex(s)` (non-POSIX mode) with `/.+-():` added to the word chars.
fn shlex_tokens(s: &str) -> Result<Vec<String>, String> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || "_/.+-():".contains(c);
    let is_space = |c: char| " \t\r\n".contains(c);
    let is_quote = |c: char| c == '\'' || c == '"';
    let chars: Vec<char> = s.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let skip_comment = |i: &mut usize| {
        while *i < chars.len() && chars[*i] != '\n' {
            *i += 1;
        }
        *i += 1;
    };
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if is_space(c) {
            continue;
        }
        if c == '#' {
            skip_comment(&mut i);
            continue;
        }
        let mut token = c.to_string();
        if is_quote(c) {
            loop {
                let Some(&n) = chars.get(i) else {
                    return Err("No closing quotation".to_string());
                };
                i += 1;
                token.push(n);
                if n == c {
                    break;
                }
            }
        } else if is_word(c) {
            while let Some(&n) = chars.get(i) {
                if is_space(n) {
                    i += 1;
                    break;
                }
                if n == '#' {
                    // Non-POSIX shlex drops the rest of the line but stays in the word.
                    skip_comment(&mut i);
                    continue;
                }
                if is_word(n) || is_quote(n) {
                    token.push(n);
                    i += 1;
                } else {
                    break;
                }
            }
        }
        tokens.push(token);
    }
    Ok(tokens)
}

/// `dict_of_key_value_pairs`: `KEY=val,KEY2="v a l"` with the reference's tokeniser quirks
/// (tokens taken three at a time, the separator after each triple skipped unchecked).
pub fn environment(value: &str) -> Result<BTreeMap<String, String>, String> {
    let tokens = shlex_tokens(value)?;
    let mut env = BTreeMap::new();
    let mut i = 0;
    while i < tokens.len() {
        if i + 3 > tokens.len() || tokens[i + 1] != "=" {
            return Err(format!(
                "Unexpected end of key/value pairs in value '{value}'"
            ));
        }
        let v = tokens[i + 2].trim_matches(|c| c == '\'' || c == '"');
        env.insert(tokens[i].clone(), v.to_string());
        i += 4;
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shlex_like_python() {
        let ok: &[(&str, &[&str])] = &[
            ("/bin/echo a  b", &["/bin/echo", "a", "b"]),
            ("sh -c 'echo hi; exit 3'", &["sh", "-c", "echo hi; exit 3"]),
            (r#"a "b \" c" d"#, &["a", "b \" c", "d"]),
            (r#"a "x\ny""#, &["a", "x\\ny"]),
            (r"a\ b", &["a b"]),
            ("a '' b", &["a", "", "b"]),
            ("/bin/echo\na\nb", &["/bin/echo", "a", "b"]),
            ("a'b'c", &["abc"]),
            ("   ", &[]),
        ];
        for (input, want) in ok {
            assert_eq!(shlex_split(input).unwrap(), *want, "{input:?}");
        }
        assert_eq!(shlex_split("a 'b"), Err("No closing quotation"));
        assert_eq!(shlex_split("a \"b"), Err("No closing quotation"));
        assert_eq!(shlex_split("a \\"), Err("No escaped character"));
    }

    #[test]
    fn booleans() {
        let cases: &[(&str, Result<bool, &str>)] = &[
            ("true", Ok(true)),
            ("YES", Ok(true)),
            ("On", Ok(true)),
            ("1", Ok(true)),
            ("false", Ok(false)),
            ("no", Ok(false)),
            ("OFF", Ok(false)),
            ("0", Ok(false)),
            ("", Err("not a valid boolean value: ''")),
            ("maybe", Err("not a valid boolean value: 'maybe'")),
            (" true", Err("not a valid boolean value: ' true'")),
        ];
        for (v, want) in cases {
            assert_eq!(boolean(v), want.map_err(|e| e.to_string()), "{v:?}");
        }
    }

    #[test]
    fn integers() {
        let cases: &[(&str, Result<i64, &str>)] = &[
            ("5", Ok(5)),
            (" 5 ", Ok(5)),
            ("-3", Ok(-3)),
            ("+3", Ok(3)),
            ("1_000", Ok(1000)),
            ("007", Ok(7)),
            (
                "1__0",
                Err("invalid literal for int() with base 10: '1__0'"),
            ),
            ("_1", Err("invalid literal for int() with base 10: '_1'")),
            ("", Err("invalid literal for int() with base 10: ''")),
            ("x", Err("invalid literal for int() with base 10: 'x'")),
            ("1.5", Err("invalid literal for int() with base 10: '1.5'")),
        ];
        for (v, want) in cases {
            assert_eq!(integer(v), want.map_err(|e| e.to_string()), "{v:?}");
        }
    }

    #[test]
    fn byte_sizes() {
        let cases: &[(&str, Result<i64, &str>)] = &[
            ("1024", Ok(1024)),
            ("1KB", Ok(1024)),
            ("5mb", Ok(5 * 1024 * 1024)),
            ("5 MB", Ok(5 * 1024 * 1024)),
            ("2GB", Ok(2 * 1024 * 1024 * 1024)),
            ("-1MB", Ok(-1024 * 1024)),
            ("0", Ok(0)),
            ("5xb", Err("invalid literal for int() with base 10: '5xb'")),
            ("5K", Err("invalid literal for int() with base 10: '5k'")),
            (
                "1.5MB",
                Err("invalid literal for int() with base 10: '1.5'"),
            ),
            ("1TB", Err("invalid literal for int() with base 10: '1tb'")),
        ];
        for (v, want) in cases {
            assert_eq!(byte_size(v), want.map_err(|e| e.to_string()), "{v:?}");
        }
    }

    #[test]
    fn signals() {
        let cases: &[(&str, Result<i32, &str>)] = &[
            ("TERM", Ok(15)),
            ("term", Ok(15)),
            ("SIGKILL", Ok(9)),
            ("KILL ", Ok(9)),
            ("IOT", Ok(6)),
            ("CLD", Ok(17)),
            ("9", Ok(9)),
            ("0", Ok(0)),
            ("34", Ok(34)),
            ("64", Ok(64)),
            ("40", Err("value '40' is not a valid signal number")),
            ("99", Err("value '99' is not a valid signal number")),
            ("FOO", Err("value 'FOO' is not a valid signal name")),
        ];
        for (v, want) in cases {
            assert_eq!(signal(v), want.map_err(|e| e.to_string()), "{v:?}");
        }
    }

    #[test]
    fn exit_codes() {
        let cases: &[(&str, Result<Vec<i32>, &str>)] = &[
            ("0", Ok(vec![0])),
            ("0,2", Ok(vec![0, 2])),
            ("0, 2 ,3", Ok(vec![0, 2, 3])),
            ("", Ok(vec![])),
            ("256", Err("not a valid list of exit codes: '256'")),
            ("-1", Err("not a valid list of exit codes: '-1'")),
            ("0,,1", Err("not a valid list of exit codes: '0,,1'")),
            ("a", Err("not a valid list of exit codes: 'a'")),
        ];
        for (v, want) in cases {
            assert_eq!(
                exitcodes(v),
                want.clone().map_err(|e| e.to_string()),
                "{v:?}"
            );
        }
    }

    #[test]
    fn octals() {
        let cases: &[(&str, Result<u32, &str>)] = &[
            ("022", Ok(0o22)),
            ("0o22", Ok(0o22)),
            ("777", Ok(0o777)),
            ("0", Ok(0)),
            ("8", Err("8 can not be converted to an octal type")),
            ("x", Err("x can not be converted to an octal type")),
            ("", Err(" can not be converted to an octal type")),
        ];
        for (v, want) in cases {
            assert_eq!(octal(v), want.map_err(|e| e.to_string()), "{v:?}");
        }
    }

    #[test]
    fn autorestarts() {
        let cases: &[(&str, Result<AutoRestart, &str>)] = &[
            ("unexpected", Ok(AutoRestart::Unexpected)),
            ("UNEXPECTED", Ok(AutoRestart::Unexpected)),
            ("true", Ok(AutoRestart::Always)),
            ("yes", Ok(AutoRestart::Always)),
            ("false", Ok(AutoRestart::Never)),
            ("0", Ok(AutoRestart::Never)),
            ("Maybe", Err("invalid 'autorestart' value 'maybe'")),
        ];
        for (v, want) in cases {
            assert_eq!(autorestart(v), want.map_err(|e| e.to_string()), "{v:?}");
        }
    }

    #[test]
    fn logfile_names_and_dirs() {
        let cases: &[(&str, Result<LogTarget, &str>)] = &[
            ("AUTO", Ok(LogTarget::Auto)),
            ("auto", Ok(LogTarget::Auto)),
            ("NONE", Ok(LogTarget::None)),
            ("off", Ok(LogTarget::None)),
            ("Syslog", Ok(LogTarget::Syslog)),
            ("/tmp/x.log", Ok(LogTarget::File("/tmp/x.log".into()))),
            ("x.log", Ok(LogTarget::File("x.log".into()))),
            (
                "/nonexistent-dir/x.log",
                Err(
                    "The directory named as part of the path /nonexistent-dir/x.log does not exist",
                ),
            ),
        ];
        for (v, want) in cases {
            assert_eq!(
                logfile_name(v),
                want.clone().map_err(|e| e.to_string()),
                "{v:?}"
            );
        }
        assert_eq!(existing_directory("/tmp"), Ok(PathBuf::from("/tmp")));
        assert_eq!(
            existing_directory("/nonexistent-dir"),
            Err("/nonexistent-dir is not an existing directory".to_string())
        );
    }

    #[test]
    fn log_levels() {
        assert_eq!(log_level("INFO"), Ok(LogLevel::Info));
        assert_eq!(log_level("blather"), Ok(LogLevel::Blather));
        assert_eq!(log_level("warn"), Ok(LogLevel::Warn));
        assert_eq!(
            log_level("warning"),
            Err("bad logging level name 'warning'".to_string())
        );
    }

    #[test]
    fn quoted_text_keeps_inner_spaces() {
        assert_eq!(quoted_text("\"[web] \""), "[web] ");
        assert_eq!(quoted_text("[web]"), "[web]");
        assert_eq!(quoted_text("\""), "\"");
        assert_eq!(quoted_text("\"\""), "");
    }

    #[test]
    fn names() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("web", Ok("web")),
            (" web ", Ok("web")),
            ("a b", Err("Invalid name: 'a b' because of character: ' '")),
            ("a:b", Err("Invalid name: 'a:b' because of character: ':'")),
            ("a/b", Err("Invalid name: 'a/b' because of character: '/'")),
        ];
        for (v, want) in cases {
            assert_eq!(
                name(v),
                want.map(|s| s.to_string()).map_err(|e| e.to_string()),
                "{v:?}"
            );
        }
    }

    #[test]
    fn host_name_lists() {
        let cases: &[(&str, Result<&[&str], ()>)] = &[
            ("", Ok(&[])),
            ("example.com", Ok(&["example.com"])),
            ("A.Example.COM., b", Ok(&["a.example.com", "b"])),
            ("x,y z", Ok(&["x", "y", "z"])),
            ("*", Ok(&["*"])),
            ("10.0.0.1, [::1], ::1", Ok(&["10.0.0.1", "::1", "::1"])),
            ("host:9001", Err(())),
            ("exa mple..com", Err(())),
            ("a/b", Err(())),
        ];
        for (input, want) in cases {
            let got = host_names(input).map_err(|_| ());
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(got, want, "{input:?}");
        }
    }

    #[test]
    fn inet_addresses() {
        type Case<'a> = (&'a str, Result<(&'a str, u16), &'a str>);
        let cases: &[Case] = &[
            ("9001", Ok(("", 9001))),
            ("127.0.0.1:9001", Ok(("127.0.0.1", 9001))),
            ("*:9001", Ok(("", 9001))),
            (":9001", Ok(("", 9001))),
            ("LocalHost:80", Ok(("localhost", 80))),
            ("[::1]:80", Ok(("[::1]", 80))),
            ("abc", Err("not a valid port number: 'abc' ")),
            ("0", Err("not a valid port number: '0' ")),
            ("h:0", Err("0 is below lower bound (1)")),
            ("h:70000", Err("70000 is above upper bound (65535)")),
            ("h:", Err("no port number specified in ''")),
            ("h:x", Err("invalid literal for int() with base 10: 'x'")),
        ];
        for (v, want) in cases {
            assert_eq!(
                inet_address(v),
                want.map(|(h, p)| (h.to_string(), p))
                    .map_err(|e| e.to_string()),
                "{v:?}"
            );
        }
    }

    #[test]
    fn environment_pairs_with_shlex_quirks() {
        let ok: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("A=1", &[("A", "1")]),
            ("A=1,B=2", &[("A", "1"), ("B", "2")]),
            ("A=1,B=2,", &[("A", "1"), ("B", "2")]),
            (
                "FOO=\"bar baz\",COMMA=\"a,b\"",
                &[("FOO", "bar baz"), ("COMMA", "a,b")],
            ),
            ("EQ=\"x=y\"", &[("EQ", "x=y")]),
            ("A=$HOME", &[("A", "$")]),
            ("A=~/x", &[("A", "~")]),
            ("A=a b", &[("A", "a")]),
            ("A=x\ty", &[("A", "x")]),
            ("PATH=/usr/bin:/bin", &[("PATH", "/usr/bin:/bin")]),
            ("A=\"it's\"", &[("A", "it's")]),
            ("A='x y'", &[("A", "x y")]),
            ("lower=v", &[("lower", "v")]),
            ("A=x#y", &[("A", "x")]),
        ];
        for (v, want) in ok {
            let got = environment(v).unwrap_or_else(|e| panic!("{v:?}: {e}"));
            let want: BTreeMap<String, String> = want
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(got, want, "{v:?}");
        }
        for bad in ["A=1 B=2", "A=a=b", "A=x;y", "A=1,,B=2", "A", "A="] {
            assert_eq!(
                environment(bad),
                Err(format!(
                    "Unexpected end of key/value pairs in value '{bad}'"
                )),
                "{bad:?}"
            );
        }
        assert_eq!(
            environment("A=\"x"),
            Err("No closing quotation".to_string())
        );
    }
}

#[cfg(test)]
mod robustness {
    //! Arbitrary text through every parser: errors are fine, panics are bugs.
    use super::*;
    use crate::config::expand::{ExpValue, Expansions, expand};
    use crate::config::source::parse;

    /// Deterministic pseudo-random strings over an alphabet full of syntax characters.
    fn samples() -> Vec<String> {
        let alphabet: Vec<char> = "aZ09_ =:;#%()[]{}$-+.,/\\'\"\t\n~*?!é€sdrx"
            .chars()
            .collect();
        let mut state: u64 = 0x9e3779b97f4a7c15;
        let mut out = Vec::new();
        for _ in 0..3000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (state >> 58) as usize;
            let mut s = String::new();
            for _ in 0..len {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push(alphabet[(state >> 33) as usize % alphabet.len()]);
            }
            out.push(s);
        }
        out
    }

    #[test]
    fn no_parser_panics_on_arbitrary_text() {
        let mut exps = Expansions::new();
        exps.insert("here".into(), ExpValue::Str("/h".into()));
        exps.insert("process_num".into(), ExpValue::Int(3));
        for s in samples() {
            let _ = boolean(&s);
            let _ = integer(&s);
            let _ = byte_size(&s);
            let _ = signal(&s);
            let _ = exitcodes(&s);
            let _ = octal(&s);
            let _ = autorestart(&s);
            let _ = log_level(&s);
            let _ = name(&s);
            let _ = inet_address(&s);
            let _ = environment(&s);
            let _ = expanduser(&s);
            let _ = expand(&s, &exps, "x.y", true);
            let _ = parse(&s, Path::new("f.conf"));
            let _ = parse(&format!("[s]\n{s}\n"), Path::new("f.conf"));
        }
    }
}
