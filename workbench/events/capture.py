"""The transition phase: the monolith still writes, so the owners' events come from change capture.

Before a service writes its own data, its tables in the target are kept current from the legacy
database's change log (:mod:`workbench.sync`). Each committed source transaction's row changes on
a service's tables become that service's state events (``<Entity>Created``, ``...Updated``,
``...Deleted`` with the columns its consumers keep, as the design's catalog says), appended to the
service's outbox *in the same target transaction* that applies the changes and records the source
position. From there the relay and the consumers work exactly as after cutover, when the service
itself appends the same events while it writes: one path, two sources.

Only what the events need is read from a row change (:class:`RowChange`, a structural type the
change capture's own dataclass satisfies): the source table, the operation, the key and the
before/after values; the source position, transaction id and commit time travel in the payload's
``_source`` member for tracing. An update whose after image lacks a column (PostgreSQL's unchanged
TOAST values) takes it from the before image; when both lack it the consumers dead-letter the event,
naming the column (give the table ``REPLICA IDENTITY FULL``, or let the capture complete the row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa

from workbench.design.model import Design, Event
from workbench.design.outbox import event_type
from workbench.events.codec import aggregate_id, encode
from workbench.events.store import OutboxEvent, ServiceTables, append
from workbench.events.topology import STATE_ACTIONS
from workbench.migrate.target import Target

OPERATIONS = {"insert": "created", "update": "updated", "delete": "deleted", "c": "created", "u": "updated",
              "d": "deleted", "r": "created", "i": "created", "upsert": "updated", "snapshot": "created"}
"""Row operations (spelled as capture tools do: words, Debezium's letters, ``r`` for a snapshot read)
to the event actions of the catalog."""

SOURCE = "_source"


class RowChange(Protocol):
    """One committed row change, as change capture reports it."""

    @property
    def table(self) -> str:
        """The legacy table (``schema.name`` or ``name``, as in ``schema.json``)."""
        ...

    @property
    def operation(self) -> str:
        """``insert``, ``update`` or ``delete`` (see :data:`OPERATIONS`)."""
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
    def transaction_id(self) -> Any: ...

    @property
    def commit_time(self) -> dt.datetime | None: ...


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
        """Per owning service, the events of these row changes, in their order (nothing for a table no
        other service follows, or no service owns)."""
        out: dict[str, list[OutboxEvent]] = {}
        for change in changes:
            made = self.event(change)
            if made is not None:
                out.setdefault(made[0], []).append(made[1])
        return out

    def event(self, change: RowChange) -> tuple[str, OutboxEvent] | None:
        """The owning service and the event of one row change, or None when no event is due."""
        table = self.resolve(change.table)
        action = OPERATIONS.get(str(change.operation).lower())
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
        if isinstance(key, Mapping):
            image.update(key)
            key_values = [key[c] for c in key_cols] if all(c in key for c in key_cols) else list(key.values())
        elif key is not None and len(key) == len(key_cols):
            image.update(zip(key_cols, key, strict=True))
            key_values = list(key)
        else:
            key_values = [image.get(c) for c in key_cols]
        wanted = catalog.payload if action != "deleted" else [c for c in catalog.payload if c in image]
        payload: dict[str, Any] = {c: encode(image[c]) for c in wanted if c in image}
        payload[SOURCE] = {"position": encode(change.position), "transaction": encode(change.transaction_id),
                           "committed": encode(change.commit_time)}
        return service, OutboxEvent(table, aggregate_id(key_values), catalog.type, payload)


class Stager:
    """Appends a source transaction's events to the owners' outboxes on ``target``."""

    def __init__(self, design: Design, target: Target) -> None:
        self.design = design
        self.target = target
        self.events = TransitionEvents(design)
        self._outboxes: dict[str, sa.Table] = {}

    def outbox(self, service: str) -> sa.Table:
        if service not in self._outboxes:
            self._outboxes[service] = ServiceTables(self.design, self.target, service).outbox
        return self._outboxes[service]

    def stage(self, conn: sa.Connection, service: str, changes: Iterable[RowChange]) -> int:
        """Inside the caller's transaction on ``service``'s database: append the events of ``changes``
        (one committed source transaction) that ``service`` owns. Returns how many."""
        made = self.events.events(changes).get(service, [])
        return append(conn, self.outbox(service), made)

    def stage_transaction(self, changes: Iterable[RowChange]) -> dict[str, int]:
        """Append one source transaction's events, one transaction per owning service (for callers
        that do not apply the changes themselves); returns the events per service."""
        done = {}
        for service, made in self.events.events(changes).items():
            with self.target.engine(self.design, service).begin() as conn:
                done[service] = append(conn, self.outbox(service), made)
        return done
