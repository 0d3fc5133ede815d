"""Where events go and what each consumer does with them, all derived from the design.

Naming on the broker (NATS subjects are dot-separated tokens; a token holds no ``.``, ``*``, ``>``
or blank, so names are reduced to ``[A-Za-z0-9_-]``):

- one stream per service, named after its namespace in capitals, holding ``<namespace>.>``;
- an event's subject is ``<namespace>.<Aggregate>.<EventType>``: the publishing service's
  namespace, the aggregate's entity name (``order_lines`` -> ``OrderLine``) and the event type
  (``OrderLineUpdated``). The exact table (``aggregatetype``), the key (``aggregateid``), the
  version (the outbox's ``seq``) travel in headers, the outbox ``id`` as ``Nats-Msg-Id``;
- a consumer's dead letters go to ``<its namespace>._dead.<original subject>`` in its own stream
  (five tokens, so no consumer's ``<namespace>.*.*`` filter ever matches one);
- one durable consumer per consuming service and providing service, named after the consumer's
  namespace: it applies every event that keeps one of the consumer's replicas or read models current.

What a consumer applies (:class:`ConsumerPlan`): for each read-only copy in its schema (roles
``replica``, ``command_replica``, ``projection_source``) the owner's ``<Entity>Created``,
``...Updated`` and ``...Deleted`` events (full state of the columns it keeps: the newest version
wins); for each read model, the same events of every table it joins, its own tables included (a
service consumes its own events for its read models), after which the read model's rows that
involve the changed rows are recomputed from the local tables with the design's fill.
Other events (a saga's steps, domain events) are for the services' own handlers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from workbench.design.model import LEGACY, Design, Event, Projection, ServiceDesign
from workbench.design.outbox import entity, event_type

COPY_ROLES = ("replica", "command_replica", "projection_source")
"""Roles of the read-only copies a consumer keeps from events."""

STATE_ACTIONS = ("created", "updated", "deleted")
DEAD = "_dead"


def token(text: str) -> str:
    """``text`` as one subject token (or stream/consumer name).

    >>> token("order lines.v2"), token("")
    ('order_lines_v2', '_')
    """
    return re.sub(r"[^A-Za-z0-9_-]", "_", text) or "_"


def stream_name(design: Design, service: str) -> str:
    """The service's stream.

    >>> from workbench.design.model import ServiceDesign
    >>> stream_name(Design("x", "sqlite", {"order": ServiceDesign("order", "wb_order")}), "order")
    'WB_ORDER'
    """
    return token(design.service(service).namespace).upper()


def root(design: Design, service: str) -> str:
    """The first token of every subject the service publishes."""
    return token(design.service(service).namespace)


@lru_cache(maxsize=4096)
def _aggregate_token(aggregatetype: str) -> str:
    return token(entity(aggregatetype))


def subject(design: Design, service: str, aggregatetype: str, type_: str) -> str:
    """The subject of one event.

    >>> from workbench.design.model import ServiceDesign
    >>> subject(Design("x", "sqlite", {"order": ServiceDesign("order", "order")}), "order", "order_lines",
    ...         "OrderLineUpdated")
    'order.OrderLine.OrderLineUpdated'
    """
    return f"{root(design, service)}.{_aggregate_token(aggregatetype)}.{token(type_)}"


def dead_letter_subject(design: Design, consumer: str, original: str) -> str:
    """Where ``consumer`` puts a message it cannot apply (in its own stream)."""
    return f"{root(design, consumer)}.{DEAD}.{original}"


def durable_name(design: Design, consumer: str) -> str:
    return token(design.service(consumer).namespace)


@dataclass
class LocalCopy:
    """A read-only copy in the consumer's schema of (some columns of) a provider's table."""

    table: str
    """The legacy table key: the events' ``aggregatetype``."""
    provider: str
    target: str
    """Its name in the consumer's schema."""
    columns: list[str]
    key: list[str]


@dataclass
class ReadModelPlan:
    """How a read model is kept: the local table standing for each table its fill joins.

    ``local`` maps a legacy table key to the consumer's table holding its rows (its own table, or a
    copy); ``keys`` maps it to that table's key. ``maintained`` is False (with ``reason``) when some
    table it joins has no local rows to recompute from.
    """

    projection: Projection
    tables: list[str] = field(default_factory=list)
    """The legacy tables its fill reads (a view's read model: the tables of the view's SELECT)."""
    local: dict[str, str] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    maintained: bool = True
    reason: str = ""

    @property
    def name(self) -> str:
        return self.projection.name

    @property
    def view(self) -> bool:
        return bool(self.projection.view_sql)


