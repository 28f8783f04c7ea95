//! `assign_timestamps_and_watermarks(strategy)`: gives each record its event timestamp and
//! generates watermarks, periodically on the auto-watermark interval (or per record, or by a
//! Python generator), marks the stream idle after the idleness timeout, and swallows watermarks
//! from upstream except the final one.
//!
//! In checkpoints (`watermark-generator.bin`): the highest timestamp seen, so that a restored job
//! emits its watermarks from where they were, and a Python `WatermarkGenerator` pickled, when it
//! pickles (one that does not is left out: the restored job makes a new one).
//!
//! ```text
//! "FFWMGEN2"  max_timestamp:i64  has_generator:u8  [generator:bytes]  crc32:u32
//! ```
//!
//! On restore at the same parallelism each subtask takes its own snapshot; at another
//! parallelism every subtask takes the lowest max timestamp of all (never a watermark ahead of
//! one the old job had reached) and a new generator.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::types::{PyBool, PyFloat, PyInt};

use crate::bindings::errors::at_record;
use crate::bindings::state::PICKLE_PROTOCOL;
use crate::bindings::udf::Udf;
use crate::bindings::value::PyValue;
use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::{Record, NO_TIMESTAMP};
use crate::state::codec::{DecodeError, Reader, Writer};
use crate::state::snapshot::{read_snapshot_file, write_snapshot_file, SnapshotError};
use crate::time::clock::Clock;

const MAGIC: &[u8; 8] = b"FFWMGEN2";
const FILE_NAME: &str = "watermark-generator.bin";

/// The strategy's Python `WatermarkGenerator`, and its methods looked up once.
struct Generator {
    object: Py<PyAny>,
    on_event: Py<PyAny>,
    on_periodic_emit: Py<PyAny>,
}

/// Writes a subtask's snapshot: its max timestamp, and its generator pickled (when it pickles).
fn write_snapshot(dir: &std::path::Path, max_timestamp: i64, generator: Option<&[u8]>) -> Result<u64, SnapshotError> {
    let mut w = Writer::default();
    w.bytes.extend_from_slice(MAGIC);
    w.i64(max_timestamp);
    match generator {
        Some(bytes) => {
            w.u8(1);
            w.bytes(bytes);
        }
        None => w.u8(0),
    }
    write_snapshot_file(dir, FILE_NAME, &w.bytes)
}

/// What a subtask's snapshot holds: its max timestamp, and its generator pickled.
fn read_snapshot(dir: &std::path::Path) -> Result<(i64, Option<Vec<u8>>), SnapshotError> {
    let (path, bytes) = read_snapshot_file(dir, FILE_NAME, MAGIC, "a watermark generator snapshot")?;
    let corrupt = |error| SnapshotError::Corrupt {
        path: path.clone(),
        error,
    };
    let mut r = Reader::new(&bytes[MAGIC.len()..]);
    let max_timestamp = r.i64().map_err(corrupt)?;
    let generator = match r.u8().map_err(corrupt)? {
        0 => None,
        _ => Some(r.bytes().map_err(corrupt)?.to_vec()),
    };
    if !r.is_at_end() {
        return Err(corrupt(DecodeError("bytes after the generator".into())));
    }
    Ok((max_timestamp, generator))
}

/// How watermarks are derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatermarkKind {
    /// `max_timestamp - delay - 1` (monotonous: delay 0).
    Bounded { delay: i64 },
    /// No watermarks (only the final one at the end of the input).
    None,
    /// A Python `WatermarkGenerator` (`on_event`, `on_periodic_emit`).
    Generator,
}

pub struct TimestampsAndWatermarks {
    kind: WatermarkKind,
    /// The user's timestamp assigner, and (for a generator strategy) the generator factory.
    udf: Udf,
    has_assigner: bool,
    generator: Option<Generator>,
    per_record: bool,
    interval: i64,
    idleness: Option<i64>,
    clock: Clock,
    max_timestamp: i64,
    emitted: i64,
    next_periodic: i64,
    last_record_at: i64,
    idle: bool,
}

impl TimestampsAndWatermarks {
    pub fn new(
        kind: WatermarkKind,
        udf: Udf,
        has_assigner: bool,
        per_record: bool,
        interval: i64,
        idleness: Option<i64>,
    ) -> Self {
        TimestampsAndWatermarks {
            kind,
            udf,
            has_assigner,
            generator: None,
            per_record,
            interval: interval.max(0),
            idleness,
            clock: Clock::System,
            max_timestamp: i64::MIN,
            emitted: i64::MIN,
            next_periodic: i64::MAX,
            last_record_at: 0,
            idle: false,
        }
    }

    fn current(&self) -> Option<i64> {
        match self.kind {
            WatermarkKind::Bounded { delay } if self.max_timestamp != i64::MIN => {
                Some(self.max_timestamp.saturating_sub(delay).saturating_sub(1))
            }
            _ => None,
        }
    }

