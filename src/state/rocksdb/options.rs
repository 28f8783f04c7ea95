//! RocksDB options for keyed state: one memory budget per job (block cache and memtables
//! share it), tables laid out for point lookups when state outgrows the budget, list appends as
//! merges, and a compaction filter that drops expired entries.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use rocksdb::compaction_filter::Decision;
use rocksdb::{
    BlockBasedIndexType, BlockBasedOptions, Cache, DBCompressionType, DataBlockIndexType, LruCacheOptions,
    MergeOperands, Options, WriteBufferManager,
};

use crate::state::keyed::StateKind;
use crate::time::clock::Clock;

use super::layout::{elements, unstamp};

/// The memory all RocksDB stores of a job share: a block cache, with the memtables charged to
/// it, so reads, writes and index blocks together stay within the budget.
#[derive(Clone)]
pub struct RocksDbMemory {
    cache: Cache,
    write_buffers: WriteBufferManager,
    budget: usize,
}

impl RocksDbMemory {
    /// A budget of `bytes` (at least 8 MiB).
    pub fn new(bytes: usize) -> RocksDbMemory {
        let budget = bytes.max(8 << 20);
        let mut cache_options = LruCacheOptions::default();
        cache_options.set_capacity(budget);
        cache_options.set_num_shard_bits(shard_bits(budget));
        let cache = Cache::new_lru_cache_opts(&cache_options);
        // Memtables may take half the budget; their memory is reserved in the cache.
        let write_buffers = WriteBufferManager::new_write_buffer_manager_with_cache(budget / 2, false, cache.clone());
        RocksDbMemory {
            cache,
            write_buffers,
            budget,
        }
    }
}

/// The block cache is split into shards of at least [`MIN_SHARD_BYTES`] (at most 16 shards): a
/// block larger than its shard is evicted as soon as it is read. RocksDB's default gives a 64 MiB
/// cache 64 shards of 1 MiB.
const MIN_SHARD_BYTES: usize = 8 << 20;

fn shard_bits(budget: usize) -> i32 {
    let shards = (budget / MIN_SHARD_BYTES).clamp(1, 16);
    shards.ilog2() as i32
}

impl std::fmt::Debug for RocksDbMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RocksDbMemory({} bytes)", self.budget)
    }
}

/// Options of a store's database.
pub fn db_options(memory: &RocksDbMemory) -> Options {
    let mut options = Options::default();
    options.create_if_missing(true);
    options.create_missing_column_families(true);
    options.set_write_buffer_manager(&memory.write_buffers);
    options.set_max_background_jobs(2);
    options.set_enable_write_thread_adaptive_yield(false);
    options.set_allow_concurrent_memtable_write(false);
    // RocksDB's own log: small, and only what goes wrong.
    options.set_log_level(rocksdb::LogLevel::Error);
    options.set_keep_log_file_num(1);
    options
}

/// The time-to-live of a state's entries, which its compaction filter reads: milliseconds, or
/// none. Shared, so a later registration can change it.
#[derive(Clone, Debug)]
pub struct TtlSetting(Arc<AtomicI64>);

impl TtlSetting {
    const NONE: i64 = i64::MIN;

    pub fn new(ttl_ms: Option<i64>) -> TtlSetting {
        TtlSetting(Arc::new(AtomicI64::new(ttl_ms.unwrap_or(Self::NONE))))
    }

    pub fn get(&self) -> Option<i64> {
        let v = self.0.load(Ordering::Relaxed);
        (v != Self::NONE).then_some(v)
    }

    pub fn set(&self, ttl_ms: Option<i64>) {
        self.0.store(ttl_ms.unwrap_or(Self::NONE), Ordering::Relaxed);
    }
}

/// Options of a state's column family. `ttl` set: the compaction filter drops entries that
/// expired by `clock`'s time (a list when all its elements did).
pub fn column_family_options(memory: &RocksDbMemory, kind: StateKind, ttl: Option<(TtlSetting, Clock)>) -> Options {
    let mut options = Options::default();
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(&memory.cache);
    // Point lookups of state larger than the budget: index and bloom filter are partitioned
    // into 4 KiB blocks that are cached like data blocks (with high priority), and only their
    // small top levels stay pinned. A whole-file filter or index is megabytes for a large file,
    // larger than a cache shard, so it would be read from disk again for every lookup (Flink's
    // `state.backend.rocksdb.memory.partitioned-index-filters`).
    table.set_index_type(BlockBasedIndexType::TwoLevelIndexSearch);
    table.set_partition_filters(true);
    table.set_metadata_block_size(4096);
    table.set_cache_index_and_filter_blocks(true);
    table.set_cache_index_and_filter_blocks_with_high_priority(true);
    table.set_pin_top_level_index_and_filter(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    table.set_bloom_filter(10.0, false);
    // A hash index in each data block finds a row without a binary search (RocksDB's
    // `OptimizeForPointLookup`).
    table.set_data_block_index_type(DataBlockIndexType::BinaryAndHash);
    table.set_data_block_hash_ratio(0.75);
    options.set_block_based_table_factory(&table);
    options.set_compression_type(DBCompressionType::Lz4);
    options.set_write_buffer_size(16 << 20);
    // A bloom filter of the memtables' rows (2 % of their size): a lookup of a row they do not
    // hold, most lookups once state is large, skips searching them.
    options.set_memtable_whole_key_filtering(true);
    options.set_memtable_prefix_bloom_ratio(0.02);
    if kind == StateKind::List {
        options.set_merge_operator_associative("ferroflow-list-append", concatenate);
    }
    if let Some((setting, clock)) = ttl {
        options.set_compaction_filter("ferroflow-ttl", move |_level: u32, _row: &[u8], value: &[u8]| {
            let Some(ttl) = setting.get() else {
                return Decision::Keep;
            };
            let now = clock.now();
            let expired = |stamped: &[u8]| unstamp(stamped).is_ok_and(|(last, _)| last.saturating_add(ttl) <= now);
            let all_expired = match kind {
                StateKind::List => elements(value).all(|e| e.is_ok_and(expired)),
                _ => expired(value),
            };
            if all_expired {
                Decision::Remove
            } else {
                Decision::Keep
            }
        });
    }
    options
}

/// The merge of list appends: the elements of the existing value, then of each operand.
fn concatenate(_row: &[u8], existing: Option<&[u8]>, operands: &MergeOperands) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(existing.map_or(0, <[u8]>::len) + operands.iter().map(<[u8]>::len).sum::<usize>());
    if let Some(existing) = existing {
        out.extend_from_slice(existing);
    }
    for operand in operands.iter() {
        out.extend_from_slice(operand);
    }
    Some(out)
}
