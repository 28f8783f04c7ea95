"""``JobClient``: a job started with ``env.execute_async()``, running while Python goes on.

As in PyFlink, the calls that wait return a future (``concurrent.futures.Future``, with
PyFlink's ``result()``, ``done()`` and ``exception()``); ``get_job_status().result()`` and
``get_job_execution_result().result()`` read as in PyFlink.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from ferroflow import _engine
from ferroflow._live_view import LiveDisplay, job_html
from ferroflow._pandas import metrics_to_frame
from ferroflow._plan_view import PlanView
from ferroflow.common.job_execution_result import JobExecutionResult
from ferroflow.common.job_status import JobStatus

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["JobClient"]

T = TypeVar("T")

# Jobs that run, whether or not their client is kept (as with PyFlink, a job started with
# execute_async runs on when its client is dropped); each leaves when it ends. Those still running
# when the interpreter exits are cancelled, so that it can exit.
_running: set[_engine.JobClient] = set()
_running_lock = threading.Lock()


def _forget_when_ended(engine_client: _engine.JobClient) -> None:
    engine_client.wait()
    with _running_lock:
        _running.discard(engine_client)


def _cancel_running_jobs() -> None:
    with _running_lock:
        clients = list(_running)
    for client in clients:
        client.cancel()
    for client in clients:
        client.wait(10.0)


# Before Python joins its non-daemon threads at exit (the threads waiting on jobs are such, so
# that none is stopped half-way through the interpreter's shutdown), as concurrent.futures does.
_register_before_thread_join = getattr(threading, "_register_atexit", atexit.register)
_register_before_thread_join(_cancel_running_jobs)


def _in_background(name: str, call: Callable[[], T]) -> Future[T]:
    """A future that a thread of its own completes with ``call()``'s result or exception."""
    future: Future[T] = Future()
    future.set_running_or_notify_cancel()

    def run() -> None:
        try:
            future.set_result(call())
        except BaseException as e:  # noqa: BLE001 - the future carries the job's exception, whatever it is
            future.set_exception(e)

    threading.Thread(target=run, name=name).start()
    return future


def _done(value: T) -> Future[T]:
    future: Future[T] = Future()
    future.set_result(value)
    return future


