//! Decoding of XML-RPC calls and responses: a capped XML tree (no DTDs, only the predefined
//! entities and character references), then either Python's client rules (`Dialect::Standard`)
//! or the reference server's lenient rules (`Dialect::Supervisor`). Responses in the strict
//! dialect go through `fast` first, which builds values without the tree.

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

use super::value::Value;

/// Which unmarshaller's rules to follow once the XML is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Python's `xmlrpc.client` (what supervisorctl uses): strict types, `<boolean>` must be 0/1,
    /// base64 stays bytes, `<nil/>` and `<i8>` understood, unknown tags are errors.
    Standard,
    /// The reference server's own unmarshaller: `<boolean>` true iff its text is `1`, base64
    /// decoded to a UTF-8 string, unknown tags (`<i8>`, `<nil/>`, ...) passed on as their text
    /// (or `Nil` when empty), a `<value>` takes its first child's value, missing `<params>` = none.
    Supervisor,
}

/// Limits applied before and while parsing, so hostile input cannot exhaust memory or stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    pub dialect: Dialect,
    /// Maximum element nesting depth.
    pub max_depth: usize,
    /// Maximum size of the whole document in bytes.
    pub max_bytes: usize,
    /// Maximum size of one element's text in bytes.
    pub max_string: usize,
}

impl DecodeOptions {
    /// Server-side defaults: the reference's quirks, modest caps on what a client can send.
    pub fn server() -> DecodeOptions {
        DecodeOptions {
            dialect: Dialect::Supervisor,
            max_depth: 64,
            max_bytes: 16 << 20,
            max_string: 16 << 20,
        }
    }

    /// Client-side defaults: strict types, generous caps (a whole log file may come back).
    pub fn client() -> DecodeOptions {
        DecodeOptions {
            dialect: Dialect::Standard,
            max_depth: 64,
            max_bytes: 1 << 30,
            max_string: 1 << 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not well-formed XML (message from the parser or our checks).
    Syntax(String),
    /// A `<!DOCTYPE ...>` declaration: refused outright (no DTDs, no custom entities).
    Doctype,
    /// An entity other than the five predefined ones.
    UnknownEntity(String),
    TooDeep(usize),
    TooLarge(usize),
    StringTooLarge(usize),
    /// Well-formed XML that is not a valid XML-RPC message (bad int, unknown type, ...).
    Invalid(String),
    /// A call without a (non-empty) `<methodName>`.
    NoMethodName,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Syntax(m) => write!(f, "malformed XML: {m}"),
            DecodeError::Doctype => write!(f, "DOCTYPE declarations are not allowed"),
            DecodeError::UnknownEntity(e) => write!(f, "unknown entity &{e};"),
            DecodeError::TooDeep(n) => write!(f, "XML nested deeper than {n} elements"),
            DecodeError::TooLarge(n) => write!(f, "XML document larger than {n} bytes"),
            DecodeError::StringTooLarge(n) => write!(f, "XML text larger than {n} bytes"),
            DecodeError::Invalid(m) => write!(f, "invalid XML-RPC: {m}"),
            DecodeError::NoMethodName => write!(f, "no method name"),
        }
    }
}

/// A decoded `<methodCall>`.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodCall {
    pub method: String,
    pub params: Vec<Value>,
}

/// A decoded `<methodResponse>`.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    Success(Value),
    Fault { code: i64, string: String },
}

/// One parsed element. `leading_text` is the text before the first child (ElementTree's
/// `.text`, which the reference server reads); of a leaf that is all its text. Text after the
/// first child (indentation between members) is only counted, never stored: nothing reads it.
#[derive(Debug, Default)]
struct Element {
    name: Cow<'static, str>,
    /// Whether any text came before the first child (`.text` is then not None).
    has_text: bool,
    leading_text: String,
    /// Every direct text byte, for the `max_string` cap.
    text_bytes: usize,
    children: Vec<Element>,
}

impl Element {
    /// ElementTree's `.text`.
    fn text(&self) -> Option<&str> {
        self.has_text.then_some(self.leading_text.as_str())
    }
}

