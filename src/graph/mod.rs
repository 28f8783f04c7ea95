//! From the user's program to runnable tasks: the logical plan, chaining, and the plan as JSON.

pub mod execution_plan;
pub mod job_graph;
pub mod stream_graph;
