//! Value expansion: Python `%`-formatting against a mapping (`%(name)s`, `%(process_num)02d`,
//! `%%`) with the reference's error texts, plus our `${NAME}` / `${NAME:-default}` forms that read
//! the same `ENV_` names as `%(ENV_NAME)s`.

use crate::python::py_repr;
use std::collections::BTreeMap;

/// A value available to `%(name)..` conversions: most are strings; process_num/numprocs are ints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpValue {
    Str(String),
    Int(i64),
}

pub type Expansions = BTreeMap<String, ExpValue>;

/// Result of one expansion: the text, and `${NAME}` references left as written because unset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expanded {
    pub text: String,
    pub unset: Vec<String>,
}

enum Failure {
    MissingKey(String),
    Bad(String),
}

/// Expands `s` for option `name` (`section.option`, as the reference names it in errors).
/// `dollar` enables `${..}`; it is off for the first pass of doubly expanded options so the
/// substituted text is not expanded twice.
pub fn expand(s: &str, exps: &Expansions, name: &str, dollar: bool) -> Result<Expanded, String> {
    let mut out = Expanded::default();
    match expand_into(s, exps, dollar, &mut out) {
        Ok(()) => Ok(out),
        Err(Failure::MissingKey(key)) => {
            let available: Vec<&str> = exps.keys().map(|k| k.as_str()).collect();
            Err(format!(
                "Format string {} for {} contains names ({}) which cannot be expanded. Available names: {}",
                py_repr(s),
                py_repr(name),
                py_repr(&key),
                available.join(", ")
            ))
        }
        Err(Failure::Bad(msg)) => Err(format!(
            "Format string {} for {} is badly formatted: {}",
            py_repr(s),
            py_repr(name),
            msg
        )),
    }
}

fn expand_into(
    s: &str,
    exps: &Expansions,
    dollar: bool,
    out: &mut Expanded,
) -> Result<(), Failure> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '$' && dollar {
            if chars.get(i + 1) == Some(&'$') && chars.get(i + 2) == Some(&'{') {
                out.text.push_str("${");
                i += 3;
                continue;
            }
            if let Some((consumed, name, default)) = parse_dollar(&chars[i..]) {
                match exps.get(&format!("ENV_{name}")) {
                    Some(ExpValue::Str(v)) if !(v.is_empty() && default.is_some()) => {
                        out.text.push_str(v)
                    }
                    Some(ExpValue::Int(v)) => out.text.push_str(&v.to_string()),
                    _ => match default {
                        Some(d) => expand_into(&d, exps, dollar, out)?,
                        None => {
                            out.text.extend(&chars[i..i + consumed]);
                            if !out.unset.contains(&name) {
                                out.unset.push(name);
                            }
                        }
                    },
                }
                i += consumed;
                continue;
            }
            out.text.push(c);
            i += 1;
            continue;
        }
        if c != '%' {
            out.text.push(c);
            i += 1;
            continue;
        }
        i = conversion(&chars, i, exps, out)?;
    }
    Ok(())
}

/// `${NAME}` or `${NAME:-default}` at the start of `chars`: (chars consumed, NAME, default).
fn parse_dollar(chars: &[char]) -> Option<(usize, String, Option<String>)> {
    if chars.get(1) != Some(&'{') {
        return None;
    }
    let mut j = 2;
    let start = j;
    while j < chars.len() && (chars[j] == '_' || chars[j].is_ascii_alphanumeric()) {
        j += 1;
    }
    if j == start || chars[start].is_ascii_digit() {
        return None;
    }
    let name: String = chars[start..j].iter().collect();
    match chars.get(j) {
        Some('}') => Some((j + 1, name, None)),
        Some(':') if chars.get(j + 1) == Some(&'-') => {
            let dstart = j + 2;
            let close = chars[dstart..].iter().position(|&c| c == '}')? + dstart;
            Some((close + 1, name, Some(chars[dstart..close].iter().collect())))
        }
        _ => None,
    }
}

