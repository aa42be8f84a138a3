//! The HTML of the status pages and the page's responses (no-cache HTML, the redirect after an
//! action), built from values the RPC methods returned; pure functions of their arguments.

use std::time::SystemTime;

use super::form::url_quote;
use crate::http::{Response, ctime};
use crate::process::ProcessState;
use crate::rpc::{Fault, Value};

const STYLE: &str = "body{font-family:sans-serif;margin:0;background:#f4f4f4;color:#222}\
#wrapper{max-width:1000px;margin:0 auto;padding:1em}\
h1{font-size:1.4em}table{width:100%;border-collapse:collapse;background:#fff}\
th,td{padding:.4em .6em;text-align:left;border-bottom:1px solid #ddd}\
tr.shade{background:#fafafa}.statusrunning{color:#070}.statuserror{color:#b00;font-weight:bold}\
.statusnominal{color:#555}.status_msg{background:#ffd;border:1px solid #cc8;padding:.5em;margin:.5em 0}\
ul{list-style:none;margin:0;padding:0}td.action li,#buttons li{display:inline;margin-right:.6em}\
.hidden{visibility:hidden}#footer{max-width:1000px;margin:1em auto;font-size:.8em;color:#666}";

/// An action slot left empty (the reference keeps the column aligned with a hidden link).
const HIDDEN: &str = "<li><a class=\"hidden\" href=\"#\" name=\"#\">Action</a></li>";

/// `/` and `/index.html`: the message line, the buttons and one row per process of
/// `getAllProcessInfo` (`fault` when that call failed).
pub fn status(
    message: Option<&str>,
    infos: &[Value],
    fault: Option<&Fault>,
    wall: SystemTime,
) -> Response {
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
    if let Some(fault) = fault {
        content.push_str(&format!(
            "  <div class=\"status_msg\">ERROR: unexpected rpc fault [{}] {}</div>\n",
            fault.code.code(),
            escape(&fault.text())
        ));
    }
    if infos.is_empty() {
        content.push_str("  <p>No programs to manage</p>\n");
    } else {
        content.push_str("  <table cellspacing=\"0\">\n  <thead><tr><th class=\"state\">State</th><th class=\"desc\">Description</th><th class=\"name\">Name</th><th class=\"action\">Action</th></tr></thead>\n  <tbody>\n");
        for (i, info) in infos.iter().enumerate() {
            content.push_str(&row(info, i % 2 == 1));
        }
        content.push_str("  </tbody>\n  </table>\n");
    }
    content.push_str("  </form>");
    html(page("Supervisor Status", &content, wall))
}

/// Whether `statename` (as getAllProcessInfo reports it) names one of `states`.
fn is(statename: &str, states: &[ProcessState]) -> bool {
    states.iter().any(|s| s.name() == statename)
}

/// One process's table row: state, description, name (linking to its tail page) and actions.
fn row(info: &Value, shade: bool) -> String {
    use ProcessState::{Backoff, Exited, Fatal, Running, Stopped};
    let name = info.member_str("name").unwrap_or_default();
    let group = info.member_str("group").unwrap_or_default();
    let ns = if name == group {
        name.to_string()
    } else {
        format!("{group}:{name}")
    };
    let state = info.member_str("statename").unwrap_or_default();
    let class = if is(state, &[Running]) {
        "statusrunning"
    } else if is(state, &[Backoff, Fatal]) {
        "statuserror"
    } else {
        "statusnominal"
    };
    let q = url_quote(&ns);
    let act = |a: &str, label: &str| {
        link(
            &format!("index.html?processname={q}&action={a}"),
            label,
            false,
        )
    };
    let (first, second) = if is(state, &[Running]) {
        (act("restart", "Restart"), act("stop", "Stop"))
    } else if is(state, &[Stopped, Exited, Fatal]) {
        (act("start", "Start"), HIDDEN.to_string())
    } else {
        (HIDDEN.to_string(), HIDDEN.to_string())
    };
    format!(
        "    <tr class=\"{}\">\n      <td class=\"status\"><span class=\"{class}\">{}</span></td>\n      <td><span>{}</span></td>\n      <td><a href=\"tail.html?processname={q}\" target=\"_blank\">{}</a></td>\n      <td class=\"action\"><ul>{first}{second}{}{}{}</ul></td>\n    </tr>\n",
        if shade { "shade" } else { "" },
        state.to_lowercase(),
        escape(info.member_str("description").unwrap_or_default()),
        escape(&ns),
        act("clearlog", "Clear Log"),
        link(&format!("logtail/{q}"), "Tail -f Stdout", true),
        link(&format!("logtail/{q}/stderr"), "Tail -f Stderr", true),
    )
}

