"""Tests for ferroflow.common: time spans, Row, type information, configuration, results."""

from __future__ import annotations

import copy
import datetime
import pickle
from decimal import Decimal

import pytest

from ferroflow import common
from ferroflow.common import (
    Configuration,
    Duration,
    ExecutionConfig,
    Instant,
    JobExecutionResult,
    Row,
    RowKind,
    Time,
    TypeInformation,
    Types,
)
from ferroflow.common._durations import to_millis

# --------------------------------------------------------------------------------------------
# package


def test_package_exports_exactly_the_public_names():
    assert sorted(common.__all__) == sorted(
        [
            "Configuration",
            "Duration",
            "Encoder",
            "ExecutionConfig",
            "Instant",
            "JobClient",
            "JobExecutionResult",
            "JobStatus",
            "RestartStrategies",
            "RestartStrategyConfiguration",
            "Row",
            "RowKind",
            "Time",
            "TimestampAssigner",
            "TypeInformation",
            "Types",
            "WatermarkGenerator",
            "WatermarkStrategy",
        ]
    )
    for name in common.__all__:
        assert getattr(common, name) is not None
    assert not hasattr(common, "to_millis")


# --------------------------------------------------------------------------------------------
# Time


def test_time_factories_convert_to_milliseconds():
    assert Time.milliseconds(250).to_milliseconds() == 250
    assert Time.seconds(5).to_milliseconds() == 5_000
    assert Time.minutes(2).to_milliseconds() == 120_000
    assert Time.hours(1).to_milliseconds() == 3_600_000
    assert Time.days(1).to_milliseconds() == 86_400_000
    assert Time(42).to_milliseconds() == 42


def test_time_accepts_floats_rounded_to_whole_milliseconds():
    assert Time.seconds(1.5).to_milliseconds() == 1_500
    assert Time.seconds(1.1).to_milliseconds() == 1_100
    assert isinstance(Time.seconds(0.25).to_milliseconds(), int)


def test_time_str_repr_equality_hash_and_order():
    assert str(Time.seconds(5)) == "5000 ms"
    assert repr(Time.seconds(5)) == "Time.milliseconds(5000)"
    assert Time.seconds(1) == Time.milliseconds(1000)
    assert Time.seconds(1) != Time.seconds(2)
    assert hash(Time.seconds(1)) == hash(Time.milliseconds(1000))
    assert len({Time.seconds(1), Time.milliseconds(1000), Time.minutes(1)}) == 2
    assert Time.seconds(1) < Time.seconds(2) <= Time.seconds(2)
    assert Time.seconds(1) != 1000
    assert Time.seconds(1) != Duration.of_seconds(1)


def test_time_rejects_non_numbers():
    with pytest.raises(TypeError, match=r"seconds must be an int or a float, got '5' \(str\)"):
        Time.seconds("5")
    with pytest.raises(TypeError, match=r"got True \(bool\)"):
        Time.milliseconds(True)
    with pytest.raises(ValueError, match="must be finite"):
        Time.seconds(float("inf"))


def test_time_pickles():
    assert pickle.loads(pickle.dumps(Time.minutes(3))) == Time.minutes(3)


# --------------------------------------------------------------------------------------------
# Duration


def test_duration_factories():
    assert Duration.of_days(1).to_milliseconds() == 86_400_000
    assert Duration.of_hours(2).to_milliseconds() == 7_200_000
    assert Duration.of_minutes(3).to_milliseconds() == 180_000
    assert Duration.of_seconds(4).to_milliseconds() == 4_000
    assert Duration.of_millis(5).to_milliseconds() == 5
    assert Duration.of_nanos(6).to_nanos() == 6
    assert Duration.of_seconds(1.5).to_nanos() == 1_500_000_000


def test_duration_to_milliseconds_truncates_toward_zero_like_java():
    assert Duration.of_nanos(1_999_999).to_milliseconds() == 1
    assert Duration.of_nanos(-1_500_000).to_milliseconds() == -1
    assert Duration.of_nanos(-1).to_milliseconds() == 0


def test_duration_java_accessors():
    d = Duration.of_nanos(-1)
    assert d.get_seconds() == -1
    assert d.get_nano() == 999_999_999
    assert d.is_negative()
    assert Duration.of_millis(0).is_zero()


def test_duration_equality_hash_and_ordering():
    assert Duration.of_seconds(60) == Duration.of_minutes(1)
    assert hash(Duration.of_seconds(60)) == hash(Duration.of_minutes(1))
    assert Duration.of_millis(1) < Duration.of_seconds(1)
    assert Duration.of_seconds(2) >= Duration.of_millis(2000)
    assert max(Duration.of_seconds(1), Duration.of_millis(1500)) == Duration.of_millis(1500)
    assert Duration.of_seconds(1) != 1000
    with pytest.raises(TypeError):
        _ = Duration.of_seconds(1) < 5


def test_duration_str_is_java_iso_8601_and_repr_is_a_factory_call():
    assert str(Duration.of_seconds(0)) == "PT0S"
    assert str(Duration.of_seconds(5)) == "PT5S"
    assert str(Duration.of_seconds(90)) == "PT1M30S"
    assert str(Duration.of_hours(2)) == "PT2H"
    assert str(Duration.of_days(1)) == "PT24H"
    assert str(Duration.of_millis(1500)) == "PT1.5S"
    assert str(Duration.of_seconds(-90)) == "PT-1M-30S"
    assert str(Duration.of_millis(-500)) == "PT-0.5S"
    assert str(Duration.of_nanos(-1)) == "PT-0.000000001S"
    assert repr(Duration.of_seconds(2)) == "Duration.of_millis(2000)"
    assert repr(Duration.of_nanos(7)) == "Duration.of_nanos(7)"


