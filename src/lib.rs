//! ferroflow: a stream processor for Python users, with a Rust engine.
//!
//! `graph` and `runtime` are the engine and never touch Python; `bindings` is the only code that
//! does.

pub mod checkpoint;
pub mod connectors;
pub mod graph;
pub mod metrics;
pub mod runtime;
pub mod state;
pub mod time;
pub mod web;
pub mod window;

mod bindings;

#[cfg(test)]
mod architecture_tests;

use pyo3::prelude::*;

/// The extension module `ferroflow._engine`.
#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    bindings::register(m)
}
