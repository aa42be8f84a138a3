//! The web pages' requests (`/`, `/index.html`, `/tail.html`, `/log.html`): which RPC method an
//! action calls, calling it in-process with values (so faults, waiting and SHUTDOWN_STATE apply
//! as for clients, like the reference's web.py calling its RPC interface), and the reference's
//! redirects and messages once it is done. Actions run on POST only (a GET with `action=` shows
//! the page); destructive ones need `confirm=yes`, which the page's confirmation adds.

use std::time::SystemTime;

use super::form::Form;
use super::page;
use crate::http::{Request, Response, ctime};
use crate::rpc::{self, Backend, Called, Fault, FaultCode, PendingCall, Value};

/// What an action reports once its RPC call has completed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Done {
    Start(String),
    Stop(String),
    Restart(String),
    ClearLog(String),
    Signal(String, String),
    StartGroup(String),
    StopGroup(String),
    RestartGroup(String),
    StopAll,
    RestartAll,
}

impl Done {
    /// The process an action names (it must exist before anything is called).
    fn namespec(&self) -> Option<&str> {
        match self {
            Done::Start(ns)
            | Done::Stop(ns)
            | Done::Restart(ns)
            | Done::ClearLog(ns)
            | Done::Signal(ns, _) => Some(ns),
            _ => None,
        }
    }

    /// The group a group action names (it must exist before anything is called).
    fn group(&self) -> Option<&str> {
        match self {
            Done::StartGroup(g) | Done::StopGroup(g) | Done::RestartGroup(g) => Some(g),
            _ => None,
        }
    }

    /// The question a destructive action asks before it runs.
    fn question(&self) -> Option<String> {
        match self {
            Done::StopAll => Some("Stop every process?".into()),
            Done::RestartAll => Some("Restart every process?".into()),
            Done::StopGroup(g) => Some(format!("Stop every process of group {g}?")),
            Done::RestartGroup(g) => Some(format!("Restart every process of group {g}?")),
            Done::ClearLog(ns) => Some(format!("Clear the logs of {ns}?")),
            _ => None,
        }
    }
}

/// What an `action=` asks for.
#[derive(Debug, PartialEq)]
enum Plan {
    Refresh,
    Call {
        method: &'static str,
        params: Vec<Value>,
        done: Done,
    },
    Unknown,
}

/// The reference's actions and the dashboard's (signal, group actions): each one RPC call
/// (restarts are a multicall stop + start). `signal` is the `signal=` value.
fn plan(action: &str, ns: &str, signal: &str) -> Plan {
    let one = |method, done| Plan::Call {
        method,
        params: vec![Value::string(ns)],
        done,
    };
    match action {
        "refresh" => Plan::Refresh,
        "stopall" => Plan::Call {
            method: "supervisor.stopAllProcesses",
            params: vec![],
            done: Done::StopAll,
        },
        "restartall" => Plan::Call {
            method: "system.multicall",
            params: multicall(&[
                ("supervisor.stopAllProcesses", None),
                ("supervisor.startAllProcesses", None),
            ]),
            done: Done::RestartAll,
        },
        "start" => one("supervisor.startProcess", Done::Start(ns.to_string())),
        "stop" => one("supervisor.stopProcess", Done::Stop(ns.to_string())),
        "restart" => Plan::Call {
            method: "system.multicall",
            params: multicall(&[
                ("supervisor.stopProcess", Some(ns)),
                ("supervisor.startProcess", Some(ns)),
            ]),
            done: Done::Restart(ns.to_string()),
        },
        "clearlog" => one(
            "supervisor.clearProcessLogs",
            Done::ClearLog(ns.to_string()),
        ),
        "signal" => Plan::Call {
            method: "supervisor.signalProcess",
            params: vec![Value::string(ns), Value::string(signal)],
            done: Done::Signal(ns.to_string(), signal.to_string()),
        },
        "startgroup" => one(
            "supervisor.startProcessGroup",
            Done::StartGroup(ns.to_string()),
        ),
        "stopgroup" => one(
            "supervisor.stopProcessGroup",
            Done::StopGroup(ns.to_string()),
        ),
        "restartgroup" => Plan::Call {
            method: "system.multicall",
            params: multicall(&[
                ("supervisor.stopProcessGroup", Some(ns)),
                ("supervisor.startProcessGroup", Some(ns)),
            ]),
            done: Done::RestartGroup(ns.to_string()),
        },
        _ => Plan::Unknown,
    }
}

/// `system.multicall`'s one parameter: the calls, each with the process name if it takes one.
fn multicall(calls: &[(&str, Option<&str>)]) -> Vec<Value> {
    let list = calls
        .iter()
        .map(|(method, ns)| {
            let params = ns.map(Value::string).into_iter().collect();
            Value::structure([
                ("methodName", Value::string(*method)),
                ("params", Value::Array(params)),
            ])
        })
        .collect();
    vec![Value::Array(list)]
}

