//! The client's fast path for `<methodResponse>` documents: one pass over the bytes building
//! `Value`s on an explicit stack, with no intermediate tree. It handles the plain XML that
//! XML-RPC encoders write and gives up (`None`) on anything else, so the full decoder, which
//! it never contradicts, decides the value or reports the error.

use std::borrow::Cow;

use super::{DecodeOptions, decode_base64, parse_double, parse_int};
use crate::xmlrpc::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaf {
    Int,
    Boolean,
    String,
    Double,
    DateTime,
    Base64,
    Nil,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Response,
    Params,
    Param,
    Fault,
    Value,
    Array,
    Data,
    Struct,
    Member,
    Name,
    Leaf(Leaf),
}

/// The elements Python's `xmlrpc.client` reads in a response; any other name ends the fast path.
fn tag(name: &[u8]) -> Option<Tag> {
    Some(match name {
        b"methodResponse" => Tag::Response,
        b"params" => Tag::Params,
        b"param" => Tag::Param,
        b"fault" => Tag::Fault,
        b"value" => Tag::Value,
        b"array" => Tag::Array,
        b"data" => Tag::Data,
        b"struct" => Tag::Struct,
        b"member" => Tag::Member,
        b"name" => Tag::Name,
        b"int" | b"i4" | b"i8" | b"i1" | b"i2" | b"biginteger" => Tag::Leaf(Leaf::Int),
        b"boolean" => Tag::Leaf(Leaf::Boolean),
        b"string" => Tag::Leaf(Leaf::String),
        b"double" | b"float" => Tag::Leaf(Leaf::Double),
        b"dateTime.iso8601" => Tag::Leaf(Leaf::DateTime),
        b"base64" => Tag::Leaf(Leaf::Base64),
        b"nil" => Tag::Leaf(Leaf::Nil),
        _ => return None,
    })
}

/// Whether `child` may open inside `parent` that already has `children` children: exactly the
/// shapes the strict decoder accepts (one value per param, `<name>` then `<value>`, ...).
fn allowed(parent: Tag, child: Tag, children: usize) -> bool {
    match (parent, child) {
        (Tag::Response, Tag::Params | Tag::Fault)
        | (Tag::Param | Tag::Fault, Tag::Value)
        | (Tag::Value, Tag::Leaf(_) | Tag::Array | Tag::Struct)
        | (Tag::Array, Tag::Data)
        | (Tag::Member, Tag::Name) => children == 0,
        (Tag::Member, Tag::Value) => children == 1,
        (Tag::Params, Tag::Param) | (Tag::Data, Tag::Value) | (Tag::Struct, Tag::Member) => true,
        _ => false,
    }
}

/// One open element. Finished values wait on the decoder's value stack; a container takes
/// its children's from `mark` on when it closes, so its vector is allocated once, exactly.
struct Frame<'a> {
    name: &'a [u8],
    tag: Tag,
    children: usize,
    /// Raw bytes of direct text (never less than the decoded length), for `max_string`.
    text_bytes: usize,
    /// Decoded text, kept only where it is read: leaves, `<name>`, a `<value>` before its child.
    /// Borrowed from the document while it is one run of plain text (an `<int>` costs nothing).
    text: Cow<'a, str>,
    /// Length of the value stack when this element opened.
    mark: usize,
}

impl Frame<'_> {
    fn keeps_text(&self) -> bool {
        match self.tag {
            Tag::Leaf(_) | Tag::Name => true,
            Tag::Value => self.children == 0,
            _ => false,
        }
    }
}

/// Byte classes of text: 0 plain, 1 `&`, 2 ends the fast path (`>` so that `]]>` needs no
/// check, CR because the parser normalises line ends, other controls because they are rare
/// enough not to reason about), 3 `<`.
const TEXT_CLASSES: [u8; 256] = {
    let mut classes = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        classes[b] = 2;
        b += 1;
    }
    classes[b'\t' as usize] = 0;
    classes[b'\n' as usize] = 0;
    classes[b'&' as usize] = 1;
    classes[b'>' as usize] = 2;
    classes[b'<' as usize] = 3;
    classes
};