/// `/tail.html` without a process name.
pub fn tail_without_name(wall: SystemTime) -> Response {
    html(page(
        "Supervisor tail of process None",
        "  <div class=\"status_msg\">No process name found</div>",
        wall,
    ))
}

/// `/tail.html?processname=<ns>`: the end of the process's stdout log (or why there is none).
pub fn tail(ns: &str, text: &str, wall: SystemTime) -> Response {
    let content = format!(
        "  <h1>{}</h1>\n  <pre>{}</pre>\n  <form action=\"tail.html\" method=\"get\"><input type=\"hidden\" name=\"processname\" value=\"{}\" /><input type=\"submit\" value=\"Refresh\" /></form>",
        escape(ns),
        escape(text),
        escape(ns)
    );
    html(page(
        &format!("Supervisor tail of process {ns}"),
        &content,
        wall,
    ))
}

/// `301` to the status page with a message, as the reference redirects after an action.
pub fn redirect(location: &str, message: &str) -> Response {
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

fn page(title: &str, content: &str, wall: SystemTime) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n  <title>{}</title>\n  <style>{STYLE}</style>\n</head>\n<body>\n<div id=\"wrapper\">\n{content}\n</div>\n<div class=\"clr\" id=\"footer\">\n  <a href=\"http://supervisord.org\">Supervisor</a> <span>{}</span> &copy; <span>{}</span>\n</div>\n</body>\n</html>\n",
        escape(title),
        crate::wire::SUPERVISOR_VERSION,
        year(wall)
    )
}

fn link(href: &str, label: &str, blank: bool) -> String {
    format!(
        "<li><a href=\"{}\" name=\"{label}\"{}>{label}</a></li>",
        escape(href),
        if blank { " target=\"_blank\"" } else { "" }
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::FaultCode;

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

    fn info(group: &str, name: &str, state: ProcessState) -> Value {
        Value::structure([
            ("name", Value::string(name)),
            ("group", Value::string(group)),
            ("statename", Value::string(state.name())),
            ("description", Value::string("pid 1, <up>")),
        ])
    }

    fn body(r: &Response) -> String {
        String::from_utf8_lossy(&r.body).into_owned()
    }

    #[test]
    fn rows_offer_the_actions_of_their_state() {
        let infos = [
            info("web", "web", ProcessState::Running),
            info("pool", "w1", ProcessState::Fatal),
            info("pool", "w2", ProcessState::Starting),
        ];
        let page = body(&status(None, &infos, None, SystemTime::UNIX_EPOCH));
        assert!(page.contains("<span class=\"statusrunning\">running</span>"));
        assert!(page.contains("<span class=\"statuserror\">fatal</span>"));
        assert!(page.contains("<span class=\"statusnominal\">starting</span>"));
        assert!(page.contains("index.html?processname=web&amp;action=stop"));
        assert!(page.contains("index.html?processname=pool%3Aw1&amp;action=start"));
        assert!(!page.contains("processname=pool%3Aw2&amp;action=st"));
        assert!(page.contains("<tr class=\"shade\">"));
        assert!(page.contains("<td><span>pid 1, &lt;up&gt;</span></td>"));
    }

    #[test]
    fn a_fault_shows_above_an_empty_table() {
        let fault = Fault::new(FaultCode::ShutdownState);
        let page = body(&status(
            Some("a<b"),
            &[],
            Some(&fault),
            SystemTime::UNIX_EPOCH,
        ));
        assert!(page.contains("<div class=\"status_msg\">a&lt;b</div>"));
        assert!(page.contains("ERROR: unexpected rpc fault [6] SHUTDOWN_STATE</div>"));
        assert!(page.contains("<p>No programs to manage</p>"));
    }
}
