"""Nothing is silently lost when a job stops early: results computed before a failure reach
the user before the failure does, and an iterator a stopped job read ahead is refused rather than
silently continued."""

from __future__ import annotations

import pytest

from ferroflow.datastream import KeyedProcessFunction, StreamExecutionEnvironment


def _fail_at(bad: int):
    def f(x: int) -> int:
        if x == bad:
            raise ValueError(f"bad record {bad}")
        return x

    return f


def _collect_until_failure(stream) -> tuple[list, BaseException | None]:
    got: list = []
    try:
        got.extend(stream.execute_and_collect())
    except ValueError as e:
        return got, e
    return got, None


def test_collect_yields_the_results_before_a_failure_then_raises() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    got, error = _collect_until_failure(env.from_collection(list(range(100))).map(_fail_at(50)))
    assert str(error) == "bad record 50"
    assert got == list(range(50))


def test_results_before_a_failure_pass_every_chained_operator() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    stream = (
        env.from_collection(list(range(100)))
        .filter(lambda x: x % 2 == 0)
        .flat_map(lambda x: [x, x + 1])
        .map(_fail_at(61))
        .map(lambda x: x * 10)
    )
    got, error = _collect_until_failure(stream)
    assert str(error) == "bad record 61"
    assert got == [x * 10 for x in range(61)]


def test_a_sink_gets_the_records_before_a_failure_of_a_chained_operator() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    seen: list[int] = []
    env.from_collection(list(range(30))).map(_fail_at(20)).add_sink(seen.append)
    with pytest.raises(ValueError, match="bad record 20"):
        env.execute()
    assert seen == list(range(20))


def test_collect_yields_what_a_failing_keyed_function_emitted_before() -> None:
    class Upto(KeyedProcessFunction):
        def process_element(self, value, ctx):
            if value == 70:
                raise ValueError("bad record 70")
            yield value

    env = StreamExecutionEnvironment.get_execution_environment()
    stream = env.from_collection(list(range(100))).key_by(lambda x: x % 3).process(Upto())
    got, error = _collect_until_failure(stream)
    assert str(error) == "bad record 70"
    assert sorted(got) == list(range(70))


def test_collect_at_parallelism_2_yields_the_failing_subtask_results() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    stream = env.from_collection(list(range(100))).rebalance().map(_fail_at(50))
    got, error = _collect_until_failure(stream)
    assert str(error) == "bad record 50"
    # Round robin: the subtask that failed got the even numbers, and all before 50 came out.
    assert set(range(0, 50, 2)) <= set(got)
    assert 50 not in got and len(got) == len(set(got))


def test_windows_fired_before_a_failing_window_reach_the_user() -> None:
    from ferroflow.common import Duration, WatermarkStrategy
    from ferroflow.common.time import Time
    from ferroflow.common.watermark_strategy import TimestampAssigner
    from ferroflow.datastream import ProcessWindowFunction
    from ferroflow.datastream.window import TumblingEventTimeWindows

    class Stamp(TimestampAssigner):
        def extract_timestamp(self, value, record_timestamp):
            return value * 500

    class Count(ProcessWindowFunction):
        def process(self, key, context, elements):
            if context.window().start == 7000:
                raise ValueError("bad window 7000")
            yield context.window().start, len(list(elements))

    env = StreamExecutionEnvironment.get_execution_environment()
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(0)).with_timestamp_assigner(Stamp())
    stream = (
        env.from_collection(list(range(20)))
        .assign_timestamps_and_watermarks(strategy)
        .key_by(lambda x: 0)
        .window(TumblingEventTimeWindows.of(Time.seconds(1)))
        .process(Count())
    )
    got, error = _collect_until_failure(stream)
    assert str(error) == "bad window 7000"
    assert got == [(start, 2) for start in range(0, 7000, 1000)]


def test_an_iterator_read_by_a_job_cut_short_by_a_limit_is_refused() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    numbers = iter(range(10))
    assert env.from_iterable(numbers).execute_and_collect(limit=3) == [0, 1, 2]
    with pytest.raises(ValueError, match="stopped before its end"):
        env.from_iterable(numbers)


def test_an_iterator_read_by_a_failed_job_is_refused() -> None:
    def numbers():
        yield from range(10)

    generator = numbers()
    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_iterable(generator).map(_fail_at(4)).add_sink(lambda x: None)
    with pytest.raises(ValueError, match="bad record 4"):
        env.execute()
    with pytest.raises(ValueError, match="a new\\s+iterator, or a function that returns one"):
        env.from_iterable(generator)


def test_an_iterator_of_a_job_that_finished_is_not_refused() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    numbers = iter(range(5))
    assert list(env.from_iterable(numbers).execute_and_collect()) == [0, 1, 2, 3, 4]
    # Used up, as any iterator: the next job reads nothing and says nothing.
    assert list(env.from_iterable(numbers).execute_and_collect()) == []


def test_a_function_returning_the_iterable_gives_each_job_a_fresh_one() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    stream = env.from_iterable(lambda: iter(range(10)))
    assert stream.execute_and_collect(limit=3) == [0, 1, 2]
    assert env.from_iterable(lambda: iter(range(10))).execute_and_collect(limit=4) == [0, 1, 2, 3]


def test_an_iterator_the_job_never_reached_the_end_of_is_refused_after_close() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    numbers = iter(range(100_000))
    with env.from_iterable(numbers).execute_and_collect() as results:
        assert next(results) == 0
    with pytest.raises(ValueError, match="stopped before its end"):
        env.from_iterable(numbers).execute_and_collect()


def test_a_list_given_to_from_iterable_can_be_read_again() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    values = list(range(10))
    assert env.from_iterable(values).execute_and_collect(limit=2) == [0, 1]
    assert env.from_iterable(values).execute_and_collect(limit=2) == [0, 1]
