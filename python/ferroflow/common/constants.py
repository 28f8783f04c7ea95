"""Constants shared by the API, as ``pyflink.common.constants``: the bounds of a Java long, which
Flink uses for "no timestamp" (``MIN_LONG_VALUE``) and "end of time" (``MAX_LONG_VALUE``)."""

from __future__ import annotations

__all__ = ["MAX_LONG_VALUE", "MIN_LONG_VALUE"]

MAX_LONG_VALUE = (1 << 63) - 1
"""The largest timestamp: the watermark that ends a bounded input, a GlobalWindow's max timestamp."""

MIN_LONG_VALUE = -(1 << 63)
"""The smallest timestamp: a record without a timestamp, the watermark before the first one."""
