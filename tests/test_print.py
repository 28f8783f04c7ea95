"""print(): PyFlink's output format (prefixes by parallelism and sink identifier, str() for untyped
streams, Java formatting for typed ones), written to Python's sys.stdout."""

from __future__ import annotations

import re
from collections import Counter

from ferroflow.common import Row, Types


def printed_lines(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


PREFIX = re.compile(r"^(?:(?P<id>[^:>]+)(?::(?P<n1>\d+))?|(?P<n2>\d+))> ")


def split_prefix(line: str):
    """(prefix, rest) of a printed line, prefix '' when there is none."""
    match = PREFIX.match(line)
    if match is None:
        return "", line
    return match.group(0), line[match.end() :]


def test_print_untyped_values(env, parallelism, capsys):
    env.from_collection([1, "two", ("hi", 1), {"k": [1, 2]}, None, 2.5]).print()
    env.execute()
    lines = printed_lines(capsys)
    expected = ["1", "two", "('hi', 1)", "{'k': [1, 2]}", "None", "2.5"]
    if parallelism == 1:
        assert lines == expected  # no prefix, in order
    else:
        prefixes = [line.split("> ", 1)[0] for line in lines]
        assert set(prefixes) == {"1", "2"}
        assert Counter(line.split("> ", 1)[1] for line in lines) == Counter(expected)


def test_print_prefix_names_the_subtask(env, parallelism, capsys):
    env.from_collection(list(range(10))).map(lambda x: x).print()
    env.execute()
    lines = printed_lines(capsys)
    assert len(lines) == 10
    if parallelism == 1:
        assert sorted(lines, key=int) == [str(i) for i in range(10)]
    else:
        seen = Counter()
        values = []
        for line in lines:
            prefix, rest = line.split("> ", 1)
            seen[prefix] += 1
            values.append(int(rest))
        assert sorted(values) == list(range(10))
        assert set(seen) == {"1", "2"}


def test_print_prefix_matches_the_subtask_that_printed(env, parallelism, capsys):
    from ferroflow.datastream import MapFunction

    class TagSubtask(MapFunction):
        def open(self, runtime_context):
            self.index = runtime_context.get_index_of_this_subtask()

        def map(self, value):
            return f"{value}@{self.index + 1}"

    env.from_collection(list(range(20))).map(TagSubtask()).print()
    env.execute()
    lines = printed_lines(capsys)
    assert len(lines) == 20
    for line in lines:
        if parallelism == 1:
            assert "> " not in line
        else:
            prefix, rest = line.split("> ", 1)
            assert rest.endswith(f"@{prefix}")  # chained: the printing subtask is the mapping one


def test_print_with_sink_identifier(env, parallelism, capsys):
    env.from_collection(["a", "b", "c"]).print("id")
    env.execute()
    lines = printed_lines(capsys)
    if parallelism == 1:
        assert lines == ["id> a", "id> b", "id> c"]
    else:
        assert sorted(split_prefix(line)[1] for line in lines) == ["a", "b", "c"]
        for line in lines:
            assert re.match(r"^id:[12]> [abc]$", line), line


def test_print_sink_at_parallelism_1_has_no_prefix(env, capsys):
    env.from_collection([3, 1, 2]).map(lambda x: x * 2).print().set_parallelism(1)
    env.execute()
    assert sorted(printed_lines(capsys)) == ["2", "4", "6"]


def test_print_sink_with_own_parallelism(env, capsys):
    env.from_collection(list(range(6))).print("p").set_parallelism(3)
    env.execute()
    lines = printed_lines(capsys)
    assert len(lines) == 6
    assert {line.split("> ")[0] for line in lines} == {"p:1", "p:2", "p:3"}


def test_print_typed_tuple_java_style(env, parallelism, capsys):
    env.from_collection([("hi", 1), ("there", 22)]).map(
        lambda t: t, output_type=Types.TUPLE([Types.STRING(), Types.INT()])
    ).print()
    env.execute()
    lines = sorted(split_prefix(line)[1] for line in printed_lines(capsys))
    assert lines == ["(hi,1)", "(there,22)"]


def test_print_typed_tuple_with_boolean_and_null(env, capsys):
    env.from_collection([("x", True), ("y", None)]).map(
        lambda t: t, output_type=Types.TUPLE([Types.STRING(), Types.BOOLEAN()])
    ).print()
    env.execute()
    lines = sorted(split_prefix(line)[1] for line in printed_lines(capsys))
    assert lines == ["(x,true)", "(y,null)"]


def test_print_typed_row(env, capsys):
    env.from_collection([("a", 1), ("b", 2)]).map(
        lambda t: Row(t[0], t[1]), output_type=Types.ROW([Types.STRING(), Types.INT()])
    ).print()
    env.execute()
    lines = sorted(split_prefix(line)[1] for line in printed_lines(capsys))
    assert lines == ["+I[a,1]", "+I[b,2]"]


def test_print_typed_basic_values(env, capsys):
    env.from_collection([1, 2]).map(lambda x: x > 1, output_type=Types.BOOLEAN()).print()
    env.execute()
    assert sorted(split_prefix(line)[1] for line in printed_lines(capsys)) == ["false", "true"]


def test_print_after_filter_keeps_type(env, capsys):
    ds = env.from_collection([("a", 1), ("b", 2)]).map(
        lambda t: t, output_type=Types.TUPLE([Types.STRING(), Types.INT()])
    )
    ds.filter(lambda t: t[1] > 1).print()
    env.execute()
    assert [split_prefix(line)[1] for line in printed_lines(capsys)] == ["(b,2)"]


def test_print_and_another_sink_in_one_job(env, capsys):
    out: list[int] = []
    ds = env.from_collection([1, 2])
    ds.print("seen")
    ds.add_sink(out.append)
    env.execute()
    assert sorted(split_prefix(line)[1] for line in printed_lines(capsys)) == ["1", "2"]
    assert sorted(out) == [1, 2]


def test_print_many_lines_are_whole(env, parallelism, capsys):
    n = 5000
    env.from_collection(list(range(n))).print()
    env.execute()
    lines = printed_lines(capsys)
    assert len(lines) == n
    values = []
    for line in lines:
        prefix, rest = split_prefix(line)
        assert prefix in ({""} if parallelism == 1 else {"1> ", "2> "})
        values.append(int(rest))
    assert sorted(values) == list(range(n))
