"""``DataStream.to_pandas()`` and the metrics as DataFrames; pandas is optional."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import namedtuple

import pandas as pd
import pytest

from ferroflow.common.typeinfo import Types
from ferroflow.common.types import Row
from ferroflow.datastream import StreamExecutionEnvironment


@pytest.fixture
def env() -> StreamExecutionEnvironment:
    return StreamExecutionEnvironment.get_execution_environment()


def test_rows_give_their_field_names(env):
    frame = env.from_collection([Row(city="Oslo", temp=3.5), Row(city="Rome", temp=17.0)]).to_pandas()
    assert list(frame.columns) == ["city", "temp"]
    assert frame.to_dict("records") == [{"city": "Oslo", "temp": 3.5}, {"city": "Rome", "temp": 17.0}]


def test_a_named_row_type_names_the_columns_of_plain_tuples(env):
    row_type = Types.ROW_NAMED(["word", "count"], [Types.STRING(), Types.INT()])
    frame = env.from_collection([("a", 1), ("b", 2)], type_info=row_type).to_pandas()
    assert list(frame.columns) == ["word", "count"]
    assert frame["count"].tolist() == [1, 2]


def test_tuples_and_unnamed_rows_give_f0_to_fn(env):
    frame = env.from_collection([(1, "x", 2.5), (2, "y", 3.5)]).map(lambda t: t).to_pandas()
    assert list(frame.columns) == ["f0", "f1", "f2"]
    assert frame["f1"].tolist() == ["x", "y"]
    frame = env.from_collection([Row(1, "x")]).to_pandas()
    assert list(frame.columns) == ["f0", "f1"]


def test_namedtuples_give_their_fields(env):
    Point = namedtuple("Point", ["x", "y"])
    frame = env.from_collection([Point(1, 2), Point(3, 4)]).to_pandas()
    assert list(frame.columns) == ["x", "y"]
    assert frame["y"].tolist() == [2, 4]


def test_dicts_give_their_keys(env):
    frame = env.from_collection([{"a": 1}, {"a": 2, "b": 3}]).to_pandas()
    assert list(frame.columns) == ["a", "b"]
    assert frame["a"].tolist() == [1, 2]
    assert pd.isna(frame["b"][0]) and frame["b"][1] == 3


def test_scalars_give_one_column_f0(env):
    frame = env.from_collection([3, 1, 2]).map(lambda x: x * 10).to_pandas()
    assert list(frame.columns) == ["f0"]
    assert sorted(frame["f0"]) == [10, 20, 30]


def test_limit_takes_the_first_results_and_no_results_is_an_empty_frame(env):
    assert env.from_collection(list(range(100))).to_pandas(limit=5)["f0"].tolist() == [0, 1, 2, 3, 4]
    empty = env.from_collection([1, 2]).filter(lambda x: False).to_pandas()
    assert empty.empty


def test_metrics_history_rows_are_flattened():
    from ferroflow._pandas import metrics_to_frame

    rows = [
        {
            "time": 1_700_000_000.5,
            "task": "Source -> Map -> Map",
            "subtask": 0,
            "numRecordsIn": 10,
            "operators": [
                {"operator": "Map", "numRecordsIn": 10, "numRecordsOut": 10},
                {"operator": "Map", "numRecordsIn": 10, "numRecordsOut": 4},
            ],
            "user": {"parse.errors": 2},
        }
    ]
    frame = metrics_to_frame(rows)
    assert frame["time"][0] == pd.Timestamp("2023-11-14 22:13:20.500")
    assert frame["Map.numRecordsOut"][0] == 10
    assert frame["Map#2.numRecordsOut"][0] == 4
    assert frame["user.parse.errors"][0] == 2
    assert "operators" not in frame.columns and "user" not in frame.columns


def test_without_pandas_to_pandas_says_what_to_install():
    script = """
        import builtins
        real_import = builtins.__import__
        def blocked(name, *args, **kwargs):
            if name == "pandas" or name.startswith("pandas."):
                raise ImportError("No module named 'pandas'")
            return real_import(name, *args, **kwargs)
        builtins.__import__ = blocked

        from ferroflow.datastream import StreamExecutionEnvironment
        env = StreamExecutionEnvironment.get_execution_environment()
        stream = env.from_collection([1, 2])
        try:
            stream.to_pandas()
        except ImportError as e:
            print("ImportError:", e)
        client = env.from_collection([1]).map(lambda x: x).add_sink(lambda v: None)
        client = env.execute_async()
        client.wait()
        try:
            client.metrics_frame()
        except ImportError as e:
            print("ImportError:", e)
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    hint = "pip install 'ferroflow[notebook]' (or pip install pandas)"
    assert lines == [
        f"ImportError: DataStream.to_pandas() needs pandas, which is not installed: {hint}",
        f"ImportError: JobClient.metrics_frame() needs pandas, which is not installed: {hint}",
    ]