/// Bytes of the element names the fast path knows.
const NAME_BYTES: [bool; 256] = {
    let mut names = [false; 256];
    let mut b = 0;
    while b < 256 {
        names[b] = (b as u8).is_ascii_alphanumeric() || b == b'.' as usize;
        b += 1;
    }
    names
};

/// XML declarations the fast path accepts at the very start (what encoders write).
const DECLARATIONS: &[&str] = &[
    "<?xml version='1.0'?>",
    "<?xml version=\"1.0\"?>",
    "<?xml version='1.0' encoding='utf-8'?>",
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>",
    "<?xml version='1.0' encoding='UTF-8'?>",
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
];

/// Decodes a response the way the strict decoder would: `Some(Ok(value))`, `Some(Err(fault
/// struct))`, or `None` when the document needs the full decoder (including every error).
pub(super) fn response(body: &str, opts: &DecodeOptions) -> Option<Result<Value, Value>> {
    if body.len() > opts.max_bytes {
        return None;
    }
    let mut decoder = Decoder {
        opts,
        stack: Vec::with_capacity(16),
        values: Vec::with_capacity(64),
        fault: false,
        done: None,
    };
    let bytes = body.as_bytes();
    let mut pos = DECLARATIONS
        .iter()
        .find(|d| body.starts_with(**d))
        .map_or(0, |d| d.len());
    loop {
        let start = pos;
        let mut has_ref = false;
        while pos < bytes.len() {
            match TEXT_CLASSES[usize::from(bytes[pos])] {
                0 => {}
                1 => has_ref = true,
                2 => return None,
                _ => break,
            }
            pos += 1;
        }
        if pos > start {
            decoder.text(body.get(start..pos)?, has_ref)?;
        }
        if pos >= bytes.len() {
            break;
        }
        if let Some(consumed) = decoder.member_shortcut(body.get(pos..)?) {
            pos += consumed;
            continue;
        }
        pos += 1; // '<'
        if bytes.get(pos) == Some(&b'/') {
            // An end tag must repeat the open element's name exactly, with nothing after it.
            let name = decoder.stack.last()?.name;
            let name_end = pos + 1 + name.len();
            if bytes.get(pos + 1..name_end)? != name || bytes.get(name_end) != Some(&b'>') {
                return None;
            }
            pos = name_end + 1;
            decoder.close()?;
        } else {
            let mut name_end = pos;
            while name_end < bytes.len() && NAME_BYTES[usize::from(bytes[name_end])] {
                name_end += 1;
            }
            let name = &bytes[pos..name_end];
            // Attributes or spaces end the fast path: only `>` or `/>` may follow the name.
            let empty = match bytes.get(name_end) {
                Some(b'>') => false,
                Some(b'/') if bytes.get(name_end + 1) == Some(&b'>') => true,
                _ => return None,
            };
            pos = name_end + if empty { 2 } else { 1 };
            decoder.open(name)?;
            if empty {
                decoder.close()?;
            }
        }
    }
    if !decoder.stack.is_empty() {
        return None;
    }
    decoder.done
}

struct Decoder<'a, 'o> {
    opts: &'o DecodeOptions,
    stack: Vec<Frame<'a>>,
    /// Values of closed elements not yet taken by their container (a member's name is pushed
    /// as a string before its value).
    values: Vec<Value>,
    /// The response's child is `<fault>`.
    fault: bool,
    done: Option<Result<Value, Value>>,
}