    fn emit(&mut self, watermark: Option<i64>, out: &mut Output<PyValue>) {
        if let Some(w) = watermark {
            if w > self.emitted {
                self.emitted = w;
                out.emit_watermark(w);
            }
        }
    }

    /// Whether watermarks are emitted every interval (an interval of 0 turns that off, as in
    /// Flink: only the end of input's watermark then).
    fn periodic(&self) -> bool {
        !self.per_record && self.kind != WatermarkKind::None && self.interval > 0
    }

    /// Takes back the max timestamp (and the pickled generator) the checkpoint holds for this
    /// subtask; see the module's doc.
    fn restore(&mut self, info: &TaskInfo) -> OperatorResult<Option<Vec<u8>>> {
        let Some(restore) = &info.restore else {
            return Ok(None);
        };
        let error = |e: SnapshotError| OperatorError::new(e.to_string());
        let dirs: Vec<_> = restore
            .directories
            .iter()
            .filter(|d| d.join(FILE_NAME).exists())
            .collect();
        if restore.old_parallelism() == info.parallelism {
            let Some(dir) = restore
                .directories
                .get(info.subtask_index)
                .filter(|d| d.join(FILE_NAME).exists())
            else {
                return Ok(None);
            };
            let (max_timestamp, generator) = read_snapshot(dir).map_err(error)?;
            self.max_timestamp = max_timestamp;
            return Ok(generator);
        }
        let mut lowest: Option<i64> = None;
        for dir in dirs {
            let (max_timestamp, _) = read_snapshot(dir).map_err(error)?;
            lowest = Some(lowest.map_or(max_timestamp, |l| l.min(max_timestamp)));
        }
        if let Some(l) = lowest {
            self.max_timestamp = l;
        }
        Ok(None)
    }
}

impl Operator<PyValue> for TimestampsAndWatermarks {
    fn open(&mut self, info: &TaskInfo) -> OperatorResult {
        self.clock = info.clock.clone();
        let now = self.clock.now();
        self.last_record_at = now;
        if self.periodic() {
            self.next_periodic = now.saturating_add(self.interval);
        }
        let restored_generator = self.restore(info)?;
        self.udf.open()?;
        if self.kind == WatermarkKind::Generator {
            let factory = self
                .udf
                .calls
                .last()
                .ok_or_else(|| OperatorError::new("no watermark generator factory"))?;
            self.generator = Some(
                Python::attach(|py| {
                    let generator = match &restored_generator {
                        Some(bytes) => py
                            .import("pickle")?
                            .getattr("loads")?
                            .call1((PyBytes::new(py, bytes),))?,
                        None => factory.bind(py).call0()?,
                    };
                    Ok::<_, PyErr>(Generator {
                        on_event: generator.getattr("on_event")?.unbind(),
                        on_periodic_emit: generator.getattr("on_periodic_emit")?.unbind(),
                        object: generator.unbind(),
                    })
                })
                .map_err(OperatorError::new)?,
            );
        }
        Ok(())
    }