fn parse_tree(body: &str, opts: &DecodeOptions) -> Result<Element, DecodeError> {
    if body.len() > opts.max_bytes {
        return Err(DecodeError::TooLarge(opts.max_bytes));
    }
    let mut reader = Reader::from_str(body);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| DecodeError::Syntax(e.to_string()))?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(DecodeError::Syntax("junk after document element".into()));
                }
                if stack.len() >= opts.max_depth {
                    return Err(DecodeError::TooDeep(opts.max_depth));
                }
                let name = element_name(start.name().as_ref());
                stack.push(Element {
                    name,
                    ..Element::default()
                });
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(DecodeError::Syntax("unexpected end tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content(), opts)?,
            Event::CData(c) => push_text(&mut stack, &c.xml10_content(), opts)?,
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => return Err(DecodeError::UnknownEntity(other.to_string())),
                    },
                    Err(e) => return Err(DecodeError::Syntax(e.to_string())),
                };
                push_text(&mut stack, resolved.encode_utf8(&mut [0; 4]), opts)?;
            }
            Event::DocType(_) => return Err(DecodeError::Doctype),
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(DecodeError::Syntax("unclosed element".into()));
    }
    root.ok_or_else(|| DecodeError::Syntax("no element found".into()))
}

/// XML-RPC's own tag names are shared, not allocated: a 500-process reply has ~30k elements.
fn element_name(raw: &str) -> Cow<'static, str> {
    const KNOWN: &[&str] = &[
        "value",
        "member",
        "name",
        "string",
        "int",
        "i4",
        "boolean",
        "struct",
        "array",
        "data",
        "param",
        "params",
        "methodResponse",
        "methodCall",
        "methodName",
        "fault",
        "double",
        "base64",
        "dateTime.iso8601",
        "nil",
        "i8",
    ];
    match KNOWN.iter().find(|k| **k == raw) {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(raw.to_string()),
    }
}

fn push_text(stack: &mut [Element], text: &str, opts: &DecodeOptions) -> Result<(), DecodeError> {
    let Some(current) = stack.last_mut() else {
        if text.trim().is_empty() {
            return Ok(());
        }
        return Err(DecodeError::Syntax(
            "text outside the document element".into(),
        ));
    };
    if current.text_bytes + text.len() > opts.max_string {
        return Err(DecodeError::StringTooLarge(opts.max_string));
    }
    current.text_bytes += text.len();
    if current.children.is_empty() {
        current.has_text = true;
        current.leading_text.push_str(text);
    }
    Ok(())
}

/// Decodes a `<methodCall>` (server side: use `DecodeOptions::server()`).
pub fn decode_call(body: &str, opts: &DecodeOptions) -> Result<MethodCall, DecodeError> {
    let root = parse_tree(body, opts)?;
    match opts.dialect {
        Dialect::Supervisor => lenient::call(&root),
        Dialect::Standard => strict::call(&root),
    }
}

/// Decodes a `<methodResponse>` (client side: use `DecodeOptions::client()`).
pub fn decode_response(body: &str, opts: &DecodeOptions) -> Result<Response, DecodeError> {
    let value = match opts.dialect {
        Dialect::Supervisor => lenient::response(&parse_tree(body, opts)?)?,
        // The tree is only built for documents the fast path leaves alone (and for errors).
        Dialect::Standard => match fast::response(body, opts) {
            Some(value) => value,
            None => strict::response(&parse_tree(body, opts)?)?,
        },
    };
    match value {
        Ok(v) => Ok(Response::Success(v)),
        Err(fault) => {
            let code = fault
                .member_int("faultCode")
                .ok_or_else(|| DecodeError::Invalid("fault without an int faultCode".into()))?;
            let string = fault
                .member_str("faultString")
                .unwrap_or_default()
                .to_string();
            Ok(Response::Fault { code, string })
        }
    }
}

/// The fast path's answer (None: it left the document alone) and the tree decoder's, for the
/// same response; the fuzz targets check that the fast path never contradicts the tree.
pub(crate) type BothWays = (
    Option<Result<Value, Value>>,
    Result<Result<Value, Value>, DecodeError>,
);

pub(crate) fn response_both_ways(body: &str, opts: &DecodeOptions) -> BothWays {
    let fast = fast::response(body, opts);
    let tree = parse_tree(body, opts).and_then(|root| strict::response(&root));
    (fast, tree)
}

fn parse_int(text: &str) -> Result<i64, DecodeError> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| DecodeError::Invalid(format!("bad int {text:?}")))
}

fn parse_double(text: &str) -> Result<f64, DecodeError> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let parsed = match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" | "nan" => lower.replace("infinity", "inf").parse::<f64>().ok(),
        _ => t.parse::<f64>().ok(),
    };
    parsed.ok_or_else(|| DecodeError::Invalid(format!("bad double {text:?}")))
}

/// `base64.decodebytes`: whitespace is ignored.
fn decode_base64(text: &str) -> Result<Vec<u8>, DecodeError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| DecodeError::Invalid(format!("bad base64: {e}")))
}

