//! The command interpreter: parses a command line like Python's `cmd.Cmd`, dispatches to one
//! function per command, keeps the exit status, and turns unexpected errors into the reference's
//! `error: ...` line.

use std::io::{self, Write};

use super::options::CtlOptions;
use super::transport::{CallError, RpcClient};
use crate::python::{os_error_class, os_error_text, py_repr};
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

/// Fault codes the client reacts to (rpc.md §2).
pub mod fault {
    pub const UNKNOWN_METHOD: i64 = 1;
    pub const SHUTDOWN_STATE: i64 = 6;
    pub const BAD_NAME: i64 = 10;
    pub const BAD_SIGNAL: i64 = 11;
    pub const NO_FILE: i64 = 20;
    pub const NOT_EXECUTABLE: i64 = 21;
    pub const FAILED: i64 = 30;
    pub const ABNORMAL_TERMINATION: i64 = 40;
    pub const SPAWN_ERROR: i64 = 50;
    pub const ALREADY_STARTED: i64 = 60;
    pub const NOT_RUNNING: i64 = 70;
    pub const SUCCESS: i64 = 80;
    pub const ALREADY_ADDED: i64 = 90;
    pub const STILL_RUNNING: i64 = 91;
    pub const CANT_REREAD: i64 = 92;
}

/// The API version this client speaks.
pub const API_VERSION: &str = "3.0";

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
    pub input: super::shell::Input,
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
            input: super::shell::Input::default(),
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
        if Some(code) == ignored || code == fault::SUCCESS {
            return;
        }
        self.exitstatus = match code {
            fault::SPAWN_ERROR | fault::ABNORMAL_TERMINATION | fault::NOT_RUNNING => {
                exit::NOT_RUNNING
            }
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
                        super::commands::py_str(&v)
                    ));
                    self.exitstatus = exit::NOT_INSTALLED;
                    return Ok(false);
                }
                Ok(true)
            }
            Err(CallError::Fault { code, .. }) if code == fault::UNKNOWN_METHOD => {
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

    /// Runs one command line; `Flow::Quit` for quit/exit/EOF.
    pub fn onecmd(&mut self, line: &str) -> Flow {
        let Some((cmd, arg, line)) = parseline(line) else {
            return Flow::Continue;
        };
        let Some(command) = super::commands::lookup(&cmd) else {
            self.default(&line);
            return Flow::Continue;
        };
        match command(self, &arg) {
            Ok(flow) => flow,
            Err(Failure::Call(CallError::Protocol { status: 401, .. })) => {
                self.output("Server requires authentication");
                if self.options.interactive {
                    if self.prompt_credentials().is_err() {
                        return Flow::Quit;
                    }
                    return self.onecmd(&line);
                }
                self.exitstatus = exit::GENERIC;
                // The reference runs the command a second time here; its error is what shows.
                match command(self, &arg) {
                    Ok(flow) => flow,
                    Err(f) => {
                        self.report(f);
                        Flow::Continue
                    }
                }
            }
            Err(f) => {
                self.report(f);
                Flow::Continue
            }
        }
    }

    fn default(&mut self, line: &str) {
        self.output(&format!("*** Unknown syntax: {line}"));
        self.exitstatus = exit::GENERIC;
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

    fn prompt_credentials(&mut self) -> io::Result<()> {
        let username = self.read_line("Username:")?.unwrap_or_default();
        let password = super::shell::read_password("Password:", &mut self.input)?;
        self.output("");
        self.options.username = Some(username.clone());
        self.options.password = Some(password.clone());
        self.client.username = Some(username);
        self.client.password = Some(password);
        self.client.reset();
        Ok(())
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

/// `cmd.Cmd.parseline`: (command word, stripped argument, stripped line); None for a blank line.
/// `?x` means `help x`; the command word is the leading run of letters, digits and `_`.
pub fn parseline(line: &str) -> Option<(String, String, String)> {
    let mut line = line.trim().to_string();
    if line.is_empty() {
        return None;
    }
    if let Some(rest) = line.strip_prefix('?') {
        line = format!("help {rest}");
    }
    let end = line
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(line.len());
    let cmd = line[..end].to_string();
    let arg = line[end..].trim().to_string();
    Some((cmd, arg, line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parseline_like_cmd_module() {
        let cases = [
            ("", None),
            ("   ", None),
            ("status", Some(("status", "", "status"))),
            ("  stop  a b  ", Some(("stop", "a b", "stop  a b"))),
            ("?start", Some(("help", "start", "help start"))),
            ("start-all", Some(("start", "-all", "start-all"))),
            ("!ls", Some(("", "!ls", "!ls"))),
        ];
        for (input, want) in cases {
            let want = want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
            assert_eq!(parseline(input), want, "{input:?}");
        }
    }
}
