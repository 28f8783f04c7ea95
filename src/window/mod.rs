//! Windows: assigners, triggers and the window operator.

pub mod assigner;
pub mod functions;
pub mod grouped;
pub mod operator;
pub mod snapshot;
pub mod trigger;
#[allow(clippy::module_inception)]
pub mod window;

#[cfg(test)]
mod checkpoint_tests;
#[cfg(test)]
mod operator_tests;
