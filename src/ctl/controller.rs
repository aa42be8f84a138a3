//! The command interpreter: parses a command line like Python's `cmd.Cmd`, dispatches to one
//! function per command, keeps the exit status, and turns unexpected errors into the reference's
//! `error: ...` line.

use std::io::{self, Write};

use super::options::CtlOptions;
use super::transport::{CallError, RpcClient};
use crate::python::{os_error_class, os_error_text, py_repr};
use crate::wire::{API_VERSION, FaultCode};
use crate::xmlrpc::Value;

/// LSB init-script exit statuses the reference uses.
pub mod exit {
    pub const SUCCESS: i32 = 0;
    pub const GENERIC: i32 = 1;
    pub const INVALID_ARGS: i32 = 2;
    pub const UNIMPLEMENTED_FEATURE: i32 = 3;
    pub const INSUFFICIENT_PRIVILEGES: i32 = 4;
    pub const NOT_INSTALLED: i32 = 5;
    pub const NOT_RUNNING: i32 = 7;
    /// `status`: some listed process is not running.
    pub const STATUS_NOT_RUNNING: i32 = 3;
    /// `status`: unknown name or no server.
    pub const STATUS_UNKNOWN: i32 = 4;
}

/// An error that aborts a command and becomes the generic `error:` line.
#[derive(Debug)]
pub enum Failure {
    Call(CallError),
    /// Something the reference would raise itself (class name, message).
    Raised(&'static str, String),
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Failure {
        Failure::Call(e)
    }
}

pub type CmdResult = Result<(), Failure>;

/// What a command asks of the shell loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

pub struct Controller {
    pub options: CtlOptions,
    pub client: RpcClient,
    pub exitstatus: i32,
    pub input: super::terminal::Input,
}

impl Controller {
    pub fn new(options: CtlOptions) -> Controller {
        let client = RpcClient::new(
            &options.serverurl,
            options.username.clone(),
            options.password.clone(),
        );
        Controller {
            options,
            client,
            exitstatus: exit::SUCCESS,
            input: super::terminal::Input::default(),
        }
    }

    /// Whether the process ends after this command (`supervisorctl ACTION ...`, not the shell).
    pub fn exits_after_command(&self) -> bool {
        !self.options.args.is_empty()
    }

    /// Prints one line of command output (always stdout, flushed so it interleaves with the
    /// streaming threads and stderr the way a terminal shows it).
    pub fn output(&self, line: &str) {
        let mut out = io::stdout().lock();
        let _ = out.write_all(line.as_bytes());
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }

    pub fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, CallError> {
        self.client.call(method, params)
    }

    /// Writes `prompt` and reads one line from the input; None at end of input.
    pub fn read_line(&mut self, prompt: &str) -> io::Result<Option<String>> {
        let mut out = io::stdout().lock();
        out.write_all(prompt.as_bytes())?;
        out.flush()?;
        drop(out);
        self.input.read_line()
    }

    /// `input(prompt)` where end of input is an error, as in the reference's y/N questions.
    pub fn ask(&mut self, prompt: &str) -> Result<String, Failure> {
        match self.read_line(prompt) {
            Ok(Some(l)) => Ok(l),
            Ok(None) => Err(Failure::Raised(
                "EOFError",
                "EOF when reading a line".into(),
            )),
            Err(e) => Err(Failure::Call(CallError::Io(e))),
        }
    }

    /// The reference's per-result exit status rule (ctl.md §4).
    pub fn set_exitstatus_from_fault(&mut self, code: i64, ignored: Option<i64>) {
        if Some(code) == ignored || code == FaultCode::Success.code() {
            return;
        }
        self.exitstatus = match FaultCode::from_code(code) {
            Some(
                FaultCode::SpawnError | FaultCode::AbnormalTermination | FaultCode::NotRunning,
            ) => exit::NOT_RUNNING,
            _ => exit::GENERIC,
        };
    }