/// Handles one `%` conversion starting at `chars[i]`; returns the index after it.
fn conversion(
    chars: &[char],
    i: usize,
    exps: &Expansions,
    out: &mut Expanded,
) -> Result<usize, Failure> {
    let mut j = i + 1;
    let incomplete = || Failure::Bad("incomplete format".to_string());
    let mut key: Option<String> = None;
    if chars.get(j) == Some(&'(') {
        // Python allows nested parentheses inside the key.
        let mut depth = 1;
        let start = j + 1;
        j += 1;
        while j < chars.len() && depth > 0 {
            match chars[j] {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            j += 1;
        }
        if depth > 0 {
            return Err(Failure::Bad("incomplete format key".to_string()));
        }
        key = Some(chars[start..j - 1].iter().collect());
    }
    let mut flags = String::new();
    while let Some(&c) = chars.get(j) {
        if "-+ #0".contains(c) {
            flags.push(c);
            j += 1;
        } else {
            break;
        }
    }
    let mut width = 0usize;
    while let Some(d) = chars.get(j).and_then(|c| c.to_digit(10)) {
        width = width.saturating_mul(10).saturating_add(d as usize);
        j += 1;
    }
    if chars.get(j) == Some(&'*') {
        return Err(Failure::Bad("* wants int".to_string()));
    }
    let mut precision: Option<usize> = None;
    if chars.get(j) == Some(&'.') {
        j += 1;
        let mut p = 0usize;
        while let Some(d) = chars.get(j).and_then(|c| c.to_digit(10)) {
            p = p.saturating_mul(10).saturating_add(d as usize);
            j += 1;
        }
        precision = Some(p);
    }
    while matches!(chars.get(j), Some('h' | 'l' | 'L')) {
        j += 1;
    }
    let Some(&conv) = chars.get(j) else {
        return Err(incomplete());
    };
    if conv == '%' {
        out.text.push('%');
        return Ok(j + 1);
    }
    if !"diouxXeEfFgGcrsa".contains(conv) {
        return Err(Failure::Bad(format!(
            "unsupported format character {} (0x{:x}) at index {}",
            py_repr(&conv.to_string()),
            conv as u32,
            j
        )));
    }
    let Some(key) = key else {
        // Python would format the whole mapping here; that is never useful in a config.
        return Err(Failure::Bad(match conv {
            'd' | 'i' | 'u' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                format!("%{conv} format: a real number is required, not dict")
            }
            'o' | 'x' | 'X' => format!("%{conv} format: an integer is required, not dict"),
            _ => "a conversion without a (name) needs a literal percent sign written as %%"
                .to_string(),
        }));
    };
    let value = exps.get(&key).ok_or(Failure::MissingKey(key.clone()))?;
    let text = format_value(value, conv, &flags, precision)?;
    out.text
        .push_str(&pad(&text, width, &flags, "diouxXeEfFgG".contains(conv)));
    Ok(j + 1)
}

fn format_value(
    value: &ExpValue,
    conv: char,
    flags: &str,
    precision: Option<usize>,
) -> Result<String, Failure> {
    let sign = |n: i64, body: String| -> String {
        if n < 0 {
            format!("-{body}")
        } else if flags.contains('+') {
            format!("+{body}")
        } else if flags.contains(' ') {
            format!(" {body}")
        } else {
            body
        }
    };
    match (value, conv) {
        (ExpValue::Str(s), 's') => Ok(match precision {
            Some(p) => s.chars().take(p).collect(),
            None => s.clone(),
        }),
        (ExpValue::Str(s), 'r' | 'a') => Ok(py_repr(s)),
        (ExpValue::Int(n), 's' | 'r' | 'a') => Ok(n.to_string()),
        (ExpValue::Str(s), 'c') if s.chars().count() == 1 => Ok(s.clone()),
        (ExpValue::Str(_), 'c') => Err(Failure::Bad("%c requires int or char".to_string())),
        (ExpValue::Int(n), 'c') => u32::try_from(*n)
            .ok()
            .and_then(char::from_u32)
            .map(|c| c.to_string())
            .ok_or_else(|| Failure::Bad("%c arg not in range(0x110000)".to_string())),
        (ExpValue::Str(_), 'd' | 'i' | 'u') => Err(Failure::Bad(format!(
            "%{conv} format: a real number is required, not str"
        ))),
        (ExpValue::Str(_), 'o' | 'x' | 'X') => Err(Failure::Bad(format!(
            "%{conv} format: an integer is required, not str"
        ))),
        (ExpValue::Str(_), _) => Err(Failure::Bad("must be real number, not str".to_string())),
        (ExpValue::Int(n), 'd' | 'i' | 'u') => {
            let digits = n.unsigned_abs().to_string();
            let digits = match precision {
                Some(p) if p > digits.len() => format!("{}{digits}", "0".repeat(p - digits.len())),
                _ => digits,
            };
            Ok(sign(*n, digits))
        }
        (ExpValue::Int(n), 'o' | 'x' | 'X') => {
            let a = n.unsigned_abs();
            let alt = flags.contains('#');
            let body = match conv {
                'o' => format!("{}{a:o}", if alt { "0o" } else { "" }),
                'x' => format!("{}{a:x}", if alt { "0x" } else { "" }),
                _ => format!("{}{a:X}", if alt { "0X" } else { "" }),
            };
            Ok(sign(*n, body))
        }
        (ExpValue::Int(n), _) => {
            let f = *n as f64;
            let p = precision.unwrap_or(6);
            let body = match conv {
                'f' | 'F' => format!("{:.*}", p, f.abs()),
                'e' => python_exp(f.abs(), p, false),
                'E' => python_exp(f.abs(), p, true),
                _ => {
                    // %g of an integer value: plain digits while they fit the precision.
                    let digits = n.unsigned_abs().to_string();
                    let p = p.max(1);
                    if digits.len() <= p {
                        digits
                    } else {
                        python_exp(f.abs(), p - 1, conv == 'G')
                    }
                }
            };
            Ok(sign(*n, body))
        }
    }
}