    /// The max timestamp, and the Python generator pickled when it pickles (else left out).
    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        let mut stats = self.udf.snapshot(ctx, ctx.directory)?;
        let generator: Option<Vec<u8>> = match &self.generator {
            Some(g) => Python::attach(|py| {
                let dumps = py.import("pickle")?.getattr("dumps")?;
                Ok::<_, PyErr>(
                    dumps
                        .call1((g.object.bind(py), PICKLE_PROTOCOL))
                        .and_then(|b| b.extract::<Vec<u8>>())
                        .ok(),
                )
            })
            .map_err(OperatorError::new)?,
            None => None,
        };
        let bytes = write_snapshot(ctx.directory, self.max_timestamp, generator.as_deref())
            .map_err(|e| OperatorError::new(e.to_string()))?;
        stats.add(SnapshotStats::full(bytes));
        Ok(stats)
    }

    fn process_batch(
        &mut self,
        _input: usize,
        batch: &mut Vec<Record<PyValue>>,
        out: &mut Output<PyValue>,
    ) -> OperatorResult {
        if batch.is_empty() {
            return Ok(());
        }
        if self.idle {
            self.idle = false;
            out.emit_idle(false);
        }
        if self.idleness.is_some() {
            self.last_record_at = self.clock.now();
        }
        Python::attach(|py| {
            let assigner = self
                .has_assigner
                .then(|| self.udf.calls[0].clone_ref(py).into_bound(py));
            let generator = self.generator.as_ref().map(|g| {
                (
                    g.on_event.clone_ref(py).into_bound(py),
                    g.on_periodic_emit.clone_ref(py).into_bound(py),
                )
            });
            for (i, mut r) in batch.drain(..).enumerate() {
                if let Some(assigner) = &assigner {
                    let previous = if r.timestamp == NO_TIMESTAMP {
                        i64::MIN
                    } else {
                        r.timestamp
                    };
                    r.timestamp = assigner
                        .call1((r.value.0.bind(py), previous))
                        .and_then(|t| timestamp_from(&t, assigner))
                        .map_err(|e| at_record(e, i))?;
                }
                if r.timestamp != NO_TIMESTAMP && r.timestamp > self.max_timestamp {
                    self.max_timestamp = r.timestamp;
                }
                let generated = match &generator {
                    Some((on_event, _)) => on_event
                        .call1((r.value.0.bind(py), r.timestamp))
                        .and_then(|w| w.extract::<Option<i64>>())
                        .map_err(|e| at_record(e, i))?,
                    None => None,
                };
                out.emit(r);
                self.emit(generated, out);
                if self.per_record {
                    // Per-record emission: what the strategy would emit periodically, after
                    // every record.
                    let w = match &generator {
                        Some((_, on_periodic_emit)) => on_periodic_emit
                            .call0()
                            .and_then(|w| w.extract::<Option<i64>>())
                            .map_err(|e| at_record(e, i))?,
                        None => self.current(),
                    };
                    self.emit(w, out);
                }
            }
            Ok(())
        })
    }

    fn on_watermark(&mut self, watermark: i64, out: &mut Output<PyValue>) -> OperatorResult<Option<i64>> {
        // Upstream watermarks are replaced by this strategy's, except the end of the input.
        if watermark == i64::MAX {
            self.emit(Some(i64::MAX), out);
        }
        Ok(None)
    }

    fn next_processing_time(&self) -> Option<i64> {
        let idle_check = match self.idleness {
            Some(t) if !self.idle => Some(self.last_record_at.saturating_add(t)),
            _ => None,
        };
        let periodic = self.periodic().then_some(self.next_periodic);
        match (periodic, idle_check) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_processing_time(&mut self, now: i64, out: &mut Output<PyValue>) -> OperatorResult {
        if self.periodic() && now >= self.next_periodic {
            self.next_periodic = now.saturating_add(self.interval);
            let w = match &self.generator {
                Some(g) => Python::attach(|py| g.on_periodic_emit.bind(py).call0()?.extract::<Option<i64>>())
                    .map_err(OperatorError::new)?,
                None => self.current(),
            };
            self.emit(w, out);
        }
        if let Some(t) = self.idleness {
            if !self.idle && now >= self.last_record_at.saturating_add(t) {
                self.idle = true;
                out.emit_idle(true);
            }
        }
        Ok(())
    }

    fn close(&mut self) -> OperatorResult {
        Python::attach(|_py| self.generator = None);
        self.udf.close()
    }
}

/// The timestamp an assigner returned: an int of epoch milliseconds that fits in a signed 64-bit
/// integer, above its minimum (which stands for "no timestamp"). Anything else is a clear error
/// naming the assigner.
fn timestamp_from(value: &Bound<'_, PyAny>, assigner: &Bound<'_, PyAny>) -> PyResult<i64> {
    let from = || {
        assigner
            .getattr("__qualname__")
            .and_then(|n| n.extract::<String>())
            .or_else(|_| assigner.repr().map(|r| r.to_string()))
            .unwrap_or_else(|_| "the timestamp assigner".into())
    };
    const RANGE: &str = "between -9223372036854775807 and 9223372036854775807 (-2**63 + 1 and 2**63 - 1)";
    // Ints and int-like objects (numpy's integers), but not bools or floats.
    let int_like =
        value.is_instance_of::<PyInt>() || (!value.is_instance_of::<PyFloat>() && value.hasattr("__index__")?);
    if int_like && !value.is_instance_of::<PyBool>() {
        return match value.extract::<i64>() {
            Ok(t) if t != NO_TIMESTAMP => Ok(t),
            _ => Err(PyValueError::new_err(format!(
                "the timestamp {value} returned by {} is out of range: a timestamp is an int of epoch \
                 milliseconds {RANGE}",
                from()
            ))),
        };
    }
    let hint = if value.is_instance_of::<PyFloat>() {
        " (for time.time() * 1000, return int(time.time() * 1000))"
    } else {
        ""
    };
    let shown = value.repr().map_or_else(|_| "?".into(), |r| r.to_string());
    Err(PyTypeError::new_err(format!(
        "a timestamp must be an int of epoch milliseconds {RANGE}, got {} {shown} from {}{hint}",
        value.get_type().name().map_or_else(|_| "?".into(), |n| n.to_string()),
        from()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_changed_byte_of_a_generator_snapshot_is_refused_naming_it() {
        let dir = std::env::temp_dir().join(format!("ferroflow-wmgen-flips-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_snapshot(&dir, 1234, Some(b"pickled")).unwrap();
        assert_eq!(read_snapshot(&dir).unwrap(), (1234, Some(b"pickled".to_vec())));
        crate::state::checksum::assert_every_flip_refused(&dir.join(FILE_NAME), || {
            read_snapshot(&dir).map(drop).map_err(|e| e.to_string())
        });
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
