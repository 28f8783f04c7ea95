"""TimeDomain: which clock a timer belongs to."""

from enum import IntEnum


class TimeDomain(IntEnum):
    EVENT_TIME = 0
    PROCESSING_TIME = 1
