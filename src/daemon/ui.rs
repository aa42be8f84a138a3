//! The web status pages (`/`, `/index.html`, `/tail.html`): a process table with actions, done
//! through the RPC layer in-process (so faults, waiting and SHUTDOWN_STATE apply as for clients),
//! answered with the reference's redirects and messages.

use std::time::SystemTime;

use super::rpc_backend::DaemonBackend;
use super::supervisor::Supervisor;
use crate::http::{Request, Response, ctime};
use crate::rpc::{self, PendingCall, RpcOutcome};
use crate::xmlrpc::{self, DecodeOptions, Value};

/// What an action does once its RPC call has completed.
#[derive(Debug, Clone)]
enum Done {
    Start(String),
    Stop(String),
    Restart(String),
    ClearLog(String),
    StopAll,
    RestartAll,
}

/// A UI action waiting for its RPC call (start/stop wait for the process state).
pub struct PendingUi {
    call: PendingCall,
    done: Done,
    location: String,
}

pub enum UiOutcome {
    Respond(Response),
    Wait(PendingUi),
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space).
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query parameters (first value wins) overlaid by a form-encoded body.
fn form(request: &Request) -> Vec<(String, String)> {
    let mut values: Vec<(String, String)> = Vec::new();
    let mut add = |text: &str, overlay: bool| {
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            // Like Python's parse_qs: a blank value (`action=`, or no `=`) is no value at all.
            let Some((k, v)) = pair.split_once('=').filter(|(_, v)| !v.is_empty()) else {
                continue;
            };
            let (k, v) = (form_decode(k), form_decode(v));
            match values.iter_mut().find(|(ek, _)| *ek == k) {
                Some(slot) if overlay => slot.1 = v,
                Some(_) => {}
                None => values.push((k, v)),
            }
        }
    };
    if let Some(q) = &request.query {
        add(q, false);
    }
    let is_form = request
        .header("content-type")
        .is_some_and(|v| v.starts_with(b"application/x-www-form-urlencoded"));
    if request.method == "POST" && is_form {
        add(&String::from_utf8_lossy(&request.body), true);
    }
    values
}