class JobClient:
    """Controls and watches one job started by ``StreamExecutionEnvironment.execute_async()``.

    ``get_job_execution_result().result()`` waits for the end and returns the
    ``JobExecutionResult`` (or raises the job's failure); ``cancel()`` stops it;
    ``trigger_savepoint(dir)`` and ``stop_with_savepoint(False, dir)`` take a savepoint of a
    job that checkpoints and give its path, from which ``execution.state-recovery.path``
    resumes the job, at the same or another parallelism.

    In Jupyter, a cell that ends with the client shows the job live (its graph coloured by
    load, per-task metrics, records/s) and updates it until the job ends.
    """

    def __init__(
        self, engine_client: _engine.JobClient, job_name: str, savepoint_dir: str | None, plan_json: str | None = None
    ) -> None:
        self._engine_client = engine_client
        self._job_name = job_name
        self._savepoint_dir = savepoint_dir
        self._plan_json = plan_json
        self._plan: PlanView | None = None
        self._live: LiveDisplay | None = None
        self._result: Future[JobExecutionResult] | None = None
        with _running_lock:
            _running.add(engine_client)
        threading.Thread(
            target=_forget_when_ended, args=(engine_client,), name="ferroflow job watcher"
        ).start()

    def get_job_id(self) -> str:
        """The job's id: 32 hex digits, also the name of its checkpoint directory."""
        return self._engine_client.job_id()

    def get_job_status(self) -> Future[JobStatus]:
        """The job's status now, as a completed future (PyFlink's shape)."""
        return _done(JobStatus[self._engine_client.status()])

    def cancel(self) -> Future[None]:
        """Asks the job to stop; the future completes once it has stopped."""
        self._engine_client.cancel()
        client = self._engine_client

        def stopped() -> None:
            client.wait()

        return _in_background("ferroflow cancel", stopped)

    def _savepoint(self, directory: str | None, stop: bool) -> Future[str]:
        target = directory if directory is not None else self._savepoint_dir
        if target is None:
            raise ValueError(
                "no savepoint directory: pass one, or set 'execution.checkpointing.savepoint-dir' "
                "in the environment's configuration"
            )
        from ferroflow.datastream._local_paths import local_path  # here: datastream imports this module

        path = local_path(target, "the savepoint directory")
        client = self._engine_client
        return _in_background("ferroflow savepoint", lambda: client.savepoint(path, stop))

    def trigger_savepoint(self, savepoint_directory: str | None = None, format_type: Any = None) -> Future[str]:
        """Takes a savepoint of the running job under ``savepoint_directory`` (else the
        configured ``execution.checkpointing.savepoint-dir``); the future gives its path.
        The job must checkpoint (``env.enable_checkpointing``)."""
        return self._savepoint(savepoint_directory, stop=False)

    def stop_with_savepoint(
        self,
        advance_to_end_of_event_time: bool = False,
        savepoint_directory: str | None = None,
        format_type: Any = None,
    ) -> Future[str]:
        """Takes a savepoint, then stops the job (it ends FINISHED, and nothing after the
        savepoint is committed); the future gives the savepoint's path. Resuming from it
        continues exactly where the job stopped."""
        if advance_to_end_of_event_time:
            raise NotImplementedError(
                "stop_with_savepoint(advance_to_end_of_event_time=True) is not supported yet: "
                "ferroflow stops without firing the remaining event-time timers"
            )
        return self._savepoint(savepoint_directory, stop=True)

    def get_accumulators(self) -> Future[dict[str, Any]]:
        """The job's accumulators (none while it runs; see the execution result)."""
        return _done({})

    def get_checkpoints(self) -> list[dict[str, Any]]:
        """Statistics of the job's completed checkpoints so far: ``id``,
        ``trigger_timestamp``, ``end_to_end_duration_ms``, ``state_size``,
        ``checkpointed_size`` (what this checkpoint added), ``alignment_duration_ms`` and
        ``external_path`` (None once it was removed). Empty when the job does not checkpoint."""
        return list(self._engine_client.checkpoints() or [])

    def metrics(self) -> list[dict[str, Any]]:
        """The job's metrics now, while it runs (and after it ended): one dict per task and
        subtask, with Flink's names. ``task``, ``subtask`` (from 0), ``parallelism``; totals
        since the task started: ``numRecordsIn``, ``numRecordsOut``, ``numBytesOut``
        (estimated), ``numBatchesOut``, ``backPressuredTimeMs`` (time blocked on full output
        channels), ``busyTimeMs``, ``idleTimeMs``, ``numLateRecordsDropped``; rates over the
        last sample (``ferroflow.metrics.history-interval``, 500 ms): ``numRecordsInPerSecond``,
        ``numRecordsOutPerSecond``, ``busyTimeMsPerSecond``, ``idleTimeMsPerSecond``,
        ``backPressuredTimeMsPerSecond``; ``currentInputWatermark``, ``currentOutputWatermark``
        (None before the first watermark) and ``watermarkLagMs`` (wall clock minus the output
        watermark); ``inPoolUsage``, ``outPoolUsage`` (0 to 1: the fullest input and output
        channel); ``latencyP50Ms``,
        ``latencyP95Ms``, ``latencyP99Ms`` (from the source to this task); ``sourceRecordsTotal``
        (what a bounded source will read, when it knows); ``operators`` (records in and out of
        each chained operator) and ``user`` (the metrics its functions defined through
        ``runtime_context.get_metrics_group()``). Empty before the job's tasks started; a
        restarted job's counters start again from zero."""
        return list(self._engine_client.metrics())

    def get_web_url(self) -> str | None:
        """The URL of the job's dashboard and REST API (``http://127.0.0.1:<port>/``), or None
        when the job has none (the ``rest.port`` configuration key is not set)."""
        return self._engine_client.web_url()

    def metrics_frame(self) -> pd.DataFrame:
        """``metrics()`` as a pandas DataFrame: one row per task and subtask (operator and user
        metrics flattened into columns, as in ``metrics_history()``). Needs pandas."""
        return metrics_to_frame(self.metrics(), "JobClient.metrics_frame()")

    def metrics_history(self) -> pd.DataFrame:
        """The job's metrics over time as a pandas DataFrame: one row per sample, task and
        subtask (sampled every ``ferroflow.metrics.history-interval``, 500 ms), with the
        columns of ``metrics()``; ``time`` is a datetime column (UTC), ``run`` counts restarts;
        each chained operator's counters become ``<operator>.numRecordsIn`` and
        ``<operator>.numRecordsOut`` columns, user metrics ``user.<name>``. Needs pandas."""
        return metrics_to_frame(self._engine_client.metrics_history(), "JobClient.metrics_history()")

    def _plan_view(self) -> PlanView | None:
        if self._plan is None and self._plan_json is not None:
            self._plan = PlanView(self._plan_json)
        return self._plan

    def _repr_html_(self) -> str:
        """The job now, as HTML: status, graph coloured by load, per-task metrics, rates."""
        # The sparklines draw the last 60 samples.
        return job_html(self, self.metrics(), list(self._engine_client.metrics_history(last=60)))

    def _ipython_display_(self) -> None:
        """Shows the job in Jupyter and redraws it from a background thread until it ends."""
        self._live = LiveDisplay(self)
        self._live.start()

    def get_job_execution_result(self) -> Future[JobExecutionResult]:
        """The job's result once it ended; the future raises the job's failure."""
        if self._result is None:
            client, name = self._engine_client, self._job_name
            self._result = _in_background("ferroflow job result", lambda: _job_result(client, name))
        return self._result

    def wait(self, timeout: float | None = None) -> bool:
        """Waits up to ``timeout`` seconds (None: to the end) for the job; returns whether it
        ended. Ctrl-C stops the wait, not the job."""
        return self._engine_client.wait(timeout)

    def __repr__(self) -> str:
        return f"JobClient(job_id={self.get_job_id()!r}, name={self._job_name!r}, status={self._engine_client.status()})"


def _job_result(client: _engine.JobClient, name: str) -> JobExecutionResult:
    """The result of a job that ended; a failed job's error carries its figures as
    ``job_result``."""
    try:
        summary = client.result()
    except BaseException as error:
        JobExecutionResult.attach_to(error, name)
        raise
    return JobExecutionResult.from_summary(name, summary)