def test_duration_rejects_bad_arguments_and_pickles():
    with pytest.raises(TypeError, match=r"minutes must be an int or a float, got None \(NoneType\)"):
        Duration.of_minutes(None)
    assert pickle.loads(pickle.dumps(Duration.of_nanos(123))) == Duration.of_nanos(123)


# --------------------------------------------------------------------------------------------
# Instant


def test_instant_epoch_millis_round_trip():
    assert Instant(1, 5_000_000).to_epoch_milli() == 1_005
    assert Instant.of_epoch_milli(1_005) == Instant(1, 5_000_000)
    assert Instant.of_epoch_milli(-1) == Instant(-1, 999_000_000)
    assert Instant.of_epoch_milli(-1).to_epoch_milli() == -1
    assert Instant(-1, 500_000_000).to_epoch_milli() == -500
    for millis in (0, 1, 999, 1_000, -999, -1_001, 1_700_000_000_123):
        assert Instant.of_epoch_milli(millis).to_epoch_milli() == millis


def test_instant_normalises_nanos_and_compares():
    assert Instant(0, 1_500_000_000) == Instant(1, 500_000_000)
    assert Instant(0, -1).seconds == -1
    assert Instant(0, -1).nanos == 999_999_999
    assert hash(Instant(1, 2)) == hash(Instant(1, 2))
    assert Instant(1, 2) != Instant(1, 3)
    assert repr(Instant(1, 5)) == "Instant<1, 5>"
    assert pickle.loads(pickle.dumps(Instant(3, 4))) == Instant(3, 4)


def test_instant_rejects_non_ints():
    with pytest.raises(TypeError, match=r"Instant seconds must be an int, got 1.5 \(float\)"):
        Instant(1.5, 0)
    with pytest.raises(TypeError, match="epoch_milli must be an int"):
        Instant.of_epoch_milli("0")


# --------------------------------------------------------------------------------------------
# to_millis


def test_to_millis_accepts_every_time_span_spelling():
    assert to_millis(Time.seconds(2), "size") == 2_000
    assert to_millis(Duration.of_minutes(1), "size") == 60_000
    assert to_millis(Duration.of_nanos(2_500_000), "size") == 2
    assert to_millis(datetime.timedelta(seconds=1, microseconds=2_500), "size") == 1_002
    assert to_millis(datetime.timedelta(microseconds=-1_500), "size") == -1
    assert to_millis(datetime.timedelta(days=1), "size") == 86_400_000
    assert to_millis(250, "size") == 250
    assert to_millis(-5, "size") == -5
    assert type(to_millis(Time.seconds(1), "size")) is int


@pytest.mark.parametrize(
    ("value", "shown", "type_name"),
    [
        (True, "True", "bool"),
        (1.5, "1.5", "float"),
        ("100", "'100'", "str"),
        (None, "None", "NoneType"),
    ],
)
def test_to_millis_rejects_other_types_with_a_clear_message(value, shown, type_name):
    with pytest.raises(TypeError) as info:
        to_millis(value, "allowed_lateness")
    message = str(info.value)
    assert message.startswith("allowed_lateness must be a ")
    assert "Time, Duration, datetime.timedelta or int (milliseconds)" in message
    assert f"got {shown} of type {type_name}" in message


# --------------------------------------------------------------------------------------------
# RowKind and Row


def test_row_kind_str_is_the_short_form():
    assert [str(k) for k in RowKind] == ["+I", "-U", "+U", "-D"]
    assert RowKind.INSERT.value == 0 and RowKind.DELETE.value == 3


def test_positional_row_access():
    row = Row(1, "hi", None)
    assert len(row) == 3
    assert row[0] == 1 and row[1] == "hi" and row[2] is None
    assert row[-1] is None
    assert row[0:2] == [1, "hi"]
    assert list(row) == [1, "hi", None]
    assert row.get_row_kind() is RowKind.INSERT
    assert row.get_field_names() is None
    with pytest.raises(IndexError):
        _ = row[3]


def test_keyword_row_keeps_insertion_order_and_allows_name_access():
    row = Row(name="Alice", age=11)
    assert list(row) == ["Alice", 11]
    assert row.get_field_names() == ["name", "age"]
    assert row["name"] == "Alice" and row["age"] == 11
    assert row.name == "Alice" and row.age == 11
    assert row.as_dict() == {"name": "Alice", "age": 11}
    assert repr(row) == "Row(name='Alice', age=11)"


def test_row_repr_unnamed():
    assert repr(Row(1, "hi")) == "<Row(1, 'hi')>"
    assert repr(Row()) == "<Row()>"


def test_row_class_creates_named_rows():
    person = Row("name", "age")
    alice = person("Alice", 11)
    assert alice == Row(name="Alice", age=11)
    assert alice.name == "Alice"
    assert repr(alice) == "Row(name='Alice', age=11)"
    assert "name" in person
    with pytest.raises(ValueError, match="expected 2 values but got"):
        person("Alice", 11, "extra")


def test_row_rejects_args_and_kwargs_together():
    with pytest.raises(ValueError, match="Can not use both args and kwargs to create Row"):
        Row(1, b=2)


