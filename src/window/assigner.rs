//! Window assigners: which windows a record belongs to.

use crate::window::window::{exact_window_start, time_window, Window};

/// The built-in assigners. Dynamic session gaps and count windows need more than the record's
/// timestamp; the window operator supplies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assigner {
    Tumbling {
        event_time: bool,
        size: i64,
        offset: i64,
    },
    Sliding {
        event_time: bool,
        size: i64,
        slide: i64,
        offset: i64,
    },
    /// Sessions with a fixed gap, or (`gap` None) a gap computed per record.
    Session {
        event_time: bool,
        gap: Option<i64>,
    },
    Global,
    /// `count_window(size)`: window id = (count of the key's records so far) / size.
    CountTumbling {
        size: i64,
    },
    /// `count_window(size, slide)`: record number c (per key, from 0) is in every window id with
    /// `id * slide <= c <= id * slide + size - 1`.
    CountSliding {
        size: i64,
        slide: i64,
    },
}

impl Assigner {
    pub fn is_event_time(&self) -> bool {
        match self {
            Assigner::Tumbling { event_time, .. }
            | Assigner::Sliding { event_time, .. }
            | Assigner::Session { event_time, .. } => *event_time,
            Assigner::Global | Assigner::CountTumbling { .. } | Assigner::CountSliding { .. } => false,
        }
    }

    /// Whether windows end at a processing time (tumbling, sliding and session windows of
    /// processing time; not global or count windows).
    pub fn is_processing_time(&self) -> bool {
        match self {
            Assigner::Tumbling { event_time, .. }
            | Assigner::Sliding { event_time, .. }
            | Assigner::Session { event_time, .. } => !*event_time,
            Assigner::Global | Assigner::CountTumbling { .. } | Assigner::CountSliding { .. } => false,
        }
    }

    pub fn is_merging(&self) -> bool {
        matches!(self, Assigner::Session { .. })
    }

    /// Whether windows are chosen by record time (true) or by count or globally.
    pub fn is_time(&self) -> bool {
        matches!(
            self,
            Assigner::Tumbling { .. } | Assigner::Sliding { .. } | Assigner::Session { .. }
        )
    }

    /// The windows of a record at `time` (its timestamp, or processing time for processing-time
    /// assigners). `gap` is the record's session gap, `count` its number among its key's records.
    pub fn assign(&self, time: i64, gap: i64, count: i64, out: &mut Vec<Window>) {
        match *self {
            // Starts are computed exactly (i128) and windows cut at the ends of the range, so that
            // timestamps near them never wrap into windows at the other end.
            Assigner::Tumbling { size, offset, .. } => {
                out.push(time_window(exact_window_start(time, offset, size), size));
            }
            Assigner::Sliding {
                size, slide, offset, ..
            } => {
                // Newest first, as Flink lists them.
                let mut start = exact_window_start(time, offset, slide);
                let before_first = i128::from(time) - i128::from(size);
                while start > before_first {
                    out.push(time_window(start, size));
                    start -= i128::from(slide);
                }
            }
            Assigner::Session { .. } => out.push(Window::Time {
                start: time,
                end: time.saturating_add(gap),
            }),
            Assigner::Global => out.push(Window::Global),
            Assigner::CountTumbling { size } => out.push(Window::Count(count / size)),
            Assigner::CountSliding { size, slide } => {
                let last = count / slide;
                let first = if count - size < 0 {
                    0
                } else {
                    (count - size + 1 + slide - 1) / slide
                };
                for id in first..=last {
                    out.push(Window::Count(id));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assign(a: Assigner, time: i64) -> Vec<Window> {
        let mut out = Vec::new();
        a.assign(time, 0, 0, &mut out);
        out
    }

    fn time(start: i64, end: i64) -> Window {
        Window::Time { start, end }
    }

    #[test]
    fn sliding_windows_newest_first() {
        let a = Assigner::Sliding {
            event_time: true,
            size: 5,
            slide: 2,
            offset: 0,
        };
        assert_eq!(assign(a, 4), vec![time(4, 9), time(2, 7), time(0, 5)]);
        assert_eq!(assign(a, 1), vec![time(0, 5), time(-2, 3)]);
        // Size not a multiple of the slide.
        let b = Assigner::Sliding {
            event_time: true,
            size: 3,
            slide: 2,
            offset: 0,
        };
        assert_eq!(assign(b, 2), vec![time(2, 5), time(0, 3)]);
        assert_eq!(assign(b, 1), vec![time(0, 3)]);
    }

    #[test]
    fn windows_near_the_ends_of_the_range_never_wrap() {
        let (min, max) = (i64::MIN, i64::MAX);
        let tumbling = Assigner::Tumbling {
            event_time: true,
            size: 10,
            offset: 0,
        };
        assert_eq!(assign(tumbling, min + 5), vec![time(min, min + 8)]);
        assert_eq!(assign(tumbling, max - 1), vec![time(max - 7, max)]);
        let sliding = Assigner::Sliding {
            event_time: true,
            size: 10,
            slide: 4,
            offset: 0,
        };
        // i64::MIN is 0 modulo 4: windows starting at MIN, MIN - 4, MIN - 8 (cut at MIN).
        assert_eq!(
            assign(sliding, min + 1),
            vec![time(min, min + 10), time(min, min + 6), time(min, min + 2)]
        );
        // i64::MAX is 3 modulo 4.
        assert_eq!(assign(sliding, max), vec![time(max - 3, max), time(max - 7, max)]);
        assert_eq!(
            assign(sliding, max - 4),
            vec![time(max - 7, max), time(max - 11, max - 1)]
        );
        for w in assign(sliding, min + 1).iter().chain(&assign(sliding, max)) {
            let Window::Time { start, end } = *w else {
                unreachable!()
            };
            assert!(start < end);
        }
    }

    #[test]
    fn tumbling_with_offset() {
        let a = Assigner::Tumbling {
            event_time: true,
            size: 10,
            offset: 3,
        };
        assert_eq!(assign(a, 12), vec![time(3, 13)]);
        assert_eq!(assign(a, 2), vec![time(-7, 3)]);
    }

    #[test]
    fn count_sliding_ids() {
        let a = Assigner::CountSliding { size: 2, slide: 1 };
        let ids = |c: i64| {
            let mut out = Vec::new();
            a.assign(0, 0, c, &mut out);
            out
        };
        assert_eq!(ids(0), vec![Window::Count(0)]);
        assert_eq!(ids(1), vec![Window::Count(0), Window::Count(1)]);
        assert_eq!(ids(2), vec![Window::Count(1), Window::Count(2)]);
        let b = Assigner::CountSliding { size: 3, slide: 2 };
        let mut out = Vec::new();
        b.assign(0, 0, 4, &mut out);
        assert_eq!(out, vec![Window::Count(1), Window::Count(2)]);
    }
}
