"""``env.plan()``: the job graph drawn as SVG for Jupyter and as text for a terminal."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from ferroflow.common.typeinfo import Types
from ferroflow.datastream import StreamExecutionEnvironment
from ferroflow.datastream.output_tag import OutputTag

SVG = "{http://www.w3.org/2000/svg}"


def _pipeline() -> StreamExecutionEnvironment:
    """A source, a chain of three operators with a side output, a keyed reduce and a sink."""
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    odd = OutputTag("odd", Types.INT())

    def split(value, ctx):
        yield (odd, value) if value % 2 else value

    stream = env.from_collection(list(range(10))).map(lambda x: x + 1).filter(lambda x: x > 0).process(split)
    stream.key_by(lambda x: x % 3).reduce(lambda a, b: a + b).print()
    stream.get_side_output(odd).rebalance().map(str).print()
    return env


def _texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_the_svg_has_a_box_per_task_holding_its_chained_operators():
    env = _pipeline()
    svg = env.plan()._repr_svg_()
    root = ET.fromstring(svg)  # well-formed
    boxes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "ff-task"]
    titles = sorted(g.find(f"{SVG}title").text for g in boxes)
    assert titles == sorted(
        [
            "Source: Collection Source",
            "Map -> Filter -> Process",
            "KeyBy",
            "Reduce -> Sink: Print to Std. Out",
            "Map -> Sink: Print to Std. Out",
        ]
    )
    texts = _texts(svg)
    for operator in ["Source: Collection Source", "Map", "Filter", "Process", "KeyBy", "Reduce"]:
        assert operator in texts
    assert texts.count("parallelism 2") == 4
    assert texts.count("parallelism 1") == 1  # from_collection's source


def test_edges_between_tasks_are_labelled_with_their_partitioning_and_side_output():
    env = _pipeline()
    svg = env.plan()._repr_svg_()
    root = ET.fromstring(svg)
    edges = sorted(g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g") if g.get("class") == "ff-edge")
    assert edges == ["FORWARD", "HASH", "REBALANCE", "REBALANCE (side output 1)"]
    dashed = [p for p in root.iter(f"{SVG}path") if p.get("stroke-dasharray")]
    assert len(dashed) == 1  # the side output's edge
    assert "side output 1" in _texts(svg)


def test_tasks_are_laid_out_in_layers_by_depth():
    view = _pipeline().plan()
    layers = {t.name: t.layer for t in view.tasks}
    assert layers["Source: Collection Source"] == 0
    assert layers["Map -> Filter -> Process"] == 1
    assert layers["KeyBy"] == 2
    assert layers["Map -> Sink: Print to Std. Out"] == 2
    assert layers["Reduce -> Sink: Print to Std. Out"] == 3
    # Boxes of one layer do not overlap.
    places = {(t.layer, t.row) for t in view.tasks}
    assert len(places) == len(view.tasks)


def test_the_text_form_lists_tasks_operators_and_edges():
    text = str(_pipeline().plan())
    assert text.startswith("Job plan: 5 tasks")
    assert "[1] Source: Collection Source  (parallelism 1)" in text
    assert "--REBALANCE--> [2]" in text
    assert "--REBALANCE (side output 1)--> [5]" in text
    assert "      Filter" in text
    assert repr(_pipeline().plan()) == text


def test_the_plan_is_built_from_the_execution_plan_json_and_leaves_the_pipeline_to_run():
    env = _pipeline()
    view = env.plan()
    assert json.loads(view.plan_json) == json.loads(env.get_execution_plan())
    side = [p for n in json.loads(view.plan_json)["nodes"] for p in n.get("predecessors", []) if "side_output" in p]
    assert [p["side_output"] for p in side] == [1]
    env.execute()  # plan() built the job without taking its sinks


def test_a_single_chain_is_one_box_without_edges():
    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection([1, 2]).map(lambda x: x).print()
    view = env.plan()
    assert [t.name for t in view.tasks] == ["Source: Collection Source -> Map -> Sink: Print to Std. Out"]
    assert view.edges == []
    assert view._repr_html_().startswith("<div><svg")