def test_row_is_mutable_by_index_and_by_name_but_not_by_attribute():
    row = Row(a=1, b=2)
    row[0] = 10
    row["b"] = 20
    assert list(row) == [10, 20]
    assert row.b == 20
    row[0:2] = [7, 8]
    assert row.as_dict() == {"a": 7, "b": 8}
    with pytest.raises(AttributeError, match=r"use row\['a'\] = value"):
        row.a = 5
    with pytest.raises(AttributeError):
        row.new_attribute = 5


def test_row_missing_names_raise_key_error_that_is_also_value_error():
    row = Row(a=1)
    with pytest.raises(KeyError, match="Row has no field 'zzz'"):
        _ = row["zzz"]
    with pytest.raises(ValueError, match="Row has no field 'zzz'"):
        row["zzz"] = 1
    with pytest.raises(AttributeError, match="zzz"):
        _ = row.zzz
    with pytest.raises(KeyError, match="Row has no field names"):
        _ = Row(1)["a"]
    with pytest.raises(AttributeError):
        _ = Row(1).a
    with pytest.raises(AttributeError):
        _ = row._private


def test_row_contains_checks_values_as_pyflink_does():
    row = Row(name="Alice")
    assert "Alice" in row
    assert "name" not in row


def test_row_as_dict_recursive_and_unnamed():
    row = Row(key=1, value=Row(name="a", age=2), items=[Row(x=1)], extra={"k": Row(y=2)})
    assert row.as_dict() == {
        "key": 1,
        "value": Row(name="a", age=2),
        "items": [Row(x=1)],
        "extra": {"k": Row(y=2)},
    }
    assert row.as_dict(recursive=True) == {
        "key": 1,
        "value": {"name": "a", "age": 2},
        "items": [{"x": 1}],
        "extra": {"k": {"y": 2}},
    }
    with pytest.raises(TypeError, match="Cannot convert a Row class into dict"):
        Row(1, 2).as_dict()


def test_row_kind_accessors_and_of_kind():
    row = Row(1)
    row.set_row_kind(RowKind.UPDATE_AFTER)
    assert row.get_row_kind() is RowKind.UPDATE_AFTER
    deleted = Row.of_kind(RowKind.DELETE, "a", 1)
    assert deleted.get_row_kind() is RowKind.DELETE
    assert list(deleted) == ["a", 1]
    with pytest.raises(TypeError, match="row_kind must be a RowKind, got '-D'"):
        row.set_row_kind("-D")
    with pytest.raises(TypeError, match="kind must be a RowKind"):
        Row.of_kind(3, 1)


def test_row_set_field_names_and_get_fields_by_names():
    row = Row(1, "x", 2.5)
    row.set_field_names(["id", "name", "score"])
    assert row.name == "x"
    assert row.get_fields_by_names(["score", "id"]) == [2.5, 1]
    assert repr(row) == "Row(id=1, name='x', score=2.5)"
    with pytest.raises(KeyError):
        row.get_fields_by_names(["nope"])
    row.set_field_names(None)
    assert repr(row) == "<Row(1, 'x', 2.5)>"


def test_row_equality_considers_kind_names_and_values():
    assert Row(1, 2) == Row(1, 2)
    assert Row(1, 2) != Row(2, 1)
    assert Row(a=1) != Row(b=1)
    assert Row(a=1) != Row(1)
    assert Row(1, 2) != (1, 2)
    assert Row(1, 2) != [1, 2]
    update = Row(1)
    update.set_row_kind(RowKind.UPDATE_BEFORE)
    assert update != Row(1)
    assert Row.of_kind(RowKind.UPDATE_BEFORE, 1) == update


def test_row_hash_follows_values():
    assert hash(Row(1, "a")) == hash((1, "a"))
    assert hash(Row(a=1, b="a")) == hash(Row(1, "a"))
    assert {Row(1, 2), Row(1, 2)} == {Row(1, 2)}
    with pytest.raises(TypeError):
        hash(Row([1]))


def test_row_pickle_copy_and_deepcopy_round_trip():
    row = Row.of_kind(RowKind.UPDATE_AFTER, 1, [2, 3], Row(x=1))
    row.set_field_names(["a", "b", "c"])
    for clone in (
        pickle.loads(pickle.dumps(row)),
        pickle.loads(pickle.dumps(row, protocol=2)),
        copy.deepcopy(row),
        copy.copy(row),
    ):
        assert clone == row
        assert clone is not row
        assert clone.get_row_kind() is RowKind.UPDATE_AFTER
        assert clone.get_field_names() == ["a", "b", "c"]
        assert clone.c.x == 1
    deep = copy.deepcopy(row)
    deep.b.append(4)
    assert row.b == [2, 3]
    unnamed = pickle.loads(pickle.dumps(Row(1, "a")))
    assert unnamed == Row(1, "a") and unnamed.get_field_names() is None


# --------------------------------------------------------------------------------------------
# Type information: equality, repr, validation


