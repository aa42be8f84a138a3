//! The pure health-check state machine of one process: when a check is due, when it times out,
//! how results count (start period, consecutive failures), the verdict and what to log or do.
//! Time is an argument; the daemon (src/daemon/health_checks.rs) runs the checks it asks for.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use crate::config::model::{HealthAction, HealthCheck, LogLevel};

/// The health of a process with a health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    /// No verdict yet since the process entered RUNNING (also while it is not RUNNING).
    Starting,
    Healthy,
    Unhealthy,
}

impl Health {
    /// The word `status` shows after the uptime.
    pub fn name(self) -> &'static str {
        match self {
            Health::Starting => "starting",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        }
    }
}

/// How one check ended, with a short reason for the log (`http 503`, `exec exit 1`). The
/// reason is usually a constant (`http 200`): borrowed then, not allocated for every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass(Cow<'static, str>),
    Fail(Cow<'static, str>),
}

impl Outcome {
    pub fn pass(reason: impl Into<Cow<'static, str>>) -> Outcome {
        Outcome::Pass(reason.into())
    }

    pub fn fail(reason: impl Into<Cow<'static, str>>) -> Outcome {
        Outcome::Fail(reason.into())
    }
}

/// What the daemon must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Start a check now (none is in flight).
    StartCheck,
    /// Abandon the check in flight (kill an exec check's process group, close a socket).
    CancelCheck,
    Log(LogLevel, String),
    /// Stop the process and start it again (`healthcheck_action=restart`).
    Restart,
}

/// One process's health-check schedule and verdict.
#[derive(Debug, Clone)]
pub struct Monitor {
    /// The process's name, for log lines.
    name: String,
    pub health: Health,
    /// When the process entered RUNNING; None while it is not RUNNING (no checks then).
    running_since: Option<Instant>,
    /// When the next check is due (while none is in flight).
    due: Option<Instant>,
    /// When the check in flight started.
    in_flight: Option<Instant>,
    /// Counted failures in a row.
    failures: u32,
    /// Whether the per-check debug lines are wanted: off, they are not even formatted (a
    /// failing check every interval on many programs would format lines nobody logs).
    debug_lines: bool,
}

impl Monitor {
    pub fn new(name: &str) -> Monitor {
        Monitor {
            name: name.to_string(),
            health: Health::Starting,
            running_since: None,
            due: None,
            in_flight: None,
            failures: 0,
            debug_lines: true,
        }
    }

    /// Whether to make the per-check debug lines (the daemon turns them off below debug level).
    pub fn set_debug_lines(&mut self, on: bool) {
        self.debug_lines = on;
    }

