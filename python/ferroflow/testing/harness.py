"""TestHarness: run a pipeline by hand in a pytest test. Feed records and watermarks, move
processing time, and read what each output received after every step. Everything runs on the
test's own thread, deterministically, with a processing-time clock that only moves when told.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

from ferroflow import _engine
from ferroflow.common.typeinfo import TypeInformation
from ferroflow.datastream._job import build_job
from ferroflow.datastream._transformations import Input, Transformation
from ferroflow.datastream._udf import describe
from ferroflow.datastream.data_stream import DataStream
from ferroflow.datastream.stream_execution_environment import StreamExecutionEnvironment

__all__ = ["TestHarness", "TestOutput", "TestSource"]

_harness_ids = itertools.count(1)


class TestSource:
    """A stream fed by hand. ``stream`` is the DataStream to build the pipeline on."""

    __test__ = False  # not a pytest test class

    def __init__(self, harness: TestHarness, index: int, stream: DataStream) -> None:
        self._harness = harness
        self._index = index
        self._ended = False
        self.stream = stream

    def _feed(self) -> _engine.ManualRun:
        if self._ended:
            raise RuntimeError(f"test input {self._index} has ended: it takes no more records or watermarks")
        return self._harness._run_or_start()

    def add(self, value: Any, timestamp: int | None = None) -> TestSource:
        """Feeds one record (with an event timestamp, or none)."""
        self._feed().push(self._index, value, timestamp)
        self._harness._step()
        return self

    def add_all(self, values: Any, timestamps: Any = None) -> TestSource:
        """Feeds several records, then runs."""
        run = self._feed()
        values = list(values)
        stamps = list(timestamps) if timestamps is not None else [None] * len(values)
        if len(stamps) != len(values):
            raise ValueError(f"add_all() got {len(values)} values but {len(stamps)} timestamps")
        for v, ts in zip(values, stamps):
            run.push(self._index, v, ts)
        self._harness._step()
        return self

    def watermark(self, watermark: int) -> TestSource:
        """Feeds a watermark: event time of this input reaches ``watermark``."""
        if isinstance(watermark, bool) or not isinstance(watermark, int):
            raise TypeError(f"watermark() takes an int (ms), got {describe(watermark)}")
        self._feed().push_watermark(self._index, watermark)
        self._harness._step()
        return self

    def end(self) -> TestSource:
        """Ends this input: its final watermark fires every event-time window and timer."""
        self._feed().end_input(self._index)
        self._ended = True
        self._harness._step()
        return self


class TestOutput:
    """What one stream of the pipeline emitted."""

    __test__ = False

    def __init__(self, harness: TestHarness, transformation: Transformation) -> None:
        self._harness = harness
        self._transformation = transformation
        self._all: list[Any] = []
        self._taken = 0

    def _pull(self) -> None:
        run = self._harness._run
        if run is not None:
            self._all.extend(run.take(self._harness._output_index(self)))

    def take(self) -> list[Any]:
        """The values emitted since the last ``take()``."""
        self._pull()
        fresh = self._all[self._taken :]
        self._taken = len(self._all)
        return fresh

    @property
    def values(self) -> list[Any]:
        """Every value emitted so far."""
        self._pull()
        return list(self._all)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return f"TestOutput({self.values!r})"


class TestHarness:
    """Runs a pipeline by hand::

        h = TestHarness()
        src = h.source()
        out = h.output(src.stream.key_by(...).window(...).reduce(...))
        src.add(("a", 1), timestamp=5).watermark(10)
        assert out.take() == [...]
        h.set_processing_time(60_000)        # processing-time timers and windows fire

    The pipeline starts at the first feed. Every call runs it until nothing is left to do, so
    outputs are complete after each step. Use it as a context manager, or call ``close()``.
    """

    __test__ = False

    def __init__(self, env: StreamExecutionEnvironment | None = None, start_time: int = 0) -> None:
        if env is not None and not isinstance(env, StreamExecutionEnvironment):
            raise TypeError(f"TestHarness takes a StreamExecutionEnvironment, got {describe(env)}")
        self.env = env if env is not None else StreamExecutionEnvironment.get_execution_environment()
        self._start_time = start_time
        self._sources: list[TestSource] = []
        self._outputs: list[TestOutput] = []
        self._order: dict[int, int] = {}
        self._run: _engine.ManualRun | None = None
        self._id = next(_harness_ids)
        # Why the pipeline stopped, once it has: it failed, or was closed.
        self._stopped: str | None = None

    def source(self, type_info: TypeInformation | None = None) -> TestSource:
        """A new input fed by hand (parallelism 1)."""
        self._not_started("source()")
        index = len(self._sources)
        t = Transformation(
            kind="source",
            name=f"Source: Test Input {index}",
            source_kind="manual",
            payload=None,
            parallelism=1,
            parallelism_fixed=True,
            output_type=type_info,
        )
        src = TestSource(self, index, DataStream(self.env, [t.main_part()], type_info))
        self._sources.append(src)
        return src

    def output(self, stream: DataStream) -> TestOutput:
        """Collects what ``stream`` emits."""
        self._not_started("output()")
        if not isinstance(stream, DataStream):
            raise TypeError(f"output() takes a DataStream, got {describe(stream)}")
        t = Transformation(kind="collect", name="Sink: Test Output", inputs=[Input(p) for p in stream._parts])
        out = TestOutput(self, t)
        self._outputs.append(out)
        return out

    def _not_started(self, what: str) -> None:
        if self._run is not None:
            raise RuntimeError(f"{what} must be called before the first record, watermark or time step")

    def _run_or_start(self) -> _engine.ManualRun:
        if self._stopped is not None:
            raise RuntimeError(f"the test pipeline {self._stopped}: build a new TestHarness")
        if self._run is None:
            sinks = self.env._take_sinks() + [o._transformation for o in self._outputs]
            builder = build_job(self.env, sinks, f"test harness {self._id}", manual_start=self._start_time)
            # External outputs come out of the engine in plan order (creation order).
            ordered = sorted(self._outputs, key=lambda o: o._transformation.id)
            self._order = {id(o): i for i, o in enumerate(ordered)}
            self._run = builder.start_manual()
        return self._run

    def _output_index(self, output: TestOutput) -> int:
        return self._order[id(output)]

    def _step(self) -> None:
        run = self._run_or_start()
        try:
            run.run()
        except BaseException:
            self._stopped = "failed (see the exception it raised)"
            raise
        finally:
            for o in self._outputs:
                o._pull()

    def start(self) -> TestHarness:
        """Starts the pipeline now (operators' ``open()`` runs) instead of at the first feed."""
        self._step()
        return self

    @property
    def processing_time(self) -> int:
        return self._run.current_time() if self._run is not None else self._start_time

    def set_processing_time(self, time: int) -> TestHarness:
        """Moves processing time forward to ``time`` (ms) and runs what became due."""
        if isinstance(time, bool) or not isinstance(time, int):
            raise TypeError(f"set_processing_time() takes an int (ms), got {describe(time)}")
        if time < self.processing_time:
            raise ValueError(f"processing time cannot go back: it is {self.processing_time}, got {time}")
        self._run_or_start().advance_time(time)
        self._step()
        return self

    def advance_processing_time(self, by: int) -> TestHarness:
        """Moves processing time forward by ``by`` ms."""
        return self.set_processing_time(self.processing_time + by)

    def end_all(self) -> TestHarness:
        """Ends every input (final watermarks fire every event-time window and timer)."""
        for s in self._sources:
            if not s._ended:
                self._run_or_start().end_input(s._index)
                s._ended = True
        self._step()
        return self

    def close(self) -> None:
        """Closes the operators (their ``close()`` runs)."""
        if self._run is not None:
            for o in self._outputs:
                o._pull()
            self._run.close()
        if self._stopped is None:
            self._stopped = "was closed"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
