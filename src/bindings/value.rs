//! Python objects as the values a job carries.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::runtime::record::Data;

/// A Python object travelling through the engine. Moved, never cloned: fan-out takes a new
/// reference inside the interpreter scope.
#[derive(Debug)]
pub struct PyValue(pub Py<PyAny>);

impl Data for PyValue {
    fn duplicate(&self) -> Self {
        Python::attach(|py| PyValue(self.0.clone_ref(py)))
    }

    fn scope<R>(f: impl FnOnce() -> R) -> R {
        Python::attach(|_py| f())
    }

    fn run_thread<R>(f: impl FnOnce() -> R + Send) -> R
    where
        R: Send,
    {
        // Attach once for the thread's whole life and release the interpreter right away: the
        // thread keeps its Python thread state, so each per-batch `scope` only re-takes the
        // interpreter lock instead of creating and destroying a thread state.
        Python::attach(|py| py.detach(f))
    }

    fn size_estimate(&self) -> usize {
        // SAFETY: only called inside `scope`, where this thread holds the interpreter.
        let py = unsafe { Python::assume_attached() };
        size_of_value(self.0.bind(py), CONTAINER_DEPTH)
    }
}

/// What any object costs besides its payload: its header, the record around it.
const OBJECT_BYTES: usize = 64;
/// How deep into tuples, lists, dicts and objects the estimate looks.
pub const CONTAINER_DEPTH: u8 = 3;
/// How many items of a tuple or list are measured; the rest are taken to be like them.
const SAMPLED_ITEMS: usize = 16;

/// The bytes `value` holds, cheaply: exact for bytes, str, bytearray and objects with a buffer
/// (memoryview, numpy arrays, array.array); tuples, lists and dicts (subclasses too: namedtuples,
/// `Row`s) by their first items, and objects of the user's classes by their attributes, to
/// [`CONTAINER_DEPTH`] levels; anything else a fixed amount.
pub fn size_of_value(value: &Bound<'_, PyAny>, depth: u8) -> usize {
    if let Ok(b) = value.cast::<PyBytes>() {
        return OBJECT_BYTES + b.as_bytes().len();
    }
    if let Ok(s) = value.cast::<PyString>() {
        // SAFETY: `s` is a str; the interpreter is held. Its storage is length times kind
        // (1, 2 or 4 bytes a character).
        let (chars, kind) = unsafe { (ffi::PyUnicode_GetLength(s.as_ptr()), ffi::PyUnicode_KIND(s.as_ptr())) };
        return OBJECT_BYTES + usize::try_from(chars).unwrap_or(0) * kind as usize;
    }
    if let Ok(t) = value.cast::<PyTuple>() {
        return OBJECT_BYTES + items_size(t.len(), depth, |i| t.get_item(i).ok());
    }
    if let Ok(l) = value.cast::<PyList>() {
        return OBJECT_BYTES + items_size(l.len(), depth, |i| l.get_item(i).ok());
    }
    if let Ok(d) = value.cast::<PyDict>() {
        return OBJECT_BYTES + dict_size(d, depth);
    }
    if let Ok(b) = value.cast::<PyByteArray>() {
        return OBJECT_BYTES + b.len();
    }
    if let Some(bytes) = buffer_size(value) {
        return OBJECT_BYTES + bytes;
    }
    OBJECT_BYTES + attributes_size(value, depth)
}

/// The size of a dict's keys and values, measuring the first [`SAMPLED_ITEMS`] and scaling.
fn dict_size(d: &Bound<'_, PyDict>, depth: u8) -> usize {
    let len = d.len();
    if depth == 0 {
        return len * 2 * OBJECT_BYTES;
    }
    let sampled = len.min(SAMPLED_ITEMS);
    let measured: usize = d
        .iter()
        .take(sampled)
        .map(|(k, v)| size_of_value(&k, depth - 1) + size_of_value(&v, depth - 1))
        .sum();
    measured.checked_div(sampled).map_or(0, |per_item| per_item * len)
}

/// The size of an object's attributes, for objects that keep them in a `__dict__` (instances
/// of the user's classes, dataclasses).
fn attributes_size(value: &Bound<'_, PyAny>, depth: u8) -> usize {
    // SAFETY: the type object of a live object, read with the interpreter held.
    let has_dict = unsafe { (*ffi::Py_TYPE(value.as_ptr())).tp_dictoffset != 0 };
    if depth == 0 || !has_dict {
        return 0;
    }
    match value.getattr(pyo3::intern!(value.py(), "__dict__")) {
        Ok(attributes) => attributes.cast::<PyDict>().map_or(0, |d| dict_size(d, depth - 1)),
        Err(_) => 0,
    }
}

/// The size of `len` items, measuring the first [`SAMPLED_ITEMS`] and scaling.
fn items_size<'py>(len: usize, depth: u8, item: impl Fn(usize) -> Option<Bound<'py, PyAny>>) -> usize {
    if depth == 0 {
        return len * OBJECT_BYTES;
    }
    let sampled = len.min(SAMPLED_ITEMS);
    let measured: usize = (0..sampled)
        .filter_map(&item)
        .map(|v| size_of_value(&v, depth - 1))
        .sum();
    measured.checked_div(sampled).map_or(0, |per_item| per_item * len)
}

/// The bytes of an object's buffer (memoryview, numpy array, array.array, ...), if it has one.
fn buffer_size(value: &Bound<'_, PyAny>) -> Option<usize> {
    let ptr = value.as_ptr();
    // SAFETY: the interpreter is held; `view` is released after a successful get, and an error
    // from a failed get is cleared (the object then counts as a plain object).
    unsafe {
        if ffi::PyObject_CheckBuffer(ptr) == 0 {
            return None;
        }
        let mut view = std::mem::MaybeUninit::<ffi::Py_buffer>::zeroed();
        if ffi::PyObject_GetBuffer(ptr, view.as_mut_ptr(), ffi::PyBUF_FULL_RO) != 0 {
            ffi::PyErr_Clear();
            return None;
        }
        let len = view.assume_init_ref().len;
        ffi::PyBuffer_Release(view.as_mut_ptr());
        usize::try_from(len).ok()
    }
}
