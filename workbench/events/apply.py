"""Apply a batch of events to one consuming service's schema, idempotently, in one local transaction.

In that transaction, for the messages of the batch:

1. messages already in ``processed_message`` (for this consumer) are skipped: a redelivery or a
   duplicate publish changes nothing;
2. per aggregate only the newest event counts, and only when its version (the provider outbox's
   ``seq``) is above the one recorded in ``aggregate_version``: an event overtaken by a newer one
   (a redelivery after a crash, a relay retry) changes nothing. Events carry the row's state (the
   columns the consumer keeps), so applying only the newest is the same as applying them in order;
3. the copies get the winners' rows (delete by key, insert the new state; a delete leaves its
   version behind, so a late older event cannot bring the row back);
4. every read model joining a changed table (the consumer's own tables included: their events only
   trigger this step) has the rows involving the changed keys recomputed from the local tables;
5. the new versions and one ``processed_message`` row per message are written.

Nothing is acknowledged to the broker before this transaction commits. A message that cannot be
applied (malformed, a value the column cannot hold, a row the database refuses) raises
:class:`Poison` with the reason; the consumer sends it to the dead letters and goes on.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from workbench.design.model import Design
from workbench.events.codec import decoder
from workbench.events.keys import batches, key_in
from workbench.events.readmodels import ReadModelSql
from workbench.events.store import ServiceTables, utcnow
from workbench.events.topology import ConsumerPlan, Feed
from workbench.migrate.canon import kind_of
from workbench.migrate.target import Target

Key = tuple[Any, ...]

H_TYPE, H_AGGREGATE_TYPE, H_AGGREGATE_ID = "Wb-Event-Type", "Wb-Aggregate-Type", "Wb-Aggregate-Id"
H_VERSION, H_CREATED = "Wb-Version", "Wb-Created-At"


class Poison(Exception):
    """A message this consumer can never apply; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Incoming:
    """An event as received: who sent it, what it is about, its version and its payload."""

    message_id: uuid.UUID
    provider: str
    type: str
    aggregatetype: str
    aggregateid: str
    version: int
    payload: Mapping[str, Any]
    created_at: dt.datetime | None = None

    @classmethod
    def parse(cls, provider: str, headers: Mapping[str, str], data: bytes) -> Incoming:
        """From a message's headers and body; :class:`Poison` when something needed is missing or malformed."""
        from workbench.events.broker import MSG_ID

        missing = [h for h in (MSG_ID, H_TYPE, H_AGGREGATE_TYPE, H_AGGREGATE_ID, H_VERSION) if not headers.get(h)]
        if missing:
            raise Poison(f"header(s) missing: {', '.join(missing)}")
        try:
            message_id = uuid.UUID(headers[MSG_ID])
        except ValueError:
            raise Poison(f"message id is not a UUID: {headers[MSG_ID]!r}") from None
        try:
            version = int(headers[H_VERSION])
        except ValueError:
            raise Poison(f"version is not an integer: {headers[H_VERSION]!r}") from None
        try:
            payload = json.loads(data) if data else None
        except (ValueError, UnicodeDecodeError) as exc:
            raise Poison(f"payload is not JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise Poison(f"payload is not a JSON object but {type(payload).__name__}")
        created = None
        if headers.get(H_CREATED):
            try:
                created = dt.datetime.fromisoformat(headers[H_CREATED])
            except ValueError:
                created = None
        return cls(message_id, provider, headers[H_TYPE], headers[H_AGGREGATE_TYPE], headers[H_AGGREGATE_ID],
                   version, payload, created)


@dataclass
class Prepared:
    """An incoming event checked and decoded for this consumer."""

    incoming: Incoming
    table: str
    action: str
    key: Key
    row: dict[str, Any] | None
    own: bool

    @property
    def aggregate(self) -> tuple[str, str]:
        return self.incoming.aggregatetype, self.incoming.aggregateid


@dataclass
class Outcome:
    """What one batch did."""

    applied: int = 0
    stale: int = 0
    duplicates: int = 0
    refreshed: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    """Seconds from each applied event's outbox ``created_at`` to this commit."""


@dataclass
class _Columns:
    table: sa.Table
    columns: list[str]
    key: list[str]
    decode: dict[str, Callable[[Any], Any]]


def bulk_insert(conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``rows`` inside the caller's transaction: ``COPY`` on PostgreSQL (one round trip, no per-row
    statement), a batched ``executemany`` elsewhere."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        prep = conn.dialect.identifier_preparer
        name = (f"{prep.quote_schema(table.schema)}." if table.schema else "") + prep.quote(table.name)
        raw: Any = conn.connection.driver_connection
        statement = f"COPY {name} ({', '.join(prep.quote(c) for c in columns)}) FROM STDIN"
        error: type[Exception] = conn.dialect.loaded_dbapi.Error
        try:
            with raw.cursor() as cur, cur.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        except error as exc:  # COPY raises the driver's own errors: as SQLAlchemy's, like any statement
            raise sa.exc.DBAPIError.instance(statement, None, exc, error, dialect=conn.dialect) from None
        return
    conn.execute(sa.insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


class Applier:
    """Applies events to one consuming service (see the module's description)."""

    def __init__(self, design: Design, target: Target, plan: ConsumerPlan) -> None:
        self.plan = plan
        self.consumer_id = plan.service
        self.tables = ServiceTables(design, target, plan.service)
        self.engine = target.engine(design, plan.service)
        self.copies: dict[str, _Columns] = {}
        for key, copy in plan.copies.items():
            t = self.tables.table(copy.target)
            decode = {c: decoder(kind_of(t.c[c].type)) for c in copy.columns}
            self.copies[key] = _Columns(t, copy.columns, copy.key, decode)
        self.own: dict[str, _Columns] = {}
        self.readmodels: list[ReadModelSql] = []
        for rm in plan.read_models:
            if not rm.maintained:
                continue
            for key in rm.tables:
                if key not in self.copies and key not in self.own:
                    t = self.tables.table(rm.local[key])
                    self.own[key] = _Columns(t, list(rm.keys[key]), list(rm.keys[key]),
                                             {c: decoder(kind_of(t.c[c].type)) for c in rm.keys[key]})
            self.readmodels.append(ReadModelSql(rm, self.tables.table(rm.name), self.tables.schema,
                                                design.source_dialect, target.dialect))

    # -- checking one message -------------------------------------------------------------------------
    def prepare(self, incoming: Incoming, feed: Feed) -> Prepared:
        """Check and decode one event; :class:`Poison` with the reason when it cannot be applied."""
        copy = self.copies.get(feed.table)
        spec = copy or self.own.get(feed.table)
        if spec is None:
            raise Poison(f"{self.consumer_id} keeps nothing of {feed.table}")
        payload = incoming.payload
        if not spec.key:
            raise Poison(f"{feed.table} has no key in {self.consumer_id}'s schema: its rows cannot be told apart")
        absent = [c for c in spec.key if c not in payload]
        if absent:
            raise Poison(f"payload lacks the key column(s) {', '.join(absent)} of {feed.table}")
        key = tuple(self._decode(spec, c, payload[c]) for c in spec.key)
        if any(v is None for v in key):
            raise Poison(f"payload has a NULL key column for {feed.table}")
        row = None
        if copy is not None and feed.action != "deleted":
            absent = [c for c in copy.columns if c not in payload]
            if absent:
                raise Poison(f"payload lacks column(s) {', '.join(absent)} that {self.consumer_id}'s copy of "
                             f"{feed.table} keeps")
            row = {c: self._decode(copy, c, payload[c]) for c in copy.columns}
        return Prepared(incoming, feed.table, feed.action, key, row, copy is None)

    @staticmethod
    def _decode(spec: _Columns, column: str, value: Any) -> Any:
        try:
            return spec.decode[column](value)
        except ValueError as exc:
            raise Poison(f"column {column} of {spec.table.name}: {exc}") from None

    # -- applying a batch ---------------------------------------------------------------------------------
    def apply(self, batch: Sequence[Prepared]) -> Outcome:
        """Apply ``batch`` in one transaction (see the module's description); returns what it did."""
        out = Outcome()
        with self.engine.begin() as conn:
            fresh = self._fresh(conn, batch)
            out.duplicates = len(batch) - len(fresh)
            if not fresh:
                return out
            winners, stale = self._winners(conn, [p for p in fresh if not p.own])
            out.stale = stale
            changed: dict[str, set[Key]] = {}
            by_table: dict[str, list[Prepared]] = {}
            for p in winners:
                by_table.setdefault(p.table, []).append(p)
            for table, items in by_table.items():
                self._write_copy(conn, self.copies[table], items)
                changed.setdefault(table, set()).update(p.key for p in items)
            for p in fresh:
                if p.own:
                    changed.setdefault(p.table, set()).add(p.key)
            for rm in self.readmodels:
                touched = [t for t in rm.rm.tables if t in changed]
                if not touched:
                    continue
                drivers: set[Key] | None = set()
                for t in touched:
                    found = rm.affected(conn, t, sorted(changed[t], key=repr))
                    if found is None:
                        drivers = None
                        break
                    drivers |= found  # type: ignore[operator]
                if drivers is None or drivers:
                    out.refreshed[rm.rm.name] = rm.refresh(conn, drivers)
            self._record_versions(conn, winners)
            now = utcnow()
            bulk_insert(conn, self.tables.inbox, ["consumer_id", "message_id", "processed_at"],
                        [(self.consumer_id, p.incoming.message_id, now) for p in fresh])
            out.applied = len(winners) + sum(1 for p in fresh if p.own)
        done = utcnow()
        out.latencies = [(done - p.incoming.created_at).total_seconds() for p in fresh
                         if p.incoming.created_at is not None]
        return out

    def prune(self, before: dt.datetime) -> int:
        """Delete this consumer's ``processed_message`` rows processed before ``before``; returns how many."""
        inbox = self.tables.inbox
        with self.engine.begin() as conn:
            result = conn.execute(sa.delete(inbox).where(inbox.c.consumer_id == self.consumer_id,
                                                         inbox.c.processed_at < before))
        return max(result.rowcount or 0, 0)

    def _fresh(self, conn: sa.Connection, batch: Sequence[Prepared]) -> list[Prepared]:
        """The messages of ``batch`` this consumer has not processed (each message once)."""
        first: dict[uuid.UUID, Prepared] = {}
        for p in batch:
            first.setdefault(p.incoming.message_id, p)
        inbox = self.tables.inbox
        seen: set[uuid.UUID] = set()
        dialect = self.tables.dialect
        for chunk in batches(((i,) for i in first), 1, dialect):  # by message id alone: the index it leads
            q = sa.select(inbox.c.message_id, inbox.c.consumer_id).where(key_in([inbox.c.message_id], chunk, dialect))
            seen.update(uuid.UUID(str(m)) for m, c in conn.execute(q) if c == self.consumer_id)
        return [p for i, p in first.items() if i not in seen]

    def _winners(self, conn: sa.Connection, fresh: list[Prepared]) -> tuple[list[Prepared], int]:
        """Per aggregate the newest event, when newer than what was applied; and how many lost."""
        newest: dict[tuple[str, str], Prepared] = {}
        for p in fresh:
            have = newest.get(p.aggregate)
            if have is None or p.incoming.version > have.incoming.version:
                newest[p.aggregate] = p
        versions = self.tables.versions
        stored: dict[tuple[str, str], int] = {}
        by_type: dict[str, list[str]] = {}
        for agg_type, agg_id in newest:
            by_type.setdefault(agg_type, []).append(agg_id)
        dialect = self.tables.dialect
        for agg_type, ids in by_type.items():
            for chunk in batches(((i,) for i in ids), 1, dialect):
                q = sa.select(versions.c.aggregateid, versions.c.version).where(
                    key_in([versions.c.aggregateid], chunk, dialect), versions.c.aggregatetype == agg_type,
                    versions.c.consumer_id == self.consumer_id)
                for agg_id, version in conn.execute(q):
                    stored[(agg_type, agg_id)] = int(version)
        winners = [p for agg, p in newest.items() if p.incoming.version > stored.get(agg, -1)]
        return winners, len(fresh) - len(winners)

    @staticmethod
    def _write_copy(conn: sa.Connection, spec: _Columns, items: list[Prepared]) -> None:
        t = spec.table
        key_cols = [t.c[c] for c in spec.key]
        dialect = conn.dialect.name
        for chunk in batches([p.key for p in items], len(key_cols), dialect):
            conn.execute(sa.delete(t).where(key_in(key_cols, chunk, dialect)))
        bulk_insert(conn, t, spec.columns, [tuple(p.row[c] for c in spec.columns) for p in items if p.row is not None])

    def _record_versions(self, conn: sa.Connection, winners: list[Prepared]) -> None:
        if not winners:
            return
        versions = self.tables.versions
        by_type: dict[str, list[Prepared]] = {}
        for p in winners:
            by_type.setdefault(p.incoming.aggregatetype, []).append(p)
        dialect = self.tables.dialect
        for agg_type, items in by_type.items():
            for chunk in batches(((p.incoming.aggregateid,) for p in items), 1, dialect):
                conn.execute(sa.delete(versions).where(key_in([versions.c.aggregateid], chunk, dialect),
                                                       versions.c.aggregatetype == agg_type,
                                                       versions.c.consumer_id == self.consumer_id))
        bulk_insert(conn, versions, ["consumer_id", "aggregatetype", "aggregateid", "version"],
                    [(self.consumer_id, p.incoming.aggregatetype, p.incoming.aggregateid, p.incoming.version)
                     for p in winners])