impl<'a> Decoder<'a, '_> {
    fn open(&mut self, name: &'a [u8]) -> Option<()> {
        let child = tag(name)?;
        if self.stack.len() >= self.opts.max_depth {
            return None;
        }
        match self.stack.last_mut() {
            None if self.done.is_none() && child == Tag::Response => {}
            None => return None,
            Some(parent) => {
                if !allowed(parent.tag, child, parent.children) {
                    return None;
                }
                parent.children += 1;
                if parent.tag == Tag::Value {
                    parent.text = Cow::Borrowed("");
                }
                self.fault |= child == Tag::Fault;
            }
        }
        self.stack.push(Frame {
            name,
            tag: child,
            children: 0,
            text_bytes: 0,
            text: Cow::Borrowed(""),
            mark: self.values.len(),
        });
        Some(())
    }

    /// Takes a whole struct member at once when it has the shape encoders write (see
    /// `member_parts`): its five elements never reach the stack. `None` leaves the member to
    /// the element-by-element path, which decides everything the shortcut does not check.
    fn member_shortcut(&mut self, rest: &str) -> Option<usize> {
        // The member, its `<value>` and a typed leaf must all fit under the depth cap.
        let depth = self.stack.len();
        let parent = self.stack.last_mut()?;
        if parent.tag != Tag::Struct || depth + 2 >= self.opts.max_depth {
            return None;
        }
        let (consumed, key, value) = member_parts(rest, self.opts.max_string)?;
        parent.children += 1;
        self.values.push(Value::String(key.to_string()));
        self.values.push(value);
        Some(consumed)
    }

    /// Closes the innermost element. Every element that yields a value leaves exactly one on
    /// the value stack (a member leaves two: name, value), as `allowed` and the child counts
    /// checked here guarantee.
    fn close(&mut self) -> Option<()> {
        let frame = self.stack.pop()?;
        match frame.tag {
            Tag::Leaf(kind) => self.values.push(leaf(kind, frame.text)?),
            Tag::Value if frame.children == 0 => {
                self.values.push(Value::String(frame.text.into_owned()))
            }
            Tag::Value => {}
            Tag::Name => self.values.push(Value::String(frame.text.into_owned())),
            Tag::Member => {
                if frame.children != 2 {
                    return None;
                }
            }
            Tag::Array | Tag::Param | Tag::Params | Tag::Fault => {
                if frame.children != 1 {
                    return None;
                }
            }
            Tag::Data => {
                let items = self.values.split_off(frame.mark);
                self.values.push(Value::Array(items));
            }
            Tag::Struct => {
                let mut members = Vec::with_capacity(frame.children);
                let mut pairs = self.values.drain(frame.mark..);
                while let (Some(Value::String(key)), Some(value)) = (pairs.next(), pairs.next()) {
                    members.push((key, value));
                }
                drop(pairs);
                if members.len() != frame.children {
                    return None;
                }
                self.values.push(Value::Struct(members));
            }
            Tag::Response => {
                let value = self.values.pop()?;
                if frame.children != 1 || !self.values.is_empty() {
                    return None;
                }
                self.done = Some(if self.fault { Err(value) } else { Ok(value) });
            }
        }
        Some(())
    }

    fn text(&mut self, raw: &'a str, has_ref: bool) -> Option<()> {
        let Some(current) = self.stack.last_mut() else {
            // Outside the document element only whitespace may appear.
            return raw
                .bytes()
                .all(|b| matches!(b, b' ' | b'\t' | b'\n'))
                .then_some(());
        };
        current.text_bytes += raw.len();
        if current.text_bytes > self.opts.max_string {
            return None;
        }
        if !current.keeps_text() {
            // Ignored by the decoder, but a reference must still be one the parser accepts.
            return if has_ref {
                unescape(raw, &mut String::new())
            } else {
                Some(())
            };
        }
        if has_ref {
            unescape(raw, current.text.to_mut())
        } else {
            if current.text.is_empty() {
                current.text = Cow::Borrowed(raw);
            } else {
                current.text.to_mut().push_str(raw);
            }
            Some(())
        }
    }
}

