//! The page's request values: query and `application/x-www-form-urlencoded` body decoding as
//! Python's `parse_qs` does it, and `urllib.parse.quote` for the links and redirects it builds.

use crate::http::Request;

/// The decoded values of one request: query parameters (first value wins) overlaid by a
/// form-encoded POST body.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn of(request: &Request) -> Form {
        let is_form = request
            .header("content-type")
            .is_some_and(|v| v.starts_with(b"application/x-www-form-urlencoded"));
        let body = (request.method == "POST" && is_form)
            .then(|| String::from_utf8_lossy(&request.body).into_owned());
        Form::parse(request.query.as_deref(), body.as_deref())
    }

    /// `query` first (a repeated key keeps its first value), then `body` (its values win).
    pub fn parse(query: Option<&str>, body: Option<&str>) -> Form {
        let mut form = Form::default();
        if let Some(q) = query {
            form.add(q, false);
        }
        if let Some(b) = body {
            form.add(b, true);
        }
        form
    }

    fn add(&mut self, text: &str, overlay: bool) {
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            // Like Python's parse_qs: a blank value (`action=`, or no `=`) is no value at all.
            let Some((k, v)) = pair.split_once('=').filter(|(_, v)| !v.is_empty()) else {
                continue;
            };
            let (k, v) = (decode(k), decode(v));
            match self.0.iter_mut().find(|(ek, _)| *ek == k) {
                Some(slot) if overlay => slot.1 = v,
                Some(_) => {}
                None => self.0.push((k, v)),
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space; a bad `%` escape stays as is).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Python's `urllib.parse.quote` (safe: letters, digits, `_.-~/`).
pub fn url_quote(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_decoding_like_python() {
        assert_eq!(
            url_quote("Process long stopped"),
            "Process%20long%20stopped"
        );
        assert_eq!(url_quote("a:b/c&d"), "a%3Ab/c%26d");
        assert_eq!(decode("a+b%3Ac%2"), "a b:c%2");
        assert_eq!(decode("%zz%41"), "%zzA");
        assert_eq!(decode("%C3%A9"), "é");
    }

    #[test]
    fn blank_values_are_absent_and_the_first_query_value_wins() {
        let form = Form::parse(Some("action=&processname=a&processname=b&flag&=x"), None);
        assert_eq!(form.get("action"), None);
        assert_eq!(form.get("flag"), None);
        assert_eq!(form.get("processname"), Some("a"));
        assert_eq!(form.get(""), Some("x"));
    }

    #[test]
    fn the_body_overlays_the_query() {
        let form = Form::parse(
            Some("action=stop&processname=a"),
            Some("action=start&limit=2048"),
        );
        assert_eq!(form.get("action"), Some("start"));
        assert_eq!(form.get("processname"), Some("a"));
        assert_eq!(form.get("limit"), Some("2048"));
    }
}
