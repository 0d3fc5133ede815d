"""``workbench events relay``: publish each service's outbox to its stream, at least once, in order.

Per service, in a loop: read the oldest rows not yet published (``published_at IS NULL``, in
``seq`` order), publish them pipelined with the outbox ``id`` as ``Nats-Msg-Id``, wait for the
broker's acknowledgements, then mark exactly the acknowledged rows published in one transaction.

- A relay killed between the broker's acknowledgement and the mark republishes those rows when it
  restarts: the broker drops them as duplicates within its window, the consumers' inbox after it.
  Nothing is marked before the broker stored it, so nothing is lost: at least once.
- While the broker is away (restarting), publishes fail or time out; the rows stay unpublished and
  the relay retries with a growing pause (up to :attr:`RelayOptions.max_backoff`), recreating the
  stream if the broker came back without it.
- One aggregate's events go out in ``seq`` order. A retry after a partial failure can put an older
  event behind a newer one in the stream; the consumers' version check makes that harmless.
- Rows published longer ago than the retention are deleted (the newest row always stays, see
  :func:`workbench.events.store.purge`).

Run one relay per service outbox (several would publish the same rows twice: harmless, wasteful).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from tqdm import tqdm

from workbench.db import scrub
from workbench.design.model import Design
from workbench.errors import BrokerError, NotFoundError
from workbench.events import store
from workbench.events.apply import H_AGGREGATE_ID, H_AGGREGATE_TYPE, H_CREATED, H_TYPE, H_VERSION
from workbench.events.broker import MSG_ID, Broker, Message
from workbench.events.topology import root, stream_name, subject
from workbench.migrate.target import Target

log = logging.getLogger(__name__)


@dataclass
class RelayOptions:
    """How the relay runs.

    batch : rows read, published and marked at a time.
    retention : published rows older than this are deleted (None: never).
    poll : seconds between two looks at an empty outbox.
    ack_timeout : seconds to wait for the broker's acknowledgements of a batch.
    duplicate_window : seconds the broker remembers message ids (when it creates a stream).
    purge_every : seconds between two retention passes.
    max_backoff : longest pause between two attempts while the broker or the database is away.
    """

    batch: int = 1000
    retention: dt.timedelta | None = dt.timedelta(days=7)
    poll: float = 0.1
    ack_timeout: float = 10.0
    duplicate_window: float = 600.0
    purge_every: float = 60.0
    max_backoff: float = 5.0


@dataclass
class RelayStats:
    """What the relay did for one service."""

    service: str
    published: int = 0
    duplicates: int = 0
    failed: int = 0
    purged: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)

    def note(self, error: str) -> None:
        if not self.errors or self.errors[-1] != error:
            self.errors = (self.errors + [error])[-20:]


def _header(text: str) -> str:
    """A header value on one line (NATS headers are line based)."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def message(design: Design, service: str, row: store.Waiting) -> Message:
    """The broker message of one outbox row."""
    headers = {MSG_ID: row.id, H_TYPE: _header(row.type), H_AGGREGATE_TYPE: _header(row.aggregatetype),
               H_AGGREGATE_ID: _header(row.aggregateid), H_VERSION: str(row.seq)}
    if row.created_at is not None:
        headers[H_CREATED] = row.created_at.isoformat()
    data = (row.payload or "null").encode("utf-8")
    return Message(subject(design, service, row.aggregatetype, row.type), data, headers)


async def ensure_stream(broker: Broker, design: Design, service: str, duplicate_window: float) -> None:
    await broker.ensure_stream(stream_name(design, service), [f"{root(design, service)}.>"], duplicate_window)


def present(design: Design, target: Target, services: Iterable[str] | None) -> tuple[list[str], list[str]]:
    """The services to run that are on the target, and those skipped (not migrated there yet).

    Services named explicitly must be there (:class:`NotFoundError` otherwise); of all the design's
    services (a wave-by-wave migration) those not migrated yet are skipped.
    """
    names = sorted(services) if services is not None else sorted(design.services)
    for name in names:
        design.service(name)
    missing = [n for n in names if not target.exists(design, n)]
    if missing and services is not None:
        raise NotFoundError(f"not on the target {target.display}: {', '.join(missing)} (migrate first)")
    return [n for n in names if n not in missing], missing


async def run_all(tasks: list[asyncio.Future[Any]], stop: asyncio.Event) -> None:
    """Wait for every task; when one fails, stop the others (they finish what they hold), then raise."""
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    failed = next((t for t in done if not t.cancelled() and t.exception() is not None), None)
    if failed is not None:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise failed.exception()  # type: ignore[misc]


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


