"""The transition phase: the monolith still writes, so the owners' events come from change capture.

Before a service writes its own data, its tables in the target are kept current from the legacy
database's change log (:mod:`workbench.sync`). Each committed source transaction's row changes on
a service's tables become that service's state events (``<Entity>Created``, ``...Updated``,
``...Deleted`` with the columns its consumers keep, as the design's catalog says), appended to the
service's outbox; from there the relay and the consumers work exactly as after cutover, when the
service itself appends the same events while it writes: one path, two sources.

Two ways to plug it into the capture (:mod:`workbench.sync`'s interface for other consumers):

- beside the follower, as a listener: ``follow(..., options=FollowOptions(listeners=[Stager(design,
  target).listener]))`` -- called with each batch of source transactions once every service has
  committed it, at least once (a batch may come again after a crash);
- inside the follower's own per-service transaction: ``Stager.stage(conn, service, changes)``, so the
  events commit with the changes and the source position.

Either way nothing is staged twice: an event's ``id`` is derived from the source transaction (its
position and id) and the change's place in it, and an id already in the outbox is skipped.

Only what the events need is read from a row change (:class:`RowChange`, a structural type that
``workbench.sync.RowChange`` satisfies): table, operation, key, before/after images; position, xid
and commit time travel in the payload's ``_source`` member for tracing. A column an image lacks (an
update's after image leaves out PostgreSQL's unchanged TOAST values, ``unchanged`` names them) is
taken from the before image, else from the owner's row in the target (the follower applied the
change already: that is the value, or a newer one a later event announces too). A ``truncate`` has no
rows to announce: no event (the consumers' copies of that table need a refill).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa

from workbench.design.model import Design, Event
from workbench.design.outbox import event_type
from workbench.events.codec import aggregate_id, decoder, encode
from workbench.events.keys import key_in
from workbench.events.store import OutboxEvent, ServiceTables, append
from workbench.events.topology import STATE_ACTIONS
from workbench.migrate.canon import kind_of
from workbench.migrate.target import Target

OPERATIONS = {"insert": "created", "update": "updated", "delete": "deleted", "c": "created", "u": "updated",
              "d": "deleted", "r": "created", "i": "created", "upsert": "updated", "snapshot": "created"}
"""Row operations (spelled as capture tools do: words, Debezium's letters, ``r`` for a snapshot read)
to the event actions of the catalog; ``truncate`` has none."""

SOURCE = "_source"
NAMESPACE = uuid.UUID("5f0b6f0e-7c1e-4a57-9a0e-0e7e5e6b1d2c")
"""Of the event ids derived from source positions (:func:`event_id`)."""


class RowChange(Protocol):
    """One committed row change, as change capture reports it (``workbench.sync.RowChange``)."""

    @property
    def table(self) -> str:
        """The legacy table (``schema.name`` or ``name``, as in ``schema.json``)."""
        ...

    @property
    def op(self) -> str:
        """``insert``, ``update``, ``delete`` or ``truncate`` (see :data:`OPERATIONS`)."""
        ...

    @property
    def key(self) -> Mapping[str, Any] | Sequence[Any] | None:
        """The primary key: column -> value, or the values in key order."""
        ...

    @property
    def before(self) -> Mapping[str, Any] | None: ...

    @property
    def after(self) -> Mapping[str, Any] | None: ...

    @property
    def position(self) -> Any: ...

    @property
    def xid(self) -> Any: ...

    @property
    def commit_time(self) -> dt.datetime | None: ...


class SourceTransaction(Protocol):
    """A committed source transaction (``workbench.sync.SourceTransaction``)."""

    @property
    def position(self) -> Any: ...

    @property
    def xid(self) -> Any: ...

    @property
    def changes(self) -> Sequence[RowChange]: ...


def event_id(change: RowChange, index: int) -> uuid.UUID:
    """The id of the event of the ``index``-th change of its source transaction: the same every time the
    transaction is read again, so staging it twice stages it once.

    >>> from types import SimpleNamespace as C
    >>> c = C(table="orders", op="update", position="0/16B3748", xid="731")
    >>> event_id(c, 3) == event_id(c, 3) != event_id(c, 4)
    True
    """
    return uuid.uuid5(NAMESPACE, f"{change.position}|{change.xid}|{index}|{change.table}")


class TransitionEvents:
    """Turns committed source transactions into the owners' outbox events (see the module's description)."""

    def __init__(self, design: Design) -> None:
        self.design = design
        self.owner = design.owner()
        self.state: dict[tuple[str, str, str], Event] = {}
        for e in design.events:
            if e.action in STATE_ACTIONS and e.consumers and e.type == event_type(e.table, e.action):
                self.state[(e.service, e.table, e.action)] = e
        self.keys: dict[str, list[str]] = {}
        for svc in design.services.values():
            for tt in svc.tables:
                if tt.role == "owned" and tt.source:
                    self.keys[tt.source] = list(tt.table.primary_key)
        by_name: dict[str, list[str]] = {}
        for key in self.owner:
            by_name.setdefault(key.rsplit(".", 1)[-1].lower(), []).append(key)
        self._by_name = {n: ks[0] for n, ks in by_name.items() if len(ks) == 1}

    def resolve(self, table: str) -> str | None:
        """The design's key for a table name as the capture spells it (None: not owned by any service)."""
        if table in self.owner:
            return table
        return self._by_name.get(table.rsplit(".", 1)[-1].lower())

    def events(self, changes: Iterable[RowChange]) -> dict[str, list[OutboxEvent]]:
        """Per owning service, the events of one source transaction's row changes, in their order
        (nothing for a table no other service follows, or no service owns)."""
        out: dict[str, list[OutboxEvent]] = {}
        for index, change in enumerate(changes):
            made = self.event(change, index)
            if made is not None:
                out.setdefault(made[0], []).append(made[1])
        return out

    def event(self, change: RowChange, index: int = 0) -> tuple[str, OutboxEvent] | None:
        """The owning service and the event of one row change, or None when no event is due."""
        table = self.resolve(change.table)
        action = OPERATIONS.get(str(change.op).lower())
        if table is None or action is None:
            return None
        service = self.owner[table]
        catalog = self.state.get((service, table, action))
        if catalog is None:
            return None
        key_cols = self.keys.get(table, [])
        before, after = dict(change.before or {}), dict(change.after or {})
        image = before if action == "deleted" else {**before, **after}
        key = change.key
        if isinstance(key, Mapping) and key:
            image.update(key)
            key_values = [key[c] for c in key_cols] if all(c in key for c in key_cols) else list(key.values())
        elif key and not isinstance(key, Mapping) and len(key) == len(key_cols):
            image.update(zip(key_cols, key, strict=True))
            key_values = list(key)
        else:
            key_values = [image.get(c) for c in key_cols]
        wanted = catalog.payload if action != "deleted" else [c for c in catalog.payload if c in image]
        payload: dict[str, Any] = {c: encode(image[c]) for c in wanted if c in image}
        payload[SOURCE] = {"position": encode(change.position), "transaction": encode(change.xid),
                           "committed": encode(change.commit_time)}
        return service, OutboxEvent(table, aggregate_id(key_values), catalog.type, payload, event_id(change, index))

    def missing(self, event: OutboxEvent) -> list[str]:
        """Catalog columns a created or updated event's payload lacks (absent from both images)."""
        owner = self.owner[event.aggregatetype]
        for action in ("created", "updated"):
            e = self.state.get((owner, event.aggregatetype, action))
            if e is not None and e.type == event.type:
                return [c for c in e.payload if c not in event.payload]
        return []