def view_tables(sql: str, dialect: str | None) -> list[str]:
    """The table keys a view's SELECT reads (``schema.name`` or ``name``), in order of appearance.

    >>> view_tables("SELECT o.id FROM orders o JOIN sales.customers c ON c.id = o.customer_id", "sqlite")
    ['orders', 'sales.customers']
    """
    from sqlglot import exp

    from workbench.design.queries import parse_quietly

    ast = parse_quietly(sql, dialect)
    if ast is None:
        return []
    ctes = {c.alias_or_name for c in ast.find_all(exp.CTE)}
    keys = [f"{t.db}.{t.name}" if t.db else t.name for t in ast.find_all(exp.Table) if t.name not in ctes]
    return list(dict.fromkeys(keys))


@dataclass
class Feed:
    """One event type a consumer applies: about which table, with which effect."""

    provider: str
    type: str
    table: str
    action: str


@dataclass
class ConsumerPlan:
    """Everything one consuming service applies from events."""

    service: str
    copies: dict[str, LocalCopy] = field(default_factory=dict)
    read_models: list[ReadModelPlan] = field(default_factory=list)
    feeds: dict[tuple[str, str], Feed] = field(default_factory=dict)
    """(provider, event type) -> what it is about."""

    @property
    def providers(self) -> list[str]:
        return sorted({f.provider for f in self.feeds.values()})

    def types(self, provider: str) -> list[str]:
        return sorted(t for (p, t) in self.feeds if p == provider)

    def read_models_of(self, table: str) -> list[ReadModelPlan]:
        return [r for r in self.read_models if r.maintained and table in r.tables]


def _local_tables(svc: ServiceDesign) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Legacy table key -> the service's table holding its rows (own first, then copies), and its key."""
    where: dict[str, str] = {}
    keys: dict[str, list[str]] = {}
    for roles in (("owned",), COPY_ROLES):
        for tt in svc.tables:
            if tt.role in roles and tt.source and tt.source not in where:
                where[tt.source] = tt.table.name
                keys[tt.source] = list(tt.table.primary_key)
    return where, keys


def _state_events(design: Design) -> dict[tuple[str, str, str], Event]:
    """(publisher, table, action) -> the catalog's state event (``<Entity><Verb>``), which carries the row."""
    out = {}
    for e in design.events:
        if e.action in STATE_ACTIONS and e.type == event_type(e.table, e.action):
            out[(e.service, e.table, e.action)] = e
    return out


def consumer_plan(design: Design, service: str) -> ConsumerPlan:
    """What ``service`` applies from events: its copies, its read models, the event types feeding them."""
    svc = design.service(service)
    owner = design.owner()
    state = _state_events(design)
    plan = ConsumerPlan(service)
    where, keys = _local_tables(svc)
    for tt in svc.tables:
        if tt.role in COPY_ROLES and tt.source and tt.source not in plan.copies:
            provider = owner.get(tt.source)
            if provider is None or provider == service:
                continue
            plan.copies[tt.source] = LocalCopy(tt.source, provider, tt.table.name, [c.name for c in tt.table.columns],
                                               list(tt.table.primary_key))
    for p in design.projections:
        if p.service != service:
            continue
        rm = ReadModelPlan(p, view_tables(p.view_sql, design.source_dialect) if p.view_sql
                           else list(dict.fromkeys(s.table for s in p.joins)))
        if not rm.tables:
            rm.maintained = False
            rm.reason = "its view's definition could not be read: refill it with the design's fill"
        for key in rm.tables:
            if key not in where:
                rm.maintained = False
                rm.reason = (f"{key} has no rows in {service}'s schema (a view or an unplaced table): the read model "
                             "cannot be recomputed from events; refill it with the design's fill")
                break
            rm.local[key], rm.keys[key] = where[key], keys[key]
        plan.read_models.append(rm)
    wanted = set(plan.copies) | {t for rm in plan.read_models if rm.maintained for t in rm.tables}
    for table in sorted(wanted):
        provider = owner.get(table)
        if provider is None or provider == LEGACY:
            continue
        for action in STATE_ACTIONS:
            e = state.get((provider, table, action))
            if e is not None and service in e.consumers:
                plan.feeds[(provider, e.type)] = Feed(provider, e.type, table, action)
    return plan


def plans(design: Design, services: list[str] | None = None) -> list[ConsumerPlan]:
    """The plan of every consuming service (those without anything to apply left out)."""
    names = services if services is not None else sorted(design.services)
    return [p for p in (consumer_plan(design, s) for s in names) if p.feeds]
