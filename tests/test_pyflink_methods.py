"""The last PyFlink methods of the classes programs use most: the environment's defaults and
registrations, DataStream.cache() and get_execution_config(), list settings, and type
registrations."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ferroflow.common import Configuration, ExecutionConfig, WatermarkStrategy
from ferroflow.datastream import MapFunction, MemorySize, RuntimeContext, SlotSharingGroup, StreamExecutionEnvironment
from ferroflow.datastream.connectors.number_seq import NumberSequenceSource
from ferroflow.datastream.data_stream import CachedDataStream, KeyedStream, UnsupportedOperationError
from ferroflow.pyflink_import import PyFlinkMemberNotSupportedError


@pytest.fixture
def restore_default_local_parallelism() -> Iterator[None]:
    before = StreamExecutionEnvironment._default_local_parallelism
    try:
        yield
    finally:
        StreamExecutionEnvironment._default_local_parallelism = before


class Subtasks(MapFunction):
    """Maps each value to the number of parallel subtasks of its operator."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_number_of_parallel_subtasks()

    def map(self, value: int) -> int:
        return self.count


# -- StreamExecutionEnvironment ----------------------------------------------------------------


@pytest.mark.usefixtures("restore_default_local_parallelism")
def test_the_default_local_parallelism_applies_to_environments_created_afterwards() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    assert env.get_default_local_parallelism() == 1
    env.set_default_local_parallelism(3)
    assert env.get_default_local_parallelism() == 3
    assert env.get_parallelism() == 1  # as in Flink, this environment keeps its own
    later = StreamExecutionEnvironment.get_execution_environment()
    assert later.get_parallelism() == 3
    subtasks = later.from_collection(list(range(6))).rebalance().map(Subtasks()).execute_and_collect()
    assert set(subtasks) == {3}
    configured = StreamExecutionEnvironment.get_execution_environment(Configuration().set_integer("parallelism.default", 2))
    assert configured.get_parallelism() == 2
    with pytest.raises(ValueError, match="at least 1"):
        env.set_default_local_parallelism(0)
    with pytest.raises(TypeError, match="must be an int"):
        env.set_default_local_parallelism("4")  # type: ignore[arg-type]


