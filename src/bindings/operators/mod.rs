//! Engine operators that run Python: user functions, keyed aggregations and sinks.

pub mod accumulators;
pub mod aggregate;
pub mod batch_loop;
pub mod key_by;
pub mod print;
pub mod reduce;
pub mod udf_operator;
pub mod watermarks;
pub mod window;
