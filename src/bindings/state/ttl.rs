//! State time-to-live: a state with a TTL keeps each entry (a value; each element of a list;
//! each entry of a map) as a `(value, last_access_ms)` tuple, and drops it when it is touched
//! after expiring.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// How the entries of a state expire (`StateTtlConfig`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ttl {
    /// Milliseconds of processing time an entry lives after its last access.
    pub(super) ttl: i64,
    /// Reading counts as an access (`OnReadAndWrite`), not only writing.
    pub(super) refresh_on_read: bool,
    /// An expired entry is returned once more when it is read, as it is cleaned up
    /// (`ReturnExpiredIfNotCleanedUp`).
    pub(super) return_expired: bool,
    /// Heap: keys checked for expired entries of this state on each of its accesses.
    pub(super) cleanup_per_access: usize,
    /// Heap: snapshots leave expired entries out.
    pub(super) cleanup_in_snapshot: bool,
}

/// What `StateTtlConfig._engine_spec()` gives.
pub(super) type TtlSpec = (i64, bool, bool, usize, bool);

impl From<TtlSpec> for Ttl {
    fn from((ttl, refresh_on_read, return_expired, cleanup_per_access, cleanup_in_snapshot): TtlSpec) -> Ttl {
        Ttl {
            ttl,
            refresh_on_read,
            return_expired,
            cleanup_per_access,
            cleanup_in_snapshot,
        }
    }
}

/// An entry of a state with time-to-live, read at processing time `now`.
pub struct Stamped<'py> {
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

    /// Whether a stored entry (a stamped value) expired by `now`.
    pub(super) fn expired(&self, stored: &Bound<'_, PyAny>, now: i64) -> PyResult<bool> {
        Ok(self.open(stored, now)?.expired)
    }

    /// Whether a read returns the entry: a live one always, an expired one only with
    /// `ReturnExpiredIfNotCleanedUp`.
    pub(super) fn visible(&self, entry: &Stamped<'_>) -> bool {
        !entry.expired || self.return_expired
    }
}
