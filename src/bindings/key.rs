//! Python values to keys and back.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt, PyString, PyTuple};

use crate::runtime::key::{Key, MAX_KEY_DEPTH};
use crate::state::codec::Writer;

static ENCODE_KEY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static PICKLE_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static KEY_TOO_DEEP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Function `name` of Python module `module`, looked up once.
fn python_fn<'a, 'py>(
    py: Python<'py>,
    cell: &'a PyOnceLock<Py<PyAny>>,
    module: &str,
    name: &str,
) -> PyResult<&'a Bound<'py, PyAny>> {
    cell.get_or_try_init(py, || Ok::<_, PyErr>(py.import(module)?.getattr(name)?.unbind()))
        .map(|f| f.bind(py))
}

/// The key of a Python value: the value's own type where it has a Rust counterpart (an int, a
/// bool, a float, a str, bytes, None, a tuple of keys), else a stable encoding (its pickle), so
/// that keys are equal when they have the same type and the same value (PyFlink's rule).
/// Unhashable values are refused, as Python's dict would, and so are tuples nested deeper than
/// [`MAX_KEY_DEPTH`].
pub fn key_from_py(value: &Bound<'_, PyAny>) -> PyResult<Key> {
    key_within(value, MAX_KEY_DEPTH)
}

/// The byte form of a Python value's key: equal forms, equal keys (a MapState's user keys).
pub fn key_bytes_from_py(value: &Bound<'_, PyAny>, out: Vec<u8>) -> PyResult<Vec<u8>> {
    let mut writer = Writer { bytes: out };
    writer.key(&key_from_py(value)?);
    Ok(writer.bytes)
}

fn key_within(value: &Bound<'_, PyAny>, depth: usize) -> PyResult<Key> {
    if let Ok(i) = value.cast_exact::<PyInt>() {
        return Ok(match i.extract::<i64>() {
            Ok(v) => Key::Int(v),
            Err(_) => Key::BigInt(i.str()?.to_str()?.into()),
        });
    }
    if let Ok(s) = value.cast_exact::<PyString>() {
        return Ok(Key::Str(s.to_str()?.into()));
    }
    if value.is_none() {
        return Ok(Key::None);
    }
    if let Ok(b) = value.cast_exact::<PyBool>() {
        return Ok(Key::Bool(b.is_true()));
    }
    if let Ok(f) = value.cast_exact::<PyFloat>() {
        return Ok(Key::from_f64(f.value()));
    }
    if let Ok(b) = value.cast_exact::<PyBytes>() {
        return Ok(Key::Bytes(b.as_bytes().into()));
    }
    if let Ok(t) = value.cast_exact::<PyTuple>() {
        let Some(depth) = depth.checked_sub(1) else {
            return Err(too_deep());
        };
        let items = t
            .iter()
            .map(|item| key_within(&item, depth))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(Key::Tuple(items.into()));
    }
    let py = value.py();
    if let Err(e) = value.hash() {
        let unhashable = value.get_type().getattr("__hash__").is_ok_and(|h| h.is_none());
        let err = if unhashable {
            PyTypeError::new_err(format!(
                "the key {} (of type '{}') is not hashable; a key must be hashable, like an int, a \
                 str, bytes, a float, a tuple of those, or a frozen object",
                short_repr(value),
                type_name(value)
            ))
        } else {
            PyTypeError::new_err(format!(
                "the key {} (of type '{}') cannot be used as a key: its __hash__ raised {}",
                short_repr(value),
                type_name(value),
                error_summary(py, &e)
            ))
        };
        err.set_cause(py, Some(e));
        return Err(err);
    }
    let encode = python_fn(py, &ENCODE_KEY, "ferroflow._key_encoding", "encode_key")?;
    let encoded = encode.call1((value, depth)).map_err(|e| {
        let too_deep = python_fn(py, &KEY_TOO_DEEP, "ferroflow._key_encoding", "KeyTooDeepError");
        if too_deep.is_ok_and(|t| e.is_instance(py, t)) {
            return e;
        }
        let err = PyTypeError::new_err(format!(
            "the key {} (of type '{}') cannot be used as a key: pickling it raised {}",
            short_repr(value),
            type_name(value),
            error_summary(py, &e)
        ));
        err.set_cause(py, Some(e));
        err
    })?;
    Ok(Key::Opaque(encoded.cast_into::<PyBytes>()?.as_bytes().into()))
}

fn too_deep() -> PyErr {
    PyValueError::new_err(format!(
        "a key nested deeper than {MAX_KEY_DEPTH} levels of tuples cannot be used as a key; use a \
         flatter key (for example a tuple of the fields that identify the record)"
    ))
}

/// `TypeName: message` of an exception.
fn error_summary(py: Python<'_>, e: &PyErr) -> String {
    let name = e
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an exception".to_string());
    format!("{name}: {}", e.value(py))
}

/// The Python value of a key.
pub fn key_to_py<'py>(py: Python<'py>, key: &Key) -> PyResult<Bound<'py, PyAny>> {
    Ok(match key {
        Key::None => py.None().into_bound(py),
        Key::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Key::Int(i) => i.into_pyobject(py)?.into_any(),
        Key::BigInt(s) => py.get_type::<PyInt>().call1((s.as_ref(),))?,
        Key::Float(bits) => PyFloat::new(py, f64::from_bits(*bits)).into_any(),
        Key::Str(s) => PyString::new(py, s).into_any(),
        Key::Bytes(b) => PyBytes::new(py, b).into_any(),
        Key::Tuple(items) => {
            let items = items.iter().map(|k| key_to_py(py, k)).collect::<PyResult<Vec<_>>>()?;
            PyTuple::new(py, items)?.into_any()
        }
        Key::Opaque(b) => python_fn(py, &PICKLE_LOADS, "pickle", "loads")?.call1((PyBytes::new(py, b),))?,
    })
}

pub fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_string())
}

/// `repr(value)`, cut short when long.
pub fn short_repr(value: &Bound<'_, PyAny>) -> String {
    let r = value
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "<unprintable>".to_string());
    if r.chars().count() > 80 {
        let cut: String = r.chars().take(77).collect();
        format!("{cut}...")
    } else {
        r
    }
}