/// The message line after an action, in the reference's words.
fn message(done: &Done, result: Result<Value, Fault>, wall: SystemTime) -> String {
    let unexpected = |f: &Fault| format!("unexpected rpc fault [{}] {}", f.code.code(), f.text());
    match (done, result) {
        (Done::Start(ns), Ok(_)) => format!("Process {ns} started"),
        (Done::Start(ns), Err(fault)) => {
            let why = match fault.code {
                FaultCode::NoFile => "no such file".to_string(),
                FaultCode::NotExecutable => "file not executable".to_string(),
                FaultCode::AlreadyStarted => "already started".to_string(),
                FaultCode::SpawnError => "spawn error".to_string(),
                FaultCode::AbnormalTermination => "abnormal termination".to_string(),
                _ => unexpected(&fault),
            };
            format!("ERROR: Process {ns}: {why}")
        }
        (Done::Stop(ns), Ok(_)) => format!("Process {ns} stopped"),
        (Done::Stop(_), Err(fault)) => unexpected(&fault),
        (Done::Restart(ns), _) => format!("Process {ns} restarted"),
        (Done::ClearLog(ns), Ok(_)) => format!("Log for {ns} cleared"),
        (Done::ClearLog(_), Err(fault)) => unexpected(&fault),
        (Done::Signal(ns, sig), Ok(_)) => format!("Process {ns} signalled with {sig}"),
        (Done::Signal(ns, _), Err(fault)) => format!("ERROR: Process {ns}: {}", unexpected(&fault)),
        (Done::StartGroup(g), Ok(v)) => group_message(g, "started", &v),
        (Done::StopGroup(g), Ok(v)) => group_message(g, "stopped", &v),
        (Done::StartGroup(_) | Done::StopGroup(_), Err(fault)) => unexpected(&fault),
        (Done::RestartGroup(g), _) => format!("Group {g} restarted"),
        (Done::StopAll, _) => format!("All stopped at {}", ctime(wall)),
        (Done::RestartAll, _) => format!("All restarted at {}", ctime(wall)),
    }
}

/// A group action's message: the group's result, or the first process that failed.
fn group_message(group: &str, verb: &str, results: &Value) -> String {
    let failed = results.as_array().unwrap_or_default().iter().find(|r| {
        r.member_int("status")
            .is_some_and(|s| s != FaultCode::Success.code())
    });
    match failed {
        Some(r) => format!(
            "ERROR: Group {group}: {}:{}: {}",
            r.member_str("group").unwrap_or_default(),
            r.member_str("name").unwrap_or_default(),
            r.member_str("description").unwrap_or_default()
        ),
        None => format!("Group {group} {verb}"),
    }
}

/// How the page learns an action's result: the reference's redirect with `?message=`, or the
/// message itself for the page's script (`js=1`), which shows it without leaving the page.
enum Reply {
    Redirect(String),
    Text,
}

impl Reply {
    fn with(&self, message: &str) -> Response {
        match self {
            Reply::Redirect(location) => page::redirect(location, message),
            Reply::Text => page::message_text(message),
        }
    }
}

/// An action waiting for its RPC call (start/stop wait for the process state).
pub struct PendingAction {
    call: PendingCall,
    done: Done,
    reply: Reply,
}

pub enum Outcome {
    Respond(Response),
    Wait(PendingAction),
}

fn process_exists(backend: &dyn Backend, ns: &str) -> bool {
    let (group, name) = ns.split_once(':').unwrap_or((ns, ns));
    backend
        .process(&rpc::backend::ProcessId::new(group, name))
        .is_some()
}

/// What the pages need from the web layer besides the backend.
pub struct Context<'a> {
    pub restarts: &'a dyn Fn(&str) -> u32,
}

