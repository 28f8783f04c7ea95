//! The bytes of state values on RocksDB. Plain values (None, bool, int, float, str, bytes, and
//! tuples of them) have a compact form of their own, read and written without calling Python;
//! everything else is pickled. A value reads back as the same type: subclasses (an IntEnum, a
//! namedtuple) are pickled.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt, PyString, PyTuple};

use crate::bindings::key::type_name;
use crate::state::codec::{Reader, Writer};

const PICKLED: u8 = 0;
const NONE: u8 = 1;
const FALSE: u8 = 2;
const TRUE: u8 = 3;
const INT: u8 = 4;
const FLOAT: u8 = 5;
const STR: u8 = 6;
const BYTES: u8 = 7;
const TUPLE: u8 = 8;

/// How deeply tuples nest in the compact form; deeper ones are pickled.
const MAX_DEPTH: usize = 16;

/// The pickle protocol of state values and snapshots (5: out-of-band buffers, Python 3.8+).
pub const PICKLE_PROTOCOL: u8 = 5;

/// Encodes and decodes state values; holds `pickle.dumps` / `pickle.loads`.
pub struct ValueCodec {
    dumps: Py<PyAny>,
    loads: Py<PyAny>,
}

impl ValueCodec {
    pub fn new(py: Python<'_>) -> PyResult<ValueCodec> {
        let pickle = py.import("pickle")?;
        Ok(ValueCodec {
            dumps: pickle.getattr("dumps")?.unbind(),
            loads: pickle.getattr("loads")?.unbind(),
        })
    }

    /// Appends the bytes of `value` to `out`. An error says the value's type.
    pub fn encode(&self, value: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
        let mut writer = Writer {
            bytes: std::mem::take(out),
        };
        let result = self.write(value, &mut writer, MAX_DEPTH);
        *out = writer.bytes;
        result
    }

    pub fn to_bytes(&self, value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
        let mut out = Vec::new();
        self.encode(value, &mut out)?;
        Ok(out)
    }

    fn write(&self, value: &Bound<'_, PyAny>, w: &mut Writer, depth: usize) -> PyResult<()> {
        if value.is_none() {
            w.u8(NONE);
        } else if let Ok(b) = value.cast_exact::<PyBool>() {
            w.u8(if b.is_true() { TRUE } else { FALSE });
        } else if value.is_exact_instance_of::<PyInt>() {
            match value.extract::<i64>() {
                Ok(i) => {
                    w.u8(INT);
                    w.i64(i);
                }
                Err(_) => self.pickle(value, w)?,
            }
        } else if let Ok(f) = value.cast_exact::<PyFloat>() {
            w.u8(FLOAT);
            w.u64(f.value().to_bits());
        } else if let Ok(s) = value.cast_exact::<PyString>() {
            w.u8(STR);
            w.bytes(s.to_str()?.as_bytes());
        } else if let Ok(b) = value.cast_exact::<PyBytes>() {
            w.u8(BYTES);
            w.bytes(b.as_bytes());
        } else if let (Ok(t), true) = (value.cast_exact::<PyTuple>(), depth > 0) {
            w.u8(TUPLE);
            w.u32(t.len() as u32);
            for item in t.iter() {
                self.write(&item, w, depth - 1)?;
            }
        } else {
            self.pickle(value, w)?;
        }
        Ok(())
    }

    fn pickle(&self, value: &Bound<'_, PyAny>, w: &mut Writer) -> PyResult<()> {
        let py = value.py();
        let pickled = self.dumps.bind(py).call1((value, PICKLE_PROTOCOL)).map_err(|e| {
            PyTypeError::new_err(format!(
                "a value of type '{}' cannot be pickled, so RocksDB cannot keep it: {e}",
                type_name(value)
            ))
        })?;
        w.u8(PICKLED);
        w.bytes(pickled.cast::<PyBytes>()?.as_bytes());
        Ok(())
    }

    /// The value `bytes` encode.
    pub fn decode<'py>(&self, py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        let mut reader = Reader::new(bytes);
        let value = self.read(py, &mut reader)?;
        if !reader.is_at_end() {
            return Err(damaged("bytes after the value"));
        }
        Ok(value)
    }

    fn read<'py>(&self, py: Python<'py>, r: &mut Reader<'_>) -> PyResult<Bound<'py, PyAny>> {
        let tag = r.u8().map_err(|e| damaged(&e.0))?;
        Ok(match tag {
            NONE => py.None().into_bound(py),
            FALSE => PyBool::new(py, false).to_owned().into_any(),
            TRUE => PyBool::new(py, true).to_owned().into_any(),
            INT => r.i64().map_err(|e| damaged(&e.0))?.into_pyobject(py)?.into_any(),
            FLOAT => PyFloat::new(py, f64::from_bits(r.u64().map_err(|e| damaged(&e.0))?)).into_any(),
            STR => PyString::new(py, r.str().map_err(|e| damaged(&e.0))?).into_any(),
            BYTES => PyBytes::new(py, r.bytes().map_err(|e| damaged(&e.0))?).into_any(),
            TUPLE => {
                let n = r.u32().map_err(|e| damaged(&e.0))?;
                let mut items = Vec::with_capacity((n as usize).min(1024));
                for _ in 0..n {
                    items.push(self.read(py, r)?);
                }
                PyTuple::new(py, items)?.into_any()
            }
            PICKLED => {
                let bytes = r.bytes().map_err(|e| damaged(&e.0))?;
                self.loads.bind(py).call1((PyBytes::new(py, bytes),))?
            }
            other => return Err(damaged(&format!("unknown value tag {other}"))),
        })
    }
}

fn damaged(what: &str) -> PyErr {
    PyValueError::new_err(format!("a state value in RocksDB cannot be read back: {what}"))
}
