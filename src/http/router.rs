//! Which handler a request goes to, by method and path, with the reference's dispatch order.

use super::request::percent_decode;

/// Log channel of a `/logtail` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Stdout,
    Stderr,
}

/// Where a request goes. `Rpc`, `LogTail`, `MainLogTail` and `Ui` are the daemon's to answer;
/// the rest the HTTP server answers itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// POST to a path starting with `/RPC2`.
    Rpc,
    /// GET `/logtail/<namespec>[/stdout|/stderr]`; namespec %-decoded (`group:name` or `name`).
    LogTail { namespec: String, channel: Channel },
    /// GET `/mainlogtail`.
    MainLogTail,
    /// `/ok.html` (GET or POST): the health check, `200 text/plain OK`.
    Ok,
    /// The web pages `/`, `/index.html`, `/tail.html`, `/log.html`, the dashboard's live feed
    /// `/events` and its files `/assets/app.js`, `/assets/app.css` (GET or POST); `page` is the
    /// name without leading slashes (empty for `/`).
    Ui { page: String },
    /// GET `/healthz`, `/readyz`, `/metrics`: the orchestrator probes and Prometheus metrics (our
    /// extension; the reference answers 404).
    Probe(Probe),
    /// Answer with this status and the standard error page.
    Error(u16),
}

/// Which probe a `Route::Probe` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Healthz,
    Readyz,
    Metrics,
}

/// Routes a request by method and raw target (path with optional query, %-encoded).
pub fn route(method: &str, target: &str) -> Route {
    let raw_path = target.split(['?', '#']).next().unwrap_or("");
    let path = percent_decode(raw_path);
    if path.starts_with("/RPC2") {
        return if method == "POST" {
            Route::Rpc
        } else {
            Route::Error(400)
        };
    }
    if let Some(rest) = path.strip_prefix("/logtail") {
        if method != "GET" {
            return Route::Error(400);
        }
        return logtail(rest);
    }
    if path.starts_with("/mainlogtail") {
        return if method == "GET" {
            Route::MainLogTail
        } else {
            Route::Error(400)
        };
    }
    let page = path.trim_start_matches('/');
    if method == "GET" {
        match page {
            "healthz" => return Route::Probe(Probe::Healthz),
            "readyz" => return Route::Probe(Probe::Readyz),
            "metrics" => return Route::Probe(Probe::Metrics),
            _ => {}
        }
    }
    if method == "GET" || method == "POST" {
        match page {
            "ok.html" => return Route::Ok,
            "" | "index.html" | "tail.html" | "log.html" | "events" | "assets/app.js"
            | "assets/app.css" => {
                return Route::Ui {
                    page: page.to_string(),
                };
            }
            _ => {}
        }
    }
    // The reference's static-file handler takes everything else: GET/HEAD of a file that is not
    // there is 404, any other method 400.
    if method == "GET" || method == "HEAD" {
        Route::Error(404)
    } else {
        Route::Error(400)
    }
}

/// `rest` is what follows `/logtail`.
fn logtail(rest: &str) -> Route {
    // The reference fails with 500 when there is no process part at all; a client's request
    // never gets a 5xx here (docs/differences.md), so it is a 400.
    let Some(spec) = rest.strip_prefix('/') else {
        return Route::Error(400);
    };
    let (namespec, channel) = match spec.rsplit_once('/') {
        Some((name, "stdout")) => (name, Channel::Stdout),
        Some((name, "stderr")) => (name, Channel::Stderr),
        Some(_) => return Route::Error(404),
        None => (spec, Channel::Stdout),
    };
    if namespec.is_empty() {
        return Route::Error(404);
    }
    Route::LogTail {
        namespec: namespec.to_string(),
        channel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail(ns: &str, channel: Channel) -> Route {
        Route::LogTail {
            namespec: ns.into(),
            channel,
        }
    }

    #[test]
    fn routes() {
        let cases = [
            ("POST", "/RPC2", Route::Rpc),
            ("POST", "/RPC2/foo", Route::Rpc),
            ("POST", "/RPC2?x", Route::Rpc),
            ("GET", "/RPC2", Route::Error(400)),
            ("PUT", "/RPC2", Route::Error(400)),
            ("HEAD", "/RPC2", Route::Error(400)),
            ("GET", "/logtail/foo", tail("foo", Channel::Stdout)),
            ("GET", "/logtail/foo/stdout", tail("foo", Channel::Stdout)),
            ("GET", "/logtail/foo/stderr", tail("foo", Channel::Stderr)),
            (
                "GET",
                "/logtail/grp:foo/stderr",
                tail("grp:foo", Channel::Stderr),
            ),
            (
                "GET",
                "/logtail/chatty%3Achatty/stdout",
                tail("chatty:chatty", Channel::Stdout),
            ),
            ("GET", "/logtail/foo/other", Route::Error(404)),
            ("GET", "/logtail", Route::Error(400)),
            ("GET", "/logtail/", Route::Error(404)),
            ("POST", "/logtail/foo", Route::Error(400)),
            ("GET", "/mainlogtail", Route::MainLogTail),
            ("GET", "/mainlogtail?x=1", Route::MainLogTail),
            ("POST", "/mainlogtail", Route::Error(400)),
            ("GET", "/ok.html", Route::Ok),
            ("POST", "/ok.html", Route::Ok),
            ("GET", "/ok.html?x=1", Route::Ok),
            ("GET", "//ok.html", Route::Ok),
            ("HEAD", "/ok.html", Route::Error(404)),
            ("DELETE", "/ok.html", Route::Error(400)),
            ("GET", "/", Route::Ui { page: "".into() }),
            (
                "POST",
                "/index.html",
                Route::Ui {
                    page: "index.html".into(),
                },
            ),
            (
                "GET",
                "/tail.html?processname=foo",
                Route::Ui {
                    page: "tail.html".into(),
                },
            ),
            (
                "GET",
                "/events",
                Route::Ui {
                    page: "events".into(),
                },
            ),
            (
                "GET",
                "/assets/app.css",
                Route::Ui {
                    page: "assets/app.css".into(),
                },
            ),
            ("GET", "/assets/other.js", Route::Error(404)),
            ("HEAD", "/", Route::Error(404)),
            ("GET", "/healthz", Route::Probe(Probe::Healthz)),
            ("GET", "/readyz?verbose", Route::Probe(Probe::Readyz)),
            ("GET", "/metrics", Route::Probe(Probe::Metrics)),
            ("POST", "/metrics", Route::Error(400)),
            ("HEAD", "/healthz", Route::Error(404)),
            ("GET", "/metrics/x", Route::Error(404)),
            ("GET", "/nope", Route::Error(404)),
            ("PUT", "/nope", Route::Error(400)),
        ];
        for (method, target, want) in cases {
            assert_eq!(route(method, target), want, "{method} {target}");
        }
    }
}
