"""``env.plan()``: the job graph of a pipeline, drawn as SVG for Jupyter and as text for a terminal.

Built from the plan JSON the engine gives (``get_execution_plan()``): nodes of one task (a chain
of operators) are grouped into one box; tasks are laid out in layers by their depth from the
sources (left to right), and edges between tasks are labelled with their partitioning
(FORWARD, HASH, REBALANCE, ...) and, when they read a side output, its number. No graphviz: the
layout is done here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from typing import Any

__all__ = ["PlanView", "TaskBox", "TaskEdge"]

# Geometry of the drawing, in pixels.
_BOX_WIDTH = 230
_HEADER = 22
_LINE = 17
_LAYER_GAP = 120
_ROW_GAP = 26
_MARGIN = 12
_FONT = "font-family:monospace;font-size:11px"


@dataclass
class TaskBox:
    """One task: the chained operators it runs, its parallelism and its place in the drawing."""

    key: str
    name: str
    operators: list[str]
    parallelism: int
    source: bool = False
    layer: int = 0
    row: int = 0

    @property
    def height(self) -> int:
        return _HEADER + _LINE * len(self.operators) + 8

    @property
    def x(self) -> int:
        return _MARGIN + self.layer * (_BOX_WIDTH + _LAYER_GAP)


@dataclass
class TaskEdge:
    """Records going from one task to another: the partitioning, and the side output read."""

    source: str
    target: str
    partitioning: str
    side_output: int = 0

    @property
    def label(self) -> str:
        return self.partitioning + (f" (side output {self.side_output})" if self.side_output else "")


@dataclass
class TaskLoad:
    """How loaded a task is, as shares of time (0..1), for colouring its box; None when unknown."""

    busy: float | None = None
    back_pressured: float | None = None


@dataclass
class PlanView:
    """The tasks and edges of a job's plan. In Jupyter it shows as an SVG drawing; ``str()``
    gives the same graph as text. ``plan_json`` is what ``get_execution_plan()`` returned."""

    plan_json: str
    tasks: list[TaskBox] = field(default_factory=list)
    edges: list[TaskEdge] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.tasks:
            self.tasks, self.edges = _tasks_and_edges(json.loads(self.plan_json).get("nodes", []))
            _lay_out(self.tasks, self.edges)

    @classmethod
    def from_json(cls, plan_json: str) -> PlanView:
        return cls(plan_json)

    def task(self, name: str) -> TaskBox | None:
        return next((t for t in self.tasks if t.name == name), None)

    # -- text -----------------------------------------------------------------------------------

    def __str__(self) -> str:
        number = {t.key: i + 1 for i, t in enumerate(self.tasks)}
        lines = [f"Job plan: {len(self.tasks)} task{'s' if len(self.tasks) != 1 else ''}"]
        for t in self.tasks:
            lines.append(f"[{number[t.key]}] {t.name}  (parallelism {t.parallelism})")
            if len(t.operators) > 1:
                lines.extend(f"      {op}" for op in t.operators)
            for e in self.edges:
                if e.source == t.key:
                    lines.append(f"      --{e.label}--> [{number[e.target]}]")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    # -- SVG ------------------------------------------------------------------------------------

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def _repr_html_(self) -> str:
        return f"<div>{self.to_svg()}</div>"

    def to_svg(self, loads: dict[str, TaskLoad] | None = None) -> str:
        """The graph as an SVG document. ``loads`` (by task name) colours the boxes: from blue
        (idle) to red (busy), with a dark bar for the share of time spent backpressured."""
        by_key = {t.key: t for t in self.tasks}
        ys = _row_tops(self.tasks)
        width = _MARGIN * 2 + (max((t.layer for t in self.tasks), default=0) + 1) * (_BOX_WIDTH + _LAYER_GAP) - _LAYER_GAP
        height = max((ys[t.key] + t.height for t in self.tasks), default=0) + _MARGIN
        parts = [
            (
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                f'viewBox="0 0 {width} {height}" style="{_FONT}">'
            ),
            (
                '<defs><marker id="ff-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
                'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>'
            ),
        ]
        for e in self.edges:
            parts.append(_edge_svg(by_key[e.source], by_key[e.target], e, ys))
        for t in self.tasks:
            load = (loads or {}).get(t.name)
            parts.append(_box_svg(t, ys[t.key], load))
        parts.append("</svg>")
        return "".join(parts)


def _tasks_and_edges(nodes: list[dict[str, Any]]) -> tuple[list[TaskBox], list[TaskEdge]]:
    key_of: dict[int, str] = {}
    tasks: dict[str, TaskBox] = {}
    for node in nodes:
        name = node.get("task", node["contents"])
        # The collecting end of execute_and_collect() is no task of its own.
        key = f"{name}#{node['id']}" if name == "(external)" else name
        key_of[node["id"]] = key
        shown = node["contents"] if name == "(external)" else name
        box = tasks.setdefault(key, TaskBox(key, shown, [], int(node.get("parallelism", 1))))
        box.operators.append(node["contents"])
        box.source = box.source or node.get("pact") == "Data Source"
    edges: list[TaskEdge] = []
    for node in nodes:
        for p in node.get("predecessors", []):
            source, target = key_of[p["id"]], key_of[node["id"]]
            if source != target:
                edges.append(TaskEdge(source, target, p.get("ship_strategy", "?"), int(p.get("side_output", 0))))
    return list(tasks.values()), edges


def _lay_out(tasks: list[TaskBox], edges: list[TaskEdge]) -> None:
    """Layers by longest path from a source; rows in order of appearance (the plan's order),
    nudged towards the rows of their inputs."""
    inputs: dict[str, list[str]] = {t.key: [] for t in tasks}
    for e in edges:
        inputs[e.target].append(e.source)
    layer: dict[str, int] = {}

    def depth(key: str, seen: frozenset[str]) -> int:
        if key not in layer:
            ups = [u for u in inputs[key] if u not in seen]
            layer[key] = 1 + max((depth(u, seen | {key}) for u in ups), default=-1)
        return layer[key]

    for t in tasks:
        t.layer = depth(t.key, frozenset())
    rows: dict[int, int] = {}
    row_of: dict[str, int] = {}
    for t in sorted(tasks, key=lambda t: t.layer):
        wanted = min((row_of[u] for u in inputs[t.key] if u in row_of), default=0)
        t.row = max(wanted, rows.get(t.layer, 0))
        rows[t.layer] = t.row + 1
        row_of[t.key] = t.row


def _row_tops(tasks: list[TaskBox]) -> dict[str, int]:
    """The top of each box: rows are as tall as their tallest box."""
    heights: dict[int, int] = {}
    for t in tasks:
        heights[t.row] = max(heights.get(t.row, 0), t.height)
    top, tops = _MARGIN, {}
    for row in sorted(heights):
        tops[row] = top
        top += heights[row] + _ROW_GAP
    return {t.key: tops[t.row] for t in tasks}


def _load_colour(share: float) -> str:
    """Blue (idle) to red (busy), as Flink's web UI colours tasks."""
    share = min(max(share, 0.0), 1.0)
    red, green, blue = int(200 + 55 * share), int(225 - 150 * share), int(250 - 190 * share)
    return f"#{red:02x}{green:02x}{blue:02x}"


def _box_svg(t: TaskBox, y: int, load: TaskLoad | None) -> str:
    fill = "#eef4fb" if load is None or load.busy is None else _load_colour(load.busy)
    stroke = "#2b6a2b" if t.source else "#335"
    out = [
        f'<g class="ff-task"><title>{escape(t.name)}</title>',
        f'<rect x="{t.x}" y="{y}" width="{_BOX_WIDTH}" height="{t.height}" rx="5" fill="{fill}" stroke="{stroke}"/>',
        f'<text x="{t.x + 6}" y="{y + 15}" font-weight="bold">parallelism {t.parallelism}</text>',
    ]
    if load is not None and load.busy is not None:
        shares = f"busy {load.busy:.0%}" + (f" · bp {load.back_pressured:.0%}" if load.back_pressured else "")
        out.append(f'<text x="{t.x + _BOX_WIDTH - 6}" y="{y + 15}" text-anchor="end">{shares}</text>')
    for i, op in enumerate(t.operators):
        out.append(f'<text x="{t.x + 10}" y="{y + _HEADER + 12 + i * _LINE}">{escape(_clip(op, 32))}</text>')
    if load is not None and load.back_pressured:
        w = int(_BOX_WIDTH * min(load.back_pressured, 1.0))
        out.append(f'<rect x="{t.x}" y="{y + t.height - 4}" width="{w}" height="4" fill="#222">')
        out.append(f"<title>backpressured {load.back_pressured:.0%}</title></rect>")
    out.append("</g>")
    return "".join(out)


def _edge_svg(a: TaskBox, b: TaskBox, e: TaskEdge, ys: dict[str, int]) -> str:
    x1, y1 = a.x + _BOX_WIDTH, ys[a.key] + a.height // 2
    x2, y2 = b.x, ys[b.key] + b.height // 2
    dash = ' stroke-dasharray="5,3"' if e.side_output else ""
    mid = (x1 + x2) // 2
    path = f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"
    lines = [e.partitioning] + ([f"side output {e.side_output}"] if e.side_output else [])
    y = (y1 + y2) // 2 - 4 - 12 * (len(lines) - 1) // 2
    label = "".join(
        f'<text x="{mid}" y="{y + 12 * i}" text-anchor="middle" fill="#333" stroke="#fff" stroke-width="3" '
        f'paint-order="stroke">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    return (
        f'<g class="ff-edge"><title>{escape(e.label)}</title>'
        f'<path d="{path}" fill="none" stroke="#555"{dash} marker-end="url(#ff-arrow)"/>{label}</g>'
    )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
