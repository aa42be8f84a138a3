//! The HTML of the dashboard and the reference's pages, and their responses (no-cache HTML, the
//! redirect after an action), built from values the RPC methods returned; pure functions of
//! their arguments. Rows are single-line fragments so the live feed (live.rs) can send exactly
//! what the server renders and the page never builds markup of its own.

use std::time::SystemTime;

use super::form::url_quote;
use crate::http::{Response, ctime};
use crate::process::ProcessState;
use crate::rpc::{Fault, Value};

/// Signals offered per row (the ones people send to daemons; any other works over XML-RPC).
const SIGNALS: [&str; 7] = ["HUP", "INT", "TERM", "KILL", "USR1", "USR2", "QUIT"];

/// What the table shows besides the RPC values.
pub struct TableView<'a> {
    /// Restarts of a process (by namespec), counted by the live feed.
    pub restarts: &'a dyn Fn(&str) -> u32,
    /// The filter box (`q=`): a case-insensitive part of a name or state.
    pub filter: Option<&'a str>,
    /// The sort column (`sort=`): `name`, `state` or `uptime`; config order otherwise.
    pub sort: Option<&'a str>,
}

/// `/` and `/index.html`: the message line, the global actions and one section per group with
/// a row per process of `getAllProcessInfo` (`fault` when that call failed).
pub fn status(
    message: Option<&str>,
    infos: &[Value],
    fault: Option<&Fault>,
    view: &TableView,
    wall: SystemTime,
) -> Response {
    let mut c = String::new();
    c.push_str("<header class=\"top\"><h1>Supervisor</h1><span id=\"live\" class=\"live\" hidden>offline</span></header>\n");
    let (class, text) = match (message, fault) {
        (_, Some(f)) => (
            " class=\"status_msg error\"",
            format!(
                "ERROR: unexpected rpc fault [{}] {}",
                f.code.code(),
                f.text()
            ),
        ),
        (Some(m), None) => (
            if is_error(m) {
                " class=\"status_msg error\""
            } else {
                " class=\"status_msg\""
            },
            m.to_string(),
        ),
        (None, None) => ("", String::new()),
    };
    c.push_str(&format!(
        "<div id=\"msg\"{class} role=\"status\" aria-live=\"polite\">{}</div>\n",
        escape(&text)
    ));
    c.push_str("<div class=\"bar\"><form class=\"all\" method=\"post\" action=\"index.html\">");
    c.push_str("<a class=\"button\" href=\"index.html\">Refresh</a>");
    c.push_str(&button(
        "restartall",
        "Restart all",
        Some("Restart every process?"),
    ));
    c.push_str(&button("stopall", "Stop all", Some("Stop every process?")));
    c.push_str("<a class=\"button\" href=\"log.html\">Main log</a></form>");
    c.push_str(&format!(
        "<form class=\"filter\" method=\"get\" action=\"index.html\" role=\"search\"><label for=\"q\">Filter</label><input id=\"q\" name=\"q\" type=\"search\" placeholder=\"name or state\" value=\"{}\">{}<button type=\"submit\">Apply</button></form></div>\n",
        escape(view.filter.unwrap_or_default()),
        view.sort
            .map(|s| format!("<input type=\"hidden\" name=\"sort\" value=\"{}\">", escape(s)))
            .unwrap_or_default()
    ));
    c.push_str("<div id=\"groups\">");
    c.push_str(&groups(infos, view));
    c.push_str("</div>");
    html(page("Supervisor Status", &c, wall))
}

/// Whether a message line reports a failure (the reference's texts start with these).
fn is_error(message: &str) -> bool {
    message.starts_with("ERROR") || message.starts_with("unexpected rpc fault")
}

/// The namespec of a getProcessInfo value.
pub fn namespec(info: &Value) -> String {
    let name = info.member_str("name").unwrap_or_default();
    let group = info.member_str("group").unwrap_or_default();
    if name == group {
        name.to_string()
    } else {
        format!("{group}:{name}")
    }
}

/// The table's sections: lone programs first (a group of one process named like it), then one
/// collapsible section per group. One line, so it can travel as one server-sent event.
pub fn groups(infos: &[Value], view: &TableView) -> String {
    if infos.is_empty() {
        return "<p class=\"empty\">No programs to manage</p>".to_string();
    }
    let mut sections: Vec<(Option<&str>, Vec<&Value>)> = vec![(None, Vec::new())];
    for info in infos {
        let group = info.member_str("group").unwrap_or_default();
        if info.member_str("name") == Some(group) {
            sections[0].1.push(info);
        } else if let Some(section) = sections.iter_mut().find(|(g, _)| *g == Some(group)) {
            section.1.push(info);
        } else {
            sections.push((Some(group), vec![info]));
        }
    }
    let mut out = String::new();
    for (group, mut members) in sections {
        if members.is_empty() {
            continue;
        }
        sort(&mut members, view.sort);
        out.push_str(&section(group, &members, view));
    }
    out
}

