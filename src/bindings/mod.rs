//! The Python boundary: the only Rust code that touches Python.

pub mod cancellation;
pub mod checkpointing;
pub mod collect;
pub mod connectors;
pub mod context;
pub mod dropped_timers;
pub mod errors;
pub mod interrupt;
pub mod iterable_source;
pub mod job_builder;
pub mod job_client;
pub mod job_driver;
pub mod key;
pub mod manual_run;
pub mod metrics;
pub mod operators;
pub mod partitioner;
pub mod plan;
pub mod rewindable_source;
pub mod signals;
pub mod sources;
pub mod state;
pub mod udf;
pub mod user_metrics;
pub mod value;
pub mod web;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<job_builder::JobBuilder>()?;
    m.add_class::<collect::CollectIterator>()?;
    m.add_class::<job_client::JobClient>()?;
    m.add_class::<user_metrics::MetricGroup>()?;
    m.add_class::<user_metrics::Counter>()?;
    m.add_class::<user_metrics::Meter>()?;
    m.add_class::<user_metrics::Distribution>()?;
    m.add_class::<manual_run::ManualRun>()?;
    m.add_class::<context::ProcessContext>()?;
    m.add_class::<state::StateStore>()?;
    m.add_class::<state::OperatorStateStore>()?;
    m.add_class::<state::OperatorListState>()?;
    m.add_class::<state::StateView>()?;
    m.add_class::<state::ValueState>()?;
    m.add_class::<state::ListState>()?;
    m.add_class::<state::MapState>()?;
    m.add_class::<state::ReducingState>()?;
    m.add_class::<state::AggregatingState>()?;
    m.add_class::<operators::window::WindowContext>()?;
    m.add_class::<operators::window::PyTriggerContext>()?;
    m.add_function(wrap_pyfunction!(checkpointing::latest_checkpoint, m)?)?;
    m.add_function(wrap_pyfunction!(checkpointing::damaged_checkpoints, m)?)?;
    m.add_function(wrap_pyfunction!(checkpointing::check_checkpoint, m)?)?;
    m.add_function(wrap_pyfunction!(connectors::file_connector_charset, m)?)?;
    m.add_function(wrap_pyfunction!(connectors::check_date_time_bucket_assigner, m)?)?;
    m.add("END_OF_INPUT", crate::checkpoint::END_OF_INPUT)?;
    m.add(
        "DEFAULT_MAX_PARALLELISM",
        crate::runtime::key_group::DEFAULT_MAX_PARALLELISM,
    )?;
    Ok(())
}