fn get<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Python's `urllib.parse.quote` (safe: letters, digits, `_.-~/`).
fn url_quote(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn year(t: SystemTime) -> String {
    ctime(t).rsplit(' ').next().unwrap_or_default().to_string()
}

fn no_cache(mut response: Response) -> Response {
    let extra = [
        ("Pragma", "no-cache"),
        ("Cache-Control", "no-cache"),
        ("Expires", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ];
    let at = response
        .headers
        .iter()
        .position(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
        .unwrap_or(response.headers.len());
    for (i, (k, v)) in extra.iter().enumerate() {
        response
            .headers
            .insert(at + i, (k.to_string(), v.to_string()));
    }
    response
}

fn html(body: String) -> Response {
    no_cache(Response::ok("text/html;charset=utf-8", body.into_bytes()))
}

/// `301` to the status page with a message, as the reference redirects after an action.
fn redirect(location: &str, message: &str) -> Response {
    let mut response = Response::error(301);
    response
        .headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case("Content-Type"));
    let length = response.headers.remove(0);
    response.headers = vec![
        (
            "Location".into(),
            format!("{location}/?message={}", url_quote(message)),
        ),
        ("Content-Type".into(), "text/html".into()),
        ("Pragma".into(), "no-cache".into()),
        ("Cache-Control".into(), "no-cache".into()),
        ("Expires".into(), "Thu, 01 Jan 1970 00:00:00 GMT".into()),
        length,
    ];
    response
}

/// One in-process RPC call.
fn call(
    sup: &mut Supervisor,
    method: &str,
    params: Vec<Value>,
) -> Result<Result<Value, (i64, String)>, PendingCall> {
    let body = match xmlrpc::encode_call(method, &params) {
        Ok(b) => b,
        Err(_) => return Ok(Err((1, "UNKNOWN_METHOD".into()))),
    };
    let handle = crate::logs::MainLogHandle::get();
    let mut clear = move || match handle {
        Some(h) => h.clear(),
        None => Ok(()),
    };
    let mut backend = DaemonBackend::new(sup, &mut clear);
    match rpc::handle_request(body.as_bytes(), &mut backend, SystemTime::now()) {
        RpcOutcome::Reply(bytes) => Ok(decode(&bytes)),
        RpcOutcome::BadRequest => Ok(Err((1, "bad request".into()))),
        RpcOutcome::Pending(pending) => Err(pending),
    }
}

fn decode(bytes: &[u8]) -> Result<Value, (i64, String)> {
    let text = String::from_utf8_lossy(bytes);
    match xmlrpc::decode_response(&text, &DecodeOptions::client()) {
        Ok(xmlrpc::Response::Success(v)) => Ok(v),
        Ok(xmlrpc::Response::Fault { code, string }) => Err((code, string)),
        Err(_) => Err((1, "undecodable reply".into())),
    }
}

fn message(done: &Done, result: Result<Value, (i64, String)>) -> String {
    let now = ctime(SystemTime::now());
    match (done, result) {
        (Done::Start(ns), Ok(_)) => format!("Process {ns} started"),
        (Done::Start(ns), Err((code, text))) => {
            let why = match code {
                20 => "no such file".to_string(),
                21 => "file not executable".to_string(),
                60 => "already started".to_string(),
                50 => "spawn error".to_string(),
                40 => "abnormal termination".to_string(),
                _ => format!("unexpected rpc fault [{code}] {text}"),
            };
            format!("ERROR: Process {ns}: {why}")
        }
        (Done::Stop(ns), Ok(_)) => format!("Process {ns} stopped"),
        (Done::Stop(_), Err((code, text))) => format!("unexpected rpc fault [{code}] {text}"),
        (Done::Restart(ns), _) => format!("Process {ns} restarted"),
        (Done::ClearLog(ns), Ok(_)) => format!("Log for {ns} cleared"),
        (Done::ClearLog(_), Err((code, text))) => format!("unexpected rpc fault [{code}] {text}"),
        (Done::StopAll, _) => format!("All stopped at {now}"),
        (Done::RestartAll, _) => format!("All restarted at {now}"),
    }
}

fn multicall(calls: &[(&str, &str)]) -> Vec<Value> {
    let list = calls
        .iter()
        .map(|(method, ns)| {
            let params = if ns.is_empty() {
                vec![]
            } else {
                vec![Value::string(*ns)]
            };
            Value::structure([
                ("methodName", Value::string(*method)),
                ("params", Value::Array(params)),
            ])
        })
        .collect();
    vec![Value::Array(list)]
}

fn process_exists(sup: &Supervisor, ns: &str) -> bool {
    let (group, name) = ns.split_once(':').unwrap_or((ns, ns));
    sup.find(group, name).is_some()
}

/// Handles `/`, `/index.html` and `/tail.html`.
pub fn handle(sup: &mut Supervisor, request: &Request, page: &str) -> UiOutcome {
    let form = form(request);
    if page == "tail.html" {
        return UiOutcome::Respond(tail_page(sup, &form));
    }
    let host = request
        .header("host")
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .unwrap_or_else(|| "localhost".to_string());
    let location = format!("http://{host}");
    let Some(action) = get(&form, "action") else {
        return UiOutcome::Respond(status_page(sup, get(&form, "message")));
    };
    let ns = get(&form, "processname").unwrap_or_default().to_string();
    let (method, params, done) = match action {
        "refresh" => {
            let msg = format!("Page refreshed at {}", ctime(SystemTime::now()));
            return UiOutcome::Respond(redirect(&location, &msg));
        }
        "stopall" => ("supervisor.stopAllProcesses", vec![], Done::StopAll),
        "restartall" => (
            "system.multicall",
            multicall(&[
                ("supervisor.stopAllProcesses", ""),
                ("supervisor.startAllProcesses", ""),
            ]),
            Done::RestartAll,
        ),
        "start" | "stop" | "restart" | "clearlog" if !process_exists(sup, &ns) => {
            let msg = format!("No such process named {ns}");
            return UiOutcome::Respond(redirect(&location, &msg));
        }
        "start" => (
            "supervisor.startProcess",
            vec![Value::string(&*ns)],
            Done::Start(ns),
        ),
        "stop" => (
            "supervisor.stopProcess",
            vec![Value::string(&*ns)],
            Done::Stop(ns),
        ),
        "restart" => (
            "system.multicall",
            multicall(&[
                ("supervisor.stopProcess", &ns),
                ("supervisor.startProcess", &ns),
            ]),
            Done::Restart(ns),
        ),
        "clearlog" => (
            "supervisor.clearProcessLogs",
            vec![Value::string(&*ns)],
            Done::ClearLog(ns),
        ),
        other => {
            log::error!(
                "Web interface error: unknown action {}",
                crate::python::py_repr(other)
            );
            return UiOutcome::Respond(Response::error(500));
        }
    };
    match call(sup, method, params) {
        Ok(result) => UiOutcome::Respond(redirect(&location, &message(&done, result))),
        Err(call) => UiOutcome::Wait(PendingUi {
            call,
            done,
            location,
        }),
    }
}

/// Polls a waiting action; Some(response) once its RPC call completed.
pub fn poll(pending: &mut PendingUi, sup: &mut Supervisor) -> Option<Response> {
    let handle = crate::logs::MainLogHandle::get();
    let mut clear = move || match handle {
        Some(h) => h.clear(),
        None => Ok(()),
    };
    let mut backend = DaemonBackend::new(sup, &mut clear);
    let bytes = rpc::poll(&mut pending.call, &mut backend, SystemTime::now())?;
    let msg = message(&pending.done, decode(&bytes));
    Some(redirect(&pending.location, &msg))
}

const STYLE: &str = "body{font-family:sans-serif;margin:0;background:#f4f4f4;color:#222}\
#wrapper{max-width:1000px;margin:0 auto;padding:1em}\
h1{font-size:1.4em}table{width:100%;border-collapse:collapse;background:#fff}\
th,td{padding:.4em .6em;text-align:left;border-bottom:1px solid #ddd}\
tr.shade{background:#fafafa}.statusrunning{color:#070}.statuserror{color:#b00;font-weight:bold}\
.statusnominal{color:#555}.status_msg{background:#ffd;border:1px solid #cc8;padding:.5em;margin:.5em 0}\
ul{list-style:none;margin:0;padding:0}td.action li,#buttons li{display:inline;margin-right:.6em}\
.hidden{visibility:hidden}#footer{max-width:1000px;margin:1em auto;font-size:.8em;color:#666}";

fn page(title: &str, content: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n  <title>{}</title>\n  <style>{STYLE}</style>\n</head>\n<body>\n<div id=\"wrapper\">\n{content}\n</div>\n<div class=\"clr\" id=\"footer\">\n  <a href=\"http://supervisord.org\">Supervisor</a> <span>{}</span> &copy; <span>{}</span>\n</div>\n</body>\n</html>\n",
        escape(title),
        crate::cmd::SUPERVISOR_VERSION,
        year(SystemTime::now())
    )
}

fn link(href: &str, label: &str, blank: bool) -> String {
    format!(
        "<li><a href=\"{}\" name=\"{label}\"{}>{label}</a></li>",
        escape(href),
        if blank { " target=\"_blank\"" } else { "" }
    )
}

const HIDDEN: &str = "<li><a class=\"hidden\" href=\"#\" name=\"#\">Action</a></li>";

fn status_page(sup: &mut Supervisor, message: Option<&str>) -> Response {
    let mut content = String::from("  <h1>Supervisor Status</h1>\n");
    if let Some(m) = message {
        content.push_str(&format!(
            "  <div class=\"status_msg\">{}</div>\n",
            escape(m)
        ));
    }
    content.push_str(
        "  <form action=\"index.html\" method=\"post\">\n  <ul class=\"clr\" id=\"buttons\">\n",
    );
    for (action, label) in [
        ("refresh", "Refresh"),
        ("restartall", "Restart All"),
        ("stopall", "Stop All"),
    ] {
        content.push_str(&format!(
            "    <li class=\"action-button\"><a href=\"index.html?action={action}\">{label}</a></li>\n"
        ));
    }
    content.push_str("  </ul>\n");
    let infos = match call(sup, "supervisor.getAllProcessInfo", vec![]) {
        Ok(Ok(Value::Array(list))) => list,
        Ok(Err((code, text))) => {
            content.push_str(&format!(
                "  <div class=\"status_msg\">ERROR: unexpected rpc fault [{code}] {}</div>\n",
                escape(&text)
            ));
            Vec::new()
        }
        _ => Vec::new(),
    };
    if infos.is_empty() {
        content.push_str("  <p>No programs to manage</p>\n");
    } else {
        content.push_str("  <table cellspacing=\"0\">\n  <thead><tr><th class=\"state\">State</th><th class=\"desc\">Description</th><th class=\"name\">Name</th><th class=\"action\">Action</th></tr></thead>\n  <tbody>\n");
        for (i, info) in infos.iter().enumerate() {
            let name = info.member_str("name").unwrap_or_default();
            let group = info.member_str("group").unwrap_or_default();
            let ns = if name == group {
                name.to_string()
            } else {
                format!("{group}:{name}")
            };
            let state = info.member_str("statename").unwrap_or_default();
            let class = match state {
                "RUNNING" => "statusrunning",
                "BACKOFF" | "FATAL" => "statuserror",
                _ => "statusnominal",
            };
            let q = url_quote(&ns);
            let act = |a: &str, label: &str| {
                link(
                    &format!("index.html?processname={q}&action={a}"),
                    label,
                    false,
                )
            };
            let (first, second) = match state {
                "RUNNING" => (act("restart", "Restart"), act("stop", "Stop")),
                "STOPPED" | "EXITED" | "FATAL" => (act("start", "Start"), HIDDEN.to_string()),
                _ => (HIDDEN.to_string(), HIDDEN.to_string()),
            };
            content.push_str(&format!(
                "    <tr class=\"{}\">\n      <td class=\"status\"><span class=\"{class}\">{}</span></td>\n      <td><span>{}</span></td>\n      <td><a href=\"tail.html?processname={q}\" target=\"_blank\">{}</a></td>\n      <td class=\"action\"><ul>{first}{second}{}{}{}</ul></td>\n    </tr>\n",
                if i % 2 == 1 { "shade" } else { "" },
                state.to_lowercase(),
                escape(info.member_str("description").unwrap_or_default()),
                escape(&ns),
                act("clearlog", "Clear Log"),
                link(&format!("logtail/{q}"), "Tail -f Stdout", true),
                link(&format!("logtail/{q}/stderr"), "Tail -f Stderr", true),
            ));
        }
        content.push_str("  </tbody>\n  </table>\n");
    }
    content.push_str("  </form>");
    html(page("Supervisor Status", &content))
}

fn tail_page(sup: &mut Supervisor, form: &[(String, String)]) -> Response {
    // An empty value counts as absent (Python's parse_qs drops blank values).
    let Some(ns) = get(form, "processname").filter(|ns| !ns.is_empty()) else {
        return html(page(
            "Supervisor tail of process None",
            "  <div class=\"status_msg\">No process name found</div>",
        ));
    };
    let limit = get(form, "limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(1024)
        .max(1024);
    let text = match call(
        sup,
        "supervisor.readProcessStdoutLog",
        vec![Value::string(ns), Value::Int(-limit), Value::Int(0)],
    ) {
        Ok(Ok(v)) => v.as_str().unwrap_or_default().to_string(),
        Ok(Err((20, _))) => format!("No file for {ns}"),
        Ok(Err((code, text))) => format!("ERROR: unexpected rpc fault [{code}] {text}"),
        Err(_) => String::new(),
    };
    let content = format!(
        "  <h1>{}</h1>\n  <pre>{}</pre>\n  <form action=\"tail.html\" method=\"get\"><input type=\"hidden\" name=\"processname\" value=\"{}\" /><input type=\"submit\" value=\"Refresh\" /></form>",
        escape(ns),
        escape(&text),
        escape(ns)
    );
    html(page(&format!("Supervisor tail of process {ns}"), &content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_form_decoding_like_python() {
        assert_eq!(
            url_quote("Process long stopped"),
            "Process%20long%20stopped"
        );
        assert_eq!(url_quote("a:b/c&d"), "a%3Ab/c%26d");
        assert_eq!(form_decode("a+b%3Ac%2"), "a b:c%2");
    }

    #[test]
    fn redirect_headers_in_the_reference_order() {
        let r = redirect("http://h:1", "Process x started");
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Location",
                "Content-Type",
                "Pragma",
                "Cache-Control",
                "Expires",
                "Content-Length"
            ]
        );
        assert_eq!(
            r.header("Location"),
            Some("http://h:1/?message=Process%20x%20started")
        );
        assert_eq!(r.status, 301);
        assert_eq!(r.header("Content-Length"), Some("142"));
    }

    #[test]
    fn ctime_shape() {
        let t = ctime(SystemTime::now());
        assert_eq!(t.len(), 24, "{t}");
    }
}
