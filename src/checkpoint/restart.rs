//! Restart strategies: whether, and after how long, a failed job restarts from its latest
//! checkpoint (Flink's `restart-strategy.*`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq)]
pub enum RestartStrategy {
    /// A failure fails the job.
    None,
    /// Up to `attempts` restarts, `delay` apart.
    FixedDelay { attempts: u32, delay: Duration },
    /// Restarts `delay` apart until more than `max_failures` failures fall within `interval`.
    FailureRate {
        max_failures: u32,
        interval: Duration,
        delay: Duration,
    },
    /// Restarts after a delay that starts at `initial` and grows by `multiplier` up to `max`,
    /// back to `initial` after `reset_threshold` without a failure; `jitter` (0..1) spreads
    /// delays; at most `attempts` restarts before a reset.
    ExponentialDelay {
        initial: Duration,
        max: Duration,
        multiplier: f64,
        reset_threshold: Duration,
        jitter: f64,
        attempts: u32,
    },
}

/// The failures a running job has had, judged by its strategy.
#[derive(Debug)]
pub struct RestartTracker {
    strategy: RestartStrategy,
    failures: u32,
    recent: VecDeque<Instant>,
    backoff: Duration,
    last_failure: Option<Instant>,
}

impl RestartTracker {
    pub fn new(strategy: RestartStrategy) -> Self {
        RestartTracker {
            strategy,
            failures: 0,
            recent: VecDeque::new(),
            backoff: Duration::ZERO,
            last_failure: None,
        }
    }

    /// Restarts so far.
    pub fn restarts(&self) -> u32 {
        self.failures
    }

    /// A failure at `now`: the delay before the restart, or None when the job must fail.
    pub fn on_failure(&mut self, now: Instant) -> Option<Duration> {
        let delay = match &self.strategy {
            RestartStrategy::None => None,
            RestartStrategy::FixedDelay { attempts, delay } => (self.failures < *attempts).then_some(*delay),
            RestartStrategy::FailureRate {
                max_failures,
                interval,
                delay,
            } => {
                while self.recent.front().is_some_and(|t| now.duration_since(*t) > *interval) {
                    self.recent.pop_front();
                }
                self.recent.push_back(now);
                (self.recent.len() as u32 <= *max_failures).then_some(*delay)
            }
            RestartStrategy::ExponentialDelay {
                initial,
                max,
                multiplier,
                reset_threshold,
                jitter,
                attempts,
            } => {
                let quiet = self
                    .last_failure
                    .is_some_and(|t| now.duration_since(t) >= *reset_threshold);
                if self.last_failure.is_none() || quiet {
                    self.backoff = *initial;
                    self.failures = 0;
                } else {
                    self.backoff = self.backoff.mul_f64(multiplier.max(1.0)).min(*max);
                }
                if self.failures >= *attempts {
                    None
                } else {
                    let spread = self.backoff.as_secs_f64() * jitter.clamp(0.0, 1.0);
                    // A cheap varying fraction in [-1, 1) from the clock: jitter only spreads
                    // restarts, it needs no good randomness.
                    let nanos = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.subsec_nanos());
                    let fraction = (nanos % 2000) as f64 / 1000.0 - 1.0;
                    Some(Duration::from_secs_f64(
                        (self.backoff.as_secs_f64() + spread * fraction).max(0.0),
                    ))
                }
            }
        };
        self.last_failure = Some(now);
        if delay.is_some() {
            self.failures += 1;
        }
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_delay_allows_its_attempts() {
        let mut t = RestartTracker::new(RestartStrategy::FixedDelay {
            attempts: 2,
            delay: Duration::from_millis(5),
        });
        let now = Instant::now();
        assert_eq!(t.on_failure(now), Some(Duration::from_millis(5)));
        assert_eq!(t.on_failure(now), Some(Duration::from_millis(5)));
        assert_eq!(t.on_failure(now), None);
    }

    #[test]
    fn no_restart_fails_at_once() {
        assert_eq!(
            RestartTracker::new(RestartStrategy::None).on_failure(Instant::now()),
            None
        );
    }

    #[test]
    fn failure_rate_counts_failures_within_the_interval() {
        let mut t = RestartTracker::new(RestartStrategy::FailureRate {
            max_failures: 2,
            interval: Duration::from_secs(10),
            delay: Duration::ZERO,
        });
        let start = Instant::now();
        assert!(t.on_failure(start).is_some());
        assert!(t.on_failure(start + Duration::from_secs(1)).is_some());
        assert!(t.on_failure(start + Duration::from_secs(2)).is_none());
        let mut t = RestartTracker::new(RestartStrategy::FailureRate {
            max_failures: 1,
            interval: Duration::from_secs(10),
            delay: Duration::ZERO,
        });
        assert!(t.on_failure(start).is_some());
        assert!(t.on_failure(start + Duration::from_secs(11)).is_some());
    }

    #[test]
    fn exponential_delay_grows_caps_and_resets() {
        let mut t = RestartTracker::new(RestartStrategy::ExponentialDelay {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(250),
            multiplier: 2.0,
            reset_threshold: Duration::from_secs(60),
            jitter: 0.0,
            attempts: 10,
        });
        let start = Instant::now();
        assert_eq!(t.on_failure(start), Some(Duration::from_millis(100)));
        assert_eq!(t.on_failure(start), Some(Duration::from_millis(200)));
        assert_eq!(t.on_failure(start), Some(Duration::from_millis(250)));
        assert_eq!(
            t.on_failure(start + Duration::from_secs(61)),
            Some(Duration::from_millis(100))
        );
    }
}
