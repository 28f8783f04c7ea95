//! The windows records are grouped into.

/// A window: a span of time `[start, end)`, a count window (by id), or the one global window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Window {
    Time { start: i64, end: i64 },
    Count(i64),
    Global,
}

impl Window {
    /// The largest timestamp that belongs to the window: `end - 1`; `i64::MAX` for count and
    /// global windows.
    pub fn max_timestamp(&self) -> i64 {
        match self {
            Window::Time { end, .. } => end.saturating_sub(1),
            Window::Count(_) | Window::Global => i64::MAX,
        }
    }

    /// Whether two time windows overlap or touch (`[1, 2)` and `[2, 4)` do), so that sessions
    /// merge.
    pub fn touches(&self, other: &Window) -> bool {
        match (self, other) {
            (Window::Time { start: a0, end: a1 }, Window::Time { start: b0, end: b1 }) => a0 <= b1 && a1 >= b0,
            _ => false,
        }
    }

    /// The smallest time window covering both.
    pub fn cover(&self, other: &Window) -> Window {
        match (self, other) {
            (Window::Time { start: a0, end: a1 }, Window::Time { start: b0, end: b1 }) => Window::Time {
                start: *a0.min(b0),
                end: *a1.max(b1),
            },
            _ => *self,
        }
    }
}

/// Flink's window start: `ts - (ts - offset + size) mod size`, with a floor modulo so that
/// negative timestamps work.
pub fn window_start(timestamp: i64, offset: i64, size: i64) -> i64 {
    timestamp - (timestamp - offset + size).rem_euclid(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_uses_floor_modulo() {
        assert_eq!(window_start(7, 0, 5), 5);
        assert_eq!(window_start(5, 0, 5), 5);
        assert_eq!(window_start(4, 0, 5), 0);
        assert_eq!(window_start(-1, 0, 5), -5);
        assert_eq!(window_start(-5, 0, 5), -5);
        assert_eq!(window_start(3, 2, 5), 2);
        assert_eq!(window_start(1, 2, 5), -3);
        assert_eq!(window_start(1, -2, 5), -2);
    }

    #[test]
    fn touching_windows_merge() {
        let a = Window::Time { start: 1, end: 2 };
        let b = Window::Time { start: 2, end: 4 };
        let c = Window::Time { start: 5, end: 6 };
        assert!(a.touches(&b));
        assert!(!b.touches(&c));
        assert_eq!(a.cover(&b), Window::Time { start: 1, end: 4 });
        assert_eq!(a.max_timestamp(), 1);
        assert_eq!(Window::Count(3).max_timestamp(), i64::MAX);
    }
}
