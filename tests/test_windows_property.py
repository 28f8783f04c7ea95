"""Event-time windows against a reference model (``window_model.py``), for random event orders
and random watermark placements: tumbling, sliding and session windows, with and without
offsets, allowed lateness 0 and > 0, and the late-data side output, at parallelism 1 and 2.

ferroflow is driven deterministically: watermark markers travel in the input between the
records, pass the timestamp assigner (which gives them a timestamp too), make the watermark
generator emit their watermark right after them, and are then filtered out before key_by. The
assigner and the filter run at parallelism 1 so that the window operator sees records and
watermarks in exactly the order of the input (behind a rebalance to two subtasks a record could
overtake a watermark); the window operator and the sinks run at the environment's parallelism.

The first tests check the model itself (they pass without the engine's event time).
"""

from __future__ import annotations

import operator
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferroflow.common import Time, WatermarkGenerator, WatermarkStrategy
from ferroflow.datastream import (
    AggregateFunction,
    OutputTag,
    ProcessWindowFunction,
    StreamExecutionEnvironment,
    WindowFunction,
)
from ferroflow.datastream.window import EventTimeSessionWindows, SlidingEventTimeWindows, TumblingEventTimeWindows
from window_model import MAX_LONG, Session, Sliding, Tumbling, run_model

