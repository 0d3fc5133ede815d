"""A service's messaging tables on the target: append to its outbox, read what waits, mark, purge.

Everything here runs inside the caller's transaction (a ``Connection`` in a ``begin()`` block), so
a service appends its events in the same local transaction as the change they announce -- the
transactional outbox -- and the relay marks rows published in a transaction of its own.

Times are UTC without a time zone (``created_at``, ``published_at``, ``processed_at``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from workbench.design.model import Design
from workbench.design.outbox import SEQUENCE, messaging
from workbench.design.schemas import service_metadata
from workbench.errors import WorkbenchError
from workbench.events.keys import batches, key_in
from workbench.migrate.target import Target


def utcnow() -> dt.datetime:
    """Now in UTC, naive (what the TIMESTAMP columns hold)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass
class OutboxEvent:
    """One event to append to a service's outbox (``payload``: JSON-safe values, see :mod:`~workbench.events.codec`)."""

    aggregatetype: str
    aggregateid: str
    type: str
    payload: dict[str, Any]
    id: uuid.UUID = field(default_factory=uuid.uuid4)


class HexUuid(sa.types.TypeDecorator[uuid.UUID]):
    """A UUID in the ``CHAR(32)`` hex column the design creates on MySQL/MariaDB. (SQLAlchemy's ``Uuid``
    binds MariaDB's native 36-character form once connected, which that column cannot hold.)"""

    impl = sa.CHAR(32)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        return (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).hex

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> uuid.UUID | None:
        return None if value is None else uuid.UUID(str(value))


class ServiceTables:
    """The typed tables of one service on a target (as the design creates them), by name."""

    def __init__(self, design: Design, target: Target, service: str) -> None:
        self.service = service
        self.dialect = target.dialect
        self.schema = target.schema(design, service)
        self.metadata = service_metadata(design, service, target.dialect)
        if target.dialect == "mysql":
            for t in self.metadata.tables.values():
                for c in t.columns:
                    if isinstance(c.type, sa.Uuid):
                        c.type = HexUuid()
        self.by_name = {t.name: t for t in self.metadata.tables.values()}
        jobs = messaging(design.service(service))
        missing = sorted({"outbox", "inbox", "versions"} - set(jobs))
        if missing:
            raise WorkbenchError(f"service {service} has no {', '.join(missing)} table in the design: rerun "
                                 "'workbench design' (this version adds them), then migrate")
        self.outbox = self.by_name[jobs["outbox"]]
        self.inbox = self.by_name[jobs["inbox"]]
        self.versions = self.by_name[jobs["versions"]]

    def table(self, name: str) -> sa.Table:
        return self.by_name[name]


def append(conn: sa.Connection, outbox: sa.Table, events: Sequence[OutboxEvent], now: dt.datetime | None = None
           ) -> int:
    """Insert ``events`` into the outbox, in order (their ``seq`` increases in this order)."""
    if not events:
        return 0
    at = now or utcnow()
    conn.execute(sa.insert(outbox), [{"id": e.id, "aggregatetype": e.aggregatetype, "aggregateid": e.aggregateid,
                                      "type": e.type, "payload": e.payload, "created_at": at} for e in events])
    return len(events)


@dataclass
class Waiting:
    """An outbox row not yet acknowledged by the broker; ``payload`` is its JSON text."""

    seq: int
    id: str
    aggregatetype: str
    aggregateid: str
    type: str
    payload: str | None
    created_at: dt.datetime | None


def waiting(conn: sa.Connection, outbox: sa.Table, limit: int, after: int = 0) -> list[Waiting]:
    """The oldest ``limit`` rows waiting to be published with ``seq`` above ``after``, in ``seq`` order."""
    c = outbox.c
    payload = sa.type_coerce(sa.cast(c.payload, sa.Text()), sa.Text())
    q = sa.select(c[SEQUENCE], c.id, c.aggregatetype, c.aggregateid, c.type, payload, c.created_at) \
        .where(c.published_at.is_(None), c[SEQUENCE] > after).order_by(c[SEQUENCE]).limit(limit)
    return [Waiting(int(r[0]), str(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in conn.execute(q)]


def mark_published(conn: sa.Connection, outbox: sa.Table, seqs: Sequence[int], at: dt.datetime | None = None) -> int:
    """Record that the broker acknowledged these rows."""
    if not seqs:
        return 0
    when = at or utcnow()
    done = 0
    dialect = conn.dialect.name
    for chunk in batches(((s,) for s in seqs), 1, dialect):
        done += conn.execute(sa.update(outbox).where(key_in([outbox.c[SEQUENCE]], chunk, dialect))
                             .values(published_at=when)).rowcount or 0
    return done


def purge(conn: sa.Connection, outbox: sa.Table, older_than: dt.datetime) -> int:
    """Delete rows published before ``older_than``; the newest row always stays, so the database never
    hands out a ``seq`` again (SQLite reuses the largest rowid once it is gone) and versions keep growing."""
    c = outbox.c
    newest = conn.execute(sa.select(sa.func.max(c[SEQUENCE]))).scalar()
    if newest is None:
        return 0
    result = conn.execute(sa.delete(outbox).where(c.published_at.is_not(None), c.published_at < older_than,
                                                  c[SEQUENCE] < newest))
    return max(result.rowcount or 0, 0)


@dataclass
class Backlog:
    """What waits in an outbox."""

    waiting: int
    oldest: dt.datetime | None
    published: int


def backlog(conn: sa.Connection, outbox: sa.Table) -> Backlog:
    c = outbox.c
    row = conn.execute(sa.select(sa.func.count(), sa.func.min(c.created_at)).where(c.published_at.is_(None))).one()
    total = conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() or 0
    return Backlog(int(row[0]), row[1], int(total) - int(row[0]))


def recent(conn: sa.Connection, column: sa.ColumnElement[Any], since: dt.datetime) -> int:
    """Rows whose timestamp ``column`` is at or after ``since`` (events published or processed lately)."""
    return int(conn.execute(sa.select(sa.func.count()).where(column >= since)).scalar() or 0)


def transient(exc: BaseException) -> bool:
    """Whether a database error is worth retrying as it is: the server away, a lock, a lost connection
    (and not something the data itself causes)."""
    if getattr(exc, "connection_invalidated", False):
        return True
    return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError | sa.exc.DisconnectionError
                      | sa.exc.TimeoutError)
