"""Sums per key over tumbling event-time windows of 5 s, with out-of-order records."""

from ferroflow.common import Duration, Time, WatermarkStrategy
from ferroflow.common.watermark_strategy import TimestampAssigner
from ferroflow.datastream import ProcessWindowFunction, StreamExecutionEnvironment
from ferroflow.datastream.window import TumblingEventTimeWindows

# Out of order by less than the watermark's 1 s bound, so that no record is late however often
# watermarks are emitted.
EVENTS = [("a", 1, 1000), ("b", 2, 2000), ("a", 3, 4500), ("a", 4, 3900), ("b", 7, 5500), ("b", 5, 6000), ("a", 6, 12000)]


class ByTimestamp(TimestampAssigner):
    def extract_timestamp(self, value, record_timestamp):
        return value[2]


class Summarize(ProcessWindowFunction):
    def process(self, key, context, elements):
        window = context.window()
        values = [e[1] for e in elements]
        yield f"{key} [{window.start}, {window.end}) sum={sum(values)} n={len(values)}"


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(1)
strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_seconds(1)).with_timestamp_assigner(ByTimestamp())
(
    env.from_collection(EVENTS)
    .assign_timestamps_and_watermarks(strategy)
    .key_by(lambda e: e[0])
    .window(TumblingEventTimeWindows.of(Time.seconds(5)))
    .process(Summarize())
    .print()
)
env.execute("event-time windows")
