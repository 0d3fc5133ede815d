"""A saga of the design run as code: local transactions chained by events, compensated on failure.

The design (:mod:`workbench.design.sagas`) gives each saga its steps in order: which service runs
which local transaction, whether it is *compensatable* (can be undone), the *pivot* (go/no-go) or
*retriable* (runs to completion), and the event each step publishes. This module runs a
choreography saga on the broker:

- the initiator starts it: step 1's handler runs in a local transaction that also appends step 1's
  event to the initiator's outbox (the relay publishes it);
- each participant's saga consumer receives the previous step's event and, in one local
  transaction, records the message in its inbox, runs its step's handler and appends its step's
  event (consecutive steps of one service run in the same transaction);
- a compensatable step or the pivot that fails (its handler raises :class:`StepFailed`) leaves no
  writes behind and appends the step's failure event (``...UpdateFailed``) instead; the services of
  the compensatable steps before it then run their compensations, latest first, each passing the
  failure event on to the next (as the design's sequence diagram shows);
- any other error leaves the message unacknowledged: the broker redelivers it, the inbox makes the
  retry safe (retriable steps are retried until they succeed).

An event of a step that is the state event of its table (``OrderUpdated``) carries that row's
columns as the catalog lists them, so the replicas following the table apply it like any other;
the saga's own data travels in the payload's ``_saga`` member. A step that changes a table others
copy without such an event must append the table's state event too (after cutover; during the
transition change capture does).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from workbench.design.model import Design, Saga, SagaStep
from workbench.design.sagas import failure_event
from workbench.errors import WorkbenchError
from workbench.events.apply import Incoming, Poison
from workbench.events.broker import Broker, Delivery
from workbench.events.codec import aggregate_id, encode
from workbench.events.relay import ensure_stream
from workbench.events.store import OutboxEvent, ServiceTables, append, transient, utcnow
from workbench.events.topology import stream_name, token
from workbench.migrate.target import Target

SAGA = "_saga"


class StepFailed(Exception):
    """A step's business rule refuses (not enough stock, a payment declined): the saga compensates."""


StepHandler = Callable[[sa.Connection, dict[str, Any]], Mapping[str, Any] | None]
"""Runs one step's local writes with the saga's data; returns the key (column -> value) of the row
of the step's first table it wrote (the event's aggregate), or None. Raises :class:`StepFailed`."""

Compensation = Callable[[sa.Connection, dict[str, Any]], None]


@dataclass
class SagaRecord:
    """One thing that happened in one saga instance (for watching it)."""

    saga_id: str
    service: str
    step: int
    what: str
    """``done``, ``failed: <reason>`` or ``compensated``."""


