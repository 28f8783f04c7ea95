"""The metric classes under PyFlink's module path ``pyflink.metrics.metricbase``."""

from ferroflow._engine import Counter, Distribution, Meter, MetricGroup

__all__ = ["Counter", "Distribution", "Meter", "MetricGroup"]
