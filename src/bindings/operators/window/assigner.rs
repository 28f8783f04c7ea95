//! The window assigners of window specs.

use pyo3::prelude::*;

/// The assigner a window spec tuple describes (see `ferroflow/datastream/window.py`), and the
/// session gap extractor of dynamic sessions.
pub fn parse_assigner(spec: &Bound<'_, PyAny>) -> PyResult<(crate::window::assigner::Assigner, Option<Py<PyAny>>)> {
    use crate::window::assigner::Assigner;
    let kind: String = spec.get_item(0)?.extract()?;
    let item = |i: usize| spec.get_item(i);
    Ok(match kind.as_str() {
        "tumbling" => (
            Assigner::Tumbling {
                event_time: item(1)?.extract()?,
                size: item(2)?.extract()?,
                offset: item(3)?.extract()?,
            },
            None,
        ),
        "sliding" => (
            Assigner::Sliding {
                event_time: item(1)?.extract()?,
                size: item(2)?.extract()?,
                slide: item(3)?.extract()?,
                offset: item(4)?.extract()?,
            },
            None,
        ),
        "session" => (
            Assigner::Session {
                event_time: item(1)?.extract()?,
                gap: Some(item(2)?.extract()?),
            },
            None,
        ),
        "dynamic_session" => (
            Assigner::Session {
                event_time: item(1)?.extract()?,
                gap: None,
            },
            Some(item(2)?.unbind()),
        ),
        "global" => (Assigner::Global, None),
        "count_tumbling" => (
            Assigner::CountTumbling {
                size: item(1)?.extract()?,
            },
            None,
        ),
        "count_sliding" => (
            Assigner::CountSliding {
                size: item(1)?.extract()?,
                slide: item(2)?.extract()?,
            },
            None,
        ),
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "unknown window assigner '{other}'"
            )))
        }
    })
}