/// `%Y%m%dT%H:%M:%S` with numeric fields, as the reference server's strptime demands.
fn check_datetime(text: &str) -> Result<(), DecodeError> {
    let t = text.trim().as_bytes();
    let ok = t.len() == 17
        && t.iter().enumerate().all(|(i, b)| match i {
            8 => *b == b'T',
            11 | 14 => *b == b':',
            _ => b.is_ascii_digit(),
        });
    if ok {
        Ok(())
    } else {
        Err(DecodeError::Invalid(format!("bad dateTime {text:?}")))
    }
}

/// Python `xmlrpc.client` rules.
mod strict {
    use super::*;

    fn only_child<'a>(e: &'a Element, what: &str) -> Result<&'a Element, DecodeError> {
        match e.children.as_slice() {
            [one] => Ok(one),
            _ => Err(DecodeError::Invalid(format!(
                "<{}> needs one {what}",
                e.name
            ))),
        }
    }

    fn leaf_text(e: &Element) -> Result<&str, DecodeError> {
        if e.children.is_empty() {
            Ok(&e.leading_text)
        } else {
            Err(DecodeError::Invalid(format!(
                "<{}> has child elements",
                e.name
            )))
        }
    }

    pub(super) fn value(e: &Element) -> Result<Value, DecodeError> {
        if e.name != "value" {
            return Err(DecodeError::Invalid(format!(
                "expected <value>, got <{}>",
                e.name
            )));
        }
        if e.children.is_empty() {
            return Ok(Value::String(e.leading_text.clone()));
        }
        let typed = only_child(e, "type element")?;
        let text = || leaf_text(typed);
        Ok(match typed.name.as_ref() {
            "int" | "i4" | "i8" | "i1" | "i2" | "biginteger" => Value::Int(parse_int(text()?)?),
            "boolean" => match text()? {
                "0" => Value::Bool(false),
                "1" => Value::Bool(true),
                other => return Err(DecodeError::Invalid(format!("bad boolean {other:?}"))),
            },
            "string" => Value::String(text()?.to_string()),
            "double" | "float" => Value::Double(parse_double(text()?)?),
            "dateTime.iso8601" => Value::DateTime(text()?.trim().to_string()),
            "base64" => Value::Base64(decode_base64(text()?)?),
            "nil" => Value::Nil,
            "array" => {
                let data = only_child(typed, "<data>")?;
                if data.name != "data" {
                    return Err(DecodeError::Invalid("<array> without <data>".into()));
                }
                Value::Array(data.children.iter().map(value).collect::<Result<_, _>>()?)
            }
            "struct" => {
                let mut members = Vec::with_capacity(typed.children.len());
                for m in &typed.children {
                    let (name, v) = match m.children.as_slice() {
                        [n, v] if m.name == "member" && n.name == "name" => (n, v),
                        _ => return Err(DecodeError::Invalid("bad struct member".into())),
                    };
                    members.push((leaf_text(name)?.to_string(), value(v)?));
                }
                Value::Struct(members)
            }
            other => return Err(DecodeError::Invalid(format!("unknown type <{other}>"))),
        })
    }

    fn params(e: &Element) -> Result<Vec<Value>, DecodeError> {
        e.children
            .iter()
            .map(|p| {
                if p.name != "param" {
                    return Err(DecodeError::Invalid(format!("unexpected <{}>", p.name)));
                }
                value(only_child(p, "<value>")?)
            })
            .collect()
    }

    pub(super) fn call(root: &Element) -> Result<MethodCall, DecodeError> {
        if root.name != "methodCall" {
            return Err(DecodeError::Invalid(format!("unexpected <{}>", root.name)));
        }
        let mut method = None;
        let mut values = Vec::new();
        for child in &root.children {
            match child.name.as_ref() {
                "methodName" => method = Some(leaf_text(child)?.to_string()),
                "params" => values = params(child)?,
                other => return Err(DecodeError::Invalid(format!("unexpected <{other}>"))),
            }
        }
        match method {
            Some(m) if !m.is_empty() => Ok(MethodCall {
                method: m,
                params: values,
            }),
            _ => Err(DecodeError::NoMethodName),
        }
    }

    /// Ok(Ok(value)) for a result, Ok(Err(struct)) for a fault.
    pub(super) fn response(root: &Element) -> Result<Result<Value, Value>, DecodeError> {
        if root.name != "methodResponse" {
            return Err(DecodeError::Invalid(format!("unexpected <{}>", root.name)));
        }
        let body = only_child(root, "<params> or <fault>")?;
        match body.name.as_ref() {
            "params" => {
                let mut values = params(body)?;
                if values.len() != 1 {
                    return Err(DecodeError::Invalid(
                        "response needs exactly one param".into(),
                    ));
                }
                Ok(Ok(values.remove(0)))
            }
            "fault" => Ok(Err(value(only_child(body, "<value>")?)?)),
            other => Err(DecodeError::Invalid(format!("unexpected <{other}>"))),
        }
    }
}

