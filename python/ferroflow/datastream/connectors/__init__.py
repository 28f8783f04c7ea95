"""Sources and sinks."""

from ferroflow.datastream.connectors.number_seq import NumberSequenceSource

__all__ = ["NumberSequenceSource"]
