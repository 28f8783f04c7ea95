"""Turns the Python-side plan into an engine job (``ferroflow._engine.JobBuilder``)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ferroflow import _engine
from ferroflow.datastream._checkpoint_plan import check_sources_rewindable
from ferroflow.datastream._checks import effective_buffer_timeout
from ferroflow.datastream._iterables import check_not_spent
from ferroflow.datastream._plan_specs import (
    AggregateSpec,
    EdgeSpec,
    KeyBySpec,
    NodeSpec,
    PrintSpec,
    ReduceSpec,
    SourceSpec,
    UdfSpec,
    WatermarksSpec,
    WindowSpec,
)
from ferroflow.datastream._runtime_options import runtime_spec
from ferroflow.datastream._transformations import Input, Transformation
from ferroflow.datastream._udf import describe
from ferroflow.datastream._web_options import web_spec
from ferroflow.datastream.execution_mode import runs_as_batch
from ferroflow.datastream.functions import Function
from ferroflow.datastream.state_backend import EmbeddedRocksDBStateBackend

if TYPE_CHECKING:
    from ferroflow.datastream.stream_execution_environment import StreamExecutionEnvironment


def _reachable(sinks: list[Transformation]) -> list[Transformation]:
    """Every transformation the sinks read from, in creation order (inputs come first)."""
    seen: dict[int, Transformation] = {}
    stack = list(sinks)
    while stack:
        t = stack.pop()
        if t.id in seen:
            continue
        seen[t.id] = t
        stack.extend(i.part.transformation for i in t.inputs)
    return sorted(seen.values(), key=lambda t: t.id)


def _side_ports(plan: list[Transformation]) -> dict[int, dict[str, int]]:
    """For each transformation, the side output tags something reads, numbered from port 1."""
    ports: dict[int, dict[str, int]] = {}
    for t in plan:
        for i in t.inputs:
            if i.part.tag is not None:
                tags = ports.setdefault(i.part.transformation.id, {})
                tags.setdefault(i.part.tag, len(tags) + 1)
    return ports


def build_job(
    env: StreamExecutionEnvironment,
    sinks: list[Transformation],
    job_name: str,
    manual_start: int | None = None,
) -> _engine.JobBuilder:
    """The engine job for everything ``sinks`` read from; with ``manual_start``, a job stepped by
    hand with a manual processing-time clock starting there (``ferroflow.testing``)."""
    if not sinks:
        raise RuntimeError(
            "No operators defined in streaming topology. Cannot execute: add a sink "
            "(print(), add_sink(...)) or use execute_and_collect()"
        )
    builder = _engine.JobBuilder(
        job_name,
        env.get_max_parallelism(),
        env.is_chaining_enabled(),
        env._batch_size(),
        env._effective_buffer_timeout(),
        env._channel_capacity(),
    )
    if manual_start is not None:
        builder.use_manual_clock(manual_start)
    builder.set_runtime(runtime_spec(env._configuration))
    web = web_spec(env._configuration)
    if web is not None:
        builder.set_web(web)
    backend = env.get_state_backend()
    if isinstance(backend, EmbeddedRocksDBStateBackend):
        builder.set_state_backend("rocksdb", backend._directory(), backend.get_memory_budget())
    plan = _reachable(sinks)
    batch = runs_as_batch(env._get_runtime_mode(), plan)
    checkpoint_plan = env._checkpoint_plan()
    if batch:
        # As in Flink, a job in BATCH mode takes no checkpoints.
        checkpoint_plan = dataclasses.replace(checkpoint_plan, interval_ms=None)
    builder.set_checkpointing(checkpoint_plan)
    check_sources_rewindable(plan, checkpoint_plan)
    ports = _side_ports(plan)
    node_of: dict[int, int] = {}
    parallelism_of: dict[int, int] = {}

    for t in plan:
        if t.parallelism is not None:
            parallelism = t.parallelism
        elif (t.parallelism_follows_input or t.kind == "collect") and t.inputs:
            parallelism = parallelism_of[t.inputs[0].part.transformation.id]
        else:
            parallelism = env.get_parallelism()
        parallelism_of[t.id] = parallelism
        inputs = [_input(i, parallelism, node_of, parallelism_of, ports) for i in t.inputs]
        # BATCH: no periodic watermarks, only the one that ends the input ("perfect" watermarks).
        interval = 0 if batch else env.get_config().get_auto_watermark_interval()
        node = _add(builder, t, parallelism, inputs, ports.get(t.id, {}), interval, batch)
        node_of[t.id] = node
        if t.chaining != "always":
            builder.set_chaining(node, t.chaining)
        if t.uid is not None:
            builder.set_uid(node, t.uid)
        if t.max_parallelism is not None:
            builder.set_max_parallelism(node, t.max_parallelism)
        if t.buffer_timeout is not None:
            builder.set_buffer_timeout(node, effective_buffer_timeout(t.buffer_timeout))
    return builder


def _input(
    i: Input,
    parallelism: int,
    node_of: dict[int, int],
    parallelism_of: dict[int, int],
    ports: dict[int, dict[str, int]],
) -> EdgeSpec:
    upstream = i.part.transformation
    partitioning = i.part.partitioning
    if partitioning == "default":
        partitioning = "forward" if parallelism_of[upstream.id] == parallelism else "rebalance"
    port = 0 if i.part.tag is None else ports[upstream.id][i.part.tag]
    return EdgeSpec(node_of[upstream.id], port, i.index, partitioning, i.part.custom)


def _add(
    builder: _engine.JobBuilder,
    t: Transformation,
    parallelism: int,
    inputs: list[EdgeSpec],
    side_ports: dict[str, int],
    env_interval: int,
    batch: bool,
) -> int:
    node = NodeSpec(t.name, parallelism, inputs)
    numbered_ports = sorted(side_ports.items(), key=lambda kv: kv[1])
    if t.kind == "source":
        payload = t.payload
        if t.source_kind == "iterable" and callable(payload) and not hasattr(payload, "__iter__"):
            payload = payload()
            if isinstance(payload, (str, bytes)) or not hasattr(payload, "__iter__"):
                raise TypeError(
                    f"the function given to from_iterable() must return an iterable, got {describe(payload)}"
                )
        if t.source_kind == "iterable":
            payload = iter(payload)
            check_not_spent(payload)
        return builder.add_source(node, SourceSpec(t.source_kind, payload))
    if t.kind == "udf":
        spec = UdfSpec(t.style, t.spec, t.function_name, numbered_ports, t.keyed, t.is_sink, t.has_on_timer)
        return builder.add_udf(node, spec)
    if t.kind == "watermarks":
        p = t.payload
        return builder.add_watermarks(
            node,
            WatermarksSpec(
                functions=t.spec,
                kind=p["kind"],
                delay_ms=p["delay"],
                has_assigner=p["has_assigner"],
                per_record=p["per_record"] and not batch,
                interval_ms=env_interval,
                idleness_ms=p["idleness"],
            ),
        )
    if t.kind == "window":
        p = t.payload
        return builder.add_window(
            node,
            WindowSpec(
                assigner=p["assigner"],
                trigger=p["trigger"],
                allowed_lateness_ms=p["allowed_lateness"],
                late_tag=p["late_tag"],
                side_ports=numbered_ports,
                fn_kind=p["fn_kind"],
                fn_style=t.style,
                functions=t.spec,
                keyless=p["keyless"],
                function_name=t.function_name,
            ),
        )
    if t.kind == "key_by":
        return builder.add_key_by(node, KeyBySpec(t.spec, t.function_name))
    if t.kind == "reduce":
        keyed_state = isinstance(getattr(t.spec, "function", None), Function)
        return builder.add_reduce(node, ReduceSpec(t.spec, final_only=batch, keyed_state=keyed_state))
    if t.kind == "aggregate":
        aggregation, position = t.payload
        return builder.add_aggregate(node, AggregateSpec(aggregation, position, final_only=batch))
    if t.kind == "print":
        identifier, formatter = t.payload
        return builder.add_print(node, PrintSpec(identifier, formatter))
    if t.kind == "collect":
        return builder.add_collect(node)
    if t.kind == "file_source":
        return builder.add_file_source(node, t.payload)
    if t.kind == "file_sink":
        return builder.add_file_sink(node, t.payload)
    raise AssertionError(f"unknown transformation kind {t.kind!r}")