    /// Whether a check is in flight.
    pub fn checking(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Follows the process: checks run only while it is RUNNING. Entering RUNNING makes the
    /// first check due at once; leaving it drops the verdict and cancels a check in flight.
    pub fn set_running(&mut self, running: bool, now: Instant) -> Vec<Step> {
        match (running, self.running_since.is_some()) {
            (true, false) => {
                self.running_since = Some(now);
                self.due = Some(now);
                self.health = Health::Starting;
                self.failures = 0;
                Vec::new()
            }
            (false, true) => {
                self.running_since = None;
                self.due = None;
                self.health = Health::Starting;
                self.failures = 0;
                if self.in_flight.take().is_some() {
                    vec![Step::CancelCheck]
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        }
    }

    /// When `on_timeout` has something to do: the next check, or the timeout of the one in flight.
    pub fn next_deadline(&self, config: &HealthCheck) -> Option<Instant> {
        self.running_since?;
        match self.in_flight {
            Some(started) => Some(started + config.timeout),
            None => self.due,
        }
    }

    /// Time passed: start a due check, or fail the one in flight at its timeout.
    pub fn on_timeout(&mut self, config: &HealthCheck, now: Instant) -> Vec<Step> {
        if self.running_since.is_none() {
            return Vec::new();
        }
        if let Some(started) = self.in_flight {
            if now < started + config.timeout {
                return Vec::new();
            }
            let reason = format!("timeout ({})", seconds_text(config.timeout));
            let mut out = vec![Step::CancelCheck];
            out.extend(self.on_result(config, Outcome::fail(reason), now));
            return out;
        }
        match self.due {
            Some(due) if now >= due => {
                self.in_flight = Some(now);
                // Fixed rate from the schedule (no drift); a check that is behind by a whole
                // interval or more skips ahead rather than running back to back.
                let next = due + config.interval;
                self.due = Some(if next <= now {
                    now + config.interval
                } else {
                    next
                });
                vec![Step::StartCheck]
            }
            _ => Vec::new(),
        }
    }

    /// The check in flight ended (also called by `on_timeout` for a timeout). A check due
    /// while this one ran starts at the next `on_timeout`.
    pub fn on_result(&mut self, config: &HealthCheck, outcome: Outcome, now: Instant) -> Vec<Step> {
        if self.in_flight.take().is_none() {
            return Vec::new();
        }
        let Some(since) = self.running_since else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match outcome {
            Outcome::Pass(how) => {
                self.failures = 0;
                if self.health != Health::Healthy {
                    self.health = Health::Healthy;
                    let msg = format!("health: {} healthy ({how})", self.name);
                    out.push(Step::Log(LogLevel::Info, msg));
                }
            }
            Outcome::Fail(why) => {
                if now < since + config.start_period {
                    if !self.debug_lines {
                        return out;
                    }
                    let msg = format!(
                        "health: {} check failed during its start period ({why})",
                        self.name
                    );
                    out.push(Step::Log(LogLevel::Debug, msg));
                    return out;
                }
                self.failures = self.failures.saturating_add(1);
                if self.failures < config.retries || self.health == Health::Unhealthy {
                    if !self.debug_lines {
                        return out;
                    }
                    let msg = format!(
                        "health: {} check failed ({why}, {} in a row)",
                        self.name, self.failures
                    );
                    out.push(Step::Log(LogLevel::Debug, msg));
                    return out;
                }
                self.health = Health::Unhealthy;
                let checks = match self.failures {
                    1 => "1 check".to_string(),
                    n => format!("{n} checks"),
                };
                let restart = config.action == HealthAction::Restart;
                let msg = format!(
                    "health: {} unhealthy ({why} after {checks}){}",
                    self.name,
                    if restart { ", restarting" } else { "" }
                );
                out.push(Step::Log(LogLevel::Warn, msg));
                if restart {
                    out.push(Step::Restart);
                }
            }
        }
        out
    }
}

/// `5 s`, `0.5 s`.
pub fn seconds_text(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::Probe;

    fn config(retries: u32, start_period: f64, action: HealthAction) -> HealthCheck {
        HealthCheck {
            spec: "tcp:127.0.0.1:1".into(),
            probe: Probe::Tcp("127.0.0.1:1".parse().unwrap()),
            interval: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
            retries,
            start_period: Duration::from_secs_f64(start_period),
            action,
        }
    }

    fn secs(t0: Instant, s: f64) -> Instant {
        t0 + Duration::from_secs_f64(s)
    }

    fn logs(steps: &[Step]) -> Vec<(LogLevel, &str)> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Log(l, m) => Some((*l, m.as_str())),
                _ => None,
            })
            .collect()
    }

    fn fail(s: &'static str) -> Outcome {
        Outcome::Fail(s.into())
    }