/// Handles `/`, `/index.html`, `/tail.html` and `/log.html` (`page` is the name the router gave).
pub fn handle(
    backend: &mut dyn Backend,
    request: &Request,
    page: &str,
    context: &Context,
    wall: SystemTime,
) -> Outcome {
    let form = Form::of(request);
    match page {
        "tail.html" => return Outcome::Respond(tail_page(backend, &form, wall)),
        "log.html" => return Outcome::Respond(log_page(backend, &form, wall)),
        _ => {}
    }
    let host = request
        .header("host")
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .unwrap_or_else(|| "localhost".to_string());
    let reply = if form.get("js") == Some("1") {
        Reply::Text
    } else {
        Reply::Redirect(format!("http://{host}"))
    };
    // A GET never acts: a link, a prefetch or a crawler must not stop processes.
    let action = form.get("action").filter(|_| request.method == "POST");
    let Some(action) = action else {
        let view = page::TableView {
            restarts: context.restarts,
            filter: form.get("q"),
            sort: form.get("sort"),
        };
        return Outcome::Respond(status_page(backend, form.get("message"), &view, wall));
    };
    let ns = form.get("processname").unwrap_or_default();
    let signal = form.get("signal").unwrap_or("HUP");
    let (method, params, done) = match plan(action, ns, signal) {
        Plan::Refresh => {
            let msg = format!("Page refreshed at {}", ctime(wall));
            return Outcome::Respond(reply.with(&msg));
        }
        Plan::Unknown => {
            log::error!(
                "Web interface error: unknown action {}",
                crate::python::py_repr(action)
            );
            // The reference answers 500; an unknown action is the client's error (issue 13).
            return Outcome::Respond(Response::error(400));
        }
        Plan::Call {
            method,
            params,
            done,
        } => (method, params, done),
    };
    if let Some(ns) = done.namespec()
        && !process_exists(backend, ns)
    {
        let msg = format!("No such process named {ns}");
        return Outcome::Respond(reply.with(&msg));
    }
    if let Some(group) = done.group()
        && backend.group(group).is_none()
    {
        let msg = format!("No such group named {group}");
        return Outcome::Respond(reply.with(&msg));
    }
    if let Some(question) = done.question()
        && form.get("confirm") != Some("yes")
    {
        return Outcome::Respond(page::confirm(action, ns, &question, wall));
    }
    match rpc::call(method, &params, backend, wall) {
        Called::Done(result) => Outcome::Respond(reply.with(&message(&done, result, wall))),
        Called::Pending(call) => Outcome::Wait(PendingAction { call, done, reply }),
    }
}

/// Polls a waiting action; Some(response) once its RPC call completed.
pub fn poll(
    pending: &mut PendingAction,
    backend: &mut dyn Backend,
    wall: SystemTime,
) -> Option<Response> {
    let result = rpc::poll_value(&mut pending.call, backend, wall)?;
    let msg = message(&pending.done, result, wall);
    Some(pending.reply.with(&msg))
}

/// Every process's getProcessInfo value (or the fault that call gave).
pub fn all_infos(backend: &mut dyn Backend, wall: SystemTime) -> (Vec<Value>, Option<Fault>) {
    match rpc::call("supervisor.getAllProcessInfo", &[], backend, wall) {
        Called::Done(Ok(Value::Array(list))) => (list, None),
        Called::Done(Err(fault)) => (Vec::new(), Some(fault)),
        _ => (Vec::new(), None),
    }
}

/// One process's getProcessInfo value; None when it is gone.
pub fn info(backend: &mut dyn Backend, ns: &str, wall: SystemTime) -> Option<Value> {
    match rpc::call(
        "supervisor.getProcessInfo",
        &[Value::string(ns)],
        backend,
        wall,
    ) {
        Called::Done(Ok(value)) => Some(value),
        _ => None,
    }
}

fn status_page(
    backend: &mut dyn Backend,
    message: Option<&str>,
    view: &page::TableView,
    wall: SystemTime,
) -> Response {
    let (infos, fault) = all_infos(backend, wall);
    page::status(message, &infos, fault.as_ref(), view, wall)
}

/// Bytes of a log the log page shows and keeps while following it.
pub const LOG_KEEP: usize = 64 * 1024;

/// `/log.html`: a process's stdout or stderr log (`processname=`, `channel=stderr`), or the
/// main log without a name.
fn log_page(backend: &mut dyn Backend, form: &Form, wall: SystemTime) -> Response {
    let ns = form.get("processname").filter(|ns| !ns.is_empty());
    let stderr = form.get("channel") == Some("stderr");
    let path = match ns {
        Some(ns) if !process_exists(backend, ns) => {
            return page::log(
                &page::LogView {
                    ns: Some(ns),
                    stderr,
                    text: Err(&format!("No such process named {ns}")),
                    end: 0,
                    keep: LOG_KEEP,
                },
                wall,
            );
        }
        Some(ns) => {
            let channel = if stderr {
                crate::http::Channel::Stderr
            } else {
                crate::http::Channel::Stdout
            };
            super::tails::log_path(backend, ns, channel)
        }
        None => backend.main_log_path(),
    };
    let read = path.as_deref().map(|p| super::tails::read_end(p, LOG_KEEP));
    let missing = format!("No file for {}", ns.unwrap_or("the main log"));
    let (text, end) = match &read {
        Some(Ok((bytes, end))) => (Ok(bytes.as_slice()), *end),
        _ => (Err(missing.as_str()), 0),
    };
    page::log(
        &page::LogView {
            ns,
            stderr,
            text,
            end,
            keep: LOG_KEEP,
        },
        wall,
    )
}

