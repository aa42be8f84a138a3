//! The restart-delay schedule of `restart_delay=`, `restart_delay_max=` and `restart_jitter=`,
//! purely: the delay before the next automatic restart given the policy, the number of
//! consecutive unexpected exits and a random spread. The state machine (machine.rs) applies it;
//! the reference's one-start-per-second pace stays a floor there.

use std::time::Duration;

use crate::config::model::RestartPolicy;

/// The delay before an autorestart: `restart_delay`, doubled per consecutive unexpected exit
/// (`streak`) while `restart_delay_max` is above it, capped there; then spread by up to
/// ±`restart_jitter` of itself (`spread` in [-1, 1]).
pub fn delay(policy: &RestartPolicy, streak: u32, spread: f64) -> Duration {
    let base = policy.restart_delay;
    let mut d = base;
    if policy.restart_delay_max > base {
        for _ in 0..streak {
            d = d.saturating_mul(2);
            if d >= policy.restart_delay_max {
                d = policy.restart_delay_max;
                break;
            }
        }
    }
    let jitter = f64::from(policy.restart_jitter_ppm) / 1e6;
    if jitter > 0.0 {
        let factor = (1.0 + jitter * spread.clamp(-1.0, 1.0)).max(0.0);
        d = d.mul_f64(factor);
    }
    d
}

/// Whether the doubling starts over: the process stayed up (past startsecs) for at least
/// `restart_delay_max` before this exit.
pub fn streak_resets(policy: &RestartPolicy, up_for: Duration, startsecs: Duration) -> bool {
    policy.restart_delay_max > policy.restart_delay
        && up_for >= startsecs.saturating_add(policy.restart_delay_max)
}

/// The next value in [-1, 1) from a xorshift64 state (never 0), which it advances.
pub fn spread(state: &mut u64) -> f64 {
    let mut x = *state;
    if x == 0 {
        x = 0x9E37_79B9_7F4A_7C15;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    // The top 53 bits as a fraction in [0, 1), then moved to [-1, 1).
    (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(delay_ms: u64, max_ms: u64, jitter_ppm: u32) -> RestartPolicy {
        RestartPolicy {
            restart_delay: Duration::from_millis(delay_ms),
            restart_delay_max: Duration::from_millis(max_ms),
            restart_jitter_ppm: jitter_ppm,
            backoff_max: None,
        }
    }

    #[test]
    fn doubling_up_to_the_cap() {
        let p = policy(200, 1600, 0);
        let seq: Vec<u128> = (0..7).map(|n| delay(&p, n, 0.0).as_millis()).collect();
        assert_eq!(seq, vec![200, 400, 800, 1600, 1600, 1600, 1600]);
        // A cap that is not a power-of-two multiple is still the cap.
        let p = policy(1000, 5000, 0);
        let seq: Vec<u128> = (0..5).map(|n| delay(&p, n, 0.0).as_millis()).collect();
        assert_eq!(seq, vec![1000, 2000, 4000, 5000, 5000]);
        // No max (or a max not above the delay): a fixed delay.
        assert_eq!(
            delay(&policy(300, 0, 0), 9, 0.0),
            Duration::from_millis(300)
        );
        assert_eq!(
            delay(&policy(300, 300, 0), 9, 0.0),
            Duration::from_millis(300)
        );
        // Huge streaks do not overflow.
        assert_eq!(delay(&p, u32::MAX, 0.0), Duration::from_secs(5));
        // The default policy never waits.
        assert_eq!(delay(&RestartPolicy::default(), 5, 0.7), Duration::ZERO);
    }

    #[test]
    fn jitter_spreads_within_the_fraction() {
        let p = policy(1000, 0, 250_000);
        assert_eq!(delay(&p, 0, -1.0), Duration::from_millis(750));
        assert_eq!(delay(&p, 0, 1.0), Duration::from_millis(1250));
        let mut state = 42;
        let mut seen = (f64::MAX, f64::MIN);
        for _ in 0..1000 {
            let s = spread(&mut state);
            assert!((-1.0..1.0).contains(&s), "{s}");
            seen = (seen.0.min(s), seen.1.max(s));
            let d = delay(&p, 0, s).as_millis();
            assert!((750..=1250).contains(&d), "{d}");
        }
        assert!(seen.0 < -0.9 && seen.1 > 0.9, "{seen:?}");
    }

    #[test]
    fn streak_resets_after_staying_up_for_the_max() {
        let p = policy(200, 1600, 0);
        let ss = Duration::from_secs(1);
        assert!(!streak_resets(&p, Duration::from_millis(2500), ss));
        assert!(streak_resets(&p, Duration::from_millis(2600), ss));
        // Without doubling there is nothing to reset.
        assert!(!streak_resets(
            &policy(200, 0, 0),
            Duration::from_secs(99),
            ss
        ));
    }
}
