"""ferroflow: stream processing for Python users, with a Rust engine."""
