//! The orchestrator probes: `/healthz` (liveness: the loop answers) and `/readyz` (readiness: a
//! pure function over the process statuses, so tests need no processes).

use crate::http::Response;
use crate::rpc::backend::{Health, ProcessState, ProcessStatus, SupervisorState};

/// Why one process keeps supervisord from being ready (None: it is ready).
pub fn not_ready(p: &ProcessStatus<'_>) -> Option<String> {
    if !p.autostart {
        // Programs an operator starts by hand are not part of the container's readiness.
        return None;
    }
    match p.state {
        ProcessState::Running => match p.healthy {
            Some(Health::Unhealthy) => Some("RUNNING but its health check fails".to_string()),
            Some(Health::Starting) => Some("RUNNING, health check not passed yet".to_string()),
            Some(Health::Healthy) | None => None,
        },
        // A one-shot that finished as expected and stays finished is done, not broken.
        ProcessState::Exited if p.exit_expected && !p.restarts_after_exit => None,
        ProcessState::Exited => Some(match p.exitstatus {
            Some(code) if !p.exit_expected => format!("EXITED with unexpected status {code}"),
            _ => "EXITED and restarting".to_string(),
        }),
        ProcessState::Backoff | ProcessState::Fatal if !p.spawnerr.is_empty() => {
            Some(format!("{}: {}", p.state.name(), p.spawnerr))
        }
        state => Some(state.name().to_string()),
    }
}

/// Readiness: Ok when every autostarted process is running (and healthy where checked) or has
/// finished as a one-shot; Err(body) lists, one line each, `namespec: why` for the others.
pub fn readiness(state: SupervisorState, statuses: &[ProcessStatus<'_>]) -> Result<(), String> {
    let mut body = String::new();
    if state != SupervisorState::Running {
        body.push_str(&format!("supervisord: {}\n", state.name()));
    }
    for p in statuses {
        if let Some(why) = not_ready(p) {
            if p.group != p.name {
                body.push_str(p.group);
                body.push(':');
            }
            body.push_str(p.name);
            body.push_str(": ");
            body.push_str(&why);
            body.push('\n');
        }
    }
    if body.is_empty() { Ok(()) } else { Err(body) }
}

/// `GET /healthz`: answered from inside the loop, so a reply proves the loop is serving.
pub fn healthz() -> Response {
    Response::ok("text/plain; charset=utf-8", "ok\n")
}

/// `GET /readyz`: 200 `ok`, or 503 with the list of processes that are not ready.
pub fn readyz(state: SupervisorState, statuses: &[ProcessStatus<'_>]) -> Response {
    match readiness(state, statuses) {
        Ok(()) => Response::ok("text/plain; charset=utf-8", "ok\n"),
        Err(body) => {
            let mut response = Response::ok("text/plain; charset=utf-8", body);
            response.status = 503;
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(name: &'static str) -> ProcessStatus<'static> {
        ProcessStatus {
            group: name,
            name,
            state: ProcessState::Running,
            autostart: true,
            exit_expected: false,
            restarts_after_exit: true,
            start_time: 1.0,
            exitstatus: None,
            last_exitstatus: None,
            spawns: 1,
            log_bytes: [0; 2],
            healthy: None,
            spawnerr: "",
        }
    }

    #[test]
    fn each_process_state_against_readiness() {
        let base = running("web");
        let exited = |code, expected, restarts| ProcessStatus {
            state: ProcessState::Exited,
            exitstatus: Some(code),
            exit_expected: expected,
            restarts_after_exit: restarts,
            ..base
        };
        let cases: Vec<(ProcessStatus<'_>, Option<&str>)> = vec![
            (base, None),
            (
                ProcessStatus {
                    healthy: Some(Health::Healthy),
                    ..base
                },
                None,
            ),
            (
                ProcessStatus {
                    healthy: Some(Health::Starting),
                    ..base
                },
                Some("RUNNING, health check not passed yet"),
            ),
            (
                ProcessStatus {
                    healthy: Some(Health::Unhealthy),
                    ..base
                },
                Some("RUNNING but its health check fails"),
            ),
            (
                ProcessStatus {
                    state: ProcessState::Starting,
                    ..base
                },
                Some("STARTING"),
            ),
            (
                ProcessStatus {
                    state: ProcessState::Backoff,
                    spawnerr: "Exited too quickly (process log may have details)",
                    ..base
                },
                Some("BACKOFF: Exited too quickly (process log may have details)"),
            ),
            (
                ProcessStatus {
                    state: ProcessState::Fatal,
                    spawnerr: "can't find command 'nope'",
                    ..base
                },
                Some("FATAL: can't find command 'nope'"),
            ),
            (
                ProcessStatus {
                    state: ProcessState::Fatal,
                    ..base
                },
                Some("FATAL"),
            ),
            (
                ProcessStatus {
                    state: ProcessState::Stopped,
                    ..base
                },
                Some("STOPPED"),
            ),
            (
                ProcessStatus {
                    state: ProcessState::Stopping,
                    ..base
                },
                Some("STOPPING"),
            ),
            // A one-shot: exited as expected, not restarted.
            (exited(0, true, false), None),
            // Expected exit, but autorestart=true brings it back: not done yet.
            (exited(0, true, true), Some("EXITED and restarting")),
            (
                exited(3, false, false),
                Some("EXITED with unexpected status 3"),
            ),
            (
                exited(3, false, true),
                Some("EXITED with unexpected status 3"),
            ),
            // Programs started by hand do not count, whatever their state.
            (
                ProcessStatus {
                    state: ProcessState::Fatal,
                    autostart: false,
                    ..base
                },
                None,
            ),
        ];
        for (status, want) in cases {
            assert_eq!(not_ready(&status).as_deref(), want, "{status:?}");
        }
    }

    #[test]
    fn the_body_names_each_process_that_is_not_ready() {
        let web = running("web");
        let worker = ProcessStatus {
            group: "pool",
            name: "worker_01",
            state: ProcessState::Starting,
            ..web
        };
        let idle = ProcessStatus {
            name: "idle",
            group: "idle",
            autostart: false,
            state: ProcessState::Stopped,
            ..web
        };
        assert_eq!(readiness(SupervisorState::Running, &[web, idle]), Ok(()));
        assert_eq!(readiness(SupervisorState::Running, &[]), Ok(()));
        assert_eq!(
            readiness(SupervisorState::Running, &[web, worker, idle]),
            Err("pool:worker_01: STARTING\n".to_string())
        );
        assert_eq!(
            readiness(SupervisorState::Shutdown, &[web]),
            Err("supervisord: SHUTDOWN\n".to_string())
        );
        let response = readyz(SupervisorState::Running, &[worker]);
        assert_eq!(response.status, 503);
        assert_eq!(response.body, b"pool:worker_01: STARTING\n");
        assert_eq!(readyz(SupervisorState::Running, &[web]).status, 200);
        assert_eq!(healthz().body, b"ok\n");
    }
}