fn tail_page(backend: &mut dyn Backend, form: &Form, wall: SystemTime) -> Response {
    // An empty value counts as absent (Python's parse_qs drops blank values).
    let Some(ns) = form.get("processname").filter(|ns| !ns.is_empty()) else {
        return page::tail_without_name(wall);
    };
    let limit = form
        .get("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(1024)
        .max(1024);
    let params = [Value::string(ns), Value::Int(-limit), Value::Int(0)];
    let text = match rpc::call("supervisor.readProcessStdoutLog", &params, backend, wall) {
        Called::Done(Ok(v)) => v.as_str().unwrap_or_default().to_string(),
        Called::Done(Err(fault)) if fault.code == FaultCode::NoFile => format!("No file for {ns}"),
        Called::Done(Err(fault)) => format!(
            "ERROR: unexpected rpc fault [{}] {}",
            fault.code.code(),
            fault.text()
        ),
        Called::Pending(_) => String::new(),
    };
    page::tail(ns, &text, wall)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call_of(plan: Plan) -> (&'static str, Vec<Value>, Done) {
        match plan {
            Plan::Call {
                method,
                params,
                done,
            } => (method, params, done),
            other => panic!("not a call: {other:?}"),
        }
    }

    #[test]
    fn actions_map_to_the_reference_calls() {
        let (method, params, done) = call_of(plan("start", "g:p", ""));
        assert_eq!(method, "supervisor.startProcess");
        assert_eq!(params, [Value::string("g:p")]);
        assert_eq!(done.namespec(), Some("g:p"));
        let (method, params, done) = call_of(plan("restart", "web", ""));
        assert_eq!(method, "system.multicall");
        let names: Vec<_> = match &params[..] {
            [Value::Array(calls)] => calls
                .iter()
                .map(|c| {
                    let params = match c.member("params") {
                        Some(Value::Array(p)) => p.len(),
                        _ => 99,
                    };
                    (c.member_str("methodName").unwrap_or_default(), params)
                })
                .collect(),
            _ => panic!("{params:?}"),
        };
        assert_eq!(
            names,
            [
                ("supervisor.stopProcess", 1),
                ("supervisor.startProcess", 1)
            ]
        );
        assert_eq!(done, Done::Restart("web".into()));
        let (method, _, done) = call_of(plan("stopall", "", ""));
        assert_eq!(method, "supervisor.stopAllProcesses");
        assert_eq!(done.namespec(), None);
        assert_eq!(done.question().as_deref(), Some("Stop every process?"));
        let (method, params, done) = call_of(plan("signal", "web", "USR1"));
        assert_eq!(method, "supervisor.signalProcess");
        assert_eq!(params, [Value::string("web"), Value::string("USR1")]);
        assert_eq!(done.question(), None);
        let (method, _, done) = call_of(plan("stopgroup", "pool", ""));
        assert_eq!(method, "supervisor.stopProcessGroup");
        assert_eq!(done.group(), Some("pool"));
        assert!(done.question().is_some());
        assert_eq!(plan("refresh", "x", ""), Plan::Refresh);
        assert_eq!(plan("bogus", "x", ""), Plan::Unknown);
        assert_eq!(plan("START", "x", ""), Plan::Unknown);
    }

    #[test]
    fn messages_in_the_reference_words() {
        let wall = SystemTime::UNIX_EPOCH;
        let start = Done::Start("web".into());
        let cases = [
            (FaultCode::NoFile, "ERROR: Process web: no such file"),
            (
                FaultCode::NotExecutable,
                "ERROR: Process web: file not executable",
            ),
            (
                FaultCode::AlreadyStarted,
                "ERROR: Process web: already started",
            ),
            (FaultCode::SpawnError, "ERROR: Process web: spawn error"),
            (
                FaultCode::AbnormalTermination,
                "ERROR: Process web: abnormal termination",
            ),
            (
                FaultCode::ShutdownState,
                "ERROR: Process web: unexpected rpc fault [6] SHUTDOWN_STATE",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(message(&start, Err(Fault::new(code)), wall), want);
        }
        assert_eq!(
            message(&start, Ok(Value::Bool(true)), wall),
            "Process web started"
        );
        assert_eq!(
            message(
                &Done::Stop("a:b".into()),
                Err(Fault::with(FaultCode::BadName, "a:b")),
                wall
            ),
            "unexpected rpc fault [10] BAD_NAME: a:b"
        );
        let restart = Done::Restart("x".into());
        let fault = Err(Fault::new(FaultCode::Failed));
        assert_eq!(message(&restart, fault, wall), "Process x restarted");
        let all = message(&Done::StopAll, Ok(Value::Array(vec![])), wall);
        assert_eq!(all, format!("All stopped at {}", ctime(wall)));
    }
}