    #[test]
    fn no_checks_until_running_then_first_at_once_and_every_interval() {
        let c = config(3, 0.0, HealthAction::None);
        let t0 = Instant::now();
        let mut m = Monitor::new("web");
        assert_eq!(m.next_deadline(&c), None);
        assert!(m.on_timeout(&c, t0).is_empty());
        assert!(m.set_running(true, t0).is_empty());
        assert_eq!(m.next_deadline(&c), Some(t0));
        assert_eq!(m.on_timeout(&c, t0), vec![Step::StartCheck]);
        // In flight: the deadline is its timeout.
        assert_eq!(m.next_deadline(&c), Some(secs(t0, 5.0)));
        let s = m.on_result(&c, Outcome::Pass("http 200".into()), secs(t0, 0.01));
        assert_eq!(
            logs(&s),
            [(LogLevel::Info, "health: web healthy (http 200)")]
        );
        assert_eq!(m.health, Health::Healthy);
        // The next check is due one interval after the first was due (not after it ended).
        assert_eq!(m.next_deadline(&c), Some(secs(t0, 10.0)));
        assert!(m.on_timeout(&c, secs(t0, 9.99)).is_empty());
        assert_eq!(m.on_timeout(&c, secs(t0, 10.003)), vec![Step::StartCheck]);
        assert_eq!(m.next_deadline(&c), Some(secs(t0, 15.003)));
        // A second success logs nothing.
        assert!(
            m.on_result(&c, Outcome::Pass("http 200".into()), secs(t0, 10.01))
                .is_empty()
        );
        assert_eq!(m.next_deadline(&c), Some(secs(t0, 20.0)));
    }

    #[test]
    fn retries_consecutive_failures_make_it_unhealthy_once() {
        let c = config(3, 0.0, HealthAction::None);
        let t0 = Instant::now();
        let mut m = Monitor::new("web");
        m.set_running(true, t0);
        let mut t = t0;
        let mut all = Vec::new();
        for i in 0..5 {
            assert_eq!(m.on_timeout(&c, t), vec![Step::StartCheck], "check {i}");
            all.extend(m.on_result(&c, fail("http 503"), t));
            t += Duration::from_secs(10);
            if i == 1 {
                assert_eq!(m.health, Health::Starting);
            }
        }
        let warn: Vec<_> = logs(&all)
            .into_iter()
            .filter(|(l, _)| *l == LogLevel::Warn)
            .collect();
        assert_eq!(
            warn,
            [(
                LogLevel::Warn,
                "health: web unhealthy (http 503 after 3 checks)"
            )]
        );
        assert_eq!(m.health, Health::Unhealthy);
        assert!(!all.contains(&Step::Restart));
        // One success: healthy again; failures count from zero.
        m.on_timeout(&c, t);
        let s = m.on_result(&c, Outcome::Pass("http 204".into()), t);
        assert_eq!(
            logs(&s),
            [(LogLevel::Info, "health: web healthy (http 204)")]
        );
        t += Duration::from_secs(10);
        m.on_timeout(&c, t);
        m.on_result(&c, fail("http 503"), t);
        assert_eq!(m.health, Health::Healthy);
    }

    #[test]
    fn a_success_between_failures_resets_the_count() {
        let c = config(2, 0.0, HealthAction::None);
        let t0 = Instant::now();
        let mut m = Monitor::new("w");
        m.set_running(true, t0);
        let outcomes = [fail("x"), Outcome::Pass("ok".into()), fail("x"), fail("x")];
        let mut t = t0;
        let mut verdicts = Vec::new();
        for o in outcomes {
            m.on_timeout(&c, t);
            m.on_result(&c, o, t);
            verdicts.push(m.health);
            t += c.interval;
        }
        use Health::*;
        assert_eq!(verdicts, [Starting, Healthy, Healthy, Unhealthy]);
    }

