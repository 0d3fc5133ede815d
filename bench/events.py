"""Benchmark: events through the outbox relay, NATS JetStream and an idempotent consumer, against the floor.

A two-service design (``catalog`` owns ``products``, reference data; ``sales`` keeps a replica of
it) migrated into a fresh PostgreSQL database created and dropped here; streams with unique names
on the broker, deleted afterwards. Relay and consumer run in processes of their own, as
``workbench events relay`` and ``workbench events consume`` would. Measured side by side:

- ``throughput``: ``--events`` ``ProductUpdated`` events (one per product: no two collapse in a
  batch) waiting in the catalog's outbox; the clock runs from the start until the consumer has
  committed the last one: read from the outbox, published with ``Nats-Msg-Id`` and acknowledged,
  marked published, pulled, checked against the inbox and the versions, applied to the replica,
  inbox and versions written, acknowledged. The floor: the same messages (same subjects, headers
  and bodies) published by one process and pulled and acknowledged by another, no database.
- ``latency``: the catalog writes ``--rate`` events per second into its outbox for ``--seconds``;
  each event's latency is from its outbox ``created_at`` to the consumer's commit (p50, p99). The
  floor: the same rate published straight to the broker, latency to its receipt by the consumer.

Aims: throughput at least a third of the floor and at least 5,000 events/s on a 2-core machine.

Usage: ``python bench/events.py [--events 20000] [--rate 2000] [--seconds 5] [--broker nats://127.0.0.1:4222]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.decompose.model import Decomposition, Service  # noqa: E402
from workbench.design import design as make_design  # noqa: E402
from workbench.design.model import Design  # noqa: E402
from workbench.events.apply import H_CREATED  # noqa: E402
from workbench.events.broker import Message, connect  # noqa: E402
from workbench.events.consume import ConsumeOptions, Consumers  # noqa: E402
from workbench.events.relay import Relay, RelayOptions, message  # noqa: E402
from workbench.events.store import OutboxEvent, ServiceTables, Waiting, append, utcnow  # noqa: E402
from workbench.events.topology import stream_name  # noqa: E402
from workbench.introspect import introspect  # noqa: E402
from workbench.migrate import migrate  # noqa: E402
from workbench.migrate.target import Target, with_prefix  # noqa: E402

PG_ADMIN_URL = os.environ.get("WORKBENCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def legacy(path: Path, products: int) -> str:
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE products (id INTEGER PRIMARY KEY, sku VARCHAR(20) NOT NULL, name VARCHAR(80) NOT NULL,
                               price NUMERIC(12, 2) NOT NULL, stock INTEGER NOT NULL, updated_at DATETIME);
        CREATE TABLE order_lines (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL REFERENCES products(id),
                                  quantity INTEGER NOT NULL);
    """)
    db.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?)",
                   [(i, f"SKU-{i:06d}", f"product number {i} of the catalog", round(1 + i % 997 * 0.37, 2), i % 50,
                     "2024-01-01 00:00:00") for i in range(1, products + 1)])
    db.executemany("INSERT INTO order_lines VALUES (?, ?, ?)", [(i, 1 + i % products, 1) for i in range(1, 101)])
    db.commit()
    db.close()
    return f"sqlite:///{path}"


def bench_design(url: str) -> Design:
    schema = introspect(url)
    decomposition = Decomposition(services={"catalog": Service(["products"], kind="reference"),
                                            "sales": Service(["order_lines"])})
    return make_design(schema, decomposition, None)


def event(i: int, version: int) -> OutboxEvent:
    return OutboxEvent("products", str(i), "ProductUpdated", {
        "id": i, "sku": f"SKU-{i:06d}", "name": f"product number {i} of the catalog, v{version}",
        "price": f"{1 + i % 997 * 0.37 + version:.2f}", "stock": version, "updated_at": "2024-02-01 00:00:00"})


# -- the real path: relay and consumer processes -----------------------------------------------------------------

def relay_process(d: Design, target: str, broker_url: str, ready: Any, go: Any, stop: Any, poll: float) -> None:
    async def run() -> None:
        broker = connect(broker_url)
        await broker.connect()
        halt = asyncio.Event()
        ready.set()
        while not go.is_set():
            await asyncio.sleep(0.001)
        relay = Relay(d, Target.parse(target), broker, ["catalog"], RelayOptions(poll=poll, retention=None),
                      progress=False)
        task = asyncio.create_task(relay.run(halt))
        while not stop.is_set() and not task.done():
            await asyncio.sleep(0.05)
        halt.set()
        await task
        await broker.close()

    asyncio.run(run())


