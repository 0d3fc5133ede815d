"""The records of change capture: row changes, committed source transactions, and the sync artifacts.

:class:`RowChange` and :class:`SourceTransaction` are the interface between capture and whatever
consumes it (the apply into the service schemas here; the event relay of ``workbench.events``
later): plain typed dataclasses, values as Python objects (``int``, ``Decimal``, ``datetime``,
``str``, ``bytes``, ``dict`` for JSON), never driver-specific types.

:class:`CaptureSpec` (``capture.json``) records what ``workbench sync setup`` made on the source,
so ``teardown`` removes exactly that; :class:`SyncStatus` (``status.json``) is what the follower
last reported, and :class:`LagSample` one line of ``lag.jsonl``, its history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

Operation = Literal["insert", "update", "delete", "truncate"]
Backend = Literal["postgresql", "mysql", "sqlite"]

CAPTURE_FILE = "capture.json"
STATUS_FILE = "status.json"
LAG_FILE = "lag.jsonl"
VERIFY_FILE = "verify.json"


@dataclass(frozen=True)
class RowChange:
    """One row changed by a committed source transaction.

    Attributes
    ----------
    table : the legacy table's key as the design names it (``name``, or ``schema.name`` outside
        the default schema).
    op : ``insert``, ``update``, ``delete``, or ``truncate`` (every row of the table; no images).
    key : the primary key's values (after the change; before it for a delete); empty for a table
        without a primary key.
    before : the row before the change, as far as the log has it: every column for a delete or an
        update on MariaDB (``binlog_row_image=FULL``) and on PostgreSQL tables with ``REPLICA
        IDENTITY FULL``; only the key columns (or None when the key did not change) otherwise.
    after : the row after the change (None for a delete).
    unchanged : columns the log left out of ``after`` because they did not change and are stored
        out of line (PostgreSQL's unchanged TOAST values); their values are the ones the row had.
    position : the source position of the transaction's commit (PostgreSQL: the LSN ending its
        commit record, ``X/Y``; MariaDB: its GTID ``domain-server-sequence``; SQLite: ``poll:N``).
    xid : the source's transaction id (PostgreSQL xid, MariaDB GTID, SQLite poll number).
    commit_time : when the source committed it (UTC; MariaDB's log has whole seconds only).
    """

    table: str
    op: Operation
    key: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    position: str
    xid: str
    commit_time: dt.datetime | None
    unchanged: tuple[str, ...] = ()


@dataclass
class SourceTransaction:
    """A committed source transaction: its position, id, commit time and the row changes in log order.

    ``received`` is when this process read its commit from the log (``time.monotonic()``); ``meta``
    holds what the capture needs to place it against a snapshot (PostgreSQL: the 32-bit ``xid``;
    MariaDB: the binlog ``file`` and ``pos`` ending it). Transactions of other databases sharing the
    log (the MariaDB binlog is server-wide) arrive with no changes: they only move the position.
    """

    position: str
    xid: str
    commit_time: dt.datetime | None
    changes: list[RowChange] = field(default_factory=list)
    received: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class SetupAction:
    """One thing setup did (or found already done) on the source, as the SQL it ran."""

    what: str
    sql: str
    done_now: bool = True


@dataclass
class CaptureSpec:
    """``capture.json``: the capture ``workbench sync setup`` prepared on a source.

    Attributes
    ----------
    name : the capture's name (the PostgreSQL slot and publication are called so).
    backend : ``postgresql``, ``mysql`` (MariaDB/MySQL) or ``sqlite``.
    source : the source URL, password masked (for messages only).
    start : the position the follow starts from (the slot's consistent point, the GTID at setup).
    tables : the legacy tables captured (keys as in the design).
    replica_identity : PostgreSQL tables setup switched to ``REPLICA IDENTITY FULL`` and the
        setting each had before (``d`` default, ``n`` nothing, ``i`` index), restored by teardown.
    actions : what setup ran on the source, in order.
    privileges : what the login needs.
    database : the source database (PostgreSQL database, MariaDB schema) the capture filters on.
    default_schema : the schema of table keys without one (PostgreSQL ``public``, MariaDB the database).
    created_at : ISO time of the setup.
    notes : facts the operator must know (binlog metadata, retained WAL, ...).
    """

    name: str
    backend: str
    source: str
    start: str
    tables: list[str] = field(default_factory=list)
    replica_identity: dict[str, str] = field(default_factory=dict)
    actions: list[SetupAction] = field(default_factory=list)
    privileges: list[str] = field(default_factory=list)
    database: str | None = None
    default_schema: str | None = None
    created_at: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class ServiceStatus:
    """Where one service stands.

    ``lag_events`` counts row changes read from the log and not yet applied to the service (with
    the follower stopped: row changes in the log after its position, counted by reading it);
    ``lag_seconds`` is the age of the oldest of them (0 when there are none).
    """

    service: str
    position: str | None = None
    commit_time: str | None = None
    applied_at: str | None = None
    events: int = 0
    transactions: int = 0
    lag_events: int | None = None
    lag_seconds: float | None = None
    events_per_second: float = 0.0


@dataclass
class CaptureHealth:
    """The capture on the source: PostgreSQL slot state and WAL it retains; MariaDB binlog reach."""

    exists: bool = False
    active: bool | None = None
    retained_bytes: int | None = None
    confirmed: str | None = None
    left_behind: bool = False
    message: str = ""


@dataclass
class SyncStatus:
    """``status.json`` and ``workbench sync status --json``.

    ``state``: ``following`` (a follower wrote this within the last seconds), ``stopped``,
    ``not set up`` or ``torn down``.
    """

    capture: str
    backend: str
    source: str
    target: str
    state: str
    head: str | None = None
    updated_at: str = ""
    services: list[ServiceStatus] = field(default_factory=list)
    health: CaptureHealth = field(default_factory=CaptureHealth)
    notes: list[str] = field(default_factory=list)

    @property
    def lag_seconds(self) -> float | None:
        known = [s.lag_seconds for s in self.services if s.lag_seconds is not None]
        return max(known) if known else None

    @property
    def lag_events(self) -> int | None:
        known = [s.lag_events for s in self.services if s.lag_events is not None]
        return max(known) if known else None


@dataclass
class LagSample:
    """One line of ``lag.jsonl``: the follower's lag and progress at a moment."""

    t: str
    lag_seconds: float
    lag_events: int
    applied: int
    per_service: dict[str, int] = field(default_factory=dict)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime | None) -> str | None:
    """ISO text of a moment (UTC), None stays None.

    >>> iso(dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC))
    '2025-03-01T12:00:00+00:00'
    """
    return moment.astimezone(dt.UTC).isoformat() if moment is not None else None
