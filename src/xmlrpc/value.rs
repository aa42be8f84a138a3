//! The XML-RPC value model and small accessors used by callers on both sides.

/// One XML-RPC value. Struct members keep their wire order (Python dicts preserve insertion
/// order, and the reference's responses are compared byte for byte).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `<int>`/`<i4>`; encoding fails outside the 32-bit range like Python's marshaller.
    Int(i64),
    Bool(bool),
    String(String),
    Double(f64),
    /// `<dateTime.iso8601>` text as sent (`YYYYMMDDTHH:MM:SS`).
    DateTime(String),
    Base64(Vec<u8>),
    Array(Vec<Value>),
    Struct(Vec<(String, Value)>),
    /// `<nil/>` or an empty unknown element on the server side; never encoded.
    Nil,
}

impl Value {
    /// Builds a struct from `(name, value)` pairs, keeping their order.
    pub fn structure<I, K>(members: I) -> Value
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<String>,
    {
        Value::Struct(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    // Callers take arrays by value (`ctl::commands::items`); tests on both sides read them here.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_struct(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Struct(members) => Some(members),
            _ => None,
        }
    }

    /// The value of a struct member by name (last one wins, like a Python dict built in order).
    pub fn member(&self, name: &str) -> Option<&Value> {
        self.as_struct()?
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// A struct member as a string, for reading result structs.
    pub fn member_str(&self, name: &str) -> Option<&str> {
        self.member(name)?.as_str()
    }

    pub fn member_int(&self, name: &str) -> Option<i64> {
        self.member(name)?.as_int()
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i64::from(i))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::Array(items)
    }
}
