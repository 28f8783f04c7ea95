"""Common classes shared by the DataStream API, mirroring ``pyflink.common``."""

from ferroflow.common.configuration import Configuration
from ferroflow.common.execution_config import ExecutionConfig
from ferroflow.common.job_client import JobClient
from ferroflow.common.job_execution_result import JobExecutionResult
from ferroflow.common.job_status import JobStatus
from ferroflow.common.restart_strategy import RestartStrategies, RestartStrategyConfiguration
from ferroflow.common.serialization import Encoder
from ferroflow.common.time import Duration, Instant, Time
from ferroflow.common.typeinfo import TypeInformation, Types
from ferroflow.common.types import Row, RowKind
from ferroflow.common.watermark_strategy import TimestampAssigner, WatermarkGenerator, WatermarkStrategy

__all__ = [
    "Configuration",
    "Duration",
    "Encoder",
    "ExecutionConfig",
    "Instant",
    "JobClient",
    "JobExecutionResult",
    "JobStatus",
    "RestartStrategies",
    "RestartStrategyConfiguration",
    "Row",
    "RowKind",
    "Time",
    "TimestampAssigner",
    "TypeInformation",
    "Types",
    "WatermarkGenerator",
    "WatermarkStrategy",
]
