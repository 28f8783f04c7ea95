"""Counts per key in keyed state and reports each key's count from an event-time timer."""

from ferroflow.common import Duration, Types, WatermarkStrategy
from ferroflow.common.watermark_strategy import TimestampAssigner
from ferroflow.datastream import KeyedProcessFunction, StreamExecutionEnvironment
from ferroflow.datastream.state import ValueStateDescriptor

# Every timer is later than every record, so each reports its key's final count however often
# watermarks are emitted.
EVENTS = [("x", 100), ("y", 200), ("x", 300), ("x", 500), ("y", 520), ("z", 900)]


class ByTimestamp(TimestampAssigner):
    def extract_timestamp(self, value, record_timestamp):
        return value[1]


class CountThenReport(KeyedProcessFunction):
    def open(self, runtime_context):
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.INT()))

    def process_element(self, value, ctx):
        self.count.update((self.count.value() or 0) + 1)
        ctx.timer_service().register_event_time_timer(value[1] + 10_000)

    def on_timer(self, timestamp, ctx):
        yield f"{ctx.get_current_key()} at {timestamp}: {self.count.value()}"


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(1)
strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(0)).with_timestamp_assigner(ByTimestamp())
(
    env.from_collection(EVENTS)
    .assign_timestamps_and_watermarks(strategy)
    .key_by(lambda e: e[0])
    .process(CountThenReport())
    .print()
)
env.execute("keyed state and timers")