/// `<member>`, `<name>KEY</name>`, `<value>` holding plain text or `<T>TEXT</T>` for a typed
/// leaf other than `<nil>`, `</value>`, `</member>`, with only whitespace between the member's
/// children and no references in the texts: the bytes consumed, the key and the value.
fn member_parts(rest: &str, max_string: usize) -> Option<(usize, &str, Value)> {
    let b = rest.as_bytes();
    let literal = |at: &mut usize, text: &[u8]| {
        let end = *at + text.len();
        (b.get(*at..end)? == text).then(|| *at = end)
    };
    let spaces = |at: &mut usize| {
        let start = *at;
        while matches!(b.get(*at), Some(b' ' | b'\t' | b'\n')) {
            *at += 1;
        }
        *at - start
    };
    // Text up to the next `<`, if every byte of it is plain.
    let plain = |at: &mut usize| {
        let start = *at;
        loop {
            match TEXT_CLASSES[usize::from(*b.get(*at)?)] {
                0 => *at += 1,
                3 => return rest.get(start..*at).filter(|t| t.len() <= max_string),
                _ => return None,
            }
        }
    };
    let mut at = 0;
    literal(&mut at, b"<member>")?;
    let mut member_text = spaces(&mut at);
    literal(&mut at, b"<name>")?;
    let key = plain(&mut at)?;
    literal(&mut at, b"</name>")?;
    member_text += spaces(&mut at);
    literal(&mut at, b"<value>")?;
    let value = if b.get(at) == Some(&b'<') && b.get(at + 1) != Some(&b'/') {
        let name_start = at + 1;
        at = name_start;
        while b.get(at).is_some_and(|c| NAME_BYTES[usize::from(*c)]) {
            at += 1;
        }
        let name = &b[name_start..at];
        let kind = match tag(name)? {
            Tag::Leaf(Leaf::Nil) => return None,
            Tag::Leaf(kind) => kind,
            _ => return None,
        };
        literal(&mut at, b">")?;
        let text = plain(&mut at)?;
        literal(&mut at, b"</")?;
        literal(&mut at, name)?;
        literal(&mut at, b">")?;
        leaf(kind, Cow::Borrowed(text))?
    } else {
        Value::String(plain(&mut at)?.to_string())
    };
    literal(&mut at, b"</value>")?;
    member_text += spaces(&mut at);
    literal(&mut at, b"</member>")?;
    (member_text <= max_string).then_some((at, key, value))
}

/// A typed element's value, as the strict decoder reads it; `None` for anything it rejects.
fn leaf(kind: Leaf, text: Cow<str>) -> Option<Value> {
    Some(match kind {
        Leaf::Int => Value::Int(parse_int(&text).ok()?),
        Leaf::Boolean => match &*text {
            "0" => Value::Bool(false),
            "1" => Value::Bool(true),
            _ => return None,
        },
        Leaf::String => Value::String(text.into_owned()),
        Leaf::Double => Value::Double(parse_double(&text).ok()?),
        Leaf::DateTime => Value::DateTime(text.trim().to_string()),
        Leaf::Base64 => Value::Base64(decode_base64(&text).ok()?),
        Leaf::Nil => Value::Nil,
    })
}

/// Appends `raw` with its entity and character references resolved; `None` for any reference
/// the parser would reject or resolve differently.
fn unescape(raw: &str, out: &mut String) -> Option<()> {
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.find(';')?;
        let reference = &after[..semi];
        let c = match reference {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => char_ref(reference.strip_prefix('#')?)?,
        };
        out.push(c);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Some(())
}

/// `&#NNN;` / `&#xHHH;` as the parser resolves them: no sign, no NUL, a valid scalar value.
fn char_ref(number: &str) -> Option<char> {
    let (digits, radix) = match number.strip_prefix('x') {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    if digits.starts_with(['+', '-']) {
        return None;
    }
    let code = u32::from_str_radix(digits, radix).ok()?;
    if code == 0 {
        return None;
    }
    char::from_u32(code)
}
