"""The messaging tables every service gets, and the catalog of the domain events they carry.

Transactional outbox: a service writes its event rows in the same local transaction as its data,
and a relay (Debezium's outbox event router, or a poller) publishes them, so an event goes out if
and only if the change committed. The table has Debezium's default columns (``id``,
``aggregatetype``, ``aggregateid``, ``type``, ``payload``); Debezium routes on ``aggregatetype``
(topic ``outbox.event.<aggregatetype>``) and keys messages by ``aggregateid``, which keeps one
aggregate's events in order. Delivery is at least once, so every consumer records what it
processed in ``processed_message(consumer_id, message_id)`` and skips what it has seen.
"""

from __future__ import annotations

from collections import defaultdict

from workbench.decompose.tokens import tokens
from workbench.design.model import Event
from workbench.schema import Column, Index, Table

OUTBOX = "outbox"
INBOX = "processed_message"
VERBS = {"created": "Created", "updated": "Updated", "deleted": "Deleted"}


def outbox_table(name: str = OUTBOX, polling: bool = False) -> Table:
    """The outbox in Debezium's default layout; ``polling`` adds Eventuate's ``published`` flag.

    Types are neutral SQL (see :func:`workbench.design.sqltypes.to_sqlalchemy`); PostgreSQL gets
    ``jsonb`` for the payload, as Debezium recommends.

    >>> [c.name for c in outbox_table().columns]
    ['id', 'aggregatetype', 'aggregateid', 'type', 'payload']
    """
    columns = [Column("id", "UUID", nullable=False), Column("aggregatetype", "VARCHAR(255)", nullable=False),
               Column("aggregateid", "VARCHAR(255)", nullable=False), Column("type", "VARCHAR(255)", nullable=False),
               Column("payload", "JSON")]
    indexes = []
    if polling:
        columns.append(Column("published", "SMALLINT", nullable=False, default="0"))
        indexes.append(Index(f"ix_{name}_published", ["published"]))
    return Table(
        name,
        columns=columns,
        primary_key=["id"],
        indexes=indexes,
        comment="transactional outbox: insert-only, written in the same transaction as the change it announces",
    )


def inbox_table(name: str = INBOX) -> Table:
    """The consumers' idempotency table: one row per message a consumer has processed.

    >>> inbox_table().primary_key
    ['consumer_id', 'message_id']
    """
    return Table(name, columns=[Column("consumer_id", "VARCHAR(255)", nullable=False),
                                Column("message_id", "UUID", nullable=False)],
                 primary_key=["consumer_id", "message_id"],
                 comment="messages already processed, per consumer: skip a redelivered message")


def entity(table: str) -> str:
    """The aggregate's name for a table key, singular CamelCase.

    >>> entity("order_lines"), entity("tblSupplier"), entity("sales.Customers")
    ('OrderLine', 'Supplier', 'Customer')
    """
    name = table.rsplit(".", 1)[-1]
    words = tokens(name) or tokens(name, drop_noise=False) or [name]
    return "".join(w[:1].upper() + w[1:] for w in words)


def event_type(table: str, action: str) -> str:
    """
    >>> event_type("order_lines", "created")
    'OrderLineCreated'
    """
    return entity(table) + VERBS.get(action, action[:1].upper() + action[1:])


class EventCatalog:
    """Collects the events the design needs; the same event asked for twice is merged."""

    def __init__(self) -> None:
        self._events: dict[tuple[str, str], Event] = {}
        self._payload: dict[tuple[str, str], dict[str, None]] = defaultdict(dict)

    def add(self, service: str, table: str, action: str, payload: list[str], consumer: str, dependency: str,
            type: str | None = None) -> str:
        """Record that ``consumer`` needs ``service`` to publish ``action`` on ``table``; returns its type."""
        name = type or event_type(table, action)
        key = (service, name)
        event = self._events.setdefault(key, Event(service=service, type=name, aggregatetype=table, table=table,
                                                   action=action))
        for col in payload:
            self._payload[key].setdefault(col, None)
        if consumer not in event.consumers and consumer != service:
            event.consumers.append(consumer)
        if dependency not in event.dependencies:
            event.dependencies.append(dependency)
        return name

    def events(self) -> list[Event]:
        """Every event, sorted by publisher then type, with consumers and dependencies sorted."""
        out = []
        for key in sorted(self._events):
            e = self._events[key]
            out.append(Event(e.service, e.type, e.aggregatetype, e.table, e.action, list(self._payload[key]),
                             sorted(e.consumers), sorted(e.dependencies)))
        return out