def test_the_default_savepoint_directory_is_where_savepoints_go(tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    assert env.get_default_savepoint_directory() is None
    assert env.set_default_savepoint_directory(f"file://{tmp_path}/savepoints") is env
    assert env.get_default_savepoint_directory() == str(tmp_path / "savepoints")
    env.enable_checkpointing(100)
    env.from_source(NumberSequenceSource(0, 10**9), WatermarkStrategy.no_watermarks(), "forever").map(
        lambda x: time.sleep(0.0002) or x
    ).add_sink(lambda x: None)
    client = env.execute_async()
    try:
        path = Path(client.trigger_savepoint().result(timeout=60))
        assert path.exists()
        assert path.parent == tmp_path / "savepoints"
    finally:
        client.cancel().result(timeout=30)
    with pytest.raises(ValueError, match="only local file systems"):
        env.set_default_savepoint_directory("s3://bucket/savepoints")


def test_the_changelog_setting_is_accepted_and_reported() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    assert env.is_changelog_state_backend_enabled() is None
    assert env.enable_changelog_state_backend(True) is env
    assert env.is_changelog_state_backend_enabled() is True
    env.enable_changelog_state_backend(False)
    assert env.is_changelog_state_backend_enabled() is False
    with pytest.raises(TypeError, match="takes a bool"):
        env.enable_changelog_state_backend("yes")  # type: ignore[arg-type]
    configured = StreamExecutionEnvironment.get_execution_environment(
        Configuration().set_boolean("state.changelog.enabled", True)
    )
    assert configured.is_changelog_state_backend_enabled() is True
    assert list(configured.from_collection([1, 2]).execute_and_collect()) == [1, 2]


def test_chaining_and_slot_sharing_groups_of_one_process() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    assert env.is_chaining_of_operators_with_different_max_parallelism_enabled() is True
    group = SlotSharingGroup.builder("heavy").set_cpu_cores(2).set_task_heap_memory_mb(512).build()
    assert env.register_slot_sharing_group(group) is env
    assert list(env.from_collection([1, 2]).map(lambda x: x + 1).slot_sharing_group(group).execute_and_collect()) == [2, 3]
    with pytest.raises(TypeError, match="takes a SlotSharingGroup"):
        env.register_slot_sharing_group("heavy")  # type: ignore[arg-type]


def test_slot_sharing_groups_are_checked_as_flink_checks_them() -> None:
    group = (
        SlotSharingGroup.builder("g")
        .set_cpu_cores(1.5)
        .set_task_heap_memory(MemorySize.of_mebi_bytes(100))
        .set_managed_memory_mb(64)
        .set_external_resource("gpu", 1)
        .build()
    )
    assert (group.get_name(), group.get_cpu_cores()) == ("g", 1.5)
    assert group.get_task_heap_memory() == MemorySize(bytes_size=100 << 20)
    assert group.get_task_off_heap_memory() == MemorySize(bytes_size=0)
    assert str(group.get_managed_memory()) == "64 mb"
    assert group.get_external_resources() == {"gpu": 1.0}
    assert group == SlotSharingGroup.builder("g").set_cpu_cores(1.5).set_task_heap_memory_mb(100).set_managed_memory_mb(
        64
    ).set_external_resource("gpu", 1).build()
    plain = SlotSharingGroup.builder("plain").build()
    assert (plain.get_cpu_cores(), plain.get_task_heap_memory(), plain.get_external_resources()) == (None, None, {})
    with pytest.raises(ValueError, match="cpu cores and task heap memory are required"):
        SlotSharingGroup.builder("g").set_cpu_cores(1).build()
    with pytest.raises(ValueError, match="cpu cores should be positive"):
        SlotSharingGroup.builder("g").set_cpu_cores(0)
    with pytest.raises(ValueError, match="task heap memory should be positive"):
        SlotSharingGroup.builder("g").set_task_heap_memory_mb(0)
    size = MemorySize(bytes_size=3 << 30)
    assert (size.get_gibi_bytes(), size.get_mebi_bytes(), str(size), str(MemorySize(bytes_size=1000))) == (
        3, 3072, "3 gb", "1000 bytes"
    )
    assert MemorySize(bytes_size=1) < size


def test_cached_files_must_exist_and_have_one_path_per_name(tmp_path: Path) -> None:
    data = tmp_path / "lookup.txt"
    data.write_text("a=1\n")
    env = StreamExecutionEnvironment.get_execution_environment()
    env.register_cached_file(str(data), "lookup")
    env.register_cached_file(f"file://{data}", "lookup", False)  # the same file again
    env.register_cached_file(str(tmp_path), "dir", executable=True)
    assert env._dependencies.cached_files == {"lookup": (str(data), False), "dir": (str(tmp_path), True)}
    with pytest.raises(ValueError, match="'lookup' is already registered"):
        env.register_cached_file(str(tmp_path), "lookup")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        env.register_cached_file(str(tmp_path / "missing.txt"), "missing")
    with pytest.raises(ValueError, match="hdfs"):
        env.register_cached_file("hdfs://namenode/lookup.txt", "remote")
    with pytest.raises(TypeError, match="name must be a non-empty str"):
        env.register_cached_file(str(data), "")


@pytest.mark.parametrize("method", ["add_source", "create_input"])
def test_java_object_sources_say_what_to_use_instead(method: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    assert not hasattr(env, method)
    with pytest.raises(PyFlinkMemberNotSupportedError, match="use from_source .*FileSource.*from_collection or from_iterable"):
        getattr(env, method)(None)
    with pytest.raises(AttributeError, match="no attribute 'add_sourcee'"):
        env.add_sourcee  # noqa: B018


# -- DataStream and KeyedStream ----------------------------------------------------------------


def test_a_stream_gives_its_environments_execution_config() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    ds = env.from_collection([1, 2, 3])
    assert ds.get_execution_config() is env.get_config()
    assert ds.key_by(lambda x: x).get_execution_config() is env.get_config()
    ds.get_execution_config().set_auto_watermark_interval(50)
    assert env.get_config().get_auto_watermark_interval() == 50


def test_a_cached_stream_gives_the_same_results_to_every_job() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    calls: list[int] = []
    cached = env.from_collection([1, 2, 3]).map(lambda x: calls.append(x) or x * 2).cache()
    assert isinstance(cached, CachedDataStream)
    assert list(cached.execute_and_collect()) == [2, 4, 6]
    assert list(cached.map(lambda x: x + 1).execute_and_collect()) == [3, 5, 7]
    cached.invalidate()
    assert list(cached.filter(lambda x: x > 2).execute_and_collect()) == [4, 6]
    assert calls == [1, 2, 3] * 3  # computed again by each job
    assert cached.get_execution_config() is env.get_config()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.set_parallelism(2), "Set parallelism for CachedDataStream is not supported."),
        (lambda s: s.name("x"), "Set name for CachedDataStream is not supported."),
        (lambda s: s.get_name(), "Get name of CachedDataStream is not supported."),
        (lambda s: s.uid("x"), "Set uid for CachedDataStream is not supported."),
        (lambda s: s.disable_chaining(), "Disable chaining for CachedDataStream is not supported."),
        (lambda s: s.slot_sharing_group("g"), "Setting slot sharing group for CachedDataStream is not supported."),
    ],
)
def test_a_cached_streams_operator_cannot_be_configured(call: Callable[[CachedDataStream], object], message: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    cached = env.from_collection([1]).map(str).cache()
    with pytest.raises(UnsupportedOperationError) as raised:
        call(cached)
    assert str(raised.value) == message


def test_a_keyed_stream_cannot_be_cached_and_names_its_accumulations() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    with pytest.raises(UnsupportedOperationError, match="^Cache for KeyedStream is not supported.$"):
        env.from_collection([1]).key_by(lambda x: x).cache()
    assert [(t.name, t.value) for t in KeyedStream.AccumulateType] == [
        ("MIN", 1), ("MAX", 2), ("MIN_BY", 3), ("MAX_BY", 4), ("SUM", 5)
    ]


# -- Configuration and ExecutionConfig ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        (None, []),
        ("[a, b]", ["a", "b"]),
        ("a;b", ["a", "b"]),
        ("single", ["single"]),
        ("[]", []),
        ("[ a b , c ,]", ["a b", "c"]),
        ("['x;y', 'it''s', \"q\\\"\"]", ["x;y", "it's", 'q"']),
        ("[1, 2.5, true, null, ~, -3]", [1, 2.5, True, None, None, -3]),
        ("[[a, b], c]", [["a", "b"], "c"]),
    ],
)
def test_parse_list_value_reads_flinks_list_settings(value: str, expected: list) -> None:
    assert Configuration.parse_list_value(value) == expected


@pytest.mark.parametrize(("value", "why"), [("[a, b", "missing"), ("[{a: 1}]", "mapping"), ("[a] b", "after")])
def test_parse_list_value_refuses_what_it_cannot_read(value: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        Configuration.parse_list_value(value)


def test_type_registrations_are_reported_back() -> None:
    config = ExecutionConfig()
    assert config.get_registered_kryo_types() == []
    assert config.get_registered_pojo_types() == []
    assert config.get_default_kryo_serializer_classes() == {}
    config.register_kryo_type("org.example.Point")
    config.register_kryo_type("org.example.Line")
    config.register_kryo_type("org.example.Point")
    config.register_pojo_type("org.example.Order")
    config.add_default_kryo_serializer("org.example.Point", "org.example.PointSerializer")
    assert config.get_registered_kryo_types() == ["org.example.Point", "org.example.Line"]
    assert config.get_registered_pojo_types() == ["org.example.Order"]
    assert config.get_default_kryo_serializer_classes() == {"org.example.Point": "org.example.PointSerializer"}
    assert config != ExecutionConfig()
    with pytest.raises(TypeError, match="Java class name"):
        config.register_pojo_type(42)  # type: ignore[arg-type]
