//! The end of a job tells the user about processing-time windows and timers that its bounded
//! input's end dropped (Flink's STREAMING mode does not fire them), with a
//! `ferroflow.DroppedTimersWarning` per operator, instead of results going missing without a word.

use std::collections::BTreeMap;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::runtime::operator::DroppedAtEnd;
use crate::runtime::task::TaskStats;

/// What each operator dropped, summed over its subtasks, by operator name.
fn by_operator(tasks: &[TaskStats]) -> BTreeMap<&str, DroppedAtEnd> {
    let mut all: BTreeMap<&str, DroppedAtEnd> = BTreeMap::new();
    for (name, dropped) in tasks.iter().flat_map(|t| &t.dropped_at_end) {
        let entry = all.entry(name.as_str()).or_default();
        entry.windows += dropped.windows;
        entry.timers += dropped.timers;
    }
    all
}

/// A task's `dropped_at_end` figures: `{operator: {"windows": n, "timers": m}}`.
pub fn dropped_dict<'py>(py: Python<'py>, task: &TaskStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, dropped) in &task.dropped_at_end {
        let counts = PyDict::new(py);
        counts.set_item("windows", dropped.windows)?;
        counts.set_item("timers", dropped.timers)?;
        d.set_item(name, counts)?;
    }
    Ok(d)
}

fn plural(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The warning's text for `operator`.
pub fn message(operator: &str, dropped: DroppedAtEnd) -> String {
    let mut pending = Vec::new();
    if dropped.windows > 0 {
        pending.push(plural(dropped.windows, "processing-time window"));
    }
    if dropped.timers > 0 {
        pending.push(plural(dropped.timers, "processing-time timer"));
    }
    format!(
        "operator '{operator}' still had {} pending when its bounded input ended; as in Flink, they \
         did not fire, so their results are not in the output. To get them, use event time (a \
         bounded input ends with a final watermark that fires every event-time window and timer), \
         or windows and timers short enough to fire while the input still runs",
        pending.join(" and ")
    )
}

/// Warns once per operator that dropped processing-time windows or timers at the end of its
/// input (an error if the user's warning filters turn the warning into one).
pub fn warn_dropped_at_end(py: Python<'_>, tasks: &[TaskStats]) -> PyResult<()> {
    let dropped = by_operator(tasks);
    if dropped.is_empty() {
        return Ok(());
    }
    let category = py.import("ferroflow._warnings")?.getattr("DroppedTimersWarning")?;
    for (operator, d) in dropped {
        let text = std::ffi::CString::new(message(operator, d).replace('\0', " "))?;
        PyErr::warn(py, &category, &text, 2)?;
    }
    Ok(())
}