class Relay:
    """Relays the outboxes of ``services`` (default: all) of ``design`` on ``target`` to ``broker``."""

    def __init__(self, design: Design, target: Target, broker: Broker, services: Iterable[str] | None = None,
                 options: RelayOptions | None = None, progress: bool | None = None,
                 on_batch: Callable[[str, int], None] | None = None) -> None:
        self.design = design
        self.target = target
        self.broker = broker
        self.services, self.skipped = present(design, target, services)
        self.options = options or RelayOptions()
        self.progress = progress
        self.on_batch = on_batch
        self.stats = {s: RelayStats(s) for s in self.services}

    async def run(self, stop: asyncio.Event | None = None, once: bool = False) -> dict[str, RelayStats]:
        """Relay until ``stop`` is set; with ``once``, until every outbox has nothing left to publish."""
        stop = stop or asyncio.Event()
        bar = tqdm(desc="relay", unit=" events", disable=None if self.progress is None else not self.progress,
                   leave=False, dynamic_ncols=True)
        try:
            await run_all([asyncio.ensure_future(self._service(name, stop, once, bar))
                                for name in self.services], stop)
        finally:
            bar.close()
        return self.stats

    async def _service(self, service: str, stop: asyncio.Event, once: bool, bar: tqdm) -> None:
        """One service's loop. Reads run one batch ahead (``seq`` above the batch being published) and
        marks run behind, so the database and the broker work at the same time; whenever a pass finds
        nothing more, the next one starts again from the oldest waiting row (a transaction that
        committed late with a lower ``seq`` is published then)."""
        opts = self.options
        stats = self.stats[service]
        tables = store.ServiceTables(self.design, self.target, service)
        engine = self.target.engine(self.design, service)
        backoff = 0.0
        stream_ready = False
        last_purge = 0.0
        cursor = 0
        ahead: asyncio.Task[list[store.Waiting]] | None = None
        marking: asyncio.Task[None] | None = None
        loop = asyncio.get_running_loop()

        def failed(exc: BaseException) -> float:
            nonlocal cursor, ahead
            cursor, ahead = 0, None
            if isinstance(exc, sa.exc.DBAPIError):
                if not store.transient(exc):
                    raise exc
                stats.note(f"database: {scrub(str(exc.orig or exc).splitlines()[0])}")
            else:
                stats.note(f"broker: {exc or type(exc).__name__}")
            return min(max(backoff * 2, 0.25), opts.max_backoff)

        async def settle() -> bool:
            """Wait for the mark in flight; False when it failed (those rows go out again)."""
            nonlocal marking, backoff
            if marking is None:
                return True
            task, marking = marking, None
            try:
                await task
                return True
            except sa.exc.DBAPIError as exc:
                backoff = failed(exc)
                return False

        try:
            while not stop.is_set():
                if backoff:
                    await _pause(stop, backoff)
                    if stop.is_set():
                        break
                try:
                    if not stream_ready:
                        await ensure_stream(self.broker, self.design, service, opts.duplicate_window)
                        stream_ready = True
                    if opts.retention is not None and loop.time() - last_purge >= opts.purge_every:
                        stats.purged += await asyncio.to_thread(self._purge, engine, tables.outbox, opts.retention)
                        last_purge = loop.time()
                    if ahead is not None:
                        task, ahead = ahead, None
                        rows = await task
                    else:
                        rows = await asyncio.to_thread(self._read, engine, tables.outbox, opts.batch, cursor)
                except BrokerError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the database or the broker away: retried
                    backoff = failed(exc)
                    continue
                if not rows:
                    if not await settle():
                        continue
                    if cursor:
                        cursor = 0  # a pass ended: the next starts again from the oldest waiting row
                        continue
                    backoff = 0.0
                    if once:
                        break
                    await _pause(stop, opts.poll)
                    continue
                cursor = rows[-1].seq
                ahead = asyncio.create_task(asyncio.to_thread(self._read, engine, tables.outbox, opts.batch, cursor))
                results = await self.broker.publish([message(self.design, service, r) for r in rows],
                                                    opts.ack_timeout)
                acked = [r.seq for r, res in zip(rows, results, strict=True) if res.ok]
                errors = [res.error for res in results if not res.ok]
                if not await settle():
                    continue
                if acked:
                    marking = asyncio.create_task(asyncio.to_thread(self._mark, engine, tables.outbox, acked))
                stats.batches += 1
                stats.published += len(acked)
                stats.duplicates += sum(1 for res in results if res.ok and res.duplicate)
                stats.failed += len(errors)
                bar.update(len(acked))
                if self.on_batch is not None:
                    self.on_batch(service, len(acked))
                if errors:
                    stats.note(f"broker: {errors[0]}")
                    if any("no responders" in f.lower() or "stream" in f.lower() for f in errors):
                        stream_ready = False  # the broker came back without the stream: create it again
                    if ahead is not None:
                        ahead.cancel()
                    cursor, ahead = 0, None
                    backoff = min(max(backoff * 2, 0.25), opts.max_backoff)
                else:
                    backoff = 0.0
        finally:
            if ahead is not None:
                ahead.cancel()
            await settle()

    @staticmethod
    def _read(engine: sa.Engine, outbox: sa.Table, limit: int, after: int) -> list[store.Waiting]:
        with engine.connect() as conn:
            return store.waiting(conn, outbox, limit, after)

    @staticmethod
    def _mark(engine: sa.Engine, outbox: sa.Table, seqs: list[int]) -> None:
        with engine.begin() as conn:
            store.mark_published(conn, outbox, seqs)

    @staticmethod
    def _purge(engine: sa.Engine, outbox: sa.Table, retention: dt.timedelta) -> int:
        with engine.begin() as conn:
            return store.purge(conn, outbox, store.utcnow() - retention)