    #[test]
    fn failures_in_the_start_period_do_not_count_but_a_success_does() {
        let c = config(1, 25.0, HealthAction::Restart);
        let t0 = Instant::now();
        let mut m = Monitor::new("w");
        m.set_running(true, t0);
        for t in [0.0, 10.0, 20.0] {
            m.on_timeout(&c, secs(t0, t));
            let s = m.on_result(&c, fail("tcp connection refused"), secs(t0, t));
            assert!(!s.contains(&Step::Restart));
            assert_eq!(m.health, Health::Starting);
        }
        m.on_timeout(&c, secs(t0, 30.0));
        let s = m.on_result(&c, fail("tcp connection refused"), secs(t0, 30.0));
        assert_eq!(
            s,
            vec![
                Step::Log(
                    LogLevel::Warn,
                    "health: w unhealthy (tcp connection refused after 1 check), restarting".into()
                ),
                Step::Restart
            ]
        );
        // A success inside the start period makes it healthy at once.
        let mut m = Monitor::new("w");
        m.set_running(true, t0);
        m.on_timeout(&c, t0);
        m.on_result(&c, Outcome::Pass("tcp connected".into()), secs(t0, 0.1));
        assert_eq!(m.health, Health::Healthy);
    }

    #[test]
    fn a_check_in_flight_times_out_and_counts_as_a_failure() {
        let c = config(1, 0.0, HealthAction::None);
        let t0 = Instant::now();
        let mut m = Monitor::new("w");
        m.set_running(true, t0);
        assert_eq!(m.on_timeout(&c, t0), vec![Step::StartCheck]);
        assert!(m.on_timeout(&c, secs(t0, 4.999)).is_empty());
        let s = m.on_timeout(&c, secs(t0, 5.0));
        assert_eq!(s[0], Step::CancelCheck);
        assert_eq!(
            logs(&s),
            [(
                LogLevel::Warn,
                "health: w unhealthy (timeout (5 s) after 1 check)"
            )]
        );
        assert!(!m.checking());
        // A late result of the cancelled check is ignored.
        assert!(
            m.on_result(&c, Outcome::Pass("x".into()), secs(t0, 6.0))
                .is_empty()
        );
        assert_eq!(m.health, Health::Unhealthy);
        assert_eq!(m.next_deadline(&c), Some(secs(t0, 10.0)));
    }

    #[test]
    fn a_check_longer_than_the_interval_delays_the_next_and_the_schedule_skips_ahead() {
        let mut c = config(3, 0.0, HealthAction::None);
        c.interval = Duration::from_secs(1);
        c.timeout = Duration::from_secs(3);
        let t0 = Instant::now();
        let mut m = Monitor::new("w");
        m.set_running(true, t0);
        m.on_timeout(&c, t0);
        // Still in flight at 1 s and 2 s: only its timeout is a deadline.
        assert_eq!(m.next_deadline(&c), Some(secs(t0, 3.0)));
        m.on_result(&c, Outcome::Pass("ok".into()), secs(t0, 2.5));
        // The check due at 1 s runs at once; the one after is a whole interval later.
        assert_eq!(m.next_deadline(&c), Some(secs(t0, 1.0)));
        assert_eq!(m.on_timeout(&c, secs(t0, 2.5)), vec![Step::StartCheck]);
        m.on_result(&c, Outcome::Pass("ok".into()), secs(t0, 2.6));
        assert_eq!(m.next_deadline(&c), Some(secs(t0, 3.5)));
    }

    #[test]
    fn leaving_running_cancels_and_forgets_the_verdict() {
        let c = config(1, 0.0, HealthAction::None);
        let t0 = Instant::now();
        let mut m = Monitor::new("w");
        m.set_running(true, t0);
        m.on_timeout(&c, t0);
        m.on_result(&c, Outcome::Pass("ok".into()), t0);
        m.on_timeout(&c, secs(t0, 10.0));
        assert_eq!(
            m.set_running(false, secs(t0, 11.0)),
            vec![Step::CancelCheck]
        );
        assert_eq!(m.health, Health::Starting);
        assert_eq!(m.next_deadline(&c), None);
        assert!(m.on_timeout(&c, secs(t0, 20.0)).is_empty());
        // Not running: no cancel to do.
        assert!(m.set_running(false, secs(t0, 21.0)).is_empty());
        // Back to RUNNING: the first check is due at once, the start period counts from here.
        m.set_running(true, secs(t0, 30.0));
        assert_eq!(m.next_deadline(&c), Some(secs(t0, 30.0)));
    }
}
