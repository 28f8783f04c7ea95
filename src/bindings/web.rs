//! The job's dashboard from Python's side: the `rest.address`/`rest.port` settings to a running
//! server (a clear `OSError` naming the port when it is taken), and the line printed when a job
//! starts one.

use std::sync::Arc;

use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;

use crate::web::server::{WebError, WebServer};

/// Where the dashboard listens (`WebSpec` of `_web_options.py`).
#[derive(Clone, FromPyObject)]
pub struct WebSpec {
    pub address: String,
    pub port: u16,
}

/// The server for `spec`, started now or joined; the flag says whether it was started now.
pub fn web_server(spec: &WebSpec) -> PyResult<(Arc<WebServer>, bool)> {
    WebServer::acquire(&spec.address, spec.port).map_err(|e| match &e {
        WebError::PortInUse { .. } => PyOSError::new_err((libc_eaddrinuse(), e.to_string())),
        _ => PyOSError::new_err(e.to_string()),
    })
}

/// `EADDRINUSE` as Python's `errno` module has it.
fn libc_eaddrinuse() -> i32 {
    Python::attach(|py| {
        py.import("errno")
            .and_then(|m| m.getattr("EADDRINUSE"))
            .and_then(|v| v.extract::<i32>())
            .unwrap_or(98)
    })
}

/// Prints where the dashboard of job `name` is, with Python's `print` (so that notebooks show it).
pub fn announce(py: Python<'_>, name: &str, url: &str) -> PyResult<()> {
    let line = format!("ferroflow: the dashboard of job '{name}' is at {url}");
    py.import("builtins")?.getattr("print")?.call1((line,))?;
    Ok(())
}
