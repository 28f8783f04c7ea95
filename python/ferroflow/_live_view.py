"""A running job in Jupyter: ``JobClient``'s HTML view and the display that keeps it up to date.

The view shows the job's status, its graph with each task coloured by the share of time it is
busy (blue to red) and backpressured (a dark bar), a table of per-task metrics (subtasks added
up) and sparklines of each task's records/s. ``LiveDisplay`` shows it under a display id and
redraws it from a background thread every ``UPDATE_SECONDS`` while the job runs (the metrics are
read no more often); the thread ends with the job, after a last redraw, which stays in the
notebook as the static view when it is exported.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING, Any

from ferroflow._plan_view import PlanView, TaskLoad

if TYPE_CHECKING:
    from ferroflow.common.job_client import JobClient

__all__ = ["UPDATE_SECONDS", "LiveDisplay", "job_html", "sparkline"]

UPDATE_SECONDS = 0.5
_END_OF_TIME = 2**63 - 1
_STATUS_COLOURS = {"RUNNING": "#1a7f37", "FINISHED": "#0969da", "FAILED": "#cf222e", "CANCELED": "#6e7781"}


def job_html(client: JobClient, rows: list[dict[str, Any]], history: list[dict[str, Any]]) -> str:
    """The whole view of ``client``'s job: ``rows`` are its metrics now, ``history`` earlier
    rows with their ``time`` (for rates and sparklines)."""
    status = client._engine_client.status()
    # While the job runs, the shares of the last interval; once it ended, of the whole run.
    tasks = _per_task(rows, _rates(history), recent=status in ("RUNNING", "RESTARTING"))
    colour = _STATUS_COLOURS.get(status, "#9a6700")
    parts = [
        '<div class="ferroflow-job" style="font-family:sans-serif;font-size:12px">',
        (
            f"<div><b>{escape(client._job_name)}</b> &nbsp; <code>{escape(client.get_job_id())}</code> &nbsp; "
            f'<span style="color:{colour};font-weight:bold">{escape(status)}</span>'
            f' &nbsp; <span style="color:#6e7781">at {datetime.now().strftime("%H:%M:%S")}</span></div>'
        ),
    ]
    plan = client._plan_view()
    if plan is not None:
        loads = {name: TaskLoad(t["busy"], t["backPressured"]) for name, t in tasks.items()}
        parts.append(f'<div style="overflow-x:auto">{plan.to_svg(loads)}</div>')
    parts.append(_table(tasks, plan))
    parts.append("</div>")
    return "".join(parts)


def _rates(history: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Per task: records in per second at each sample, oldest first, subtasks added up."""
    by_task: dict[str, dict[float, float]] = {}
    for r in history:
        by_time = by_task.setdefault(str(r.get("task")), {})
        t = float(r.get("time") or 0.0)
        by_time[t] = by_time.get(t, 0.0) + float(r.get("numRecordsInPerSecond") or 0.0)
    return {task: [rate for _, rate in sorted(by_time.items())] for task, by_time in by_task.items()}


def _per_task(rows: list[dict[str, Any]], rates: dict[str, list[float]], recent: bool) -> dict[str, dict[str, Any]]:
    tasks: dict[str, dict[str, Any]] = {}
    for r in rows:
        t = tasks.setdefault(
            str(r.get("task")),
            {"subtasks": 0, "parallelism": r.get("parallelism"), "in": 0, "out": 0, "busy": None,
             "backPressured": None, "watermark": None, "lag": None, "p99": None, "late": None, "outPool": None,
             "user": {}},
        )
        t["subtasks"] += 1
        t["in"] += int(r.get("numRecordsIn") or 0)
        t["out"] += int(r.get("numRecordsOut") or 0)
        busy, back_pressured = _shares(r, recent)
        t["busy"] = _max(t["busy"], busy)
        t["backPressured"] = _max(t["backPressured"], back_pressured)
        wm = r.get("currentOutputWatermark")
        if wm is not None:
            t["watermark"] = wm if t["watermark"] is None else min(t["watermark"], wm)
        t["lag"] = _max(t["lag"], r.get("watermarkLagMs"))
        t["p99"] = _max(t["p99"], r.get("latencyP99Ms"))
        t["outPool"] = _max(t["outPool"], r.get("outPoolUsage"))
        if r.get("numLateRecordsDropped") is not None:
            t["late"] = (t["late"] or 0) + int(r["numLateRecordsDropped"])
        for key, value in (r.get("user") or {}).items():
            if value is not None:  # a gauge that failed, a distribution with no value yet
                t["user"][key] = t["user"].get(key, 0) + value
    for name, t in tasks.items():
        t["rates"] = rates.get(name, [])
    return tasks


