//! The `Fault` a method returns: a code from the wire vocabulary's fault table and its text.

use std::fmt;

pub use crate::wire::FaultCode;

/// A method's failure: the fault string is `NAME` or `NAME: extra`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: FaultCode,
    pub extra: Option<String>,
}

impl Fault {
    pub fn new(code: FaultCode) -> Fault {
        Fault { code, extra: None }
    }

    pub fn with(code: FaultCode, extra: impl Into<String>) -> Fault {
        Fault {
            code,
            extra: Some(extra.into()),
        }
    }

    pub fn text(&self) -> String {
        match &self.extra {
            Some(extra) => format!("{}: {}", self.code.name(), extra),
            None => self.code.name().to_string(),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code.code(), self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_adds_the_extra_after_a_colon() {
        assert_eq!(Fault::new(FaultCode::NoFile).text(), "NO_FILE");
        assert_eq!(
            Fault::with(FaultCode::BadName, "nope").text(),
            "BAD_NAME: nope"
        );
        assert_eq!(Fault::with(FaultCode::Failed, "").text(), "FAILED: ");
    }
}
