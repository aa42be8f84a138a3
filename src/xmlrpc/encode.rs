//! Encoding of calls, responses and faults, byte-identical to Python's `xmlrpc.client.dumps`
//! (the reference server and client both use it, and tests compare raw bodies).

use std::fmt;

use base64::Engine;

use super::value::Value;

const HEADER: &str = "<?xml version='1.0'?>\n";

/// A value the XML-RPC wire format (as Python implements it) cannot carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// An int outside -2^31..2^31-1 (Python: "int exceeds XML-RPC limits").
    IntOutOfRange(i64),
    /// `Nil` (Python refuses None unless allow_none is set, and the reference never sets it).
    Nil,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::IntOutOfRange(i) => write!(f, "int exceeds XML-RPC limits: {i}"),
            EncodeError::Nil => write!(f, "cannot marshal None unless allow_none is enabled"),
        }
    }
}

/// `<methodCall>` as the client sends it. The method name is written unescaped, like Python.
pub fn encode_call(method: &str, params: &[Value]) -> Result<String, EncodeError> {
    let mut out = String::from(HEADER);
    out.push_str("<methodCall>\n<methodName>");
    out.push_str(method);
    out.push_str("</methodName>\n");
    write_params(&mut out, params)?;
    out.push_str("</methodCall>\n");
    Ok(out)
}

/// A successful `<methodResponse>` carrying one value.
pub fn encode_response(value: &Value) -> Result<String, EncodeError> {
    let mut out = String::with_capacity(128 + encoded_len_hint(value));
    out.push_str(HEADER);
    out.push_str("<methodResponse>\n");
    write_params(&mut out, std::slice::from_ref(value))?;
    out.push_str("</methodResponse>\n");
    Ok(out)
}

/// A `<fault>` response; the code is written as given (fault codes are small).
pub fn encode_fault(code: i64, string: &str) -> String {
    let mut out = String::from(HEADER);
    out.push_str("<methodResponse>\n<fault>\n<value><struct>\n");
    out.push_str("<member>\n<name>faultCode</name>\n<value><int>");
    push_int(&mut out, code);
    out.push_str("</int></value>\n</member>\n");
    out.push_str("<member>\n<name>faultString</name>\n<value><string>");
    escape_into(&mut out, string);
    out.push_str("</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n");
    out
}

fn write_params(out: &mut String, params: &[Value]) -> Result<(), EncodeError> {
    out.push_str("<params>\n");
    for p in params {
        out.push_str("<param>\n");
        write_value(out, p)?;
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n");
    Ok(())
}

fn write_value(out: &mut String, value: &Value) -> Result<(), EncodeError> {
    out.push_str("<value>");
    match value {
        Value::Int(i) => {
            if *i < i64::from(i32::MIN) || *i > i64::from(i32::MAX) {
                return Err(EncodeError::IntOutOfRange(*i));
            }
            out.push_str("<int>");
            push_int(out, *i);
            out.push_str("</int>");
        }
        Value::Bool(b) => out.push_str(if *b {
            "<boolean>1</boolean>"
        } else {
            "<boolean>0</boolean>"
        }),
        Value::String(s) => {
            out.push_str("<string>");
            escape_into(out, s);
            out.push_str("</string>");
        }
        Value::Double(d) => {
            out.push_str("<double>");
            out.push_str(&crate::python::float_repr(*d));
            out.push_str("</double>");
        }
        Value::DateTime(text) => {
            out.push_str("<dateTime.iso8601>");
            out.push_str(text);
            out.push_str("</dateTime.iso8601>");
        }
        Value::Base64(bytes) => {
            out.push_str("<base64>\n");
            out.push_str(&encodebytes(bytes));
            out.push_str("</base64>");
        }
        Value::Array(items) => {
            out.push_str("<array><data>\n");
            for item in items {
                write_value(out, item)?;
            }
            out.push_str("</data></array>");
        }
        Value::Struct(members) => {
            out.push_str("<struct>\n");
            for (name, v) in members {
                out.push_str("<member>\n<name>");
                escape_into(out, name);
                out.push_str("</name>\n");
                write_value(out, v)?;
                out.push_str("</member>\n");
            }
            out.push_str("</struct>");
        }
        Value::Nil => return Err(EncodeError::Nil),
    }
    out.push_str("</value>\n");
    Ok(())
}

/// Python's `xmlrpc.client.escape`: only `&`, `<` and `>`; everything else goes out raw.
/// Runs between those bytes are copied whole (a 500-process reply is mostly plain text).
fn escape_into(out: &mut String, s: &str) {
    if !s.bytes().any(|b| matches!(b, b'&' | b'<' | b'>')) {
        out.push_str(s);
        return;
    }
    let mut plain_from = 0;
    for (i, b) in s.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => continue,
        };
        // `i` is at an ASCII byte, so both slices end on character boundaries.
        out.push_str(&s[plain_from..i]);
        out.push_str(entity);
        plain_from = i + 1;
    }
    out.push_str(&s[plain_from..]);
}