def test_basic_types_equality_hash_and_repr():
    assert Types.INT() == Types.INT()
    assert Types.INT() != Types.LONG()
    assert hash(Types.STRING()) == hash(Types.STRING())
    assert isinstance(Types.DOUBLE(), TypeInformation)
    assert [
        repr(t())
        for t in (
            Types.STRING,
            Types.BYTE,
            Types.BOOLEAN,
            Types.SHORT,
            Types.INT,
            Types.LONG,
            Types.FLOAT,
            Types.DOUBLE,
            Types.CHAR,
            Types.BIG_INT,
            Types.BIG_DEC,
            Types.INSTANT,
        )
    ] == [
        "String",
        "Byte",
        "Boolean",
        "Short",
        "Integer",
        "Long",
        "Float",
        "Double",
        "Char",
        "BigInteger",
        "BigDecimal",
        "Instant",
    ]
    assert repr(Types.SQL_DATE()) == "DateTypeInfo"
    assert repr(Types.SQL_TIME()) == "TimeTypeInfo"
    assert repr(Types.SQL_TIMESTAMP()) == "TimestampTypeInfo"
    assert repr(Types.PICKLED_BYTE_ARRAY()) == "PickledByteArrayTypeInfo"
    assert Types.SQL_DATE() == Types.SQL_DATE() != Types.SQL_TIME()
    assert Types.PICKLED_BYTE_ARRAY() == Types.PICKLED_BYTE_ARRAY()


def test_composite_types_equality_and_repr():
    row = Types.ROW([Types.INT(), Types.STRING()])
    assert repr(row) == "RowTypeInfo(Integer, String)"
    assert row == Types.ROW([Types.INT(), Types.STRING()])
    assert row != Types.ROW([Types.STRING(), Types.INT()])
    assert row == Types.ROW_NAMED(["f0", "f1"], [Types.INT(), Types.STRING()])
    named = Types.ROW_NAMED(["id", "name"], [Types.INT(), Types.STRING()])
    assert repr(named) == "RowTypeInfo(id: Integer, name: String)"
    assert named != row
    assert named.get_field_names() == ["id", "name"]
    assert row.get_field_names() == ["f0", "f1"]
    assert named.get_field_index("name") == 1
    assert named.get_field_index("nope") == -1
    assert named.get_field_types() == [Types.INT(), Types.STRING()]
    assert hash(row) == hash(Types.ROW([Types.INT(), Types.STRING()]))

    assert repr(Types.TUPLE([Types.STRING(), Types.LONG()])) == "TupleTypeInfo(String, Long)"
    assert Types.TUPLE([Types.INT()]) == Types.TUPLE([Types.INT()])
    assert Types.TUPLE([Types.INT()]) != Types.ROW([Types.INT()])
    assert repr(Types.PRIMITIVE_ARRAY(Types.INT())) == "PrimitiveArrayTypeInfo<Integer>"
    assert repr(Types.BASIC_ARRAY(Types.STRING())) == "BasicArrayTypeInfo<String>"
    assert repr(Types.OBJECT_ARRAY(row)) == "ObjectArrayTypeInfo<RowTypeInfo(Integer, String)>"
    assert repr(Types.LIST(Types.INT())) == "ListTypeInfo<Integer>"
    assert repr(Types.MAP(Types.STRING(), Types.LIST(Types.INT()))) == ("MapTypeInfo<String, ListTypeInfo<Integer>>")
    assert Types.MAP(Types.STRING(), Types.INT()) != Types.MAP(Types.INT(), Types.STRING())
    assert Types.LIST(Types.INT()) != Types.PRIMITIVE_ARRAY(Types.INT())
    assert Types.LIST(Types.INT()).elem_type == Types.INT()


def test_type_information_pickles():
    t = Types.ROW_NAMED(["a", "b"], [Types.MAP(Types.STRING(), Types.INT()), Types.DOUBLE()])
    assert pickle.loads(pickle.dumps(t)) == t


def test_type_factories_validate_their_arguments():
    with pytest.raises(TypeError, match=r"ROW field_types must be a list of TypeInformation"):
        Types.ROW(Types.INT())
    with pytest.raises(TypeError, match=r"ROW field_types\[1\] must be a TypeInformation"):
        Types.ROW([Types.INT(), "STRING"])
    with pytest.raises(TypeError, match=r"did you mean Types\.INT\(\)\?"):
        Types.ROW([Types.INT])
    with pytest.raises(ValueError, match="got 2 field names .* but 1 field types"):
        Types.ROW_NAMED(["a", "b"], [Types.INT()])
    with pytest.raises(TypeError, match=r"ROW_NAMED field_names\[0\] must be a str"):
        Types.ROW_NAMED([1], [Types.INT()])
    with pytest.raises(TypeError, match="ROW_NAMED field_names must be a list of str"):
        Types.ROW_NAMED("ab", [Types.INT(), Types.INT()])
    with pytest.raises(ValueError, match="field names are not unique"):
        Types.ROW_NAMED(["a", "a"], [Types.INT(), Types.INT()])
    with pytest.raises(TypeError, match=r"TUPLE field_types\[0\] must be a TypeInformation"):
        Types.TUPLE([int])
    with pytest.raises(TypeError, match="Invalid element type for PRIMITIVE_ARRAY: String"):
        Types.PRIMITIVE_ARRAY(Types.STRING())
    with pytest.raises(TypeError, match="Invalid element type for BASIC_ARRAY"):
        Types.BASIC_ARRAY(Types.LIST(Types.INT()))
    with pytest.raises(TypeError, match="PRIMITIVE_ARRAY element_type must be a TypeInformation"):
        Types.PRIMITIVE_ARRAY(int)
    with pytest.raises(TypeError, match="MAP value_type_info must be a TypeInformation"):
        Types.MAP(Types.STRING(), "int")
    with pytest.raises(TypeError, match="LIST element_type_info must be a TypeInformation"):
        Types.LIST(None)
    with pytest.raises(TypeError, match="OBJECT_ARRAY element_type must be a TypeInformation"):
        Types.OBJECT_ARRAY([Types.INT()])
    assert Types.BASIC_ARRAY(Types.STRING()) == Types.BASIC_ARRAY(Types.STRING())
    assert Types.ROW([]) == Types.ROW(())


