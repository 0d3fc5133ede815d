"""Capture: the committed source transactions, read from the source's own change log.

One :class:`LogReader` per backend (:mod:`~workbench.sync.postgres`, :mod:`~workbench.sync.mariadb`)
reads the log in a background thread and hands whole committed transactions to the caller
(:meth:`LogReader.get`), in commit order, as :class:`~workbench.sync.model.SourceTransaction`.
Delivery is at least once: after a restart the log is read again from the earliest position any
consumer has applied, and each consumer skips what its own position covers
(:meth:`LogReader.covers`).

Snapshots meet the log without a gap or an overlap: :meth:`LogReader.snapshot` opens a
read-only source transaction and says which log transactions it sees (PostgreSQL: the snapshot's
``xmin:xmax:xip``, compared with each transaction's xid; MariaDB: ``START TRANSACTION WITH
CONSISTENT SNAPSHOT`` and the binlog position it corresponds to, compared with where each
transaction ends in the binlog). What is copied under that snapshot plus every logged transaction
it does not see is exactly the source's state, whatever the capture's start, the copy's time and
their order (:meth:`LogReader.visible`).
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import queue
import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from workbench.errors import WorkbenchError
from workbench.sync.model import CaptureSpec, SourceTransaction
from workbench.sync.routes import Routes


class CaptureError(WorkbenchError):
    """Change capture cannot start or continue: a server setting, a missing slot, a purged log."""


class LogReader(abc.ABC):
    """Reads committed transactions from a source's change log in a background thread.

    Parameters
    ----------
    url : the source URL (its password comes from the URL, ``${VAR}`` or ``WORKBENCH_DB_PASSWORD``).
    spec : the capture setup made (``capture.json``).
    routes : which tables matter and their primary keys (changes to other tables are dropped).
    """

    backend = ""
    queue_size = 4000

    def __init__(self, url: str, spec: CaptureSpec, routes: Routes) -> None:
        self.url = url
        self.spec = spec
        self.keys = {t: list(r.key) for t, r in routes.tables.items()}
        self._queue: queue.Queue[SourceTransaction] = queue.Queue(maxsize=self.queue_size)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self.received_changes = 0
        self.received_transactions = 0
        self.taken = 0  # transactions handed to the consumer by get()
        self._idle: tuple[str, int] | None = None  # (a position covering everything read, transactions emitted then)
        self.in_progress_since: float | None = None  # monotonic time the transaction being read began
        self.blocking = True  # False: stop at the end of the log (counting what waits) instead of waiting

    # -- positions -------------------------------------------------------------------------------

    @abc.abstractmethod
    def covers(self, stored: str, position: str) -> bool:
        """Whether a consumer at ``stored`` has applied the transaction at ``position``."""

    @abc.abstractmethod
    def merge(self, stored: str, position: str) -> str:
        """The stored position after applying the transaction at ``position`` (which it did not cover)."""

    @abc.abstractmethod
    def earliest(self, positions: list[str]) -> str:
        """Where to start reading so that every consumer gets what it has not applied."""

    @abc.abstractmethod
    def visible(self, snapshot: dict[str, Any], txn: SourceTransaction) -> bool:
        """Whether a source snapshot (taken by :meth:`snapshot`) already saw this transaction's changes."""

    @abc.abstractmethod
    def snapshot(self, engine: sa.Engine) -> contextlib.AbstractContextManager[tuple[sa.Connection, dict[str, Any]]]:
        """A read-only source connection inside a consistent snapshot, and the snapshot's place in the log."""

    # -- the stream ------------------------------------------------------------------------------

    def start(self, position: str) -> None:
        """Start reading the log after ``position`` (in a daemon thread)."""
        self._thread = threading.Thread(target=self._guarded, args=(position,), name=f"wb-capture-{self.backend}",
                                        daemon=True)
        self._thread.start()

    def _guarded(self, position: str) -> None:
        try:
            self._run(position)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer's thread by get()
            if not self._stop.is_set():
                self._error = exc

    @abc.abstractmethod
    def _run(self, position: str) -> None:
        """Read the log from ``position`` until :attr:`_stop` is set, handing transactions to :meth:`_emit`."""

    def _emit(self, txn: SourceTransaction) -> None:
        """Queue a committed transaction; blocks while the consumer is behind (back-pressure)."""
        self.received_transactions += 1
        self.received_changes += len(txn.changes)
        while not self._stop.is_set():
            try:
                self._queue.put(txn, timeout=0.5)
                return
            except queue.Full:
                self._keepalive()

    def _keepalive(self) -> None:  # noqa: B027 - optional hook
        """Keep the log connection alive while the consumer is behind (PostgreSQL: standby status)."""

    def get(self, timeout: float) -> SourceTransaction | None:
        """The next committed transaction, or None when none came within ``timeout`` seconds."""
        if self._error is not None:
            raise self._error
        try:
            txn = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
            self.taken += 1
            return txn
        except queue.Empty:
            if self._error is not None:
                raise self._error from None
            if self._thread is not None and not self._thread.is_alive() and not self._stop.is_set() \
                    and self.blocking:
                raise CaptureError("the capture thread stopped") from None
            return None

    def oldest(self) -> dt.datetime | None:
        """Commit time of the oldest transaction waiting for the consumer (None when none waits)."""
        with contextlib.suppress(IndexError):
            return self._queue.queue[0].commit_time
        return None

    def running(self) -> bool:
        """Whether the reading thread is still at work (a non-blocking read stops at the end of the log)."""
        return self._thread is not None and self._thread.is_alive()

    def ready(self) -> int:
        """Transactions read and waiting for the consumer."""
        return self._queue.qsize()

    def transactions(self, idle: float = 1.0) -> Iterator[SourceTransaction]:
        """Committed transactions as they come (blocks; the iterator for consumers with no idle work)."""
        while not self._stop.is_set():
            txn = self.get(idle)
            if txn is not None:
                yield txn

    def confirm(self, position: str) -> None:  # noqa: B027 - most logs need no confirmation
        """Everything up to ``position`` is applied durably by every consumer (PostgreSQL: the slot may advance)."""

    def _set_idle(self, position: str) -> None:
        """(Reading thread) nothing is half read: ``position`` covers every transaction emitted so far."""
        self._idle = (position, self.received_transactions)

    def idle_position(self) -> str | None:
        """A position covering every transaction read, when the consumer has taken all of them and nothing is
        half read (the consumer confirms it only once it has applied everything it took); else None."""
        idle = self._idle
        if idle is None or idle[1] != self.taken or self.in_progress_since is not None:
            return None
        return idle[0]

    @abc.abstractmethod
    def head(self) -> str | None:
        """The source's current end of log (for lag figures)."""

    def close(self) -> None:
        self._stop.set()
        self._close_stream()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _close_stream(self) -> None:  # noqa: B027 - optional hook
        """Unblock the reading thread (close its socket)."""


def reader(url: str, spec: CaptureSpec, routes: Routes) -> LogReader:
    """The log reader for the capture's backend (PostgreSQL or MariaDB/MySQL)."""
    if spec.backend == "postgresql":
        from workbench.sync.postgres import PostgresReader

        return PostgresReader(url, spec, routes)
    if spec.backend == "mysql":
        from workbench.sync.mariadb import MariaDBReader

        return MariaDBReader(url, spec, routes)
    raise CaptureError(f"no change log to read on {spec.backend}: SQLite sources are followed by polling")