/// `1.500000e+01` (Python's exponent has at least two digits).
fn python_exp(f: f64, p: usize, upper: bool) -> String {
    let s = format!("{:.*e}", p, f);
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}{e}{sign}{:02}", exp.abs())
}

fn pad(text: &str, width: usize, flags: &str, numeric: bool) -> String {
    let len = text.chars().count();
    if len >= width {
        return text.to_string();
    }
    let fill = width - len;
    if flags.contains('-') {
        format!("{text}{}", " ".repeat(fill))
    } else if numeric && flags.contains('0') {
        // Zeros go after the sign and any 0x prefix.
        let sign_len = text
            .chars()
            .take_while(|c| *c == '-' || *c == '+' || *c == ' ')
            .count();
        let (head, rest) = text.split_at(sign_len);
        let (prefix, digits) =
            if rest.starts_with("0x") || rest.starts_with("0X") || rest.starts_with("0o") {
                rest.split_at(2)
            } else {
                ("", rest)
            };
        format!("{head}{prefix}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{text}", " ".repeat(fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exps() -> Expansions {
        let mut m = Expansions::new();
        m.insert("program_name".into(), ExpValue::Str("web".into()));
        m.insert("here".into(), ExpValue::Str("/etc/sv".into()));
        m.insert("process_num".into(), ExpValue::Int(7));
        m.insert("ENV_HOME".into(), ExpValue::Str("/root".into()));
        m.insert("ENV_EMPTY".into(), ExpValue::Str(String::new()));
        m
    }

    #[test]
    fn python_percent_formatting() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("plain", Ok("plain")),
            ("%(program_name)s", Ok("web")),
            ("%(here)s/log", Ok("/etc/sv/log")),
            ("%(process_num)02d", Ok("07")),
            ("%(process_num)03d", Ok("007")),
            ("%(process_num)d", Ok("7")),
            ("%(process_num)s", Ok("7")),
            ("%(process_num)-4d|", Ok("7   |")),
            ("%(process_num)+d", Ok("+7")),
            ("%(process_num)x", Ok("7")),
            ("%(process_num)#x", Ok("0x7")),
            ("%(process_num)05.1f", Ok("007.0")),
            ("%(process_num)r", Ok("7")),
            ("%(program_name)r", Ok("'web'")),
            ("%(program_name)5s|", Ok("  web|")),
            ("%(program_name).1s", Ok("w")),
            ("100%%", Ok("100%")),
            ("%%(here)s", Ok("%(here)s")),
            ("%(ENV_HOME)s/x", Ok("/root/x")),
            (
                "100%",
                Err(
                    "Format string '100%' for 'program:a.command' is badly formatted: incomplete format",
                ),
            ),
            (
                "%(here",
                Err(
                    "Format string '%(here' for 'program:a.command' is badly formatted: incomplete format key",
                ),
            ),
            (
                "%(here)",
                Err(
                    "Format string '%(here)' for 'program:a.command' is badly formatted: incomplete format",
                ),
            ),
            (
                "%(here)y",
                Err(
                    "Format string '%(here)y' for 'program:a.command' is badly formatted: unsupported format character 'y' (0x79) at index 7",
                ),
            ),
            (
                "%(here)d",
                Err(
                    "Format string '%(here)d' for 'program:a.command' is badly formatted: %d format: a real number is required, not str",
                ),
            ),
            (
                "50% done",
                Err(
                    "Format string '50% done' for 'program:a.command' is badly formatted: %d format: a real number is required, not dict",
                ),
            ),
            (
                "%(foo)s",
                Err(
                    "Format string '%(foo)s' for 'program:a.command' contains names ('foo') which cannot be expanded. Available names: ENV_EMPTY, ENV_HOME, here, process_num, program_name",
                ),
            ),
        ];
        for (input, want) in cases {
            let got = expand(input, &exps(), "program:a.command", true).map(|e| e.text);
            assert_eq!(got.as_deref().map_err(|e| e.as_str()), *want, "{input}");
        }
    }

    #[test]
    fn dollar_forms() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("${HOME}/x", "/root/x", &[]),
            ("${NOPE}/x", "${NOPE}/x", &["NOPE"]),
            ("${NOPE:-/tmp}/x", "/tmp/x", &[]),
            ("${EMPTY:-d}", "d", &[]),
            ("${EMPTY}", "", &[]),
            ("${HOME:-/tmp}", "/root", &[]),
            ("${NOPE:-%(here)s}", "/etc/sv", &[]),
            ("$${HOME}", "${HOME}", &[]),
            ("$HOME", "$HOME", &[]),
            ("${not valid}", "${not valid}", &[]),
            ("${1X}", "${1X}", &[]),
            ("a$", "a$", &[]),
        ];
        for (input, want, unset) in cases {
            let got = expand(input, &exps(), "x.y", true).unwrap();
            assert_eq!(got.text, *want, "{input}");
            assert_eq!(got.unset, *unset, "{input}");
        }
        // With `dollar` off the text is untouched (first pass of doubly expanded options).
        assert_eq!(
            expand("${HOME}", &exps(), "x", false).unwrap().text,
            "${HOME}"
        );
    }
}