/// The reference server's rules: every element's text is replaced, bottom-up, by its decoded
/// value; anything it does not know keeps its raw text.
mod lenient {
    use super::*;

    fn first_child(e: &Element) -> Result<&Element, DecodeError> {
        e.children
            .first()
            .ok_or_else(|| DecodeError::Invalid(format!("<{}> without a child", e.name)))
    }

    fn raw(e: &Element) -> Value {
        e.text()
            .map(|t| Value::String(t.to_string()))
            .unwrap_or(Value::Nil)
    }

    fn needs_text(e: &Element) -> Result<&str, DecodeError> {
        e.text()
            .ok_or_else(|| DecodeError::Invalid(format!("<{}> without text", e.name)))
    }

    /// What ElementTree's `.text` of `e` holds after the reference's unmarshaller ran over it.
    pub(super) fn value(e: &Element) -> Result<Value, DecodeError> {
        Ok(match e.name.as_ref() {
            "int" | "i4" => Value::Int(parse_int(needs_text(e)?)?),
            "boolean" => Value::Bool(e.text() == Some("1")),
            "string" => Value::String(e.text().unwrap_or_default().to_string()),
            "double" => Value::Double(parse_double(needs_text(e)?)?),
            "dateTime.iso8601" => {
                let t = needs_text(e)?;
                check_datetime(t)?;
                Value::DateTime(t.to_string())
            }
            "base64" => {
                let bytes = decode_base64(e.text().unwrap_or(""))?;
                let s = String::from_utf8(bytes)
                    .map_err(|_| DecodeError::Invalid("base64 data is not UTF-8".into()))?;
                Value::String(s)
            }
            "array" | "param" => value(first_child(e)?)?,
            "data" => Value::Array(e.children.iter().map(value).collect::<Result<_, _>>()?),
            "struct" => {
                let mut members: Vec<(String, Value)> = Vec::new();
                for m in &e.children {
                    let [k, v] = m.children.as_slice() else {
                        return Err(DecodeError::Invalid("bad struct member".into()));
                    };
                    let key = match value(k)? {
                        Value::String(s) => s,
                        Value::Nil => String::new(),
                        _ => return Err(DecodeError::Invalid("bad struct member name".into())),
                    };
                    let v = value(v)?;
                    match members.iter_mut().find(|(name, _)| *name == key) {
                        Some(slot) => slot.1 = v,
                        None => members.push((key, v)),
                    }
                }
                Value::Struct(members)
            }
            "value" => match e.children.first() {
                Some(child) => value(child)?,
                None => Value::String(e.text().unwrap_or_default().to_string()),
            },
            _ => raw(e),
        })
    }

    /// Every element in document order of its end tag (ElementTree's iterparse "end" events).
    fn post_order<'a>(e: &'a Element, out: &mut Vec<&'a Element>) {
        for c in &e.children {
            post_order(c, out);
        }
        out.push(e);
    }

    pub(super) fn call(root: &Element) -> Result<MethodCall, DecodeError> {
        let mut all = Vec::new();
        post_order(root, &mut all);
        let mut method = None;
        let mut params = None;
        for e in all {
            match e.name.as_ref() {
                "methodName" => method = e.text().map(str::to_string),
                "params" => {
                    params = Some(
                        e.children
                            .iter()
                            .map(value)
                            .collect::<Result<Vec<_>, _>>()?,
                    )
                }
                _ => {}
            }
        }
        // Elements the reference unmarshals are checked even where nothing reads them.
        check_all(root)?;
        match method {
            Some(m) if !m.is_empty() => Ok(MethodCall {
                method: m,
                params: params.unwrap_or_default(),
            }),
            _ => Err(DecodeError::NoMethodName),
        }
    }

    fn check_all(e: &Element) -> Result<(), DecodeError> {
        for c in &e.children {
            check_all(c)?;
        }
        match e.name.as_ref() {
            "int" | "i4" | "double" | "dateTime.iso8601" | "base64" | "array" | "param"
            | "struct" => value(e).map(|_| ()),
            _ => Ok(()),
        }
    }

    pub(super) fn response(root: &Element) -> Result<Result<Value, Value>, DecodeError> {
        let body = first_child(root)?;
        let v = value(first_child(body)?)?;
        Ok(if body.name == "fault" { Err(v) } else { Ok(v) })
    }
}

mod fast;

#[cfg(test)]
mod fast_tests;
#[cfg(test)]
mod tests;
