"""Per service: outbox backlog, consumer lag, dead letters and events per second.

From the service's database: rows waiting in its outbox (and the oldest one's age), events
published and messages processed per second over a recent window (``published_at`` and
``processed_at``). From the broker: its stream's size, the lag of its durable consumers (messages
not yet delivered or not yet acknowledged, over every provider it consumes from) and its dead
letters (``<namespace>._dead.>`` in its stream). When the broker cannot be reached, the database
figures still come, and ``broker`` says why the others are missing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa

from workbench.db import scrub
from workbench.design.model import Design
from workbench.events.broker import Broker, connect
from workbench.events.store import ServiceTables, backlog, recent, utcnow
from workbench.events.topology import DEAD, consumer_plan, durable_name, root, stream_name
from workbench.migrate.target import Target

T = TypeVar("T")


@dataclass
class ServiceStatus:
    """One service's event flow at one moment (None: not known, see ``broker`` / ``database``)."""

    service: str
    stream: str
    waiting: int | None = None
    oldest_waiting_s: float | None = None
    published_per_s: float | None = None
    processed_per_s: float | None = None
    processed_total: int | None = None
    stream_messages: int | None = None
    consumer_lag: int | None = None
    dead_letters: int | None = None
    database: str = "ok"
    broker: str = "ok"


def _database(design: Design, target: Target, service: str, window: float, out: ServiceStatus) -> None:
    try:
        if not target.exists(design, service):
            out.database = "not migrated"
            return
        tables = ServiceTables(design, target, service)
        now = utcnow()
        since = now - dt.timedelta(seconds=window)
        with target.engine(design, service).connect() as conn:
            b = backlog(conn, tables.outbox)
            out.waiting = b.waiting
            out.oldest_waiting_s = max((now - b.oldest).total_seconds(), 0.0) if b.oldest is not None else 0.0
            out.published_per_s = recent(conn, tables.outbox.c.published_at, since) / window
            out.processed_per_s = recent(conn, tables.inbox.c.processed_at, since) / window
            out.processed_total = int(conn.execute(sa.select(sa.func.count()).select_from(tables.inbox)).scalar() or 0)
    except Exception as exc:  # noqa: BLE001 - a status shows what it cannot read instead of failing
        out.database = f"unreadable: {scrub(str(getattr(exc, 'orig', None) or exc).splitlines()[0])}"


async def _broker(design: Design, broker: Broker, statuses: dict[str, ServiceStatus]) -> None:
    for service, out in statuses.items():
        try:
            stats = await broker.stream_stats(stream_name(design, service), f"{root(design, service)}.{DEAD}.>")
            if stats is None:
                out.broker = "no stream yet (start the relay)"
            else:
                out.stream_messages = stats.messages
                out.dead_letters = sum(stats.subjects.values())
            plan = consumer_plan(design, service)
            found = [await broker.consumer_stats(stream_name(design, p), durable_name(design, service))
                     for p in plan.providers]
            started = [c for c in found if c is not None]
            # nothing to consume: no lag; consumers never started: unknown
            out.consumer_lag = sum(c.lag for c in started) if started or not plan.providers else None
        except Exception as exc:  # noqa: BLE001 - a status shows what it cannot read instead of failing
            out.broker = f"unreadable: {exc or type(exc).__name__}"


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, also from inside a running event loop (a notebook's)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def worker() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


async def gather(design: Design, target: Target, broker: Broker | None, services: Iterable[str] | None = None,
                 window: float = 60.0) -> list[ServiceStatus]:
    """The status of ``services`` (default: all); ``broker`` connected, or None for the database figures only."""
    names = sorted(services) if services is not None else sorted(design.services)
    statuses = {s: ServiceStatus(s, stream_name(design, s)) for s in names}
    for s in names:
        await asyncio.to_thread(_database, design, target, s, window, statuses[s])
    if broker is None:
        for out in statuses.values():
            out.broker = "not asked"
    else:
        await _broker(design, broker, statuses)
    return list(statuses.values())


def collect(design: Design, target: Target | str, broker_url: str | None, services: Iterable[str] | None = None,
            window: float = 60.0) -> list[ServiceStatus]:
    """:func:`gather` for callers without an event loop (the CLI, a notebook): connects to ``broker_url``
    (None: the database figures only) and closes the connection again."""
    where = target if isinstance(target, Target) else Target.parse(target)

    async def run() -> list[ServiceStatus]:
        broker = None
        reason = ""
        if broker_url:
            broker = connect(broker_url)
            try:
                await broker.connect()
            except Exception as exc:  # noqa: BLE001 - the database figures still come
                broker, reason = None, f"unreachable: {exc}"
        try:
            found = await gather(design, where, broker, services, window)
        finally:
            if broker is not None:
                await broker.close()
        if reason:
            for s in found:
                s.broker = reason
        return found

    return _run(run())


def frame(statuses: list[ServiceStatus]) -> pd.DataFrame:
    """One row per service, for the notebook."""
    cols = ["service", "stream", "waiting", "oldest_waiting_s", "published_per_s", "processed_per_s",
            "processed_total", "stream_messages", "consumer_lag", "dead_letters", "database", "broker"]
    return pd.DataFrame([{c: getattr(s, c) for c in cols} for s in statuses], columns=cols)
