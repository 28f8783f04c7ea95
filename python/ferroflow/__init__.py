"""ferroflow: stream processing for Python users, with a Rust engine.

The API follows PyFlink's DataStream API: ``from ferroflow.datastream import
StreamExecutionEnvironment``.
"""

from ferroflow._warnings import DamagedCheckpointWarning, DroppedTimersWarning, StuckTaskWarning

__all__ = ["DamagedCheckpointWarning", "DroppedTimersWarning", "StuckTaskWarning"]

__version__ = "0.1.0"
