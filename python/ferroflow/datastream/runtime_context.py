"""RuntimeContext: what a function learns about the subtask it runs in, in ``open()``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ferroflow.metrics import MetricGroup


class RuntimeContext:
    """Passed to ``Function.open(runtime_context)``, once per parallel subtask."""

    def __init__(
        self,
        task_name: str,
        index_of_this_subtask: int,
        number_of_parallel_subtasks: int,
        max_number_of_parallel_subtasks: int,
        attempt_number: int = 0,
        job_parameters: dict[str, str] | None = None,
        state: Any = None,
        metric_group: Any = None,
    ) -> None:
        self._task_name = task_name
        self._index = index_of_this_subtask
        self._parallelism = number_of_parallel_subtasks
        self._max_parallelism = max_number_of_parallel_subtasks
        self._attempt = attempt_number
        self._job_parameters = dict(job_parameters or {})
        # The keyed state of a keyed operator (None elsewhere).
        self._state = state
        self._metric_group = metric_group

    def get_task_name(self) -> str:
        """The name of the task the function runs in (its chain, e.g. ``"Source -> Map"``)."""
        return self._task_name

    def get_number_of_parallel_subtasks(self) -> int:
        return self._parallelism

    def get_max_number_of_parallel_subtasks(self) -> int:
        return self._max_parallelism

    def get_index_of_this_subtask(self) -> int:
        """The subtask's index, from 0."""
        return self._index

    def get_attempt_number(self) -> int:
        return self._attempt

    def get_task_name_with_subtasks(self) -> str:
        return f"{self._task_name} ({self._index + 1}/{self._parallelism})"

    def get_job_parameter(self, key: str, default_value: str | None = None) -> str | None:
        """A global job parameter (``env.get_config().set_global_job_parameters({...})``)."""
        return self._job_parameters.get(key, default_value)

    def get_metrics_group(self) -> MetricGroup:
        """The metric group of this operator's subtask: ``counter(name)``, ``gauge(name, fn)``,
        ``meter(name)``, ``distribution(name)`` and ``add_group(name)``, as in PyFlink. What it
        makes shows in ``JobClient.metrics()`` (under ``user``, named
        ``<operator>.<group>.<name>``) while the job runs."""
        if self._metric_group is None:
            raise RuntimeError("this runtime context has no metric group (it was not made by a running job)")
        return self._metric_group

    def _keyed_state(self) -> Any:
        if self._state is None:
            raise RuntimeError(
                "keyed state is available in map/flat_map/filter/process and ReduceFunction functions of "
                "a keyed stream (use key_by(...) first) and in window functions, not in this function"
            )
        return self._state

    def get_state(self, state_descriptor: Any) -> Any:
        """The ValueState of ``state_descriptor`` (a ValueStateDescriptor), for the current key."""
        return self._keyed_state().get_state(state_descriptor)

    def get_list_state(self, state_descriptor: Any) -> Any:
        """The ListState of ``state_descriptor`` (a ListStateDescriptor)."""
        return self._keyed_state().get_list_state(state_descriptor)

    def get_map_state(self, state_descriptor: Any) -> Any:
        """The MapState of ``state_descriptor`` (a MapStateDescriptor)."""
        return self._keyed_state().get_map_state(state_descriptor)

    def get_reducing_state(self, state_descriptor: Any) -> Any:
        """The ReducingState of ``state_descriptor`` (a ReducingStateDescriptor)."""
        return self._keyed_state().get_reducing_state(state_descriptor)

    def get_aggregating_state(self, state_descriptor: Any) -> Any:
        """The AggregatingState of ``state_descriptor`` (an AggregatingStateDescriptor)."""
        return self._keyed_state().get_aggregating_state(state_descriptor)

    def __repr__(self) -> str:
        return f"RuntimeContext({self.get_task_name_with_subtasks()!r})"