def _shares(r: dict[str, Any], recent: bool) -> tuple[float | None, float | None]:
    """The shares of time a subtask is busy and backpressured: over the last sample interval
    (``recent``, Flink's per-second rates), else over its whole run."""
    if recent and r.get("busyTimeMsPerSecond") is not None:
        return r["busyTimeMsPerSecond"] / 1000.0, (r.get("backPressuredTimeMsPerSecond") or 0.0) / 1000.0
    busy, bp, idle = r.get("busyTimeMs"), r.get("backPressuredTimeMs") or 0.0, r.get("idleTimeMs")
    if busy is None or idle is None or busy + bp + idle <= 0:
        return None, None
    whole = busy + bp + idle
    return busy / whole, bp / whole


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _table(tasks: dict[str, dict[str, Any]], plan: PlanView | None) -> str:
    order = [t.name for t in plan.tasks] if plan is not None else []
    names = [n for n in order if n in tasks] + [n for n in tasks if n not in order]
    head = ["Task", "Par.", "Records in", "Records out", "Records in/s", "Busy", "Backpressured", "Watermark"]
    optional = [
        ("outPool", "Output fill"),
        ("lag", "Watermark lag"),
        ("p99", "Latency p99"),
        ("late", "Late dropped"),
        ("user", "User metrics"),
    ]
    shown = [(key, title) for key, title in optional if any(tasks[n][key] for n in names)]
    cells = "".join(f"<th style='text-align:left;padding:2px 8px'>{h}</th>" for h in head + [t for _, t in shown])
    out = [f"<table class='ferroflow-metrics' style='border-collapse:collapse'><tr>{cells}</tr>"]
    for name in names:
        t = tasks[name]
        row = [
            escape(name),
            str(t["parallelism"]),
            f"{t['in']:,}",
            f"{t['out']:,}",
            sparkline(t["rates"]),
            _percent(t["busy"]),
            _percent(t["backPressured"]),
            _watermark(t["watermark"]),
        ]
        for key, _ in shown:
            value = t[key]
            if key == "user":
                row.append(escape(", ".join(f"{k}={v:g}" for k, v in sorted(value.items()))))
            elif key == "outPool":
                row.append(_percent(value))
            elif key == "lag":
                row.append("–" if value is None else f"{value:,.0f} ms")
            elif key == "p99":
                row.append("–" if value is None else f"{value:,.1f} ms")
            else:
                row.append("–" if value is None else f"{value:,}")
        out.append("<tr>" + "".join(f"<td style='padding:2px 8px'>{c}</td>" for c in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def _watermark(ms: int | None) -> str:
    if ms is None:
        return "–"
    if ms >= _END_OF_TIME:
        return "end of input"
    try:
        return datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return str(ms)


def sparkline(values: list[float], width: int = 110, height: int = 20) -> str:
    """A small inline SVG line of ``values`` (oldest first), with the last value beside it."""
    if not values:
        return "–"
    values = values[-60:]
    top = max(values) or 1.0
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 1 - (v / top) * (height - 2):.1f}" for i, v in enumerate(values))
    return (
        f'<span style="white-space:nowrap"><svg class="ff-sparkline" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" style="vertical-align:middle"><polyline points="{points}" '
        f'fill="none" stroke="#0969da" stroke-width="1.5"/></svg> {values[-1]:,.0f}</span>'
    )


class LiveDisplay:
    """Shows a job's view under a display id and redraws it until the job ends."""

    def __init__(self, client: JobClient, interval: float = UPDATE_SECONDS) -> None:
        self.client = client
        self.interval = max(interval, UPDATE_SECONDS)
        self.updates = 0
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        from IPython.display import display

        self.handle = display(self._bundle(), raw=True, display_id=True)
        if not self.client._engine_client.wait(0):
            self.thread = threading.Thread(target=self._run, name="ferroflow live view", daemon=True)
            self.thread.start()

    def _bundle(self) -> dict[str, str]:
        return {"text/html": self.client._repr_html_(), "text/plain": repr(self.client)}

    def _run(self) -> None:
        engine = self.client._engine_client
        while True:
            ended = engine.wait(self.interval)
            try:
                self.handle.update(self._bundle(), raw=True)
            except Exception:  # noqa: BLE001 - the kernel is going away: nothing to show it in
                return
            self.updates += 1
            if ended:
                return
