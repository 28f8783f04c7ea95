//! Combines the watermarks of a task's input channels into the task's watermark.
//!
//! Each channel keeps the highest watermark it delivered; the task's watermark is the minimum
//! over active channels (idle channels do not hold it back), it only moves forward, and it is
//! reported only when it advances. A channel that ended counts as `i64::MAX`.

/// The watermark of a task's inputs.
#[derive(Debug)]
pub struct WatermarkValve {
    channels: Vec<ChannelState>,
    last_output: i64,
}

#[derive(Clone, Copy, Debug)]
struct ChannelState {
    watermark: i64,
    idle: bool,
}

impl WatermarkValve {
    pub fn new(channels: usize) -> Self {
        WatermarkValve {
            channels: vec![
                ChannelState {
                    watermark: i64::MIN,
                    idle: false,
                };
                channels
            ],
            last_output: i64::MIN,
        }
    }

    /// The combined watermark so far (`i64::MIN` before any).
    pub fn current(&self) -> i64 {
        self.last_output
    }

    /// Channel `channel` delivered `watermark`. Returns the task's new watermark if it advanced.
    pub fn on_watermark(&mut self, channel: usize, watermark: i64) -> Option<i64> {
        let state = &mut self.channels[channel];
        state.idle = false;
        if watermark > state.watermark {
            state.watermark = watermark;
        }
        self.advance()
    }

    /// Channel `channel` ended: it will never hold event time back again.
    pub fn on_end_of_channel(&mut self, channel: usize) -> Option<i64> {
        self.on_watermark(channel, i64::MAX)
    }

    /// Channel `channel` became idle (true) or active again (false).
    pub fn on_idle(&mut self, channel: usize, idle: bool) -> Option<i64> {
        self.channels[channel].idle = idle;
        self.advance()
    }

    /// Whether every channel is idle (then so is the task's output).
    pub fn all_idle(&self) -> bool {
        self.channels.iter().all(|c| c.idle)
    }

    fn advance(&mut self) -> Option<i64> {
        let min = self.channels.iter().filter(|c| !c.idle).map(|c| c.watermark).min()?;
        if min > self.last_output {
            self.last_output = min;
            Some(min)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_over_channels_forwarded_only_when_it_advances() {
        let mut v = WatermarkValve::new(2);
        assert_eq!(v.on_watermark(0, 10), None);
        assert_eq!(v.on_watermark(1, 5), Some(5));
        assert_eq!(v.on_watermark(1, 8), Some(8));
        assert_eq!(v.on_watermark(1, 8), None);
        assert_eq!(v.on_watermark(1, 20), Some(10));
        assert_eq!(v.current(), 10);
    }

    #[test]
    fn a_channel_never_moves_backwards() {
        let mut v = WatermarkValve::new(1);
        assert_eq!(v.on_watermark(0, 10), Some(10));
        assert_eq!(v.on_watermark(0, 3), None);
        assert_eq!(v.current(), 10);
    }

    #[test]
    fn idle_channels_do_not_hold_back_event_time() {
        let mut v = WatermarkValve::new(3);
        v.on_watermark(0, 100);
        v.on_watermark(1, 50);
        assert_eq!(v.on_idle(2, true), Some(50));
        assert_eq!(v.on_idle(1, true), Some(100));
        assert_eq!(v.on_idle(0, true), None);
        assert!(v.all_idle());
        // A channel that comes back with an older watermark does not move the output back.
        assert_eq!(v.on_watermark(1, 60), None);
        assert_eq!(v.current(), 100);
        assert_eq!(v.on_watermark(1, 150), Some(150));
    }

    #[test]
    fn ended_channels_count_as_max() {
        let mut v = WatermarkValve::new(2);
        v.on_watermark(0, 7);
        assert_eq!(v.on_end_of_channel(1), Some(7));
        assert_eq!(v.on_end_of_channel(0), Some(i64::MAX));
    }
}
