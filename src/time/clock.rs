//! Processing time: the wall clock, or a clock that tests move by hand.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where processing time comes from. Cloning shares the clock.
#[derive(Clone)]
pub enum Clock {
    /// Milliseconds since the Unix epoch, from the system clock.
    System,
    /// A time that only moves when told to (tests, the harness).
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(start: i64) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(start)))
    }

    /// The current processing time, in milliseconds.
    pub fn now(&self) -> i64 {
        match self {
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            Clock::Manual(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock to `time` (never backwards). No effect on the system clock.
    pub fn advance_to(&self, time: i64) {
        if let Clock::Manual(t) = self {
            t.fetch_max(time, Ordering::SeqCst);
        }
    }

    /// When, on the monotonic clock, processing time `time` will be reached; None for a manual
    /// clock, which no waiting makes progress.
    pub fn instant_of(&self, time: i64) -> Option<Instant> {
        match self {
            Clock::System => {
                let wait = time.saturating_sub(self.now()).max(0) as u64;
                Some(Instant::now() + Duration::from_millis(wait))
            }
            Clock::Manual(_) => None,
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clock::System => write!(f, "Clock::System"),
            Clock::Manual(t) => write!(f, "Clock::Manual({})", t.load(Ordering::SeqCst)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_forward_and_is_shared() {
        let c = Clock::manual(100);
        let shared = c.clone();
        c.advance_to(150);
        c.advance_to(120);
        assert_eq!(shared.now(), 150);
        assert!(c.instant_of(200).is_none());
    }

    #[test]
    fn the_system_clock_is_epoch_millis() {
        let now = Clock::System.now();
        assert!(now > 1_600_000_000_000);
        assert!(Clock::System.instant_of(now - 10).is_some());
    }
}
