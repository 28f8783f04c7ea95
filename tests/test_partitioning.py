"""Partitioning between operators (rebalance, rescale, shuffle, broadcast, forward, custom) and the
execution plan, including chaining."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import pytest

from ferroflow.datastream import MapFunction, Partitioner
from ferroflow.datastream.connectors import NumberSequenceSource


def numbers(env, start, end, name="numbers"):
    return env.from_source(NumberSequenceSource(start, end), None, name)


class WhereAmI(MapFunction):
    """Passes values on and records (subtask index, value) in a shared list."""

    def __init__(self, seen):
        self.seen = seen

    def open(self, runtime_context):
        self.index = runtime_context.get_index_of_this_subtask()

    def map(self, value):
        self.seen.append((self.index, value))
        return value


class TagWithSubtask(MapFunction):
    """Turns v into (subtask index, v)."""

    def open(self, runtime_context):
        self.index = runtime_context.get_index_of_this_subtask()

    def map(self, value):
        return (self.index, value)


def run(env, ds):
    ds.add_sink(lambda v: None)
    env.execute()


def by_subtask(seen) -> dict[int, list[Any]]:
    groups: dict[int, list[Any]] = defaultdict(list)
    for index, value in seen:
        groups[index].append(value)
    return dict(groups)


# --------------------------------------------------------------------------------------------
# partitionings and their observable effects


def test_rebalance_spreads_round_robin(env):
    seen: list[Any] = []
    n = 100
    run(env, env.from_collection(list(range(n))).rebalance().map(WhereAmI(seen)).set_parallelism(2))
    groups = by_subtask(seen)
    assert sorted(v for _, v in seen) == list(range(n))  # every value exactly once
    assert sorted(groups) == [0, 1]
    # round robin from one sender: an even split
    assert len(groups[0]) == len(groups[1]) == n // 2


def test_rebalance_from_parallel_source(env, parallelism):
    seen: list[Any] = []
    n = 1000
    run(env, numbers(env, 1, n).rebalance().map(WhereAmI(seen)).set_parallelism(3))
    groups = by_subtask(seen)
    assert sorted(v for _, v in seen) == list(range(1, n + 1))
    assert sorted(groups) == [0, 1, 2]
    sizes = [len(g) for g in groups.values()]
    assert max(sizes) - min(sizes) <= parallelism  # each sender splits its share round robin


def test_default_partitioning_on_parallelism_change_is_rebalance(env):
    seen: list[Any] = []
    run(env, env.from_collection(list(range(60))).map(WhereAmI(seen)).set_parallelism(3))
    groups = by_subtask(seen)
    assert sorted(v for _, v in seen) == list(range(60))
    assert sorted(len(g) for g in groups.values()) == [20, 20, 20]


def test_rescale_sends_to_a_local_group(env, parallelism):
    seen: list[Any] = []
    n = 400
    senders = numbers(env, 1, n).map(TagWithSubtask())  # chained to the source: (sender, v)
    run(env, senders.rescale().map(WhereAmI(seen)).set_parallelism(2 * parallelism))
    assert sorted(v for _, (_, v) in seen) == list(range(1, n + 1))
    receivers_of: dict[int, set] = defaultdict(set)
    for receiver, (sender, _) in seen:
        receivers_of[sender].add(receiver)
    # sender s of p feeds exactly receivers 2s and 2s+1 of 2p
    assert dict(receivers_of) == {s: {2 * s, 2 * s + 1} for s in range(parallelism)}


def test_rescale_to_fewer_receivers(env):
    seen: list[Any] = []
    senders = numbers(env, 1, 400).map(TagWithSubtask()).set_parallelism(4)
    run(env, senders.rescale().map(WhereAmI(seen)).set_parallelism(2))
    assert sorted(v for _, (_, v) in seen) == list(range(1, 401))
    receivers_of: dict[int, set] = defaultdict(set)
    for receiver, (sender, _) in seen:
        receivers_of[sender].add(receiver)
    # 4 senders into 2 receivers: senders 0, 1 -> receiver 0; senders 2, 3 -> receiver 1
    assert dict(receivers_of) == {0: {0}, 1: {0}, 2: {1}, 3: {1}}


def test_shuffle_delivers_each_value_once(env):
    seen: list[Any] = []
    n = 2000
    run(env, env.from_collection(list(range(n))).shuffle().map(WhereAmI(seen)).set_parallelism(2))
    assert sorted(v for _, v in seen) == list(range(n))
    groups = by_subtask(seen)
    assert sorted(groups) == [0, 1]
    # random, so not round robin; but neither subtask is starved
    assert all(len(g) > n // 10 for g in groups.values())


def test_broadcast_sends_every_value_to_every_subtask(env, parallelism):
    seen: list[Any] = []
    values = list(range(50))
    run(env, numbers(env, 0, 49).broadcast().map(WhereAmI(seen)).set_parallelism(3))
    groups = by_subtask(seen)
    assert sorted(groups) == [0, 1, 2]
    for index in range(3):
        assert sorted(groups[index]) == values
    assert len(seen) == 3 * len(values)


def test_broadcast_into_collect(env, parallelism):
    results = numbers(env, 1, 5).broadcast().map(lambda x: x).set_parallelism(2).execute_and_collect()
    with results:
        assert sorted(results) == sorted([1, 2, 3, 4, 5] * 2)


def test_forward_keeps_values_in_their_subtask(env, parallelism):
    seen: list[Any] = []
    senders = numbers(env, 1, 500).map(TagWithSubtask())
    run(env, senders.forward().map(WhereAmI(seen)).disable_chaining())
    assert sorted(v for _, (_, v) in seen) == list(range(1, 501))
    assert all(receiver == sender for receiver, (sender, _) in seen)
    assert {receiver for receiver, _ in seen} == set(range(parallelism))


def test_forward_between_different_parallelisms_fails_at_execute(env):
    ds = env.from_collection([1, 2, 3]).forward().map(lambda x: x).set_parallelism(2)
    ds.add_sink(lambda v: None)
    with pytest.raises(ValueError, match="Forward partitioning"):
        env.execute()


def test_partition_custom_with_callable(env, parallelism):
    seen: list[Any] = []
    num_partitions_seen: list[int] = []

    def modulo(key, num_partitions):
        num_partitions_seen.append(num_partitions)
        return key % num_partitions

    ds = numbers(env, 0, 299).partition_custom(modulo, lambda v: v).map(WhereAmI(seen)).set_parallelism(3)
    run(env, ds)
    assert sorted(v for _, v in seen) == list(range(300))
    assert all(index == v % 3 for index, v in seen)
    assert set(num_partitions_seen) == {3}


def test_partition_custom_with_partitioner_class_and_key_selector(env):
    class ByFirstLetter(Partitioner):
        def partition(self, key, num_partitions):
            return 0 if key < "m" else 1

    seen: list[Any] = []
    words = ["apple", "zebra", "kiwi", "nut", "melon", "fig"]
    ds = env.from_collection(words).partition_custom(ByFirstLetter(), lambda w: w[0]).map(WhereAmI(seen))
    run(env, ds.set_parallelism(2))
    assert by_subtask(seen) == {0: ["apple", "kiwi", "fig"], 1: ["zebra", "nut", "melon"]}


@pytest.mark.parametrize("bad", [2, -1], ids=["too-large", "negative"])
def test_partition_custom_out_of_range_fails_the_job(env, bad):
    ds = env.from_collection(list(range(10))).partition_custom(lambda k, n: bad, lambda v: v)
    ds.map(lambda x: x).set_parallelism(2).add_sink(lambda v: None)
    with pytest.raises(Exception) as info:
        env.execute()
    message = str(info.value)
    assert str(bad) in message
    assert "partition" in message


def test_partition_custom_non_int_result_fails_the_job(env):
    ds = env.from_collection([1]).partition_custom(lambda k, n: "zero", lambda v: v)
    ds.map(lambda x: x).set_parallelism(2).add_sink(lambda v: None)
    with pytest.raises(TypeError):
        env.execute()


def test_key_by_routes_each_key_to_one_subtask(env, parallelism):
    seen: list[Any] = []
    data = [(f"key{i % 23}", i) for i in range(2300)]
    run(env, env.from_collection(data).key_by(lambda v: v[0]).map(WhereAmI(seen)))
    where: dict[str, set] = defaultdict(set)
    for index, (key, _) in seen:
        where[key].add(index)
    assert len(where) == 23
    assert all(len(s) == 1 for s in where.values())
    assert {i for s in where.values() for i in s} == set(range(parallelism))


def test_key_routing_is_stable_across_runs(env, parallelism):
    def placement():
        seen: list[Any] = []
        run(env, env.from_collection([f"k{i}" for i in range(40)]).key_by(lambda v: v).map(WhereAmI(seen)))
        return {v: i for i, v in seen}

    assert placement() == placement()


# --------------------------------------------------------------------------------------------
# the execution plan


def plan_of(env) -> dict[int, dict[str, Any]]:
    plan = json.loads(env.get_execution_plan())
    assert isinstance(plan["nodes"], list)
    nodes = {}
    for node in plan["nodes"]:
        for field in ("id", "type", "pact", "contents", "parallelism", "task"):
            assert field in node, f"node without {field}: {node}"
        for pred in node.get("predecessors", []):
            assert set(pred) >= {"id", "ship_strategy"}
        nodes[node["id"]] = node
    for node in nodes.values():
        for pred in node.get("predecessors", []):
            assert pred["id"] in nodes
    return nodes


def node_named(nodes, name) -> dict[str, Any]:
    matches = [n for n in nodes.values() if n["contents"] == name or n["type"] == name]
    assert len(matches) == 1, f"expected one node named {name!r} in {[n['contents'] for n in nodes.values()]}"
    return matches[0]


def strategies_into(node) -> list[str]:
    return [p["ship_strategy"] for p in node.get("predecessors", [])]


def test_plan_nodes_and_parallelism(env, parallelism):
    env.from_collection([1]).map(lambda x: x).name("m").filter(lambda x: x).name("f").add_sink(print).name("s")
    nodes = plan_of(env)
    source = next(n for n in nodes.values() if not n.get("predecessors"))
    m, f, s = node_named(nodes, "m"), node_named(nodes, "f"), node_named(nodes, "s")
    assert source["parallelism"] == 1
    assert m["parallelism"] == f["parallelism"] == s["parallelism"] == parallelism
    assert [p["id"] for p in m["predecessors"]] == [source["id"]]
    assert [p["id"] for p in f["predecessors"]] == [m["id"]]
    assert [p["id"] for p in s["predecessors"]] == [f["id"]]
    assert strategies_into(m) == (["FORWARD"] if parallelism == 1 else ["REBALANCE"])
    assert strategies_into(f) == ["FORWARD"]
    assert source["pact"] == "Data Source"
    assert s["pact"] == "Data Sink"
    assert m["pact"] == "Operator"


def test_plan_ship_strategies(env):
    source = env.from_collection([1])
    source.rebalance().map(lambda x: x).name("rebalance").add_sink(print)
    source.rescale().map(lambda x: x).name("rescale").add_sink(print)
    source.shuffle().map(lambda x: x).name("shuffle").add_sink(print)
    source.broadcast().map(lambda x: x).name("broadcast").add_sink(print)
    source.forward().map(lambda x: x).name("forward").set_parallelism(1).add_sink(print)
    source.partition_custom(lambda k, n: 0, lambda v: v).map(lambda x: x).name("custom").add_sink(print)
    source.key_by(lambda x: x).map(lambda x: x).name("keyed").add_sink(print)
    nodes = plan_of(env)
    assert strategies_into(node_named(nodes, "rebalance")) == ["REBALANCE"]
    assert strategies_into(node_named(nodes, "rescale")) == ["RESCALE"]
    assert strategies_into(node_named(nodes, "shuffle")) == ["SHUFFLE"]
    assert strategies_into(node_named(nodes, "broadcast")) == ["BROADCAST"]
    assert strategies_into(node_named(nodes, "forward")) == ["FORWARD"]
    assert strategies_into(node_named(nodes, "custom")) == ["CUSTOM"]
    assert strategies_into(node_named(nodes, "keyed")) == ["HASH"]


def test_plan_union_has_two_predecessors(env):
    a = env.from_collection([1])
    b = env.from_collection([2])
    a.union(b).map(lambda x: x).name("after union").add_sink(print)
    nodes = plan_of(env)
    assert len(node_named(nodes, "after union")["predecessors"]) == 2


def test_plan_chaining_same_parallelism_shares_a_task(env):
    env.from_collection([1]).map(lambda x: x).name("m").filter(lambda x: x).name("f").add_sink(print).name("s")
    nodes = plan_of(env)
    m, f, s = node_named(nodes, "m"), node_named(nodes, "f"), node_named(nodes, "s")
    assert m["task"] == f["task"] == s["task"]
    assert "m" in m["task"] and "f" in m["task"]


def test_plan_parallelism_change_splits_chain(env):
    env.from_collection([1]).map(lambda x: x).name("m1").map(lambda x: x).name("m3").set_parallelism(3).add_sink(print)
    nodes = plan_of(env)
    assert node_named(nodes, "m1")["task"] != node_named(nodes, "m3")["task"]


def test_plan_disable_chaining(env):
    (
        env.from_collection([1])
        .map(lambda x: x)
        .name("a")
        .map(lambda x: x)
        .name("b")
        .disable_chaining()
        .map(lambda x: x)
        .name("c")
        .add_sink(print)
    )
    nodes = plan_of(env)
    a, b, c = node_named(nodes, "a"), node_named(nodes, "b"), node_named(nodes, "c")
    assert a["task"] != b["task"]
    assert b["task"] != c["task"]
    assert a["task"] != c["task"]


def test_plan_start_new_chain(env):
    (
        env.from_collection([1])
        .map(lambda x: x)
        .name("a")
        .map(lambda x: x)
        .name("b")
        .start_new_chain()
        .map(lambda x: x)
        .name("c")
        .add_sink(print)
    )
    nodes = plan_of(env)
    a, b, c = node_named(nodes, "a"), node_named(nodes, "b"), node_named(nodes, "c")
    assert a["task"] != b["task"]
    assert b["task"] == c["task"]  # later operators chain to the new head


def test_plan_env_disable_operator_chaining(env):
    env.disable_operator_chaining()
    assert env.is_chaining_enabled() is False
    env.from_collection([1]).map(lambda x: x).name("a").filter(lambda x: x).name("b").add_sink(print).name("s")
    nodes = plan_of(env)
    tasks = [n["task"] for n in nodes.values()]
    assert len(set(tasks)) == len(tasks) == 4


def test_plan_does_not_consume_the_sinks(env):
    out: list[int] = []
    env.from_collection([1, 2]).map(lambda x: x + 1).add_sink(out.append)
    json.loads(env.get_execution_plan())
    json.loads(env.get_execution_plan())
    env.execute()
    assert sorted(out) == [2, 3]


@pytest.mark.parametrize("chaining", ["chained", "disable_chaining", "start_new_chain", "env_disabled"])
def test_chaining_choices_do_not_change_results(env, chaining):
    if chaining == "env_disabled":
        env.disable_operator_chaining()
    ds = env.from_collection(list(range(1000))).map(lambda x: x + 1)
    mid = ds.filter(lambda x: x % 2 == 0)
    if chaining == "disable_chaining":
        mid = mid.disable_chaining()
    elif chaining == "start_new_chain":
        mid = mid.start_new_chain()
    out: list[int] = []
    mid.flat_map(lambda x: [x, -x]).add_sink(out.append)
    env.execute()
    assert Counter(out) == Counter(
        [x for x in range(1, 1001) if x % 2 == 0] + [-x for x in range(1, 1001) if x % 2 == 0]
    )