fn sort(rows: &mut [&Value], key: Option<&str>) {
    match key {
        Some("name") => crate::sort::sort_by_key(rows, |i| namespec(i)),
        Some("state") => crate::sort::sort_by_key(rows, |i| {
            (
                state_rank(i.member_str("statename").unwrap_or_default()),
                namespec(i),
            )
        }),
        // Longest running first; stopped ones (start 0 or not running) last.
        Some("uptime") => crate::sort::sort_by_key(rows, |i| {
            let running = i.member_str("statename") == Some(ProcessState::Running.name());
            let start = i.member_int("start").unwrap_or(0);
            (!running, start, namespec(i))
        }),
        _ => {}
    }
}

/// Trouble first when sorting by state.
fn state_rank(statename: &str) -> u8 {
    match statename {
        "FATAL" => 0,
        "BACKOFF" => 1,
        "EXITED" => 2,
        "UNKNOWN" => 3,
        "STOPPING" => 4,
        "STARTING" => 5,
        "STOPPED" => 6,
        _ => 7,
    }
}

fn matches(info: &Value, filter: Option<&str>) -> bool {
    let Some(f) = filter.map(str::to_lowercase).filter(|f| !f.is_empty()) else {
        return true;
    };
    namespec(info).to_lowercase().contains(&f)
        || info
            .member_str("statename")
            .is_some_and(|s| s.to_lowercase().contains(&f))
}

fn section(group: Option<&str>, rows: &[&Value], view: &TableView) -> String {
    let running = rows
        .iter()
        .filter(|i| i.member_str("statename") == Some(ProcessState::Running.name()))
        .count();
    let (id, name) = match group {
        Some(g) => (format!("g-{}", escape(g)), escape(g)),
        None => ("programs".to_string(), "Programs".to_string()),
    };
    let mut out = format!(
        "<details class=\"group\" id=\"{id}\" open><summary><span class=\"gname\">{name}</span> <span class=\"gsum\">{running} of {} running</span></summary>",
        rows.len()
    );
    if let Some(g) = group {
        out.push_str(&format!(
            "<form class=\"gactions\" method=\"post\" action=\"index.html\"><input type=\"hidden\" name=\"processname\" value=\"{}\">{}{}{}</form>",
            escape(g),
            button("startgroup", "Start group", None),
            button("restartgroup", "Restart group", Some(&format!("Restart every process of group {g}?"))),
            button("stopgroup", "Stop group", Some(&format!("Stop every process of group {g}?"))),
        ));
    }
    let sort = |key: &str, label: &str| {
        let current = if view.sort == Some(key) {
            " aria-sort=\"ascending\""
        } else {
            ""
        };
        format!(
            "<th{current}><a href=\"index.html?sort={key}\" data-sort=\"{key}\">{label}</a></th>"
        )
    };
    out.push_str(&format!(
        "<table><thead><tr>{}{}<th>Description</th><th>Exit</th><th>Restarts</th><th>Actions</th></tr></thead><tbody>",
        sort("state", "State"),
        sort("name", "Name"),
    ));
    for info in rows {
        let hidden = !matches(info, view.filter);
        out.push_str(&row(info, (view.restarts)(&namespec(info)), hidden));
    }
    out.push_str("</tbody></table></details>");
    out
}

fn button(action: &str, label: &str, confirm: Option<&str>) -> String {
    let confirm = confirm
        .map(|q| format!(" data-confirm=\"{}\"", escape(q)))
        .unwrap_or_default();
    format!("<button type=\"submit\" name=\"action\" value=\"{action}\"{confirm}>{label}</button>")
}

