//! When a file sink closes its in-progress part file and starts a new one (Flink's
//! `DefaultRollingPolicy` and `OnCheckpointRollingPolicy`).

/// What a rolling policy looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartFileInfo {
    /// Bytes written so far.
    pub size: u64,
    /// Processing time (ms) when the part file was opened.
    pub creation_time: i64,
    /// Processing time (ms) of the last write.
    pub last_update_time: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollingPolicy {
    /// Rolls when the part file is larger than `part_size` (checked before each record and at
    /// checkpoints), older than `rollover_interval_ms`, or not written for
    /// `inactivity_interval_ms` (checked every bucket check interval).
    Default {
        part_size: u64,
        rollover_interval_ms: i64,
        inactivity_interval_ms: i64,
    },
    /// Rolls at every checkpoint, and only then.
    OnCheckpoint,
}

impl RollingPolicy {
    /// Flink's defaults: 128 MiB, 60 s, 60 s.
    pub const DEFAULT: RollingPolicy = RollingPolicy::Default {
        part_size: 128 * 1024 * 1024,
        rollover_interval_ms: 60_000,
        inactivity_interval_ms: 60_000,
    };

    /// Before a record is written to the part file.
    pub fn should_roll_on_event(&self, part: &PartFileInfo) -> bool {
        match self {
            RollingPolicy::Default { part_size, .. } => part.size > *part_size,
            RollingPolicy::OnCheckpoint => false,
        }
    }

    /// At a bucket check, processing time being `now`.
    pub fn should_roll_on_processing_time(&self, part: &PartFileInfo, now: i64) -> bool {
        match self {
            RollingPolicy::Default {
                rollover_interval_ms,
                inactivity_interval_ms,
                ..
            } => {
                now.saturating_sub(part.creation_time) >= *rollover_interval_ms
                    || now.saturating_sub(part.last_update_time) >= *inactivity_interval_ms
            }
            RollingPolicy::OnCheckpoint => false,
        }
    }

    /// At a checkpoint.
    pub fn should_roll_on_checkpoint(&self, part: &PartFileInfo) -> bool {
        match self {
            RollingPolicy::Default { part_size, .. } => part.size > *part_size,
            RollingPolicy::OnCheckpoint => true,
        }
    }

    /// Whether the policy ever rolls by time (the sink then checks its buckets periodically).
    pub fn rolls_on_time(&self) -> bool {
        matches!(self, RollingPolicy::Default { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_rolls_on_size_age_and_inactivity() {
        let p = RollingPolicy::Default {
            part_size: 10,
            rollover_interval_ms: 1000,
            inactivity_interval_ms: 300,
        };
        let part = |size, created, updated| PartFileInfo {
            size,
            creation_time: created,
            last_update_time: updated,
        };
        assert!(!p.should_roll_on_event(&part(10, 0, 0)));
        assert!(p.should_roll_on_event(&part(11, 0, 0)));
        assert!(!p.should_roll_on_checkpoint(&part(10, 0, 0)));
        assert!(p.should_roll_on_checkpoint(&part(11, 0, 0)));
        assert!(!p.should_roll_on_processing_time(&part(1, 0, 800), 999));
        assert!(p.should_roll_on_processing_time(&part(1, 0, 800), 1000));
        assert!(p.should_roll_on_processing_time(&part(1, 500, 500), 800));
        let c = RollingPolicy::OnCheckpoint;
        assert!(!c.should_roll_on_event(&part(u64::MAX, 0, 0)));
        assert!(!c.should_roll_on_processing_time(&part(1, 0, 0), i64::MAX));
        assert!(c.should_roll_on_checkpoint(&part(0, 0, 0)));
    }
}
