//! The web status pages' requests (`/`, `/index.html`, `/tail.html`): which RPC method an action
//! calls, calling it in-process with values (so faults, waiting and SHUTDOWN_STATE apply as for
//! clients, like the reference's web.py calling its RPC interface), and the reference's
//! redirects and messages once it is done.

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
    StopAll,
    RestartAll,
}

impl Done {
    /// The process an action names (it must exist before anything is called).
    fn namespec(&self) -> Option<&str> {
        match self {
            Done::Start(ns) | Done::Stop(ns) | Done::Restart(ns) | Done::ClearLog(ns) => Some(ns),
            Done::StopAll | Done::RestartAll => None,
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

/// The reference's actions: each one RPC call (restarts are a multicall stop + start).
fn plan(action: &str, ns: &str) -> Plan {
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
        (Done::StopAll, _) => format!("All stopped at {}", ctime(wall)),
        (Done::RestartAll, _) => format!("All restarted at {}", ctime(wall)),
    }
}

/// An action waiting for its RPC call (start/stop wait for the process state).
pub struct PendingAction {
    call: PendingCall,
    done: Done,
    location: String,
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

/// Handles `/`, `/index.html` and `/tail.html` (`page` is the name the router gave).
pub fn handle(
    backend: &mut dyn Backend,
    request: &Request,
    page: &str,
    wall: SystemTime,
) -> Outcome {
    let form = Form::of(request);
    if page == "tail.html" {
        return Outcome::Respond(tail_page(backend, &form, wall));
    }
    let host = request
        .header("host")
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .unwrap_or_else(|| "localhost".to_string());
    let location = format!("http://{host}");
    let Some(action) = form.get("action") else {
        return Outcome::Respond(status_page(backend, form.get("message"), wall));
    };
    let ns = form.get("processname").unwrap_or_default();
    let (method, params, done) = match plan(action, ns) {
        Plan::Refresh => {
            let msg = format!("Page refreshed at {}", ctime(wall));
            return Outcome::Respond(page::redirect(&location, &msg));
        }
        Plan::Unknown => {
            log::error!(
                "Web interface error: unknown action {}",
                crate::pyrepr::py_repr(action)
            );
            return Outcome::Respond(Response::error(500));
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
        return Outcome::Respond(page::redirect(&location, &msg));
    }
    match rpc::call(method, &params, backend, wall) {
        Called::Done(result) => {
            Outcome::Respond(page::redirect(&location, &message(&done, result, wall)))
        }
        Called::Pending(call) => Outcome::Wait(PendingAction {
            call,
            done,
            location,
        }),
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
    Some(page::redirect(&pending.location, &msg))
}

fn status_page(backend: &mut dyn Backend, message: Option<&str>, wall: SystemTime) -> Response {
    let (infos, fault) = match rpc::call("supervisor.getAllProcessInfo", &[], backend, wall) {
        Called::Done(Ok(Value::Array(list))) => (list, None),
        Called::Done(Err(fault)) => (Vec::new(), Some(fault)),
        _ => (Vec::new(), None),
    };
    page::status(message, &infos, fault.as_ref(), wall)
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
        let (method, params, done) = call_of(plan("start", "g:p"));
        assert_eq!(method, "supervisor.startProcess");
        assert_eq!(params, [Value::string("g:p")]);
        assert_eq!(done.namespec(), Some("g:p"));
        let (method, params, done) = call_of(plan("restart", "web"));
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
        let (method, _, done) = call_of(plan("stopall", ""));
        assert_eq!(method, "supervisor.stopAllProcesses");
        assert_eq!(done.namespec(), None);
        assert_eq!(plan("refresh", "x"), Plan::Refresh);
        assert_eq!(plan("bogus", "x"), Plan::Unknown);
        assert_eq!(plan("START", "x"), Plan::Unknown);
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