def consumer_process(d: Design, target: str, broker_url: str, ready: Any, go: Any, stop: Any, expected: int,
                     out: Any) -> None:
    async def run() -> None:
        broker = connect(broker_url)
        await broker.connect()
        halt = asyncio.Event()
        seen = {"n": 0}
        latencies: list[float] = []

        def on_batch(_: str, outcome: Any) -> None:
            seen["n"] += outcome.applied + outcome.stale + outcome.duplicates
            latencies.extend(outcome.latencies)
            if seen["n"] >= expected:
                halt.set()

        consumers = Consumers(d, Target.parse(target), broker, ["sales"],
                              ConsumeOptions(batch=1000, fetch_timeout=0.05), progress=False, on_batch=on_batch)
        ready.set()
        while not go.is_set():
            await asyncio.sleep(0.001)
        task = asyncio.create_task(consumers.run(halt))
        while not halt.is_set() and not stop.is_set() and not task.done():
            await asyncio.sleep(0.001)
        done = time.time()
        if task.done() and task.exception() is not None:
            out.put((done, seen["n"], []))
            raise task.exception()  # type: ignore[misc]
        halt.set()
        await task
        await broker.close()
        out.put((done, seen["n"], latencies))

    asyncio.run(run())


def fill_outbox(d: Design, target: str, events: list[OutboxEvent], now: Any = None) -> None:
    where = Target.parse(target)
    outbox = ServiceTables(d, where, "catalog").outbox
    with where.engine(d, "catalog").begin() as conn:
        for i in range(0, len(events), 5000):
            append(conn, outbox, events[i:i + 5000], now)
    where.dispose()


def real(d: Design, target: str, broker_url: str, expected: int, rate: float = 0.0, seconds: float = 0.0,
         backlog: list[OutboxEvent] | None = None) -> tuple[float, int, list[float]]:
    """Run relay and consumer processes; returns (seconds until the consumer committed ``expected``, applied,
    latencies). With ``rate``, this process writes events into the outbox at that rate meanwhile."""
    ctx = mp.get_context("spawn")
    ready_r, ready_c, go, stop = ctx.Event(), ctx.Event(), ctx.Event(), ctx.Event()
    out = ctx.Queue()
    if backlog:
        fill_outbox(d, target, backlog)
    procs = [ctx.Process(target=relay_process, args=(d, target, broker_url, ready_r, go, stop, 0.002)),
             ctx.Process(target=consumer_process, args=(d, target, broker_url, ready_c, go, stop, expected, out))]
    for p in procs:
        p.start()
    ready_r.wait(60)
    ready_c.wait(60)
    start = time.time()
    go.set()
    if rate:
        produce(d, target, rate, seconds, expected)
    done, applied, latencies = out.get(timeout=600)
    stop.set()
    for p in procs:
        p.join(60)
    return done - start, applied, latencies


def produce(d: Design, target: str, rate: float, seconds: float, total: int) -> None:
    """Write ``total`` events into the catalog's outbox at ``rate`` per second (a transaction every 10 ms)."""
    where = Target.parse(target)
    outbox = ServiceTables(d, where, "catalog").outbox
    engine = where.engine(d, "catalog")
    tick = 0.01
    per_tick = max(int(rate * tick), 1)
    start = time.perf_counter()
    written = 0
    while written < total:
        with engine.begin() as conn:
            n = min(per_tick, total - written)
            append(conn, outbox, [event(1 + (written + k) % 10_000, 10_000 + written + k) for k in range(n)])
            written += n
        pause = start + (written / per_tick) * tick - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    where.dispose()


# -- the floor: the same messages, no database ---------------------------------------------------------------------

def floor_publisher(broker_url: str, messages: list[Message], ready: Any, go: Any, rate: float) -> None:
    async def run() -> None:
        broker = connect(broker_url)
        await broker.connect()
        ready.set()
        while not go.is_set():
            await asyncio.sleep(0.001)
        if not rate:
            for i in range(0, len(messages), 1000):
                results = await broker.publish(messages[i:i + 1000], 10)
                assert all(r.ok for r in results)
        else:
            tick = 0.01
            per_tick = max(int(rate * tick), 1)
            start = time.perf_counter()
            for i in range(0, len(messages), per_tick):
                batch = messages[i:i + per_tick]
                for m in batch:
                    m.headers[H_CREATED] = utcnow().isoformat()
                await broker.publish(batch, 10)
                pause = start + (i / per_tick + 1) * tick - time.perf_counter()
                if pause > 0:
                    await asyncio.sleep(pause)
        await broker.close()

    asyncio.run(run())


