//! `assign_timestamps_and_watermarks(strategy)`: gives each record its event timestamp and
//! generates watermarks, periodically on the auto-watermark interval (or per record, or by a
//! Python generator), marks the stream idle after the idleness timeout, and swallows watermarks
//! from upstream except the final one.

use pyo3::prelude::*;

use crate::bindings::errors::at_record;
use crate::bindings::udf::Udf;
use crate::bindings::value::PyValue;
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::{Record, NO_TIMESTAMP};
use crate::time::clock::Clock;

/// The methods of the strategy's Python `WatermarkGenerator`, looked up once.
struct Generator {
    on_event: Py<PyAny>,
    on_periodic_emit: Py<PyAny>,
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
}

impl Operator<PyValue> for TimestampsAndWatermarks {
    fn open(&mut self, info: &TaskInfo) -> OperatorResult {
        self.clock = info.clock.clone();
        let now = self.clock.now();
        self.last_record_at = now;
        if self.periodic() {
            self.next_periodic = now.saturating_add(self.interval);
        }
        self.udf.open()?;
        if self.kind == WatermarkKind::Generator {
            let factory = self
                .udf
                .calls
                .last()
                .ok_or_else(|| OperatorError::new("no watermark generator factory"))?;
            self.generator = Some(
                Python::attach(|py| {
                    let generator = factory.bind(py).call0()?;
                    Ok::<_, PyErr>(Generator {
                        on_event: generator.getattr("on_event")?.unbind(),
                        on_periodic_emit: generator.getattr("on_periodic_emit")?.unbind(),
                    })
                })
                .map_err(OperatorError::new)?,
            );
        }
        Ok(())
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
                        .and_then(|t| t.extract::<i64>())
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
