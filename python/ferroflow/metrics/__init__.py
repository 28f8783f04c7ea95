"""Metrics that user functions define, as in PyFlink's ``pyflink.metrics``: a function gets its
operator's :class:`MetricGroup` from ``runtime_context.get_metrics_group()`` in ``open()``.

```python
class Parse(MapFunction):
    def open(self, runtime_context):
        self.bad = runtime_context.get_metrics_group().counter("bad_lines")

    def map(self, line):
        ...
        self.bad.inc()
```

The values show in ``JobClient.metrics()`` and its history while the job runs, under ``user``.
"""

from ferroflow._engine import Counter, Distribution, Meter, MetricGroup

__all__ = ["Counter", "Distribution", "Meter", "MetricGroup"]