def floor_consumer(broker_url: str, stream: str, subject: str, expected: int, ready: Any, go: Any, out: Any) -> None:
    async def run() -> None:
        import datetime as dt

        broker = connect(broker_url)
        await broker.connect()
        sub = await broker.subscribe(stream, "floor", [subject], 30, 4000)
        ready.set()
        while not go.is_set():
            await asyncio.sleep(0.001)
        got = 0
        latencies = []
        while got < expected:
            batch = await sub.fetch(1000, 0.05)
            now = utcnow()
            for m in batch:
                await m.ack()
                created = m.headers.get(H_CREATED)
                if created:
                    latencies.append((now - dt.datetime.fromisoformat(created)).total_seconds())
            got += len(batch)
        out.put((time.time(), got, latencies))
        await broker.close()

    asyncio.run(run())


def floor(broker_url: str, messages: list[Message], stream: str, rate: float = 0.0) -> tuple[float, int, list[float]]:
    ctx = mp.get_context("spawn")
    ready_p, ready_c, go = ctx.Event(), ctx.Event(), ctx.Event()
    out = ctx.Queue()
    subject = messages[0].subject
    procs = [ctx.Process(target=floor_consumer, args=(broker_url, stream, subject, len(messages), ready_c, go, out)),
             ctx.Process(target=floor_publisher, args=(broker_url, messages, ready_p, go, rate))]
    for p in procs:
        p.start()
    ready_p.wait(60)
    ready_c.wait(60)
    start = time.time()
    go.set()
    done, got, latencies = out.get(timeout=600)
    for p in procs:
        p.join(60)
    return done - start, got, latencies


def floor_messages(d: Design, n: int, offset: int) -> list[Message]:
    """The broker messages the relay would send for ``n`` outbox rows (same subject, headers, body)."""
    out = []
    for i in range(n):
        e = event(1 + i % 10_000, offset + i)
        row = Waiting(offset + i, str(uuid.uuid4()), e.aggregatetype, e.aggregateid, e.type, json.dumps(e.payload),
                      None)
        m = message(d, "catalog", row)
        m.subject = m.subject.replace(m.subject.split(".")[0], "wb_bench_floor", 1)
        out.append(m)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=2_000.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--broker", default=os.environ.get("WORKBENCH_TEST_NATS", "nats://127.0.0.1:4222"))
    args = parser.parse_args()

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"wb_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    target = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    tag = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as tmp:
        source = legacy(Path(tmp) / "legacy.sqlite", max(args.events, 10_000))
        d = with_prefix(bench_design(source), f"wb_bench_{tag}_")
        floor_stream = f"WB_BENCH_FLOOR_{tag}".upper()
        results = []
        try:
            migrate(source, target, d, alembic=False, progress=False)

            async def streams() -> None:
                broker = connect(args.broker)
                await broker.connect()
                await broker.ensure_stream(floor_stream, ["wb_bench_floor.>"], 120)
                await broker.close()

            asyncio.run(streams())
            # throughput: a backlog of one event per product
            n = args.events
            backlog = [event(i, 1) for i in range(1, n + 1)]
            seconds, applied, _ = real(d, target, args.broker, n, backlog=backlog)
            f_seconds, f_got, _ = floor(args.broker, floor_messages(d, n, 1), floor_stream)
            rate, f_rate = applied / seconds, f_got / f_seconds
            results.append({
                "bench": "events", "measure": "throughput", "target": "postgresql", "events": n,
                "events_per_s": round(rate), "seconds": round(seconds, 2), "floor_events_per_s": round(f_rate),
                "floor_seconds": round(f_seconds, 2), "ratio": round(rate / f_rate, 3),
                "aim": {"ratio": 0.333, "events_per_s": 5000},
                "ok": rate / f_rate >= 1 / 3 and rate >= 5000 and applied == n})
            # latency at a steady rate
            total = int(args.rate * args.seconds)
            _, applied, lat = real(d, target, args.broker, total, rate=args.rate, seconds=args.seconds)
            _, _, f_lat = floor(args.broker, floor_messages(d, total, 10**7), floor_stream, rate=args.rate)
            p50, p99 = percentile(lat, 0.5), percentile(lat, 0.99)
            f50, f99 = percentile(f_lat, 0.5), percentile(f_lat, 0.99)
            results.append({
                "bench": "events", "measure": "latency", "target": "postgresql", "rate_per_s": args.rate,
                "events": total, "applied": applied, "p50_ms": round(p50 * 1000, 1), "p99_ms": round(p99 * 1000, 1),
                "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
                "floor_p50_ms": round(f50 * 1000, 1), "floor_p99_ms": round(f99 * 1000, 1),
                "ratio_p50": round(f50 / p50, 3) if p50 else None, "ok": applied == total})
        finally:
            async def cleanup() -> None:
                broker = connect(args.broker)
                await broker.connect()
                for s in [*(stream_name(d, x) for x in d.services), floor_stream]:
                    await broker.delete_stream(s)
                await broker.close()

            asyncio.run(cleanup())
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    for r in results:
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
