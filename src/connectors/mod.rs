//! Sources and sinks that need no Python: a source fed by hand (tests).

pub mod manual_source;
