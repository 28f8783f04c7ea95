//! How the records of one output edge are spread over the receiving subtasks.

use std::fmt;
use std::sync::Arc;

use crate::runtime::key_group::{key_group_for_hash, subtask_for_key_group};
use crate::runtime::operator::{OperatorError, OperatorResult};
use crate::runtime::record::{Data, Record};

/// A user-defined choice of receiving subtask, made per record (`partition_custom`).
pub trait RecordPartitioner<V>: Send {
    /// The index, in `0..channels`, of the subtask that receives `record`.
    fn select(&mut self, record: &Record<V>, channels: usize) -> OperatorResult<usize>;
}

/// Makes one [`RecordPartitioner`] per sending subtask.
pub type PartitionerFactory<V> = Arc<dyn Fn(usize) -> Box<dyn RecordPartitioner<V>> + Send + Sync>;

/// The partitioning of an edge, as the graph describes it.
pub enum Partitioning<V> {
    /// Subtask i sends to subtask i; both sides have the same parallelism.
    Forward,
    /// Round-robin over every receiving subtask.
    Rebalance,
    /// Round-robin over a local group of receiving subtasks.
    Rescale,
    /// A random receiving subtask per record.
    Shuffle,
    /// Every record to every receiving subtask.
    Broadcast,
    /// By the record's key group.
    Keyed,
    /// By a user function.
    Custom(PartitionerFactory<V>),
}

impl<V> Clone for Partitioning<V> {
    fn clone(&self) -> Self {
        match self {
            Partitioning::Forward => Partitioning::Forward,
            Partitioning::Rebalance => Partitioning::Rebalance,
            Partitioning::Rescale => Partitioning::Rescale,
            Partitioning::Shuffle => Partitioning::Shuffle,
            Partitioning::Broadcast => Partitioning::Broadcast,
            Partitioning::Keyed => Partitioning::Keyed,
            Partitioning::Custom(f) => Partitioning::Custom(Arc::clone(f)),
        }
    }
}

impl<V> fmt::Debug for Partitioning<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ship_strategy())
    }
}

impl<V> Partitioning<V> {
    /// The name Flink's execution plan uses for this partitioning.
    pub fn ship_strategy(&self) -> &'static str {
        match self {
            Partitioning::Forward => "FORWARD",
            Partitioning::Rebalance => "REBALANCE",
            Partitioning::Rescale => "RESCALE",
            Partitioning::Shuffle => "SHUFFLE",
            Partitioning::Broadcast => "BROADCAST",
            Partitioning::Keyed => "HASH",
            Partitioning::Custom(_) => "CUSTOM",
        }
    }

    /// Whether sending subtask i is connected to only some receiving subtasks (forward, rescale)
    /// rather than to all of them.
    pub fn is_pointwise(&self) -> bool {
        matches!(self, Partitioning::Forward | Partitioning::Rescale)
    }
}

/// The receiving subtasks sending subtask `sender` of a pointwise edge is connected to.
pub fn pointwise_targets(sender: usize, senders: usize, receivers: usize) -> std::ops::Range<usize> {
    if receivers >= senders {
        (sender * receivers / senders)..((sender + 1) * receivers / senders)
    } else {
        let target = sender * receivers / senders;
        target..target + 1
    }
}

/// Chooses the channel of each record, for one sending subtask.
pub enum Router<V> {
    /// Always the one channel.
    Single,
    RoundRobin {
        next: usize,
    },
    Random {
        state: u64,
    },
    Broadcast,
    Keyed {
        max_parallelism: usize,
    },
    Custom(Box<dyn RecordPartitioner<V>>),
}

/// Where a record goes.
pub enum Route {
    One(usize),
    All,
}

impl<V: Data> Router<V> {
    pub fn new(partitioning: &Partitioning<V>, sender: usize, max_parallelism: usize) -> Self {
        match partitioning {
            Partitioning::Forward => Router::Single,
            Partitioning::Rebalance | Partitioning::Rescale => Router::RoundRobin { next: sender },
            Partitioning::Shuffle => Router::Random {
                state: 0x9e37_79b9_7f4a_7c15 ^ (sender as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9),
            },
            Partitioning::Broadcast => Router::Broadcast,
            Partitioning::Keyed => Router::Keyed { max_parallelism },
            Partitioning::Custom(factory) => Router::Custom(factory(sender)),
        }
    }

