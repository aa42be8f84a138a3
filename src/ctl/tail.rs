//! tail, maintail and fg: one-shot log reads over XML-RPC, and the streaming `/logtail` and
//! `/mainlogtail` client (tail -f, maintail -f, fg's output threads).

use std::io::{self, BufReader, Read, Write};
use std::sync::atomic::Ordering;

use super::controller::{CmdResult, Controller, exit, py_str};
use super::help;
use super::interrupt::INTERRUPTED;
use super::transport::{self, CallError, Endpoint, Stream};
use crate::python::{os_error_class, os_error_text};
use crate::wire::{FaultCode, ProcessState};
use crate::xmlrpc::Value;

pub fn do_tail(c: &mut Controller, arg: &str) -> CmdResult {
    if !c.upcheck()? {
        return Ok(());
    }
    let mut args: Vec<&str> = arg.split_whitespace().collect();
    if args.is_empty() || args.len() > 3 {
        c.output(if args.is_empty() {
            "Error: too few arguments"
        } else {
            "Error: too many arguments"
        });
        c.exitstatus = exit::GENERIC;
        help::show(c, "tail");
        return Ok(());
    }
    let modifier = if args[0].starts_with('-') {
        Some(args.remove(0))
    } else {
        None
    };
    let (name, channel) = match args.as_slice() {
        [] => {
            c.output("Error: tail requires process name");
            c.exitstatus = exit::GENERIC;
            return Ok(());
        }
        [name] => (name.to_string(), "stdout".to_string()),
        [name, .., last] => {
            let channel = last.to_lowercase();
            if channel != "stdout" && channel != "stderr" {
                c.output(&format!(
                    "Error: bad channel {}",
                    crate::python::py_repr(&channel)
                ));
                c.exitstatus = exit::GENERIC;
                return Ok(());
            }
            (name.to_string(), channel)
        }
    };
    let mut bytes: i64 = 1600;
    if let Some(m) = modifier {
        let what = &m[1..];
        if what == "f" {
            follow(c, &format!("/logtail/{name}/{channel}"));
            return Ok(());
        }
        match parse_py_int(what) {
            Some(n) => bytes = n,
            None => {
                c.output(&format!("Error: bad argument {m}"));
                c.exitstatus = exit::GENERIC;
                return Ok(());
            }
        }
    }
    let method = if channel == "stdout" {
        "supervisor.readProcessStdoutLog"
    } else {
        "supervisor.readProcessStderrLog"
    };
    let params = [Value::string(&name), Value::Int(-bytes), Value::Int(0)];
    show_log_read(c, method, &params, &name)
}