/// One process's row: state badge (colour and word), name linking to its log, description,
/// exit status, restarts and its actions (a POST form; buttons that make no sense in the
/// current state are disabled). `hidden` when the filter leaves it out.
pub fn row(info: &Value, restarts: u32, hidden: bool) -> String {
    use ProcessState::{Backoff, Exited, Fatal, Running, Starting, Stopped, Stopping};
    let ns = namespec(info);
    let state = info.member_str("statename").unwrap_or("UNKNOWN");
    let start = info.member_int("start").unwrap_or(0);
    let stop = info.member_int("stop").unwrap_or(0);
    let pid = info.member_int("pid").unwrap_or(0);
    let q = url_quote(&ns);
    let e = escape(&ns);
    let exit = if stop != 0 && start != 0 && !is(state, &[Running, Starting]) {
        info.member_int("exitstatus").unwrap_or(0).to_string()
    } else {
        String::new()
    };
    let health = match info.member_str("health") {
        Some(h) => format!(" <span class=\"health h-{0}\">{0}</span>", escape(h)),
        None => String::new(),
    };
    let disabled = |on: bool| if on { "" } else { " disabled" };
    let act = |action: &str, label: &str, on: bool| {
        format!(
            "<button type=\"submit\" name=\"action\" value=\"{action}\"{}>{label}</button>",
            disabled(on)
        )
    };
    let signals: String = SIGNALS
        .iter()
        .map(|s| format!("<option>{s}</option>"))
        .collect();
    format!(
        "<tr id=\"p-{e}\" data-ns=\"{e}\" data-state=\"{state}\" data-pid=\"{pid}\" data-start=\"{start}\" data-now=\"{now}\"{hide}>\
<td class=\"state\" data-label=\"State\"><span class=\"badge s-{lower}\">{state}</span>{health}</td>\
<td class=\"name\" data-label=\"Name\"><a href=\"log.html?processname={q}\">{e}</a></td>\
<td class=\"desc\" data-label=\"Description\">{desc}</td>\
<td class=\"exit\" data-label=\"Exit\">{exit}</td>\
<td class=\"restarts\" data-label=\"Restarts\">{restarts}</td>\
<td class=\"actions\"><form method=\"post\" action=\"index.html\"><input type=\"hidden\" name=\"processname\" value=\"{e}\">\
{start_b}{restart_b}{stop_b}<span class=\"sig\"><select name=\"signal\" aria-label=\"Signal for {e}\">{signals}</select>{signal_b}</span>\
<button type=\"submit\" name=\"action\" value=\"clearlog\" data-confirm=\"Clear the logs of {e}?\">Clear log</button>\
<a class=\"button\" href=\"log.html?processname={q}\">Tail</a></form></td></tr>",
        now = info.member_int("now").unwrap_or(0),
        hide = if hidden { " hidden" } else { "" },
        lower = state.to_lowercase(),
        desc = escape(info.member_str("description").unwrap_or_default()),
        start_b = act("start", "Start", is(state, &[Stopped, Exited, Fatal])),
        restart_b = act("restart", "Restart", !is(state, &[Stopping])),
        stop_b = act("stop", "Stop", is(state, &[Starting, Running, Backoff])),
        signal_b = act(
            "signal",
            "Signal",
            is(state, &[Starting, Running, Stopping])
        ),
    )
}

/// Whether `statename` (as getAllProcessInfo reports it) names one of `states`.
fn is(statename: &str, states: &[ProcessState]) -> bool {
    states.iter().any(|s| s.name() == statename)
}

/// A destructive action asked for without `confirm=yes` (a page without JavaScript): the
/// question and a form that repeats the action confirmed.
pub fn confirm(action: &str, ns: &str, question: &str, wall: SystemTime) -> Response {
    let content = format!(
        "<header class=\"top\"><h1>Supervisor</h1></header><div class=\"confirm\"><p>{}</p><form method=\"post\" action=\"index.html\"><input type=\"hidden\" name=\"action\" value=\"{}\"><input type=\"hidden\" name=\"processname\" value=\"{}\"><input type=\"hidden\" name=\"confirm\" value=\"yes\"><button type=\"submit\" class=\"danger\">Yes</button> <a class=\"button\" href=\"index.html\">Cancel</a></form></div>",
        escape(question),
        escape(action),
        escape(ns)
    );
    html(page("Supervisor: confirm", &content, wall))
}

/// Which log a log page shows.
pub struct LogView<'a> {
    /// None: the main log.
    pub ns: Option<&'a str>,
    pub stderr: bool,
    /// The last bytes of the file, or why there are none.
    pub text: Result<&'a [u8], &'a str>,
    /// Where the file ended when `text` was read (the live stream continues from there).
    pub end: u64,
    /// Bytes the page keeps.
    pub keep: usize,
}

