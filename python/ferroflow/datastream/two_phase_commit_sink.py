"""TwoPhaseCommitSinkFunction: exactly-once output to a store of your own.

Beyond PyFlink (Flink has it in Java): subclass it, say how to begin, write to, pre-commit,
commit and abort a *transaction* of your store, and ferroflow makes the results of each
checkpoint visible exactly once, also after a crash and a restore::

    class FileCommitSink(TwoPhaseCommitSinkFunction):
        def begin_transaction(self):
            return f"/data/out/.tmp-{uuid.uuid4().hex}"           # a hidden file
        def write(self, transaction, value, context):
            with open(transaction, "a") as f:
                f.write(f"{value}\\n")
        def pre_commit(self, transaction):
            pass                                                   # e.g. flush and fsync
        def commit(self, transaction):                             # must be safe to repeat
            if os.path.exists(transaction):
                os.replace(transaction, transaction.replace(".tmp-", "part-"))
        def abort(self, transaction):
            if os.path.exists(transaction):
                os.remove(transaction)

The life of a transaction: begun when the sink opens or after each checkpoint; written to until
the next checkpoint barrier, where it is pre-committed and recorded in the checkpoint; committed
once that checkpoint completes (its metadata is durable). After a failure, the job restores its
latest completed checkpoint: the transactions that checkpoint recorded as pre-committed are
committed again (``recover_and_commit``, so ``commit`` must be idempotent) and the one that was
open is aborted (``recover_and_abort``); what was written after it is replayed into a new one.
Transactions are kept in the checkpoint as operator state, so they must pickle (a path, an id).

Without checkpointing, the transaction is pre-committed when the input ends and committed right
after, so a bounded job still makes all of its output visible.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Generic, TypeVar

from ferroflow import _engine
from ferroflow.datastream.checkpointed_function import (
    CheckpointedFunction,
    FunctionInitializationContext,
    FunctionSnapshotContext,
)
from ferroflow.datastream.functions import SinkFunction
from ferroflow.datastream.state import ListStateDescriptor

__all__ = ["TwoPhaseCommitSinkFunction"]

IN = TypeVar("IN")
TXN = TypeVar("TXN")

#: The checkpoint id a job without checkpoints notifies with once its input ended.
END_OF_INPUT: int = _engine.END_OF_INPUT

_STATE = "two-phase-commit-transactions"


class TwoPhaseCommitSinkFunction(SinkFunction, CheckpointedFunction, Generic[IN, TXN]):
    """A sink whose output becomes visible exactly once, at completed checkpoints (see the
    module's doc). Implement ``begin_transaction``, ``write``, ``pre_commit``, ``commit`` and
    ``abort``."""

    # -- what a subclass implements ---------------------------------------------------------------

    @abstractmethod
    def begin_transaction(self) -> TXN:
        """Starts a transaction and returns its handle (it must pickle)."""

    @abstractmethod
    def write(self, transaction: TXN, value: IN, context: Any) -> None:
        """Writes ``value`` within ``transaction`` (not yet visible to readers)."""

    @abstractmethod
    def pre_commit(self, transaction: TXN) -> None:
        """Makes ``transaction`` ready to commit (flush, fsync): after this, commit must not fail
        for lack of data."""

    @abstractmethod
    def commit(self, transaction: TXN) -> None:
        """Makes ``transaction`` visible. Called again for the same transaction after a
        recovery: it must be idempotent."""

    @abstractmethod
    def abort(self, transaction: TXN) -> None:
        """Discards ``transaction``."""

    def recover_and_commit(self, transaction: TXN) -> None:
        """Commits a transaction a restored checkpoint recorded as pre-committed (default:
        ``commit``)."""
        self.commit(transaction)

    def recover_and_abort(self, transaction: TXN) -> None:
        """Aborts the transaction that was open when the restored checkpoint was taken (default:
        ``abort``)."""
        self.abort(transaction)

    # -- the protocol ---------------------------------------------------------------------------

    def initialize_state(self, context: FunctionInitializationContext) -> None:
        self._ff_state = context.get_operator_state_store().get_list_state(ListStateDescriptor(_STATE, None))
        # checkpoint id (None: staged at the end of input) -> pre-committed transactions
        self._ff_pending: dict[int | None, list[TXN]] = {}
        self._ff_current: TXN | None = None
        self._ff_finished = False
        if context.is_restored():
            for kind, _checkpoint, transaction in list(self._ff_state.get()):
                if kind == "pending":
                    self.recover_and_commit(transaction)
                else:
                    self.recover_and_abort(transaction)
            self._ff_state.clear()

    def open(self, runtime_context: Any) -> None:
        self._ff_current = self.begin_transaction()

    def invoke(self, value: IN, context: Any) -> None:
        if self._ff_current is None:
            self._ff_current = self.begin_transaction()
        self.write(self._ff_current, value, context)

    def snapshot_state(self, context: FunctionSnapshotContext) -> None:
        checkpoint = context.get_checkpoint_id()
        staged = self._ff_pending.pop(None, [])
        if self._ff_current is not None:
            self.pre_commit(self._ff_current)
            staged.append(self._ff_current)
            self._ff_current = None if self._ff_finished else self.begin_transaction()
        if staged:
            self._ff_pending.setdefault(checkpoint, []).extend(staged)
        records: list[tuple[str, int | None, Any]] = [
            ("pending", c, t) for c, txns in self._ff_pending.items() for t in txns
        ]
        if self._ff_current is not None:
            records.append(("current", None, self._ff_current))
        self._ff_state.update(records)

    def finish(self) -> None:
        """The input ended: the open transaction is pre-committed; the final checkpoint (or,
        without checkpoints, the end of the job) commits it."""
        self._ff_finished = True
        if self._ff_current is not None:
            self.pre_commit(self._ff_current)
            self._ff_pending.setdefault(None, []).append(self._ff_current)
            self._ff_current = None

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        """Commits every transaction pre-committed at or before ``checkpoint_id``."""
        done = [
            c
            for c in self._ff_pending
            if (c is None and checkpoint_id == END_OF_INPUT) or (c is not None and c <= checkpoint_id)
        ]
        for c in sorted(done, key=lambda c: -1 if c is None else c):
            for transaction in self._ff_pending.pop(c):
                self.commit(transaction)

    def close(self) -> None:
        # A transaction still open here was not recorded by a completed checkpoint: its data
        # will be replayed after a restore.
        if getattr(self, "_ff_current", None) is not None:
            current, self._ff_current = self._ff_current, None
            self.abort(current)