@dataclass
class SagaRun:
    """A design saga with the participants' code for its steps and compensations.

    ``handlers`` maps a step's order to its handler; ``compensations`` a compensatable step's order to
    the code undoing it. Every step needs a handler, every compensatable step a compensation.
    """

    design: Design
    target: Target
    saga: Saga
    handlers: dict[int, StepHandler]
    compensations: dict[int, Compensation] = field(default_factory=dict)
    log: list[SagaRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.saga.style != "choreography":
            raise WorkbenchError(f"{self.saga.name} is an {self.saga.style} saga: only choreography runs here")
        missing = [s.order for s in self.saga.steps if s.order not in self.handlers]
        missing += [s.order for s in self.saga.steps if s.kind == "compensatable" and s.order not in self.compensations]
        if missing:
            raise WorkbenchError(f"{self.saga.name}: no code for step(s) {', '.join(map(str, sorted(set(missing))))}")
        self._tables = {s: ServiceTables(self.design, self.target, s) for s in dict.fromkeys(self.saga.participants)}
        self._payloads = {(e.service, e.type): e.payload for e in self.design.events}

    # -- the steps -------------------------------------------------------------------------------------
    def step(self, order: int) -> SagaStep:
        return self.saga.steps[order - 1]

    @property
    def consumer_id(self) -> str:
        return f"saga:{self.saga.name}:{self.saga.dependency}"[:255]

    def start(self, data: Mapping[str, Any], saga_id: str | None = None) -> str:
        """Start one instance: step 1 (and the initiator's steps right after it) in one local transaction."""
        saga_id = saga_id or str(uuid.uuid4())
        first = self.step(1)
        with self.target.engine(self.design, first.service).begin() as conn:
            self._run_from(conn, first.service, 1, saga_id, dict(data))
        return saga_id

    def _run_from(self, conn: sa.Connection, service: str, order: int, saga_id: str, data: dict[str, Any]) -> None:
        """Run ``service``'s steps from ``order`` on while they are its own, then append the last one's event."""
        steps = self.saga.steps
        while True:
            step = steps[order - 1]
            savepoint = conn.begin_nested()
            try:
                key = self.handlers[order](conn, data)
            except StepFailed as exc:
                savepoint.rollback()
                self.log.append(SagaRecord(saga_id, service, order, f"failed: {exc}"))
                if step.kind == "retriable":
                    raise  # a retriable step must not fail for business reasons: retried until it succeeds
                undo = [s.order for s in reversed(steps[:order - 1]) if s.kind == "compensatable"]
                self._emit(conn, service, step, failure_event(step.event), saga_id, data, None, undo, str(exc))
                return
            savepoint.commit()
            self.log.append(SagaRecord(saga_id, service, order, "done"))
            nxt = steps[order] if order < len(steps) else None
            if nxt is not None and nxt.service == service:
                order += 1
                continue
            self._emit(conn, service, step, step.event, saga_id, data, key, [], "")
            return

    def _emit(self, conn: sa.Connection, service: str, step: SagaStep, type_: str, saga_id: str,
              data: dict[str, Any], key: Mapping[str, Any] | None, undo: list[int], reason: str) -> None:
        table = step.tables[0]
        payload: dict[str, Any] = {}
        if key:
            payload.update({k: encode(v) for k, v in key.items()})
            payload.update(self._row(conn, service, table, key, self._payloads.get((service, type_), [])))
        payload[SAGA] = {"name": self.saga.name, "dependency": self.saga.dependency, "id": saga_id,
                         "step": step.order, "data": {k: encode(v) for k, v in data.items()}, "undo": undo,
                         "reason": reason}
        agg = aggregate_id(list(key.values())) if key else saga_id
        append(conn, self._tables[service].outbox, [OutboxEvent(table, agg, type_, payload)])

    def _row(self, conn: sa.Connection, service: str, table: str, key: Mapping[str, Any],
             columns: list[str]) -> dict[str, Any]:
        """The catalog's payload columns of the row ``key`` of ``service``'s own ``table``."""
        svc = self.design.service(service)
        tt = next((t for t in svc.tables if t.role == "owned" and t.source == table), None)
        if tt is None or not columns:
            return {}
        t = self._tables[service].table(tt.table.name)
        wanted = [c for c in columns if c in t.c]
        row = conn.execute(sa.select(*(t.c[c] for c in wanted)).where(*(t.c[k] == v for k, v in key.items()))).first()
        return {c: encode(v) for c, v in zip(wanted, row, strict=True)} if row is not None else {}

    # -- reacting to events ----------------------------------------------------------------------------
    def react(self, conn: sa.Connection, service: str, incoming: Incoming) -> bool:
        """What ``service`` does about one event, inside its local transaction; False when it is not for it."""
        ctx = incoming.payload.get(SAGA)
        if not isinstance(ctx, dict) or ctx.get("name") != self.saga.name or \
                ctx.get("dependency") != self.saga.dependency:
            return False
        try:
            saga_id, order, data = str(ctx["id"]), int(ctx["step"]), dict(ctx.get("data") or {})
            undo = [int(x) for x in ctx.get("undo") or []]
        except (KeyError, TypeError, ValueError) as exc:
            raise Poison(f"malformed saga context: {exc}") from None
        step = self.step(order)
        if incoming.type == step.event and order < len(self.saga.steps):
            nxt = self.step(order + 1)
            if nxt.service != service:
                return False
            self._run_from(conn, service, order + 1, saga_id, data)
            return True
        if incoming.type == failure_event(step.event) or (undo and incoming.type.endswith("Failed")):
            mine = []
            while undo and self.step(undo[0]).service == service:
                mine.append(undo.pop(0))
            if not mine:
                return False
            for o in mine:
                self.compensations[o](conn, data)
                self.log.append(SagaRecord(saga_id, service, o, "compensated"))
            if undo:
                last = self.step(mine[-1])
                self._emit(conn, service, last, incoming.type, saga_id, data, None, undo, str(ctx.get("reason", "")))
            return True
        return False

    def handle(self, service: str, incoming: Incoming) -> bool:
        """One event for ``service``: inbox, reaction and outgoing event in one local transaction."""
        tables = self._tables[service]
        inbox = tables.inbox
        with self.target.engine(self.design, service).begin() as conn:
            seen = conn.execute(sa.select(inbox.c.message_id).where(
                inbox.c.consumer_id == self.consumer_id, inbox.c.message_id == incoming.message_id)).first()
            if seen is not None:
                return False
            acted = self.react(conn, service, incoming)
            if acted:
                conn.execute(sa.insert(inbox), [{"consumer_id": self.consumer_id, "message_id": incoming.message_id,
                                                 "processed_at": utcnow()}])
            return acted

    # -- on the broker -------------------------------------------------------------------------------------
    async def participate(self, broker: Broker, stop: asyncio.Event, services: Iterable[str] | None = None,
                          ack_wait: float = 5.0, fetch_timeout: float = 0.5) -> None:
        """Run the participants' saga consumers until ``stop`` is set (one durable per participant and
        stream of another participant)."""
        names = list(dict.fromkeys(services or self.saga.participants))
        tasks = []
        for me in names:
            for other in dict.fromkeys(self.saga.participants):
                if other != me:
                    tasks.append(self._listen(broker, stop, me, other, ack_wait, fetch_timeout))
        await asyncio.gather(*tasks)

    async def _listen(self, broker: Broker, stop: asyncio.Event, me: str, other: str, ack_wait: float,
                      fetch_timeout: float) -> None:
        await ensure_stream(broker, self.design, other, 600.0)
        root = token(self.design.service(other).namespace)
        durable = token(f"{self.design.service(me).namespace}_saga_{self.saga.name}")[:200]
        sub = await broker.subscribe(stream_name(self.design, other), durable, [f"{root}.*.*"], ack_wait, 1000)
        while not stop.is_set():
            try:
                batch = await sub.fetch(100, fetch_timeout)
            except Exception:  # noqa: BLE001 - the broker away: retried
                await asyncio.sleep(0.25)
                continue
            for d in batch:
                await self._deliver(me, other, d)

    async def _deliver(self, me: str, other: str, d: Delivery) -> None:
        try:
            incoming = Incoming.parse(other, d.headers, d.data)
        except Poison:
            await d.ack()  # not a saga message of ours (the state consumers dead-letter malformed ones)
            return
        try:
            await asyncio.to_thread(self.handle, me, incoming)
        except sa.exc.SQLAlchemyError as exc:
            if transient(exc):
                await d.nak(delay=0.5)
                return
            raise
        except StepFailed:
            await d.nak(delay=0.5)  # a retriable step refused: try again later
            return
        await d.ack()