/// `/log.html?processname=x[&channel=stderr]` (or the main log without a name): the end of the
/// file, tabs for the channels, and where the page's script follows the file from.
pub fn log(view: &LogView, wall: SystemTime) -> Response {
    let (title, src) = match view.ns {
        Some(ns) => {
            let q = url_quote(ns);
            let channel = if view.stderr { "/stderr" } else { "" };
            (
                format!("{ns} {}", if view.stderr { "stderr" } else { "stdout" }),
                format!("logtail/{q}{channel}?offset={}", view.end),
            )
        }
        None => (
            "main log".to_string(),
            format!("mainlogtail?offset={}", view.end),
        ),
    };
    let tab = |href: String, label: &str, current: bool| {
        let aria = if current {
            " aria-current=\"page\""
        } else {
            ""
        };
        format!("<a href=\"{}\"{aria}>{label}</a>", escape(&href))
    };
    let mut tabs = String::new();
    if let Some(ns) = view.ns {
        let q = url_quote(ns);
        tabs.push_str(&tab(
            format!("log.html?processname={q}"),
            "stdout",
            !view.stderr,
        ));
        tabs.push_str(&tab(
            format!("log.html?processname={q}&channel=stderr"),
            "stderr",
            view.stderr,
        ));
    }
    tabs.push_str(&tab("log.html".to_string(), "main log", view.ns.is_none()));
    tabs.push_str(&tab("index.html".to_string(), "status", false));
    let body = match view.text {
        Ok(bytes) => format!(
            "<pre id=\"log\" tabindex=\"0\" data-src=\"{}\" data-keep=\"{}\">{}</pre>",
            escape(&src),
            view.keep,
            escape(&String::from_utf8_lossy(bytes))
        ),
        Err(why) => format!("<div class=\"status_msg error\">{}</div>", escape(why)),
    };
    let content = format!(
        "<header class=\"top\"><h1>{}</h1><span id=\"live\" class=\"live\" hidden>offline</span></header><nav class=\"tabs\">{tabs}</nav><div class=\"bar logbar\"><button type=\"button\" id=\"pause\" hidden>Pause</button><a class=\"button\" href=\"\">Reload</a><span class=\"note\">last {} KiB</span></div>{body}",
        escape(&title),
        view.keep / 1024
    );
    html(page(&format!("Supervisor log: {title}"), &content, wall))
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
        "  <h1>{}</h1>\n  <nav class=\"tabs\"><a href=\"log.html?processname={}\">follow live</a><a href=\"index.html\">status</a></nav>\n  <pre>{}</pre>\n  <form action=\"tail.html\" method=\"get\"><input type=\"hidden\" name=\"processname\" value=\"{}\" /><input type=\"submit\" value=\"Refresh\" /></form>",
        escape(ns),
        url_quote(ns),
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

/// An action's message for the page's script (which shows it without leaving the page).
pub fn message_text(message: &str) -> Response {
    no_cache(Response::ok(
        "text/plain;charset=utf-8",
        message.as_bytes().to_vec(),
    ))
}

/// The page shell: no inline script or style (the strict CSP), both from `/assets/`.
fn page(title: &str, content: &str, wall: SystemTime) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n  <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n  <meta name=\"color-scheme\" content=\"light dark\">\n  <title>{}</title>\n  <link rel=\"stylesheet\" href=\"assets/app.css\">\n  <script src=\"assets/app.js\" defer></script>\n</head>\n<body>\n<main id=\"wrapper\">\n{content}\n</main>\n<footer id=\"footer\">\n  <a href=\"http://supervisord.org\">Supervisor</a> <span>{}</span> &copy; <span>{}</span>\n</footer>\n</body>\n</html>\n",
        escape(title),
        crate::wire::SUPERVISOR_VERSION,
        year(wall)
    )
}

