//! `DataStream.print()`: writes each value to Python's `sys.stdout` (so notebooks show it), with
//! PyFlink's prefixes: `N> ` when the sink runs with parallelism > 1, `id> ` / `id:N> ` with a
//! sink identifier.

use pyo3::prelude::*;

use crate::bindings::errors::at_record;
use crate::bindings::value::PyValue;
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::Record;

pub struct Print {
    identifier: Option<String>,
    /// `format_value(value) -> str` for typed streams; `str()` when None.
    formatter: Option<Py<PyAny>>,
    prefix: String,
    text: String,
}

impl Print {
    pub fn new(identifier: Option<String>, formatter: Option<Py<PyAny>>) -> Self {
        Print {
            identifier,
            formatter,
            prefix: String::new(),
            text: String::new(),
        }
    }
}

impl Operator<PyValue> for Print {
    fn open(&mut self, info: &TaskInfo) -> OperatorResult {
        self.prefix = match (&self.identifier, info.parallelism > 1) {
            (None, false) => String::new(),
            (None, true) => format!("{}> ", info.subtask_index + 1),
            (Some(id), false) => format!("{id}> "),
            (Some(id), true) => format!("{id}:{}> ", info.subtask_index + 1),
        };
        Ok(())
    }

    fn process_batch(
        &mut self,
        _input: usize,
        batch: &mut Vec<Record<PyValue>>,
        _out: &mut Output<PyValue>,
    ) -> OperatorResult {
        Python::attach(|py| {
            self.text.clear();
            for (i, r) in batch.drain(..).enumerate() {
                let value = r.value.0.bind(py);
                let shown = match &self.formatter {
                    Some(f) => f.bind(py).call1((value,)).and_then(|s| s.str()),
                    None => value.str(),
                }
                .map_err(|e| at_record(e, i))?;
                self.text.push_str(&self.prefix);
                self.text.push_str(shown.to_str().map_err(|e| at_record(e, i))?);
                self.text.push('\n');
            }
            let stdout = py
                .import("sys")
                .and_then(|sys| sys.getattr("stdout"))
                .map_err(OperatorError::new)?;
            stdout
                .call_method1("write", (self.text.as_str(),))
                .map_err(OperatorError::new)?;
            Ok(())
        })
    }

    fn finish(&mut self, _out: &mut Output<PyValue>) -> OperatorResult {
        Python::attach(|py| {
            let stdout = py.import("sys")?.getattr("stdout")?;
            stdout.call_method0("flush").map(drop)
        })
        .map_err(OperatorError::new)
    }
}