SETTINGS = settings(
    max_examples=50,
    deadline=None,
    # The only function-scoped fixture is conftest's autouse thread check, which is meant to run
    # once after all examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PARALLELISM = pytest.mark.parametrize("parallelism", [1, 2], ids=["p1", "p2"])

MARKER = "#wm"
LATE = OutputTag("late")


def record(key: str, value: int, ts: int) -> tuple[Any, ...]:
    return ("record", key, value, ts)


def watermark(wm: int) -> tuple[Any, ...]:
    return ("watermark", wm)


def per_key(results: list[tuple[Any, ...]]) -> dict[Any, list[tuple[Any, ...]]]:
    """Results grouped by key (their first field), each group in emission order."""
    groups: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
    for r in results:
        groups[r[0]].append(r)
    return dict(groups)


def sorted_per_key(results: list[tuple[Any, ...]]) -> dict[Any, list[tuple[Any, ...]]]:
    return {k: sorted(v) for k, v in per_key(results).items()}


# --------------------------------------------------------------------------------------------
# the model itself


def test_model_pyflink_oracles():
    ones = [1, 2, 3, 4, 5, 8, 9, 15]
    assert run_model([record("hi", 1, t) for t in ones], Tumbling(5)).results == [
        ("hi", 0, 5, 4),
        ("hi", 5, 10, 3),
        ("hi", 15, 20, 1),
    ]
    assert run_model([record("hi", 1, t) for t in ones], Sliding(5, 2)).results == [
        ("hi", -2, 3, 2),
        ("hi", 0, 5, 4),
        ("hi", 2, 7, 4),
        ("hi", 4, 9, 3),
        ("hi", 6, 11, 2),
        ("hi", 8, 13, 2),
        ("hi", 12, 17, 1),
        ("hi", 14, 19, 1),
    ]
    assert run_model([record("hi", 1, t) for t in [1, 2, 3, 4, 8, 9, 15]], Session(5)).results == [
        ("hi", 1, 14, 6),
        ("hi", 15, 20, 1),
    ]
    # test_session_window_late_merge: only the final watermark matters
    assert run_model([record("hi", 1, t) for t in [0, 8, 4]], Session(5)).results == [("hi", 0, 13, 3)]


def test_model_per_record_watermarks():
    """Watermark ``ts - 1`` after every record (for_monotonous_timestamps, per record)."""
    ops = []
    for t in [0, 8, 4]:
        ops += [record("hi", 1, t), watermark(t - 1)]
    # [0, 5) fires at watermark 7, before 4 arrives; 4's window then merges with [8, 13)
    assert run_model(ops, Session(5)).results == [("hi", 0, 5, 1), ("hi", 4, 13, 2)]
    # test_side_output_late_data: 0, 8, 4, 6 in 5 ms tumbling windows, lateness 0
    ops = []
    for t in [0, 8, 4, 6]:
        ops += [record("a", 1, t), watermark(t - 1)]
    out = run_model(ops, Tumbling(5))
    assert out.results == [("a", 0, 5, 1), ("a", 5, 10, 2)]
    assert out.late == [("a", 1, 4)]


def test_model_allowed_lateness_refires_then_drops():
    ops = [record("a", 1, 1), watermark(5), record("a", 2, 2), watermark(7), record("a", 4, 3)]
    out = run_model(ops, Tumbling(5), allowed_lateness=3)
    # fired by the watermark, re-fired with the full contents by the late element, then cleaned
    # up at 4 + 3 = 7: the last element is late (3 + 3 <= 7)
    assert out.results == [("a", 0, 5, 1), ("a", 0, 5, 3)]
    assert out.late == [("a", 4, 3)]


def test_model_late_window_rescued_by_a_merge():
    """[3, 8) is late on its own at watermark 7, but it touches the live session [8, 13)."""
    ops = [record("a", 1, 8), watermark(7), record("a", 2, 3), record("a", 4, -5)]
    out = run_model(ops, Session(5))
    assert out.results == [("a", 3, 13, 3)]
    assert out.late == [("a", 4, -5)]  # [-5, 0) is late and touches nothing live


def test_model_sliding_gap_element_is_not_late():
    """With slide > size an element can fall between windows: it vanishes, and is late output
    only when ``ts + lateness <= watermark``."""
    ops = [record("a", 1, 3), record("a", 1, 1), watermark(20), record("a", 1, 23), record("a", 1, 11)]
    out = run_model(ops, Sliding(2, 5))
    assert out.results == [("a", 0, 2, 1)]  # 3 and 23 fell in gaps; 23 > 20 is not late
    assert out.late == [("a", 1, 11)]  # [10, 12) was cleaned up at 11


def test_model_results_of_one_advance_come_in_window_end_order():
    ops = [record("k", 1, t) for t in [17, 3, 9, -4]] + [watermark(30)]
    assert [r[2] for r in run_model(ops, Tumbling(5)).results] == [0, 5, 10, 20]


def _contains(start: int, size: int, ts: int) -> bool:
    return start <= ts < start + size


def batch_windows(records: list[tuple[str, int, int]], assigner: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Window contents computed in one pass over all records, as a batch job would, by brute
    force rather than the model's formulas: per key, sorted by window end."""
    by_key: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for key, value, ts in records:
        by_key[key].append((ts, value))
    out: dict[str, list[tuple[Any, ...]]] = {}
    for key, items in by_key.items():
        sums: dict[tuple[int, int], int] = defaultdict(int)
        if isinstance(assigner, Session):
            sessions: list[list[int]] = []  # [start, end, sum]
            for ts, value in sorted(items):
                if sessions and ts <= sessions[-1][1]:
                    sessions[-1][1] = max(sessions[-1][1], ts + assigner.gap)
                    sessions[-1][2] += value
                else:
                    sessions.append([ts, ts + assigner.gap, value])
            for start, end, total in sessions:
                sums[(start, end)] = total
        else:
            size = assigner.size
            slide = assigner.slide if isinstance(assigner, Sliding) else assigner.size
            for ts, value in items:
                for start in range(ts - size - slide, ts + 1):
                    if (start - assigner.offset) % slide == 0 and _contains(start, size, ts):
                        sums[(start, start + size)] += value
        if sums:
            out[key] = [(key, s, e, v) for (s, e), v in sorted(sums.items(), key=lambda kv: kv[0][1])]
    return out


# --------------------------------------------------------------------------------------------
# strategies

KEYS = st.sampled_from(["a", "b", "c"])


@st.composite
def operations(draw: Any) -> list[tuple[Any, ...]]:
    """Records with random timestamps, and watermarks at random places: mostly increasing, some
    not (a watermark that is not larger than the last is ignored)."""
    records = draw(st.lists(st.tuples(KEYS, st.integers(1, 9), st.integers(-15, 45)), min_size=1, max_size=25))
    count = draw(st.integers(0, 8))
    marks = []
    for _ in range(count):
        if draw(st.booleans()):
            marks.append(draw(st.integers(-20, 50)))
        else:  # near a record's timestamp, where windows end and lateness bounds fall
            marks.append(draw(st.sampled_from(records))[2] + draw(st.integers(-1, 12)))
    marks.sort()
    if draw(st.integers(0, 3)) == 0:
        marks = list(draw(st.permutations(marks)))
    positions = sorted(draw(st.lists(st.integers(0, len(records)), min_size=count, max_size=count)))
    ops: list[tuple[Any, ...]] = []
    pending = list(zip(positions, marks))
    for i, (key, value, ts) in enumerate(records):
        while pending and pending[0][0] == i:
            ops.append(watermark(pending.pop(0)[1]))
        ops.append(record(key, value, ts))
    ops.extend(watermark(wm) for _, wm in pending)
    return ops


@st.composite
def tumbling(draw: Any) -> Tumbling:
    size = draw(st.integers(1, 12))
    offset = draw(st.one_of(st.just(0), st.integers(-(size - 1), size - 1)))
    return Tumbling(size, offset)


@st.composite
def sliding(draw: Any) -> Sliding:
    size = draw(st.integers(1, 12))
    slide = draw(st.integers(1, 8))  # slide > size leaves gaps between windows
    offset = draw(st.one_of(st.just(0), st.integers(-(slide - 1), slide - 1)))
    return Sliding(size, slide, offset)


def sessions() -> st.SearchStrategy[Session]:
    return st.builds(Session, st.integers(1, 10))


LATENESS = st.one_of(st.just(0), st.integers(1, 10))
VARIANTS = st.sampled_from(["reduce", "process", "aggregate"])


@SETTINGS
@given(
    records=st.lists(st.tuples(KEYS, st.integers(1, 9), st.integers(-15, 45)), min_size=1, max_size=25),
    assigner=st.one_of(tumbling(), sliding(), sessions()),
    lateness=LATENESS,
)
def test_model_matches_a_batch_evaluation_without_watermarks(records, assigner, lateness):
    out = run_model([record(*r) for r in records], assigner, lateness)
    assert out.late == []
    assert per_key(out.results) == batch_windows(records, assigner)


@SETTINGS
@given(ops=operations(), assigner=st.one_of(tumbling(), sliding(), sessions()), lateness=LATENESS)
def test_model_invariants(ops, assigner, lateness):
    records = [op[1:] for op in ops if op[0] == "record"]
    out = run_model(ops, assigner, lateness)
    remaining = list(records)
    for late in out.late:  # late records are input records, each sent at most once
        remaining.remove(late)
    if not isinstance(assigner, Session):
        last: dict[tuple[Any, ...], int] = {}
        for key, start, end, value in out.results:  # a re-fire only adds to a window
            assert value > last.get((key, start, end), 0)
            last[(key, start, end)] = value
    # Without a bound on lateness nothing is dropped: each window's last result is what a batch
    # evaluation gives, whatever the watermarks did before.
    unbounded = run_model(ops, assigner, MAX_LONG // 4)
    assert unbounded.late == []
    final = {(key, start, end): value for key, start, end, value in unbounded.results}
    for key, windows in batch_windows(records, assigner).items():
        for _, start, end, value in windows:
            assert final[(key, start, end)] == value


# --------------------------------------------------------------------------------------------
# ferroflow against the model


class MarkerWatermarks(WatermarkGenerator):
    """Emits the watermark a marker item carries, right after the marker."""

    def on_event(self, value, timestamp):
        return value[2] if value[0] == MARKER else None


class AddBounds(ProcessWindowFunction):
    """After a reduce: the one reduced value, with the window's bounds."""

    def process(self, key, context, elements):
        (reduced,) = list(elements)
        window = context.window()
        yield (key, window.start, window.end, reduced[1])


class SumWithBounds(ProcessWindowFunction):
    def process(self, key, context, elements):
        window = context.window()
        yield (key, window.start, window.end, sum(e[1] for e in elements))


class SumValues(AggregateFunction):
    def create_accumulator(self):
        return 0

    def add(self, value, accumulator):
        return accumulator + value[1]

    def get_result(self, accumulator):
        return accumulator

    def merge(self, acc_a, acc_b):
        return acc_a + acc_b


class Bounds(WindowFunction):
    def apply(self, key, window, inputs):
        (total,) = list(inputs)
        return [(key, window.start, window.end, total)]


def to_ferroflow(assigner: Any) -> Any:
    if isinstance(assigner, Tumbling):
        return TumblingEventTimeWindows.of(Time.milliseconds(assigner.size), Time.milliseconds(assigner.offset))
    if isinstance(assigner, Sliding):
        return SlidingEventTimeWindows.of(
            Time.milliseconds(assigner.size), Time.milliseconds(assigner.slide), Time.milliseconds(assigner.offset)
        )
    return EventTimeSessionWindows.with_gap(Time.milliseconds(assigner.gap))


def to_items(ops: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Records as ``(key, value, ts)``; watermarks as marker items ``(MARKER, 0, wm)``."""
    return [op[1:] if op[0] == "record" else (MARKER, 0, op[1]) for op in ops]


def run_ferroflow(
    parallelism: int, ops: list[tuple[Any, ...]], assigner: Any, lateness: int, variant: str, late_tag: bool
) -> tuple[list[Any], list[Any]]:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    strategy = WatermarkStrategy.for_generator(MarkerWatermarks).with_timestamp_assigner(lambda e, ts: e[2])
    records = (
        env.from_collection(to_items(ops))
        .assign_timestamps_and_watermarks(strategy)
        .set_parallelism(1)
        .filter(lambda e: e[0] != MARKER)
        .set_parallelism(1)
    )
    windowed = records.key_by(lambda e: e[0]).window(to_ferroflow(assigner)).allowed_lateness(lateness)
    if late_tag:
        windowed = windowed.side_output_late_data(LATE)
    if variant == "reduce":
        result = windowed.reduce(lambda a, b: (a[0], a[1] + b[1], a[2]), AddBounds())
    elif variant == "process":
        result = windowed.process(SumWithBounds())
    else:
        result = windowed.aggregate(SumValues(), Bounds())
    main: list[Any] = []
    late: list[Any] = []
    result.add_sink(main.append)
    if late_tag:
        result.get_side_output(LATE).add_sink(late.append)
    env.execute()
    return main, late


def check_against_model(
    parallelism: int, ops: list[tuple[Any, ...]], assigner: Any, lateness: int, variant: str, late_tag: bool
) -> None:
    expected = run_model(ops, assigner, lateness, operator.add)
    main, late = run_ferroflow(parallelism, ops, assigner, lateness, variant, late_tag)
    assert sorted_per_key(main) == sorted_per_key(expected.results)
    if parallelism == 1:
        assert per_key(main) == per_key(expected.results)
    if late_tag:
        assert sorted(late) == sorted(expected.late)
        if parallelism == 1:
            assert late == expected.late
    else:
        assert late == []


@PARALLELISM
@SETTINGS
@given(ops=operations(), assigner=tumbling(), lateness=LATENESS, variant=VARIANTS, late_tag=st.booleans())
def test_tumbling_windows_match_the_model(parallelism, ops, assigner, lateness, variant, late_tag):
    check_against_model(parallelism, ops, assigner, lateness, variant, late_tag)


@PARALLELISM
@SETTINGS
@given(ops=operations(), assigner=sliding(), lateness=LATENESS, variant=VARIANTS, late_tag=st.booleans())
def test_sliding_windows_match_the_model(parallelism, ops, assigner, lateness, variant, late_tag):
    check_against_model(parallelism, ops, assigner, lateness, variant, late_tag)


@PARALLELISM
@SETTINGS
@given(ops=operations(), assigner=sessions(), lateness=LATENESS, variant=VARIANTS, late_tag=st.booleans())
def test_session_windows_match_the_model(parallelism, ops, assigner, lateness, variant, late_tag):
    check_against_model(parallelism, ops, assigner, lateness, variant, late_tag)


@PARALLELISM
def test_known_scenario_with_lateness_and_late_output(parallelism):
    """A fixed case of everything at once, easier to read when it fails than a random one."""
    ops = [
        record("a", 1, 1),
        record("b", 10, 2),
        watermark(5),  # fires [0, 5) of a and b
        record("a", 2, 3),  # late within lateness 3: re-fires a's [0, 5) with 3
        record("a", 100, 9),
        watermark(8),  # cleans up [0, 5) (4 + 3 <= 8)
        record("b", 20, 4),  # late: 4 + 3 <= 8
        record("b", 30, 7),  # [5, 10) is live
    ]
    expected = run_model(ops, Tumbling(5), 3)
    assert expected.results == [
        ("a", 0, 5, 1),
        ("b", 0, 5, 10),
        ("a", 0, 5, 3),
        ("a", 5, 10, 100),
        ("b", 5, 10, 30),
    ]
    assert expected.late == [("b", 20, 4)]
    for variant in ("reduce", "process", "aggregate"):
        check_against_model(parallelism, ops, Tumbling(5), 3, variant, True)


@PARALLELISM
def test_boundaries(parallelism):
    """The ``<=`` edges, which random cases reach rarely: a window fires when the watermark
    equals its max timestamp, an element of a window at exactly that watermark re-fires it, a
    window is cleaned up when the watermark equals max timestamp + lateness, and an element is
    late output when ``ts + lateness`` equals the watermark."""
    ops = [
        record("a", 1, 1),
        watermark(4),  # [0, 5) fires: max timestamp 4
        record("a", 2, 2),  # 4 <= 4: re-fires at once
        record("a", 32, 3),  # and again: one result per late element
        watermark(6),  # [0, 5) cleaned up: 4 + 2 <= 6
        record("a", 4, 4),  # skipped, and 4 + 2 <= 6: late
        record("a", 8, 9),
        watermark(9),
        record("a", 16, 7),  # [5, 10) re-fires
    ]
    expected = run_model(ops, Tumbling(5), 2)
    assert expected.results == [("a", 0, 5, 1), ("a", 0, 5, 3), ("a", 0, 5, 35), ("a", 5, 10, 8), ("a", 5, 10, 24)]
    assert expected.late == [("a", 4, 4)]
    sessions_ops = [record("b", 1, 5), watermark(5), record("b", 2, 5), record("b", 4, 6)]
    expected = run_model(sessions_ops, Session(1))
    # [5, 6) fired and cleaned up at 5; the second 5 is late (5 + 0 <= 5); [6, 7) is live
    assert expected.results == [("b", 5, 6, 1), ("b", 6, 7, 4)]
    assert expected.late == [("b", 2, 5)]
    for variant in ("reduce", "process", "aggregate"):
        check_against_model(parallelism, ops, Tumbling(5), 2, variant, True)
        check_against_model(parallelism, sessions_ops, Session(1), 0, variant, True)