class Stager:
    """Appends source transactions' events to the owners' outboxes on ``target``."""

    def __init__(self, design: Design, target: Target) -> None:
        self.design = design
        self.target = target
        self.events = TransitionEvents(design)
        self._tables: dict[str, ServiceTables] = {}

    def tables(self, service: str) -> ServiceTables:
        if service not in self._tables:
            self._tables[service] = ServiceTables(self.design, self.target, service)
        return self._tables[service]

    def stage(self, conn: sa.Connection, service: str, changes: Iterable[RowChange]) -> int:
        """Inside the caller's transaction on ``service``'s database: append the events of ``changes``
        (one committed source transaction, in log order) that ``service`` owns. Returns how many were new."""
        return self._append(conn, service, self.events.events(changes).get(service, []))

    def stage_transactions(self, transactions: Sequence[SourceTransaction]) -> dict[str, int]:
        """Append the events of committed source transactions (in log order), one target transaction per
        owning service; returns the new events per service."""
        per_service: dict[str, list[OutboxEvent]] = {}
        for txn in transactions:
            for service, made in self.events.events(txn.changes).items():
                per_service.setdefault(service, []).extend(made)
        done = {}
        for service, made in per_service.items():
            with self.target.engine(self.design, service).begin() as conn:
                done[service] = self._append(conn, service, made)
        return done

    def listener(self, batch: list[Any]) -> None:
        """For ``workbench.sync.FollowOptions(listeners=[...])``: stage each committed batch."""
        self.stage_transactions(batch)

    def _append(self, conn: sa.Connection, service: str, made: list[OutboxEvent]) -> int:
        if not made:
            return 0
        tables = self.tables(service)
        outbox = tables.outbox
        dialect = conn.dialect.name
        have: set[uuid.UUID] = set()
        ids = [(e.id,) for e in made]
        for i in range(0, len(ids), 400):
            q = sa.select(outbox.c.id).where(key_in([outbox.c.id], ids[i:i + 400], dialect))
            have.update(uuid.UUID(str(v)) for v in conn.execute(q).scalars())
        fresh = [e for e in made if e.id not in have]
        for e in fresh:
            absent = self.events.missing(e)
            if absent:
                e.payload.update(self._current(conn, service, e, absent))
        return append(conn, outbox, fresh)

    def _current(self, conn: sa.Connection, service: str, event: OutboxEvent, columns: list[str]) -> dict[str, Any]:
        """``columns`` of the owner's row of ``event`` as the target holds it now (encoded)."""
        svc = self.design.service(service)
        tt = next((t for t in svc.tables if t.role == "owned" and t.source == event.aggregatetype), None)
        keys = self.events.keys.get(event.aggregatetype, [])
        if tt is None or not keys or any(k not in event.payload for k in keys):
            return {}
        t = self.tables(service).table(tt.table.name)
        wanted = [c for c in columns if c in t.c]
        where = [t.c[k] == decoder(kind_of(t.c[k].type))(event.payload[k]) for k in keys]
        row = conn.execute(sa.select(*(t.c[c] for c in wanted)).where(*where)).first()
        return {c: encode(v) for c, v in zip(wanted, row, strict=True)} if row is not None else {}
