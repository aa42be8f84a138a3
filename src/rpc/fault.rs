//! The fault table (codes and names of the reference) and the `Fault` a method returns.

use std::fmt;

/// Fault codes with the reference's names; `SUCCESS` only appears as a result-struct status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    UnknownMethod,
    IncorrectParameters,
    BadArguments,
    SignatureUnsupported,
    ShutdownState,
    BadName,
    BadSignal,
    NoFile,
    NotExecutable,
    Failed,
    AbnormalTermination,
    SpawnError,
    AlreadyStarted,
    NotRunning,
    Success,
    AlreadyAdded,
    StillRunning,
    CantReread,
}

impl FaultCode {
    pub fn code(self) -> i64 {
        match self {
            FaultCode::UnknownMethod => 1,
            FaultCode::IncorrectParameters => 2,
            FaultCode::BadArguments => 3,
            FaultCode::SignatureUnsupported => 4,
            FaultCode::ShutdownState => 6,
            FaultCode::BadName => 10,
            FaultCode::BadSignal => 11,
            FaultCode::NoFile => 20,
            FaultCode::NotExecutable => 21,
            FaultCode::Failed => 30,
            FaultCode::AbnormalTermination => 40,
            FaultCode::SpawnError => 50,
            FaultCode::AlreadyStarted => 60,
            FaultCode::NotRunning => 70,
            FaultCode::Success => 80,
            FaultCode::AlreadyAdded => 90,
            FaultCode::StillRunning => 91,
            FaultCode::CantReread => 92,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FaultCode::UnknownMethod => "UNKNOWN_METHOD",
            FaultCode::IncorrectParameters => "INCORRECT_PARAMETERS",
            FaultCode::BadArguments => "BAD_ARGUMENTS",
            FaultCode::SignatureUnsupported => "SIGNATURE_UNSUPPORTED",
            FaultCode::ShutdownState => "SHUTDOWN_STATE",
            FaultCode::BadName => "BAD_NAME",
            FaultCode::BadSignal => "BAD_SIGNAL",
            FaultCode::NoFile => "NO_FILE",
            FaultCode::NotExecutable => "NOT_EXECUTABLE",
            FaultCode::Failed => "FAILED",
            FaultCode::AbnormalTermination => "ABNORMAL_TERMINATION",
            FaultCode::SpawnError => "SPAWN_ERROR",
            FaultCode::AlreadyStarted => "ALREADY_STARTED",
            FaultCode::NotRunning => "NOT_RUNNING",
            FaultCode::Success => "SUCCESS",
            FaultCode::AlreadyAdded => "ALREADY_ADDED",
            FaultCode::StillRunning => "STILL_RUNNING",
            FaultCode::CantReread => "CANT_REREAD",
        }
    }
}

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
    fn codes_and_names_match_the_reference() {
        let table = [
            (FaultCode::UnknownMethod, 1, "UNKNOWN_METHOD"),
            (FaultCode::IncorrectParameters, 2, "INCORRECT_PARAMETERS"),
            (FaultCode::BadArguments, 3, "BAD_ARGUMENTS"),
            (FaultCode::SignatureUnsupported, 4, "SIGNATURE_UNSUPPORTED"),
            (FaultCode::ShutdownState, 6, "SHUTDOWN_STATE"),
            (FaultCode::BadName, 10, "BAD_NAME"),
            (FaultCode::BadSignal, 11, "BAD_SIGNAL"),
            (FaultCode::NoFile, 20, "NO_FILE"),
            (FaultCode::NotExecutable, 21, "NOT_EXECUTABLE"),
            (FaultCode::Failed, 30, "FAILED"),
            (FaultCode::AbnormalTermination, 40, "ABNORMAL_TERMINATION"),
            (FaultCode::SpawnError, 50, "SPAWN_ERROR"),
            (FaultCode::AlreadyStarted, 60, "ALREADY_STARTED"),
            (FaultCode::NotRunning, 70, "NOT_RUNNING"),
            (FaultCode::Success, 80, "SUCCESS"),
            (FaultCode::AlreadyAdded, 90, "ALREADY_ADDED"),
            (FaultCode::StillRunning, 91, "STILL_RUNNING"),
            (FaultCode::CantReread, 92, "CANT_REREAD"),
        ];
        for (fault, code, name) in table {
            assert_eq!(fault.code(), code);
            assert_eq!(fault.name(), name);
        }
    }

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