    pub fn route(&mut self, record: &Record<V>, channels: usize) -> OperatorResult<Route> {
        Ok(match self {
            Router::Single => Route::One(0),
            Router::RoundRobin { next } => {
                let c = *next % channels;
                *next = c + 1;
                Route::One(c)
            }
            Router::Random { state } => {
                // xorshift64*: cheap, good enough to spread records.
                *state ^= *state >> 12;
                *state ^= *state << 25;
                *state ^= *state >> 27;
                let r = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
                Route::One((r % channels as u64) as usize)
            }
            Router::Broadcast => Route::All,
            Router::Keyed { max_parallelism } => {
                let key = record
                    .key
                    .as_ref()
                    .ok_or_else(|| OperatorError::new("a keyed exchange received a record without a key"))?;
                let group = key_group_for_hash(key.stable_hash(), *max_parallelism);
                Route::One(subtask_for_key_group(group, channels, *max_parallelism))
            }
            Router::Custom(p) => {
                let c = p.select(record, channels)?;
                if c >= channels {
                    return Err(OperatorError::new(format!(
                        "the partitioner returned {c}, but there are only {channels} partitions \
                         (expected a number in 0..{channels})"
                    )));
                }
                Route::One(c)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::key::Key;

    fn keyed(k: i64) -> Record<i64> {
        let mut r = Record::new(k);
        r.key = Some(Key::Int(k));
        r
    }

    fn one(route: Route) -> usize {
        match route {
            Route::One(c) => c,
            Route::All => panic!("expected one channel"),
        }
    }

    #[test]
    fn keyed_routing_follows_key_groups() {
        let mut router = Router::<i64>::new(&Partitioning::Keyed, 0, 128);
        for k in 0..1000 {
            let c = one(router.route(&keyed(k), 4).unwrap());
            let group = key_group_for_hash(Key::Int(k).stable_hash(), 128);
            assert_eq!(c, group * 4 / 128);
        }
    }

    #[test]
    fn keyed_routing_spreads_keys() {
        let mut router = Router::<i64>::new(&Partitioning::Keyed, 0, 128);
        let mut counts = [0usize; 4];
        for k in 0..4000 {
            counts[one(router.route(&keyed(k), 4).unwrap())] += 1;
        }
        for c in counts {
            assert!((700..1300).contains(&c), "unbalanced: {counts:?}");
        }
    }

    #[test]
    fn keyed_routing_needs_a_key() {
        let mut router = Router::<i64>::new(&Partitioning::Keyed, 0, 128);
        assert!(router.route(&Record::new(1), 2).is_err());
    }

    #[test]
    fn rebalance_is_round_robin_from_the_sender_index() {
        let mut router = Router::<i64>::new(&Partitioning::Rebalance, 1, 128);
        let got: Vec<usize> = (0..5).map(|i| one(router.route(&Record::new(i), 3).unwrap())).collect();
        assert_eq!(got, vec![1, 2, 0, 1, 2]);
    }

    #[test]
    fn shuffle_reaches_every_channel() {
        let mut router = Router::<i64>::new(&Partitioning::Shuffle, 0, 128);
        let mut seen = [false; 3];
        for i in 0..100 {
            seen[one(router.route(&Record::new(i), 3).unwrap())] = true;
        }
        assert_eq!(seen, [true; 3]);
    }

    struct Fixed(usize);
    impl RecordPartitioner<i64> for Fixed {
        fn select(&mut self, _: &Record<i64>, _: usize) -> OperatorResult<usize> {
            Ok(self.0)
        }
    }

    #[test]
    fn custom_partitioner_out_of_range_is_an_error() {
        let factory: PartitionerFactory<i64> = Arc::new(|_| Box::new(Fixed(5)));
        let mut router = Router::new(&Partitioning::Custom(factory), 0, 128);
        let err = router.route(&Record::new(1), 2).err().unwrap();
        assert!(err.to_string().contains("returned 5"));
    }

    #[test]
    fn pointwise_targets_split_and_merge() {
        assert_eq!(pointwise_targets(0, 2, 4), 0..2);
        assert_eq!(pointwise_targets(1, 2, 4), 2..4);
        assert_eq!(pointwise_targets(3, 4, 2), 1..2);
        assert_eq!(pointwise_targets(0, 3, 3), 0..1);
        assert_eq!(pointwise_targets(2, 3, 3), 2..3);
    }
}