/// Prints what a read*Log call returned; the faults the reference explains become
/// `<who>: ERROR (<why>)` (BAD_NAME only for a process log), others propagate.
fn show_log_read(c: &mut Controller, method: &str, params: &[Value], who: &str) -> CmdResult {
    let names_a_process = method != "supervisor.readLog";
    match c.call(method, params) {
        Ok(v) => c.output(&py_str(&v)),
        Err(CallError::Fault { code, string }) => {
            c.exitstatus = exit::GENERIC;
            let why = match FaultCode::from_code(code) {
                Some(FaultCode::NoFile) => "no log file",
                Some(FaultCode::Failed) => "unknown error reading log",
                Some(FaultCode::BadName) if names_a_process => "no such process name",
                _ => return Err(CallError::Fault { code, string }.into()),
            };
            c.output(&format!("{who}: ERROR ({why})"));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Python's `int()` on a modifier: optional sign, digits, surrounding whitespace allowed.
fn parse_py_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

pub fn do_maintail(c: &mut Controller, arg: &str) -> CmdResult {
    if !c.upcheck()? {
        return Ok(());
    }
    let args: Vec<&str> = arg.split_whitespace().collect();
    let mut bytes: i64 = 1600;
    match args.as_slice() {
        [] => {}
        [one] => {
            let parsed = one
                .strip_prefix('-')
                .map(|what| (what == "f", parse_py_int(what)));
            match parsed {
                Some((true, _)) => {
                    follow(c, "/mainlogtail");
                    return Ok(());
                }
                Some((false, Some(n))) => bytes = n,
                _ => {
                    c.output(&format!("Error: bad argument {one}"));
                    c.exitstatus = exit::GENERIC;
                    return Ok(());
                }
            }
        }
        _ => {
            c.output("Error: too many arguments");
            c.exitstatus = exit::GENERIC;
            help::show(c, "maintail");
            return Ok(());
        }
    }
    let params = [Value::Int(-bytes), Value::Int(0)];
    show_log_read(c, "supervisor.readLog", &params, "supervisord")
}

/// `tail -f` / `maintail -f`: stream until the server closes or Ctrl-C.
fn follow(c: &mut Controller, path: &str) {
    c.output("==> Press Ctrl-C to exit <==");
    INTERRUPTED.store(false, Ordering::SeqCst);
    let streamer = LogStream::open(
        &c.options.serverurl,
        path,
        c.options.username.as_deref(),
        c.options.password.as_deref(),
    );
    if let Some(s) = streamer {
        s.pump();
    }
    if INTERRUPTED.swap(false, Ordering::SeqCst) {
        c.output("");
    }
}

/// One streaming GET of a log-tail URL, writing what arrives to stdout as it arrives.
pub struct LogStream {
    url: String,
    reader: BufReader<Stream>,
}

impl LogStream {
    /// Connects and sends the request; on failure reports on stderr like the reference.
    pub fn open(
        serverurl: &str,
        path: &str,
        username: Option<&str>,
        password: Option<&str>,
    ) -> Option<LogStream> {
        let url = format!("{serverurl}{path}");
        let endpoint = match Endpoint::parse(serverurl) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("{url} Cannot connect, error: <class 'ValueError'> ({e})");
                return None;
            }
        };
        let host = match serverurl.strip_prefix("http://") {
            Some(rest) => rest.split(['/', '?', '#']).next().unwrap_or("").to_string(),
            None => String::new(),
        };
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: chunked\r\nAccept: */*\r\nUser-agent: Supervisor HTTP Client\r\n"
        );
        if password.is_some_and(|p| !p.is_empty()) {
            let auth = transport::basic_auth(Some(username.unwrap_or("None")), password)
                .unwrap_or_default();
            request.push_str(&format!("Authorization: {auth}\r\n"));
        }
        request.push_str("\r\n\r\n");
        let connected = endpoint
            .connect()
            .and_then(|mut s| s.write_all(request.as_bytes()).map(|_| s));
        match connected {
            Ok(stream) => Some(LogStream {
                url,
                reader: BufReader::new(stream),
            }),
            Err(e) => {
                eprintln!(
                    "{url} Cannot connect, error: <class '{}'> ({})",
                    os_error_class(e.raw_os_error()),
                    os_error_text(&e)
                );
                None
            }
        }
    }

    /// A handle that can end the stream from another thread.
    pub fn closer(&self) -> Option<Stream> {
        self.reader.get_ref().try_clone().ok()
    }

    /// Copies the body to stdout until the server closes, an error, or an interrupt.
    pub fn pump(mut self) {
        let head = match transport::read_head(&mut self.reader) {
            Ok(h) => h,
            Err(_) => return,
        };
        if head.status != 200 {
            eprintln!("{} Cannot read, status code {}", self.url, head.status);
            return;
        }
        if head.chunked {
            while let Ok(Some(chunk)) = transport::read_chunk(&mut self.reader) {
                emit(&chunk);
            }
            return;
        }
        let mut remaining = head.content_length;
        let mut buf = vec![0u8; 8192];
        loop {
            let want = remaining.map_or(buf.len(), |r| r.min(buf.len()));
            if want == 0 {
                return;
            }
            match self.reader.read(&mut buf[..want]) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    emit(&buf[..n]);
                    remaining = remaining.map(|r| r - n);
                }
            }
        }
    }
}

/// Writes streamed bytes: UTF-8 text as is, anything else as the reference's `Undecodable:` line.
fn emit(data: &[u8]) {
    let mut out = io::stdout().lock();
    match std::str::from_utf8(data) {
        Ok(s) => {
            let _ = out.write_all(s.as_bytes());
        }
        Err(_) => {
            let _ = out.write_all(
                format!("Undecodable: {}", crate::python::py_bytes_repr(data)).as_bytes(),
            );
        }
    }
    let _ = out.flush();
}

pub fn do_fg(c: &mut Controller, arg: &str) -> CmdResult {
    if !c.upcheck()? {
        return Ok(());
    }
    let names: Vec<&str> = arg.split_whitespace().collect();
    let name = match names.as_slice() {
        [] => {
            c.output("ERROR: no process name supplied");
            c.exitstatus = exit::GENERIC;
            help::show(c, "fg");
            return Ok(());
        }
        [one] => one.to_string(),
        _ => {
            c.output("ERROR: too many process names supplied");
            c.exitstatus = exit::GENERIC;
            return Ok(());
        }
    };
    let info = match c.call("supervisor.getProcessInfo", &[Value::string(&name)]) {
        Ok(i) => i,
        Err(CallError::Fault { code, string }) => {
            if code == FaultCode::BadName.code() {
                c.output("ERROR: bad process name supplied");
                c.exitstatus = exit::GENERIC;
            } else {
                c.output(&format!(
                    "ERROR: <Fault {code}: {}>",
                    crate::python::py_repr(&string)
                ));
            }
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if info.member_int("state") != Some(ProcessState::Running.code().into()) {
        c.output("ERROR: process not running");
        c.exitstatus = exit::GENERIC;
        return Ok(());
    }
    c.output("==> Press Ctrl-C to exit <==");
    INTERRUPTED.store(false, Ordering::SeqCst);
    let mut closers = Vec::new();
    let mut threads = Vec::new();
    for channel in ["stdout", "stderr"] {
        let (url, user, pass) = (
            c.options.serverurl.clone(),
            c.options.username.clone(),
            c.options.password.clone(),
        );
        let path = format!("/logtail/{name}/{channel}");
        if let Some(stream) = LogStream::open(&url, &path, user.as_deref(), pass.as_deref()) {
            if let Some(closer) = stream.closer() {
                closers.push(closer);
            }
            threads.push(std::thread::spawn(move || {
                super::interrupt::block_sigint_in_this_thread();
                stream.pump();
            }));
        }
    }
    let result = fg_input_loop(c, &name);
    for closer in &closers {
        closer.shutdown();
    }
    for t in threads {
        let _ = t.join();
    }
    INTERRUPTED.store(false, Ordering::SeqCst);
    result
}

/// Sends each input line to the process until it dies, input ends, or Ctrl-C.
fn fg_input_loop(c: &mut Controller, name: &str) -> CmdResult {
    loop {
        let line = match c.input.read_line() {
            Ok(Some(l)) => l,
            Ok(None) | Err(_) => {
                c.output("Exiting foreground");
                return Ok(());
            }
        };
        match c.call(
            "supervisor.sendProcessStdin",
            &[Value::string(name), Value::String(format!("{line}\n"))],
        ) {
            Ok(_) => {}
            Err(CallError::Fault { code, string }) => {
                if code == FaultCode::NotRunning.code() {
                    c.output("Process got killed");
                } else {
                    c.output(&format!(
                        "ERROR: <Fault {code}: {}>",
                        crate::python::py_repr(&string)
                    ));
                }
                c.output("Exiting foreground");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        let info = c.call("supervisor.getProcessInfo", &[Value::string(name)])?;
        if info.member_int("state") != Some(ProcessState::Running.code().into()) {
            c.output("Process got killed");
            c.output("Exiting foreground");
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_parse_like_python_int() {
        for (s, want) in [
            ("100", Some(100)),
            ("0", Some(0)),
            ("+5", Some(5)),
            ("-5", Some(-5)),
            ("x", None),
            ("", None),
            ("1.5", None),
        ] {
            assert_eq!(parse_py_int(s), want, "{s}");
        }
    }
}
