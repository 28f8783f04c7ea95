"""Values of a stream typed as a ROW are ``Row``s, as PyFlink hands them to the next function:
from ``from_collection(..., type_info=ROW...)`` and from ``map``/``flat_map``/``process`` with a ROW
``output_type``. Field access, ``sum``/``min_by`` by field name and ``str()`` follow."""

from __future__ import annotations

from ferroflow.common import Row, Types
from ferroflow.datastream import OutputTag
from ferroflow.datastream.functions import ProcessFunction

NAMED = Types.ROW_NAMED(["name", "v1", "v2"], [Types.STRING(), Types.INT(), Types.INT()])


def test_from_collection_with_row_type_gives_rows(env) -> None:
    ds = env.from_collection([("a", 1, 2), ("b", 3, 4)], type_info=NAMED)
    seen = sorted(ds.map(lambda r: (type(r).__name__, r.name, r["v1"], r[2], str(r))).execute_and_collect())
    assert seen == [("Row", "a", 1, 2, "Row(name='a', v1=1, v2=2)"), ("Row", "b", 3, 4, "Row(name='b', v1=3, v2=4)")]


def test_from_collection_converts_to_the_declared_types(ff_env) -> None:
    ds = ff_env.from_collection([("x", 0.1, 2**31)], type_info=Types.TUPLE([Types.STRING(), Types.FLOAT(), Types.INT()]))
    assert list(ds.execute_and_collect()) == [("x", 0.10000000149011612, -(2**31))]


def test_map_with_row_output_type_gives_rows_downstream(ff_env) -> None:
    ds = (
        ff_env.from_collection([("a", 1, 5), ("a", 2, 3), ("b", 7, 1)])
        .map(lambda t: t, output_type=NAMED)
        .key_by(lambda r: r.name)
    )
    assert list(map(str, ds.sum("v2").execute_and_collect())) == [
        "Row(name='a', v1=1, v2=5)",
        "Row(name='a', v1=1, v2=8)",
        "Row(name='b', v1=7, v2=1)",
    ]


def test_min_by_on_unnamed_row_output(ff_env) -> None:
    ds = (
        ff_env.from_collection([("a", 3), ("a", 1), ("a", 2)])
        .map(lambda t: t, output_type=Types.ROW([Types.STRING(), Types.INT()]))
        .key_by(lambda r: r[0])
        .min_by(1)
    )
    # As in PyFlink, the fields of an unnamed ROW type are named f0, f1, ...
    assert list(ds.execute_and_collect()) == [Row(f0="a", f1=3), Row(f0="a", f1=1), Row(f0="a", f1=1)]


def test_row_print_format(ff_env, capfd) -> None:
    ff_env.from_collection([("a", 1, 2)]).map(lambda t: t, output_type=NAMED).print()
    ff_env.execute()
    assert capfd.readouterr().out == "+I[a,1,2]\n"


class Split(ProcessFunction):
    TAG = OutputTag("small", Types.INT())

    def process_element(self, value, ctx):
        yield self.TAG, value[1]
        yield value[0], value[1]


def test_flat_map_and_process_outputs_become_rows_but_side_outputs_do_not(ff_env) -> None:
    pair = Types.ROW_NAMED(["k", "n"], [Types.STRING(), Types.INT()])
    flat = ff_env.from_collection([("a", 1)]).flat_map(lambda t: [t, t], output_type=pair)
    assert list(flat.execute_and_collect()) == [Row(k="a", n=1), Row(k="a", n=1)]
    main = ff_env.from_collection([("a", 1)]).process(Split(), output_type=pair)
    side = main.get_side_output(Split.TAG)
    assert list(main.execute_and_collect()) == [Row(k="a", n=1)]
    assert list(side.execute_and_collect()) == [1]


def test_other_output_types_keep_values_as_they_are(ff_env) -> None:
    ds = ff_env.from_collection([1]).map(lambda x: [x, x], output_type=Types.TUPLE([Types.INT(), Types.INT()]))
    assert list(ds.execute_and_collect()) == [[1, 1]]