/// Appends `i` in decimal without an intermediate `String`.
fn push_int(out: &mut String, i: i64) {
    let mut text = [0u8; 20];
    let mut n = i.unsigned_abs();
    let mut at = text.len();
    loop {
        at -= 1;
        text[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        at -= 1;
        text[at] = b'-';
    }
    out.push_str(std::str::from_utf8(&text[at..]).unwrap_or_default());
}

/// About how many bytes `value` takes encoded (exact for ints and unescaped strings), so a
/// large reply is written into one allocation instead of being copied as it doubles.
fn encoded_len_hint(value: &Value) -> usize {
    const VALUE_TAGS: usize = "<value></value>\n".len();
    VALUE_TAGS
        + match value {
            Value::Int(_) => "<int></int>".len() + 11,
            Value::Bool(_) => "<boolean>0</boolean>".len(),
            Value::String(s) => "<string></string>".len() + s.len(),
            Value::Double(_) => "<double></double>".len() + 24,
            Value::DateTime(t) => "<dateTime.iso8601></dateTime.iso8601>".len() + t.len(),
            Value::Base64(b) => "<base64>\n</base64>".len() + b.len() * 4 / 3 + b.len() / 57 + 4,
            Value::Array(items) => {
                "<array><data>\n</data></array>".len()
                    + items.iter().map(encoded_len_hint).sum::<usize>()
            }
            Value::Struct(members) => {
                "<struct>\n</struct>".len()
                    + members
                        .iter()
                        .map(|(k, v)| {
                            "<member>\n<name></name>\n</member>\n".len()
                                + k.len()
                                + encoded_len_hint(v)
                        })
                        .sum::<usize>()
            }
            Value::Nil => 0,
        }
}

/// `base64.encodebytes`: lines of at most 76 characters, each ending with a newline.
fn encodebytes(bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 76 + 1);
    for chunk in encoded.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_bytes_match_python() {
        // Captured from Python 3.11 `xmlrpc.client.dumps`.
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            (
                "a.b",
                vec![],
                "<?xml version='1.0'?>\n<methodCall>\n<methodName>a.b</methodName>\n<params>\n</params>\n</methodCall>\n",
            ),
            (
                "m",
                vec![
                    Value::Int(1),
                    Value::Bool(true),
                    Value::string("a<&>\"'"),
                    Value::Double(1.5),
                    Value::Array(vec![Value::Int(1), Value::Array(vec![])]),
                    Value::structure([("k", Value::Struct(vec![])), ("z", Value::Int(2))]),
                    Value::Base64(b"hi".to_vec()),
                    Value::DateTime("20200102T03:04:05".into()),
                ],
                "<?xml version='1.0'?>\n<methodCall>\n<methodName>m</methodName>\n<params>\n<param>\n<value><int>1</int></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n<param>\n<value><string>a&lt;&amp;&gt;\"'</string></value>\n</param>\n<param>\n<value><double>1.5</double></value>\n</param>\n<param>\n<value><array><data>\n<value><int>1</int></value>\n<value><array><data>\n</data></array></value>\n</data></array></value>\n</param>\n<param>\n<value><struct>\n<member>\n<name>k</name>\n<value><struct>\n</struct></value>\n</member>\n<member>\n<name>z</name>\n<value><int>2</int></value>\n</member>\n</struct></value>\n</param>\n<param>\n<value><base64>\naGk=\n</base64></value>\n</param>\n<param>\n<value><dateTime.iso8601>20200102T03:04:05</dateTime.iso8601></value>\n</param>\n</params>\n</methodCall>\n",
            ),
            (
                "a<&b",
                vec![Value::structure([("a<", Value::string("\u{1}é"))])],
                "<?xml version='1.0'?>\n<methodCall>\n<methodName>a<&b</methodName>\n<params>\n<param>\n<value><struct>\n<member>\n<name>a&lt;</name>\n<value><string>\u{1}é</string></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodCall>\n",
            ),
            (
                "m",
                vec![Value::Base64(b"\x00\xff".repeat(40))],
                "<?xml version='1.0'?>\n<methodCall>\n<methodName>m</methodName>\n<params>\n<param>\n<value><base64>\nAP8A/wD/AP8A/wD/AP8A/wD/AP8A/wD/AP8A/wD/AP8A/wD/AP8A/wD/AP8A/wD/AP8A/wD/AP8A\n/wD/AP8A/wD/AP8A/wD/AP8A/wD/AP8=\n</base64></value>\n</param>\n</params>\n</methodCall>\n",
            ),
        ];
        for (method, params, want) in cases {
            assert_eq!(encode_call(method, &params).unwrap(), want, "{method}");
        }
    }

    #[test]
    fn response_and_fault_bytes_match_python() {
        assert_eq!(
            encode_response(&Value::Struct(vec![])).unwrap(),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n"
        );
        assert_eq!(
            encode_fault(10, "BAD_NAME: nope"),
            "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: nope</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n"
        );
    }

    #[test]
    fn unencodable_values_are_refused() {
        let cases = [
            (Value::Int(1 << 31), EncodeError::IntOutOfRange(1 << 31)),
            (
                Value::Int(-(1 << 31) - 1),
                EncodeError::IntOutOfRange(-(1 << 31) - 1),
            ),
            (Value::Array(vec![Value::Nil]), EncodeError::Nil),
        ];
        for (v, want) in cases {
            assert_eq!(encode_response(&v), Err(want));
        }
        assert!(encode_response(&Value::Int(i64::from(i32::MAX))).is_ok());
        assert!(encode_response(&Value::Int(i64::from(i32::MIN))).is_ok());
    }

    #[test]
    fn text_is_escaped_like_python() {
        let cases = [
            ("", ""),
            ("plain", "plain"),
            ("a<b>&c", "a&lt;b&gt;&amp;c"),
            ("<", "&lt;"),
            ("&&", "&amp;&amp;"),
            ("ünï<é>", "ünï&lt;é&gt;"),
            ("\"quotes' \r\n\t", "\"quotes' \r\n\t"),
        ];
        for (raw, want) in cases {
            let mut out = String::from("x");
            escape_into(&mut out, raw);
            assert_eq!(out, format!("x{want}"), "{raw:?}");
        }
    }

    #[test]
    fn length_hint_covers_plain_replies() {
        let plain = Value::Array(vec![
            Value::structure([
                ("name", Value::string("p0000")),
                ("pid", Value::Int(-2147483648)),
                ("up", Value::Bool(true)),
                ("when", Value::DateTime("20200102T03:04:05".into())),
            ]),
            Value::Array(vec![]),
            Value::Double(-1.2345678901234567e-300),
        ]);
        let encoded = encode_response(&plain).unwrap();
        let hint = 128 + encoded_len_hint(&plain);
        assert!(hint >= encoded.len(), "{hint} < {}", encoded.len());
        assert!(hint < encoded.len() + 128, "{hint} vs {}", encoded.len());
    }

    #[test]
    fn ints_are_written_in_decimal() {
        for i in [
            0,
            7,
            -7,
            10,
            1795480508,
            i64::from(i32::MIN),
            i64::MAX,
            i64::MIN,
        ] {
            let mut out = String::new();
            push_int(&mut out, i);
            assert_eq!(out, i.to_string());
        }
    }
}