pub fn escape(s: &str) -> String {
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

/// What the pages may load: their own script, style sheet, live feed and log streams, forms
/// posted to themselves; nothing inline, nothing from elsewhere, no framing. (The HTTP layer's
/// security headers must allow at least this much: a second, stricter policy would be enforced
/// as well and stop the script.)
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn html(body: String) -> Response {
    let mut response = no_cache(Response::ok("text/html;charset=utf-8", body.into_bytes()));
    response
        .headers
        .insert(0, ("Content-Security-Policy".to_string(), CSP.to_string()));
    response
}

/// `/assets/app.js` and `/assets/app.css`: the page's one script and one style sheet, compiled
/// into the binary (no external assets; the CSP allows only same-origin files).
pub fn asset(name: &str) -> Option<Response> {
    let (content_type, body) = match name {
        "assets/app.js" => (
            "text/javascript;charset=utf-8",
            include_str!("assets/app.js"),
        ),
        "assets/app.css" => ("text/css;charset=utf-8", include_str!("assets/app.css")),
        _ => return None,
    };
    Some(no_cache(Response::ok(
        content_type,
        body.as_bytes().to_vec(),
    )))
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
            ("start", Value::Int(100)),
            ("stop", Value::Int(0)),
            ("now", Value::Int(105)),
            ("pid", Value::Int(1)),
            ("exitstatus", Value::Int(0)),
        ])
    }

    fn body(r: &Response) -> String {
        String::from_utf8_lossy(&r.body).into_owned()
    }

    fn view<'a>(filter: Option<&'a str>, sort: Option<&'a str>) -> TableView<'a> {
        TableView {
            restarts: &|ns| if ns == "web" { 2 } else { 0 },
            filter,
            sort,
        }
    }

    #[test]
    fn rows_offer_the_actions_of_their_state_as_post_forms() {
        let infos = [
            info("web", "web", ProcessState::Running),
            info("pool", "w1", ProcessState::Fatal),
            info("pool", "w2", ProcessState::Starting),
        ];
        let page = body(&status(
            None,
            &infos,
            None,
            &view(None, None),
            SystemTime::UNIX_EPOCH,
        ));
        assert!(page.contains("<span class=\"badge s-running\">RUNNING</span>"));
        assert!(page.contains("<span class=\"badge s-fatal\">FATAL</span>"));
        assert!(page.contains("<span class=\"badge s-starting\">STARTING</span>"));
        // Actions are POST forms; nothing acts on a GET link.
        assert!(!page.contains("action=stop\""));
        assert!(page.contains("<form method=\"post\" action=\"index.html\"><input type=\"hidden\" name=\"processname\" value=\"pool:w1\">"));
        assert!(page.contains("value=\"start\">Start</button>"));
        assert!(page.contains("value=\"stop\" disabled>Stop</button>"));
        assert!(
            page.contains("<td class=\"desc\" data-label=\"Description\">pid 1, &lt;up&gt;</td>")
        );
        assert!(page.contains("<td class=\"restarts\" data-label=\"Restarts\">2</td>"));
        assert!(page.contains("<details class=\"group\" id=\"g-pool\" open>"));
        assert!(page.contains("0 of 2 running"));
        assert!(page.contains("value=\"stopall\" data-confirm=\"Stop every process?\""));
        assert!(
            !page.contains("<script>") && !page.contains("<style>") && !page.contains(" style=")
        );
    }

    #[test]
    fn filter_hides_rows_and_sort_orders_them() {
        let infos = [
            info("b", "b", ProcessState::Running),
            info("a", "a", ProcessState::Fatal),
        ];
        let page = body(&status(
            None,
            &infos,
            None,
            &view(Some("fat"), Some("name")),
            SystemTime::UNIX_EPOCH,
        ));
        let a = page.find("id=\"p-a\"").unwrap();
        let b = page.find("id=\"p-b\"").unwrap();
        assert!(a < b);
        assert!(page.contains("data-now=\"105\" hidden>"));
        assert!(page.contains("value=\"fat\""));
    }

    #[test]
    fn a_fault_shows_above_an_empty_table() {
        let fault = Fault::new(FaultCode::ShutdownState);
        let page = body(&status(
            Some("a<b"),
            &[],
            Some(&fault),
            &view(None, None),
            SystemTime::UNIX_EPOCH,
        ));
        assert!(page.contains("ERROR: unexpected rpc fault [6] SHUTDOWN_STATE</div>"));
        assert!(page.contains("<p class=\"empty\">No programs to manage</p>"));
        let page = body(&status(
            Some("a<b"),
            &[],
            None,
            &view(None, None),
            SystemTime::UNIX_EPOCH,
        ));
        assert!(page.contains(
            "<div id=\"msg\" class=\"status_msg\" role=\"status\" aria-live=\"polite\">a&lt;b</div>"
        ));
    }

    #[test]
    fn log_pages_escape_and_replace_bad_bytes() {
        let bytes = b"ok <b>\xff\xfe\n";
        let page = body(&log(
            &LogView {
                ns: Some("g:p"),
                stderr: true,
                text: Ok(bytes),
                end: 42,
                keep: 65536,
            },
            SystemTime::UNIX_EPOCH,
        ));
        assert!(page.contains("ok &lt;b&gt;\u{fffd}\u{fffd}\n</pre>"));
        assert!(page.contains("data-src=\"logtail/g%3Ap/stderr?offset=42\""));
        assert!(page.contains("aria-current=\"page\">stderr</a>"));
    }

    #[test]
    fn assets_are_served_with_their_types() {
        assert_eq!(
            asset("assets/app.js").unwrap().header("Content-Type"),
            Some("text/javascript;charset=utf-8")
        );
        assert_eq!(
            asset("assets/app.css").unwrap().header("Content-Type"),
            Some("text/css;charset=utf-8")
        );
        assert!(asset("assets/nope").is_none());
    }
}
