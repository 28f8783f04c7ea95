"""Conversions between ferroflow's values and pandas DataFrames.

pandas is optional (``pip install 'ferroflow[notebook]'``); every function here imports it
through ``require_pandas()``, which says what to install when it is missing.

Results become columns as a PyFlink user would expect: a ``Row`` gives its field names (or the
names of the stream's ``Types.ROW_NAMED`` type), a tuple and a ``Row`` without names give
``f0``, ``f1``, ... (Flink's names of tuple fields), a dict gives its keys, and any other value
one column ``f0`` (Flink's name of an atomic type's field).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ferroflow.common.types import Row

if TYPE_CHECKING:
    import pandas as pd

    from ferroflow.datastream.data_stream import DataStream

__all__ = ["metrics_to_frame", "require_pandas", "stream_to_pandas", "values_to_frame"]

INSTALL_HINT = "pip install 'ferroflow[notebook]' (or pip install pandas)"


def require_pandas(what: str) -> Any:
    """The pandas module, or an ImportError that names ``what`` needed it and how to install it."""
    try:
        import pandas
    except ImportError as e:
        raise ImportError(f"{what} needs pandas, which is not installed: {INSTALL_HINT}") from e
    return pandas


def stream_to_pandas(stream: DataStream, limit: int | None) -> pd.DataFrame:
    """Runs the job of ``stream`` (``execute_and_collect``) and returns its results as a
    DataFrame; with ``limit``, the first ``limit`` results (the job then stops)."""
    pd = require_pandas("DataStream.to_pandas()")
    if limit is None:
        with stream.execute_and_collect() as results:
            values = list(results)
    else:
        values = stream.execute_and_collect(limit=limit)
    return values_to_frame(values, _type_names(stream), pd)


def _type_names(stream: DataStream) -> list[str] | None:
    get_field_names = getattr(stream.get_type(), "get_field_names", None)
    return list(get_field_names()) if callable(get_field_names) else None


def values_to_frame(values: list[Any], names: list[str] | None = None, pd: Any = None) -> pd.DataFrame:
    """A DataFrame of ``values``, by the rules of this module; ``names`` are the stream's field
    names (from its type), used for rows and tuples that carry none."""
    pd = pd or require_pandas("Converting results to a DataFrame")
    if not values:
        return pd.DataFrame(columns=names or [])
    first = values[0]
    if isinstance(first, Row):
        row_names = first.get_field_names() or names
        rows = [list(v) if isinstance(v, (Row, tuple, list)) else [v] for v in values]
        return pd.DataFrame(rows, columns=_columns(row_names, rows))
    if isinstance(first, dict):
        return pd.DataFrame.from_records(values)
    if isinstance(first, tuple) and not hasattr(first, "_fields"):
        rows = [list(v) if isinstance(v, tuple) else [v] for v in values]
        return pd.DataFrame(rows, columns=_columns(names, rows))
    if isinstance(first, tuple):  # a namedtuple: its own field names
        return pd.DataFrame([tuple(v) for v in values], columns=list(first._fields))
    return pd.DataFrame({"f0": values})


def _columns(names: list[str] | None, rows: list[list[Any]]) -> list[str]:
    width = max(len(r) for r in rows)
    names = list(names or [])
    return names[:width] + [f"f{i}" for i in range(len(names), width)]


def metrics_to_frame(rows: list[dict[str, Any]], what: str = "Metrics as a DataFrame") -> pd.DataFrame:
    """Metrics rows (``JobClient.metrics()`` or ``metrics_history()``) as a DataFrame: one row
    per task, subtask (and sample); ``time`` (Unix seconds) becomes a datetime column; the
    ``operators`` list becomes ``<operator>.numRecordsIn`` / ``.numRecordsOut`` columns (a name
    that repeats in a chain gets ``#2``, ``#3``); ``user`` metrics become ``user.<name>``."""
    pd = require_pandas(what)
    flat = [_flatten(r) for r in rows]
    frame = pd.DataFrame.from_records(flat) if flat else pd.DataFrame(columns=["task", "subtask"])
    if "time" in frame.columns:
        frame["time"] = pd.to_datetime(frame["time"], unit="s")
    return frame


def _flatten(row: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in row.items() if k not in ("operators", "user")}
    seen: dict[str, int] = {}
    for op in row.get("operators") or []:
        name = str(op.get("operator", "?"))
        seen[name] = seen.get(name, 0) + 1
        label = name if seen[name] == 1 else f"{name}#{seen[name]}"
        for key, value in op.items():
            if key != "operator":
                flat[f"{label}.{key}"] = value
    for key, value in (row.get("user") or {}).items():
        flat[f"user.{key}"] = value
    return flat
