"""``workbench events consume``: durable consumers keeping every replica and read model current.

One durable pull consumer per consuming service and provider (see
:mod:`workbench.events.topology`). Each pulls a batch, checks every message
(:meth:`~workbench.events.apply.Applier.prepare`), applies the good ones in one local transaction
(:mod:`workbench.events.apply`), and acknowledges the batch only after the commit. So:

- a consumer killed mid-batch committed nothing of it; the broker redelivers the batch after
  ``ack_wait`` and it is applied then. A consumer killed after the commit and before the
  acknowledgements gets the batch again; the inbox skips it;
- a message it can never apply (malformed, a value its column cannot hold, a row the database
  refuses: an integrity or data error) goes to the dead letters, ``<namespace>._dead.<original
  subject>`` in the consumer's own stream, with the reason in the ``Wb-Dead-Reason`` header, and the
  rest of the batch continues.
  When a whole batch fails, its messages are applied one by one to find the culprit;
- a database that is away (or a lock) is not the message's fault: the batch is retried after a
  pause, without acknowledging anything; any other error (a missing table, a privilege) stops the
  consumer with that error, never dead-letters good messages;
- events nobody here applies (a saga's steps, domain events for the services' own handlers) are
  acknowledged untouched.

The service's batches are applied one at a time (its providers' consumers take turns), so read
models are never recomputed by two transactions at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from tqdm import tqdm

from workbench.db import scrub
from workbench.design.model import Design
from workbench.errors import BrokerError
from workbench.events.apply import Applier, Incoming, Outcome, Poison, Prepared
from workbench.events.broker import MSG_ID, Broker, Delivery, Message
from workbench.events.relay import ensure_stream, present, run_all
from workbench.events.store import transient, utcnow
from workbench.events.topology import (
    ConsumerPlan,
    consumer_plan,
    dead_letter_subject,
    durable_name,
    stream_name,
    subject,
)
from workbench.migrate.target import Target

log = logging.getLogger(__name__)

H_DEAD_REASON, H_DEAD_CONSUMER, H_DEAD_SEQUENCE = "Wb-Dead-Reason", "Wb-Dead-Consumer", "Wb-Dead-Stream-Sequence"


@dataclass
class ConsumeOptions:
    """How the consumers run.

    batch : messages pulled and applied in one transaction.
    ack_wait : seconds the broker waits for an acknowledgement before redelivering (set when a
        durable consumer is created).
    fetch_timeout : seconds one pull waits for messages.
    idle : with ``once``, stop after this many seconds without a message on any subscription.
    retention : ``processed_message`` rows older than this are deleted (None: never). A redelivery
        comes within ``ack_wait``, and a replay of older events finds their versions (kept): safe.
    prune_every : seconds between two such deletions.
    duplicate_window : for the consumer's own stream (its dead letters), when it has to create it.
    max_backoff : longest pause between attempts while the database or the broker is away.
    """

    batch: int = 500
    ack_wait: float = 30.0
    fetch_timeout: float = 1.0
    idle: float = 2.0
    duplicate_window: float = 600.0
    max_backoff: float = 5.0
    retention: dt.timedelta | None = dt.timedelta(days=7)
    prune_every: float = 60.0


@dataclass
class ConsumerStats:
    """What one consuming service did."""

    service: str
    received: int = 0
    applied: int = 0
    stale: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead: int = 0
    batches: int = 0
    pruned: int = 0
    dead_reasons: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def note(self, error: str) -> None:
        if not self.errors or self.errors[-1] != error:
            self.errors = (self.errors + [error])[-20:]


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


class _Service:
    """One consuming service: its plan, its applier, its turn-taking lock and its figures."""

    def __init__(self, design: Design, target: Target, plan: ConsumerPlan) -> None:
        self.plan = plan
        self.applier = Applier(design, target, plan)
        self.lock = asyncio.Lock()
        self.stats = ConsumerStats(plan.service)
        self.pruned_at: float | None = None


class Consumers:
    """The durable consumers of ``services`` (default: every service that applies events)."""

    def __init__(self, design: Design, target: Target, broker: Broker, services: Iterable[str] | None = None,
                 options: ConsumeOptions | None = None, progress: bool | None = None,
                 on_batch: Callable[[str, Outcome], None] | None = None) -> None:
        self.design = design
        self.target = target
        self.broker = broker
        self.options = options or ConsumeOptions()
        self.progress = progress
        self.on_batch = on_batch
        names, self.skipped = present(design, target, services)
        self.services = {}
        for name in names:
            plan = consumer_plan(design, name)
            if plan.feeds:
                self.services[name] = _Service(design, target, plan)

    @property
    def stats(self) -> dict[str, ConsumerStats]:
        return {name: s.stats for name, s in self.services.items()}

    async def run(self, stop: asyncio.Event | None = None, once: bool = False) -> dict[str, ConsumerStats]:
        """Consume until ``stop`` is set; with ``once``, until no message came for ``options.idle`` seconds."""
        stop = stop or asyncio.Event()
        bar = tqdm(desc="consume", unit=" events", disable=None if self.progress is None else not self.progress,
                   leave=False, dynamic_ncols=True)
        tasks = []
        for svc in self.services.values():
            await self._retry(stop, svc.stats, lambda s=svc: ensure_stream(  # type: ignore[misc]
                self.broker, self.design, s.plan.service, self.options.duplicate_window))
            for provider in svc.plan.providers:
                tasks.append(self._subscription(svc, provider, stop, once, bar))
        try:
            await run_all([asyncio.ensure_future(t) for t in tasks], stop)
        finally:
            bar.close()
        return self.stats

    async def _retry(self, stop: asyncio.Event, stats: ConsumerStats, make: Callable[[], Any]) -> Any:
        backoff = 0.25
        while not stop.is_set():
            try:
                return await make()
            except BrokerError:
                raise
            except Exception as exc:  # noqa: BLE001 - the broker away: nats raises several kinds
                stats.note(f"broker: {exc or type(exc).__name__}")
                await _pause(stop, backoff)
                backoff = min(backoff * 2, self.options.max_backoff)
        return None

    async def _subscription(self, svc: _Service, provider: str, stop: asyncio.Event, once: bool, bar: tqdm) -> None:
        opts = self.options
        design = self.design
        subjects = [subject(design, provider, svc.plan.feeds[(provider, t)].table, t) for t in svc.plan.types(provider)]

        async def bind() -> object:  # the provider's relay may not have created its stream yet: create it here
            await ensure_stream(self.broker, design, provider, opts.duplicate_window)
            return await self.broker.subscribe(stream_name(design, provider), durable_name(design, svc.plan.service),
                                               subjects, opts.ack_wait, max(opts.batch * 2, 1000))

        sub = await self._retry(stop, svc.stats, bind)
        if sub is None:
            return
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        backoff = 0.0
        handling: asyncio.Task[int] | None = None  # the batch being applied while the next one is pulled
        try:
            while not stop.is_set():
                try:
                    batch = await sub.fetch(opts.batch, opts.fetch_timeout)
                except Exception as exc:  # noqa: BLE001 - the broker away: nats raises several kinds
                    svc.stats.note(f"broker: {exc or type(exc).__name__}")
                    await _pause(stop, min(max(backoff * 2, 0.25), opts.max_backoff))
                    backoff = min(max(backoff * 2, 0.25), opts.max_backoff)
                    continue
                backoff = 0.0
                if not batch:
                    if handling is not None and handling.done():
                        bar.update(await handling)
                        handling = None
                    if once and handling is None and loop.time() - quiet_since >= opts.idle:
                        return
                    continue
                quiet_since = loop.time()
                if handling is not None:
                    bar.update(await handling)  # batches are applied, and acknowledged, in the order pulled
                handling = asyncio.create_task(self._handle(svc, provider, batch, stop))
        finally:
            if handling is not None:
                bar.update(await handling)

    async def _handle(self, svc: _Service, provider: str, batch: Sequence[Delivery], stop: asyncio.Event) -> int:
        """Apply one pulled batch; returns how many messages were settled (acknowledged or dead-lettered)."""
        stats = svc.stats
        stats.received += len(batch)
        good: list[tuple[Delivery, Prepared]] = []
        ignore: list[Delivery] = []
        poison: list[tuple[Delivery, str]] = []
        for d in batch:
            try:
                incoming = Incoming.parse(provider, d.headers, d.data)
            except Poison as exc:
                poison.append((d, exc.reason))
                continue
            feed = svc.plan.feeds.get((provider, incoming.type))
            if feed is None:
                ignore.append(d)
                continue
            try:
                good.append((d, svc.applier.prepare(incoming, feed)))
            except Poison as exc:
                poison.append((d, exc.reason))
        outcome = Outcome()
        backoff = 0.25
        while good:
            if stop.is_set():
                return 0  # stopping: nothing acknowledged, the broker redelivers the batch
            async with svc.lock:
                try:
                    outcome = await asyncio.to_thread(svc.applier.apply, [p for _, p in good])
                    break
                except sa.exc.DBAPIError as exc:
                    if transient(exc):
                        stats.note(f"database: {_line(exc)}")
                    elif not refused(exc):
                        raise  # not the data's fault (a missing table, a privilege): stop and say so
                    else:  # find the message the database refuses: apply them one by one
                        try:
                            outcome = await self._one_by_one(svc, good, poison)
                        except sa.exc.DBAPIError as again:
                            if not transient(again):
                                raise
                            stats.note(f"database: {_line(again)}")  # retried: the applied ones are skipped then
                        else:
                            dead = {id(d) for d, _ in poison}
                            good = [g for g in good if id(g[0]) not in dead]
                            break
            await _pause(stop, backoff)
            backoff = min(backoff * 2, self.options.max_backoff)
        settled = 0
        for d, reason in poison:
            if await self._dead_letter(svc, d, reason):
                settled += 1
        for d in [d for d, _ in good] + ignore:
            try:
                await d.ack()
                settled += 1
            except Exception as exc:  # noqa: BLE001 - a lost acknowledgement means a redelivery: harmless
                stats.note(f"broker: acknowledgement lost ({exc or type(exc).__name__})")
        stats.batches += 1
        stats.ignored += len(ignore)
        stats.applied += outcome.applied
        stats.stale += outcome.stale
        stats.duplicates += outcome.duplicates
        stats.latencies.extend(outcome.latencies)
        if len(stats.latencies) > 200_000:
            del stats.latencies[:100_000]
        if self.on_batch is not None:
            self.on_batch(svc.plan.service, outcome)
        await self._prune(svc)
        return settled

    async def _prune(self, svc: _Service) -> None:
        """Delete the service's inbox rows older than the retention, once every ``prune_every`` seconds."""
        opts = self.options
        now = asyncio.get_running_loop().time()
        if opts.retention is None or (svc.pruned_at is not None and now - svc.pruned_at < opts.prune_every):
            return
        svc.pruned_at = now
        async with svc.lock:
            try:
                svc.stats.pruned += await asyncio.to_thread(svc.applier.prune, utcnow() - opts.retention)
            except sa.exc.DBAPIError as exc:
                if not transient(exc):
                    raise
                svc.stats.note(f"database: {_line(exc)}")

    async def _one_by_one(self, svc: _Service, good: list[tuple[Delivery, Prepared]],
                          poison: list[tuple[Delivery, str]]) -> Outcome:
        total = Outcome()
        for d, p in good:
            try:
                one = await asyncio.to_thread(svc.applier.apply, [p])
            except sa.exc.DBAPIError as exc:
                if not refused(exc):
                    raise
                poison.append((d, f"the database refused it: {_line(exc)}"))
                continue
            total.applied += one.applied
            total.stale += one.stale
            total.duplicates += one.duplicates
            total.latencies += one.latencies
        return total

    async def _dead_letter(self, svc: _Service, d: Delivery, reason: str) -> bool:
        """Publish ``d`` to the consumer's dead letters with ``reason``, then terminate it; False when the
        broker did not take it (it stays unacknowledged and comes back)."""
        name = svc.plan.service
        headers = {k: v for k, v in d.headers.items() if isinstance(v, str)}
        original = headers.get(MSG_ID) or f"seq-{d.stream_sequence}"
        headers.update({MSG_ID: f"dead:{durable_name(self.design, name)}:{original}",
                        H_DEAD_REASON: _one_line(reason)[:1000], H_DEAD_CONSUMER: name,
                        H_DEAD_SEQUENCE: str(d.stream_sequence)})
        result = await self.broker.publish([Message(dead_letter_subject(self.design, name, d.subject), d.data,
                                                    headers)], timeout=5.0)
        if not result[0].ok:
            svc.stats.note(f"broker: dead letter not stored ({result[0].error})")
            return False
        try:
            await d.term()
        except Exception as exc:  # noqa: BLE001 - redelivered: dead-lettered again, deduplicated by the broker
            svc.stats.note(f"broker: termination lost ({exc or type(exc).__name__})")
        svc.stats.dead += 1
        svc.stats.dead_reasons = (svc.stats.dead_reasons + [reason])[-50:]
        return True


def refused(exc: sa.exc.DBAPIError) -> bool:
    """Whether the database refused the data itself (a constraint, a value its column cannot hold): the
    message's fault, unlike a lost connection, a lock or a missing table."""
    return isinstance(exc, sa.exc.IntegrityError | sa.exc.DataError) and not transient(exc)


def _one_line(text: str) -> str:
    return " ".join(scrub(text).split())


def _line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    text = args[1] if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str) else str(orig)
    lines = [x.strip() for x in text.strip().splitlines() if x.strip()]  # PyMySQL's (code, message): the message
    return scrub(lines[0] if lines else type(orig).__name__)
