//! State time-to-live: a state with a TTL keeps each entry (a value; each element of a list;
//! each entry of a map) as a `(value, last_access_ms)` tuple, and drops it when it is touched
//! after expiring.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// How the entries of a state expire (`StateTtlConfig`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Ttl {
    /// Milliseconds of processing time an entry lives after its last access.
    pub(super) ttl: i64,
    /// Reading counts as an access (`OnReadAndWrite`), not only writing.
    pub(super) refresh_on_read: bool,
    /// An expired entry is returned once more when it is read, as it is cleaned up
    /// (`ReturnExpiredIfNotCleanedUp`).
    pub(super) return_expired: bool,
}

/// An entry of a state with time-to-live, read at processing time `now`.
pub(super) struct Stamped<'py> {
    pub(super) value: Bound<'py, PyAny>,
    pub(super) expired: bool,
}

impl Ttl {
    pub(super) fn stamp<'py>(&self, value: Bound<'py, PyAny>, now: i64) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyTuple::new(value.py(), [value.clone(), now.into_pyobject(value.py())?.into_any()])?.into_any())
    }

    pub(super) fn open<'py>(&self, stored: &Bound<'py, PyAny>, now: i64) -> PyResult<Stamped<'py>> {
        let (value, last_access): (Bound<'py, PyAny>, i64) = stored.extract()?;
        Ok(Stamped {
            value,
            expired: last_access.saturating_add(self.ttl) <= now,
        })
    }

    /// Whether a read returns the entry: a live one always, an expired one only with
    /// `ReturnExpiredIfNotCleanedUp`.
    pub(super) fn visible(&self, entry: &Stamped<'_>) -> bool {
        !entry.expired || self.return_expired
    }
}