# --------------------------------------------------------------------------------------------
# Type information: print() formatting


def test_pickled_values_print_with_python_str():
    t = Types.PICKLED_BYTE_ARRAY()
    assert t.format_value(("hi", 1)) == "('hi', 1)"
    assert t.format_value({"a": True}) == "{'a': True}"
    assert t.format_value("plain") == "plain"
    assert t.format_value(None) == "None"
    assert t.format_value(Row(1, "a")) == "<Row(1, 'a')>"


def test_row_values_print_like_pyflink_python_side():
    t = Types.ROW([Types.STRING(), Types.INT()])
    assert t.format_value(Row("a", 1)) == "+I[a,1]"
    assert t.format_value(("a", 1)) == "+I[a,1]"
    assert t.format_value(["a", 1]) == "+I[a,1]"
    assert t.format_value(Row.of_kind(RowKind.DELETE, "a", 1)) == "-D[a,1]"
    assert t.format_value(Row.of_kind(RowKind.UPDATE_BEFORE, "a", 1)) == "-U[a,1]"
    assert t.format_value(Row(None, None)) == "+I[None,None]"


def test_row_fields_are_taken_through_their_types_then_str():
    t = Types.ROW(
        [
            Types.DOUBLE(),
            Types.FLOAT(),
            Types.INT(),
            Types.SHORT(),
            Types.BOOLEAN(),
            Types.ROW([Types.INT(), Types.STRING()]),
            Types.TUPLE([Types.STRING(), Types.INT()]),
            Types.LIST(Types.DOUBLE()),
            Types.PICKLED_BYTE_ARRAY(),
        ]
    )
    value = (1, 110.1, 9_147_483_648, 43_878, 1, (5, "x"), ["y", 2], [1, 2], {"k": 1})
    assert t.format_value(value) == (
        "+I[1.0,110.0999984741211,557549056,-21658,True,Row(f0=5, f1='x'),('y', 2),[1.0, 2.0],{'k': 1}]"
    )


def test_named_rows_pick_fields_by_name():
    t = Types.ROW_NAMED(["id", "name"], [Types.INT(), Types.STRING()])
    assert t.format_value(Row(name="x", id=1)) == "+I[1,x]"
    assert t.format_value({"name": "x", "id": 1}) == "+I[1,x]"

    class Person:
        def __init__(self) -> None:
            self.id = 7
            self.name = "p"

    assert t.format_value(Person()) == "+I[7,p]"
    assert t.format_value(Row(1, "x")) == "+I[1,x]"
    with pytest.raises(TypeError, match="must be a Row, tuple, list or dict, got 5"):
        t.format_value(5)


def test_tuples_print_like_java_tuple_to_string():
    t = Types.TUPLE([Types.STRING(), Types.INT(), Types.LONG(), Types.INT()])
    assert t.format_value(("hi", 0, 5, 4)) == "(hi,0,5,4)"
    assert t.format_value(["hi", 0, 5, 4]) == "(hi,0,5,4)"
    nested = Types.TUPLE(
        [
            Types.STRING(),
            Types.DOUBLE(),
            Types.BOOLEAN(),
            Types.TUPLE([Types.STRING(), Types.INT()]),
            Types.ROW([Types.STRING(), Types.INT()]),
            Types.LIST(Types.STRING()),
            Types.MAP(Types.STRING(), Types.INT()),
        ]
    )
    assert (
        nested.format_value(("a", 2, True, ("b", 1), Row("c", 3), ["x", "y"], {"k": 1, "j": 2}))
        == "(a,2.0,true,(b,1),+I[c, 3],[x, y],{k=1, j=2})"
    )
    assert nested.format_value((None, None, None, None, None, None, None)) == ("(null,null,null,null,null,null,null)")


def test_booleans_null_and_strings_print_like_java():
    assert Types.BOOLEAN().format_value(True) == "true"
    assert Types.BOOLEAN().format_value(False) == "false"
    assert Types.BOOLEAN().format_value(None) == "null"
    assert Types.STRING().format_value("héllo, world") == "héllo, world"
    assert Types.STRING().format_value(None) == "null"
    assert Types.CHAR().format_value("c") == "c"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1.0"),
        (1, "1.0"),
        (0.1, "0.1"),
        (100.0, "100.0"),
        (123.456, "123.456"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1e-05, "1.0E-5"),
        (1234567.0, "1234567.0"),
        (1e7, "1.0E7"),
        (1.5e7, "1.5E7"),
        (1e20, "1.0E20"),
        (-2.5e-10, "-2.5E-10"),
        (0.30000000000000004, "0.30000000000000004"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (float("nan"), "NaN"),
        (1.7976931348623157e308, "1.7976931348623157E308"),
    ],
)
def test_doubles_print_like_java_double_to_string(value, expected):
    assert Types.DOUBLE().format_value(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1.0"),
        (110.1, "110.1"),
        (0.1 + 0.2, "0.3"),
        (1e-5, "1.0E-5"),
        (3.4028234663852886e38, "3.4028235E38"),
        (1e39, "Infinity"),
        (float("nan"), "NaN"),
        (16777217.0, "1.6777216E7"),
    ],
)
def test_floats_print_like_java_float_to_string(value, expected):
    assert Types.FLOAT().format_value(value) == expected


