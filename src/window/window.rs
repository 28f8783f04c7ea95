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
/// negative timestamps work. Computed without overflow; a start before `i64::MIN` (a timestamp
/// within `size` of it) saturates there.
pub fn window_start(timestamp: i64, offset: i64, size: i64) -> i64 {
    saturate(exact_window_start(timestamp, offset, size))
}

/// The window start of [`window_start`], exact (it may lie before `i64::MIN`).
pub fn exact_window_start(timestamp: i64, offset: i64, size: i64) -> i128 {
    let ts = i128::from(timestamp);
    ts - (ts - i128::from(offset)).rem_euclid(i128::from(size))
}

/// The time window `[start, start + size)` of an exact start: a window that reaches past either
/// end of the 64-bit range is cut there (saturates), never wrapped around to the other end.
pub fn time_window(start: i128, size: i64) -> Window {
    Window::Time {
        start: saturate(start),
        end: saturate(start + i128::from(size)),
    }
}

fn saturate(t: i128) -> i64 {
    t.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
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
    fn windows_at_the_ends_of_the_range_saturate_instead_of_wrapping() {
        let min = i64::MIN;
        let max = i64::MAX;
        // i64::MIN is 2 more than a multiple of 10: the window of MIN + 5 starts 2 before MIN.
        assert_eq!(exact_window_start(min + 5, 0, 10), i128::from(min) - 2);
        assert_eq!(window_start(min + 5, 0, 10), min);
        assert_eq!(
            time_window(exact_window_start(min + 5, 0, 10), 10),
            Window::Time {
                start: min,
                end: min + 8
            }
        );
        assert_eq!(window_start(min + 9, 0, 10), min + 8);
        // i64::MAX is 7 more than a multiple of 10.
        assert_eq!(window_start(max - 5, 0, 10), max - 7);
        assert_eq!(
            time_window(exact_window_start(max - 5, 0, 10), 10),
            Window::Time {
                start: max - 7,
                end: max
            }
        );
        // A window that would start after i64::MAX - 1 is cut to [MAX, MAX): its records still
        // fire with the final watermark.
        assert_eq!(window_start(max, -3, 10), max);
        assert_eq!(window_start(max, -2, 10), max - 9);
        assert_eq!(window_start(min, 3, 10), min);
        assert_eq!(window_start(min + 10, 3, 10), min + 1);
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