    /// `supervisor.getVersion()` first, reporting unreachable or incompatible servers.
    pub fn upcheck(&mut self) -> Result<bool, Failure> {
        match self.call("supervisor.getVersion", &[]) {
            Ok(v) => {
                if v.as_str() != Some(API_VERSION) {
                    self.output(&format!(
                        "Sorry, this version of supervisorctl expects to talk to a server with API version {API_VERSION}, but the remote version is {}.",
                        py_str(&v)
                    ));
                    self.exitstatus = exit::NOT_INSTALLED;
                    return Ok(false);
                }
                Ok(true)
            }
            Err(e) if e.is_fault(FaultCode::UnknownMethod) => {
                self.output(
                    "Sorry, supervisord responded but did not recognize the supervisor namespace commands that supervisorctl uses to control it.  Please check that the [rpcinterface:supervisor] section is enabled in the configuration file (see sample.conf).",
                );
                self.exitstatus = exit::UNIMPLEMENTED_FEATURE;
                Ok(false)
            }
            Err(CallError::Io(e)) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
                self.output(&format!("{} refused connection", self.options.serverurl));
                self.exitstatus = exit::INSUFFICIENT_PRIVILEGES;
                Ok(false)
            }
            Err(CallError::Io(e)) if e.raw_os_error() == Some(libc::ENOENT) => {
                self.output(&format!("{} no such file", self.options.serverurl));
                self.exitstatus = exit::NOT_RUNNING;
                Ok(false)
            }
            Err(e @ (CallError::Fault { .. } | CallError::Io(_))) => {
                self.exitstatus = exit::GENERIC;
                Err(Failure::Call(e))
            }
            Err(e) => Err(Failure::Call(e)),
        }
    }

    /// The generic failure line for an error no command handles.
    pub fn report(&mut self, failure: Failure) {
        let (class, message) = describe(&failure);
        self.output(&format!(
            "error: <class '{class}'>, {message}: file: {} line: {}",
            file!(),
            line!()
        ));
        self.exitstatus = exit::GENERIC;
        self.client.reset();
    }

    pub(super) fn prompt_credentials(&mut self) -> io::Result<()> {
        let username = self.read_line("Username:")?.unwrap_or_default();
        let password = super::terminal::read_password("Password:", &mut self.input)?;
        self.output("");
        self.options.username = Some(username.clone());
        self.options.password = Some(password.clone());
        self.client.username = Some(username);
        self.client.password = Some(password);
        self.client.reset();
        Ok(())
    }
}

/// Python's `str()` of a value, for messages that interpolate one.
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::Double(d) => crate::xmlrpc::encode_response(&Value::Double(*d))
            .ok()
            .and_then(|x| {
                x.split("<double>")
                    .nth(1)
                    .and_then(|r| r.split('<').next())
                    .map(str::to_string)
            })
            .unwrap_or_default(),
        Value::Nil => "None".to_string(),
        other => format!("{other:?}"),
    }
}

/// The Python class and `str()` of an error, for the generic error line.
fn describe(failure: &Failure) -> (String, String) {
    match failure {
        Failure::Raised(class, message) => (class.to_string(), message.clone()),
        Failure::Call(CallError::Fault { code, string }) => (
            "xmlrpc.client.Fault".into(),
            format!("<Fault {code}: {}>", py_repr(string)),
        ),
        Failure::Call(CallError::Protocol { status, reason }) => (
            "xmlrpc.client.ProtocolError".into(),
            format!("<ProtocolError for 127.0.0.1/RPC2: {status} {reason}>"),
        ),
        Failure::Call(CallError::Io(e)) => {
            (os_error_class(e.raw_os_error()).into(), os_error_text(e))
        }
        Failure::Call(CallError::BadResponse(m)) => {
            ("xml.parsers.expat.ExpatError".into(), m.clone())
        }
        Failure::Call(CallError::Encode(m)) => ("OverflowError".into(), m.clone()),
    }
}