def test_integers_print_with_java_wrap_around():
    assert Types.INT().format_value(42) == "42"
    assert Types.INT().format_value(9_147_483_648) == "557549056"
    assert Types.SHORT().format_value(43_878) == "-21658"
    assert Types.BYTE().format_value(200) == "-56"
    assert Types.LONG().format_value(2**63) == "-9223372036854775808"
    assert Types.BIG_INT().format_value(2**70) == str(2**70)
    assert Types.LONG().format_value(None) == "null"


def test_other_basic_and_sql_types_print_like_java():
    assert Types.BIG_DEC().format_value(Decimal("1.50")) == "1.50"
    assert Types.BIG_DEC().format_value(Decimal("1E+3")) == "1E+3"
    assert Types.SQL_DATE().format_value(datetime.date(2024, 1, 2)) == "2024-01-02"
    assert Types.SQL_TIME().format_value(datetime.time(3, 4, 5, 600)) == "03:04:05"
    ts = Types.SQL_TIMESTAMP()
    assert ts.format_value(datetime.datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02 03:04:05.0"
    assert ts.format_value(datetime.datetime(2024, 1, 2, 3, 4, 5, 120000)) == ("2024-01-02 03:04:05.12")
    instant = Types.INSTANT()
    assert instant.format_value(Instant(0, 0)) == "1970-01-01T00:00:00Z"
    assert instant.format_value(Instant.of_epoch_milli(1_500)) == "1970-01-01T00:00:01.500Z"
    assert instant.format_value(Instant(1, 1_000)) == "1970-01-01T00:00:01.000001Z"


def test_lists_arrays_and_maps_print_like_java_collections():
    assert Types.LIST(Types.STRING()).format_value(["a", "b"]) == "[a, b]"
    assert Types.LIST(Types.DOUBLE()).format_value([1, 2.5]) == "[1.0, 2.5]"
    assert Types.LIST(Types.INT()).format_value([]) == "[]"
    assert Types.PRIMITIVE_ARRAY(Types.INT()).format_value([1, 2]) == "[1, 2]"
    assert Types.PRIMITIVE_ARRAY(Types.BYTE()).format_value(b"\xff\x01") == "[-1, 1]"
    assert Types.BASIC_ARRAY(Types.BOOLEAN()).format_value([True, None]) == "[true, null]"
    assert Types.OBJECT_ARRAY(Types.ROW([Types.INT()])).format_value([Row(1), (2,)]) == ("[+I[1], +I[2]]")
    m = Types.MAP(Types.STRING(), Types.LIST(Types.BOOLEAN()))
    assert m.format_value({"a": [True], "b": []}) == "{a=[true], b=[]}"
    assert m.format_value(None) == "null"


# --------------------------------------------------------------------------------------------
# Configuration


def test_configuration_stores_values_as_flink_strings():
    conf = Configuration()
    conf.set_string("str", "v1")
    conf.set_integer("int", 2)
    conf.set_boolean("bool", True)
    conf.set_float("float", 0.5)
    conf.set_float("tiny", 1e-5)
    conf.set_bytearray("bytes", bytearray([1, 2, 3]))
    assert conf.to_dict() == {
        "str": "v1",
        "int": "2",
        "bool": "true",
        "float": "0.5",
        "tiny": "1.0E-5",
        "bytes": "AQID",
    }
    assert conf.get_string("str", "") == "v1"
    assert conf.get_integer("int", 0) == 2
    assert conf.get_boolean("bool", False) is True
    assert conf.get_float("float", 0.0) == 0.5
    assert conf.get_float("tiny", 0.0) == 1e-5
    assert conf.get_bytearray("bytes", bytearray()) == bytearray([1, 2, 3])
    assert conf.get_string("bool", "") == "true"
    assert conf.get_string("int", "") == "2"


def test_configuration_defaults_and_get():
    conf = Configuration()
    assert conf.get_string("missing", "d") == "d"
    assert conf.get_integer("missing", 7) == 7
    assert conf.get_boolean("missing", True) is True
    assert conf.get_float("missing", 1) == 1.0
    assert conf.get_bytearray("missing", bytearray(b"x")) == bytearray(b"x")
    assert conf.get("missing") is None
    assert conf.get("missing", "fallback") == "fallback"
    conf.set_integer("parallelism.default", 4)
    assert conf.get("parallelism.default") == "4"


def test_configuration_typed_getters_parse_strings_set_elsewhere():
    conf = Configuration.from_dict({"a": " 12 ", "b": "TRUE", "c": "2.5", "d": "oops"})
    assert conf.get_integer("a", 0) == 12
    assert conf.get_boolean("b", False) is True
    assert conf.get_float("c", 0.0) == 2.5
    with pytest.raises(ValueError, match="Configuration key 'd' holds 'oops', which is not an integer"):
        conf.get_integer("d", 0)
    with pytest.raises(ValueError, match=r"not a boolean \(true or false\)"):
        conf.get_boolean("d", False)
    with pytest.raises(ValueError, match="which is not a number"):
        conf.get_float("d", 0.0)
    conf.set_string("e", "not base64!")
    with pytest.raises(ValueError, match="'not base64!', which is not base64-encoded bytes"):
        conf.get_bytearray("e", bytearray())


def test_configuration_setters_check_types():
    conf = Configuration()
    with pytest.raises(TypeError, match=r"set_string value for 'k' must be a str, got 1 \(int\)"):
        conf.set_string("k", 1)
    with pytest.raises(TypeError, match="set_integer value for 'k' must be an int, got True"):
        conf.set_integer("k", True)
    with pytest.raises(TypeError, match="set_boolean value for 'k' must be a bool"):
        conf.set_boolean("k", "true")
    with pytest.raises(TypeError, match="set_float value for 'k' must be a float"):
        conf.set_float("k", "0.5")
    with pytest.raises(TypeError, match="set_bytearray value for 'k' must be bytes"):
        conf.set_bytearray("k", [1, 2])
    with pytest.raises(TypeError, match="Configuration keys must be str, got 1"):
        conf.set_string(1, "v")
    assert conf.to_dict() == {}


def test_configuration_from_dict_converts_scalars():
    conf = Configuration.from_dict({"s": "x", "b": False, "i": 3, "f": 1.0, "python.execution-mode": "thread"})
    assert conf.to_dict() == {
        "s": "x",
        "b": "false",
        "i": "3",
        "f": "1.0",
        "python.execution-mode": "thread",
    }
    with pytest.raises(TypeError, match="configuration key 'l' must be a str, bool, int or float"):
        Configuration.from_dict({"l": [1]})
    with pytest.raises(TypeError, match="conf_dict must be a dict"):
        Configuration.from_dict([("a", "b")])


def test_configuration_copy_constructor_is_independent():
    conf = Configuration()
    conf.set_string("k1", "v1")
    conf2 = Configuration(conf)
    assert conf2.to_dict() == {"k1": "v1"}
    conf2.set_string("k1", "v2")
    assert conf.get_string("k1", "") == "v1"
    with pytest.raises(TypeError, match="use Configuration.from_dict for a dict"):
        Configuration({"k": "v"})


def test_configuration_key_set_contains_remove_and_add_all():
    conf = Configuration().set_string("k1", "v1").set_string("k2", "v2")
    assert conf.key_set() == {"k1", "k2"}
    assert conf.contains_key("k1")
    assert not conf.contains_key("k3")
    assert conf.remove_config("k1") is True
    assert conf.remove_config("k1") is False
    assert not conf.contains_key("k1")

    target = Configuration()
    target.add_all(conf)
    assert target.get_string("k2", "") == "v2"
    target.add_all(conf, "conf_")
    assert target.get_string("conf_k2", "") == "v2"
    with pytest.raises(TypeError, match="other must be a Configuration"):
        target.add_all({"k": "v"})

    as_dict = {"existing": 1}
    conf.set_boolean("flag", True)
    conf.add_all_to_dict(as_dict)
    assert as_dict == {"existing": 1, "k2": "v2", "flag": "true"}


def test_configuration_equality_hash_str_and_copies():
    conf = Configuration().set_string("k1", "v1").set_integer("k2", 1)
    conf2 = Configuration().set_string("k1", "v1")
    assert conf != conf2
    conf2.set_integer("k2", 1)
    assert conf == conf2
    assert hash(conf) == hash(conf2)
    assert str(conf) == "{k1=v1, k2=1}"
    assert repr(conf) == "Configuration({'k1': 'v1', 'k2': '1'})"
    deep = copy.deepcopy(conf)
    assert deep == conf
    deep.set_string("k1", "v2")
    assert deep != conf
    shallow = copy.copy(conf)
    shallow.set_string("k3", "v3")
    assert not conf.contains_key("k3")
    assert pickle.loads(pickle.dumps(conf)) == conf


# --------------------------------------------------------------------------------------------
# ExecutionConfig


def test_execution_config_defaults():
    config = ExecutionConfig()
    assert ExecutionConfig.PARALLELISM_DEFAULT == -1
    assert ExecutionConfig.PARALLELISM_UNKNOWN == -2
    assert config.get_auto_watermark_interval() == 200
    assert config.get_parallelism() == ExecutionConfig.PARALLELISM_DEFAULT
    assert config.get_max_parallelism() == -1
    assert config.get_latency_tracking_interval() == 0
    assert config.get_task_cancellation_interval() == 30_000
    assert config.get_task_cancellation_timeout() == 180_000
    assert config.is_closure_cleaner_enabled() is True
    assert config.is_object_reuse_enabled() is False
    assert config.is_force_kryo_enabled() is False
    assert config.is_force_avro_enabled() is False
    assert config.has_generic_types_disabled() is False
    assert config.has_auto_generated_uids_enabled() is True
    assert config.is_use_snapshot_compression() is False
    assert config.get_global_job_parameters() == {}


def test_execution_config_auto_watermark_interval():
    config = ExecutionConfig()
    assert config.set_auto_watermark_interval(1000) is config
    assert config.get_auto_watermark_interval() == 1000
    config.set_auto_watermark_interval(0)
    assert config.get_auto_watermark_interval() == 0
    config.set_auto_watermark_interval(Duration.of_millis(50))
    assert config.get_auto_watermark_interval() == 50
    config.set_auto_watermark_interval(Time.seconds(1))
    assert config.get_auto_watermark_interval() == 1000
    with pytest.raises(ValueError, match="Auto watermark interval must not be negative, got -1 ms"):
        config.set_auto_watermark_interval(-1)
    with pytest.raises(TypeError, match="auto watermark interval must be a Time, Duration"):
        config.set_auto_watermark_interval(0.5)
    assert config.get_auto_watermark_interval() == 1000


def test_execution_config_parallelism():
    config = ExecutionConfig()
    config.set_parallelism(8)
    assert config.get_parallelism() == 8
    config.set_parallelism(ExecutionConfig.PARALLELISM_UNKNOWN)
    assert config.get_parallelism() == 8
    config.set_parallelism(ExecutionConfig.PARALLELISM_DEFAULT)
    assert config.get_parallelism() == -1
    with pytest.raises(ValueError, match="Parallelism must be at least one.*got 0"):
        config.set_parallelism(0)
    with pytest.raises(TypeError, match="parallelism must be an int, got '2'"):
        config.set_parallelism("2")
    config.set_max_parallelism(12)
    assert config.get_max_parallelism() == 12
    with pytest.raises(ValueError, match="maximum parallelism must be greater than 0.*got 0"):
        config.set_max_parallelism(0)
    with pytest.raises(ValueError, match="at most 32768"):
        config.set_max_parallelism(32769)


def test_execution_config_intervals_and_timeouts():
    config = ExecutionConfig()
    config.set_latency_tracking_interval(500)
    assert config.get_latency_tracking_interval() == 500
    config.set_latency_tracking_interval(-1)
    assert config.get_latency_tracking_interval() == -1
    config.set_task_cancellation_interval(1000)
    assert config.get_task_cancellation_interval() == 1000
    config.set_task_cancellation_timeout(datetime.timedelta(seconds=3))
    assert config.get_task_cancellation_timeout() == 3000
    config.set_task_cancellation_timeout(0)
    assert config.get_task_cancellation_timeout() == 0
    with pytest.raises(ValueError, match="Task cancellation timeout needs to be >= 0"):
        config.set_task_cancellation_timeout(-5)


def test_execution_config_toggles():
    config = ExecutionConfig()
    config.disable_closure_cleaner()
    assert not config.is_closure_cleaner_enabled()
    config.enable_closure_cleaner()
    assert config.is_closure_cleaner_enabled()
    config.enable_object_reuse()
    assert config.is_object_reuse_enabled()
    config.disable_object_reuse()
    assert not config.is_object_reuse_enabled()
    config.enable_force_kryo()
    assert config.is_force_kryo_enabled()
    config.disable_force_kryo()
    assert not config.is_force_kryo_enabled()
    config.enable_force_avro()
    assert config.is_force_avro_enabled()
    config.disable_force_avro()
    assert not config.is_force_avro_enabled()
    config.disable_generic_types()
    assert config.has_generic_types_disabled()
    config.enable_generic_types()
    assert not config.has_generic_types_disabled()
    config.disable_auto_generated_uids()
    assert not config.has_auto_generated_uids_enabled()
    config.enable_auto_generated_uids()
    assert config.has_auto_generated_uids_enabled()
    config.set_use_snapshot_compression(True)
    assert config.is_use_snapshot_compression()
    with pytest.raises(TypeError, match="use_snapshot_compression must be a bool"):
        config.set_use_snapshot_compression(1)


def test_execution_config_global_job_parameters():
    config = ExecutionConfig()
    config.set_global_job_parameters({"hello": "world", "n": 3, "flag": True})
    params = config.get_global_job_parameters()
    assert params == {"hello": "world", "n": "3", "flag": "True"}
    params["hello"] = "changed"
    assert config.get_global_job_parameters()["hello"] == "world"
    config.set_global_job_parameters({"only": "this"})
    assert config.get_global_job_parameters() == {"only": "this"}
    with pytest.raises(TypeError, match="global job parameter keys must be str, got 1"):
        config.set_global_job_parameters({1: "a"})
    with pytest.raises(TypeError, match="global_job_parameters_dict must be a dict"):
        config.set_global_job_parameters([("a", "b")])


def test_execution_config_equality_and_hash():
    config1 = ExecutionConfig()
    config2 = ExecutionConfig()
    assert config1 == config2
    assert hash(config1) == hash(config2)
    config1.set_parallelism(12)
    assert config1 != config2
    config2.set_parallelism(12)
    assert config1 == config2
    assert hash(config1) == hash(config2)
    assert "parallelism=12" in repr(config1)


# --------------------------------------------------------------------------------------------
# JobExecutionResult


def test_job_execution_result_accessors():
    result = JobExecutionResult("a" * 32, "my job", 1234, {"count": 5, "sum": 2.5})
    assert result.get_job_id() == "a" * 32
    assert result.get_job_name() == "my job"
    assert result.get_net_runtime() == 1234
    assert result.get_accumulator_result("count") == 5
    assert result.get_accumulator_result("missing") is None
    assert result.get_all_accumulator_results() == {"count": 5, "sum": 2.5}
    result.get_all_accumulator_results()["count"] = 0
    assert result.get_accumulator_result("count") == 5
    assert result.is_job_execution_result() is True
    assert result.get_job_execution_result() is result
    assert repr(result) == (
        f"JobExecutionResult(job_id='{'a' * 32}', job_name='my job', net_runtime=1234 ms, "
        "accumulators={'count': 5, 'sum': 2.5})"
    )
    assert result == JobExecutionResult("a" * 32, "my job", 1234, {"count": 5, "sum": 2.5})


def test_job_execution_result_validates_arguments():
    with pytest.raises(TypeError, match="job_id must be a str, got 1"):
        JobExecutionResult(1, "job", 0, {})
    with pytest.raises(TypeError, match="net_runtime_ms must be an int, got 1.5"):
        JobExecutionResult("id", "job", 1.5, {})
    with pytest.raises(ValueError, match="net_runtime_ms must not be negative, got -1"):
        JobExecutionResult("id", "job", -1, {})
    assert JobExecutionResult("id", "job", 0).get_all_accumulator_results() == {}
