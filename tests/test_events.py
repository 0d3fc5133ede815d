"""The designed mechanisms running on a real broker: relay, idempotent consumers, read models, sagas.

The sample (2%) is designed and migrated; then the monolith keeps writing (updates, inserts,
deletes on every table some service follows), each write followed into the owners' tables with its
events staged in their outboxes (the transition phase: :mod:`workbench.events.capture`). The relay
and the consumers run on NATS JetStream -- the machine's server, with uniquely named streams
deleted afterwards, or a server of the test's own where the test kills it -- and at the end every
table of the target, each replica and read model included, equals what the design computes from
the legacy database (``verify``: counts and checksums against the fill).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from eventflow import Change, Monolith, delete_streams, own_broker, shared_broker

from workbench import serde
from workbench.decompose import decompose
from workbench.design import design as make_design
from workbench.design.model import Design, Saga
from workbench.events.apply import Applier, Incoming
from workbench.events.broker import MSG_ID, Message, connect
from workbench.events.capture import TransitionEvents
from workbench.events.consume import H_DEAD_REASON, ConsumeOptions, Consumers
from workbench.events.relay import Relay, RelayOptions
from workbench.events.saga import SagaRun, StepFailed
from workbench.events.store import ServiceTables, utcnow
from workbench.events.topology import consumer_plan, dead_letter_subject, stream_name, subject
from workbench.introspect import introspect
from workbench.migrate import migrate
from workbench.migrate.target import Target, with_prefix
from workbench.migrate.verify import verify
from workbench.workload import ingest
from workbench.workload.simlog import write_logs

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sample_design(small_sample_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Design:
    tmp = tmp_path_factory.mktemp("events_design")
    url = f"sqlite:///{small_sample_path}"
    schema = introspect(url)
    logs = write_logs(tmp / "logs", statements=20_000, formats=["jsonl"])
    workload = ingest([str(logs["jsonl"])], "jsonl", schema=schema)
    return make_design(schema, decompose(schema, workload, stability=0), workload)


@pytest.fixture(scope="module")
def migrated(sample_design: Design, small_sample_path: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Design, Path]:
    """The sample migrated once into SQLite files; each test copies them under names of its own."""
    d = _prefixed(sample_design)
    folder = tmp_path_factory.mktemp("events_template")
    migrate(f"sqlite:///{small_sample_path}", str(folder), d, alembic=False, progress=False)
    return d, folder


@dataclass
class Flow:
    design: Design
    target: Target
    folder: Path
    monolith: Monolith

    def verify(self, services: list[str] | None = None) -> list[str]:
        report = verify(self.monolith.url, str(self.folder), self.design, services=services, progress=False)
        return report.problems()


def _prefixed(d: Design) -> Design:
    return with_prefix(d, f"wb_test_{uuid.uuid4().hex[:8]}_")


@pytest.fixture
def flow(sample_design: Design, migrated: tuple[Design, Path], small_sample_path: Path,
         tmp_path: Path) -> Iterator[Flow]:
    template, source = migrated
    d = _prefixed(sample_design)
    folder = tmp_path / "target"
    folder.mkdir()
    for name in d.services:
        shutil.copy(source / f"{template.service(name).namespace}.sqlite",
                    folder / f"{d.service(name).namespace}.sqlite")
    target = Target.parse(str(folder))
    yield Flow(d, target, folder, Monolith.copy_of(small_sample_path, tmp_path, d, target))
    target.dispose()


def _relay(flow: Flow, url: str, services: list[str] | None = None, **options: Any) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        broker = connect(url)
        await broker.connect()
        try:
            return await Relay(flow.design, flow.target, broker, services, options=RelayOptions(**options),
                               progress=False).run(once=True)
        finally:
            await broker.close()

    return asyncio.run(run())


def _consume(flow: Flow, url: str, **options: Any) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        broker = connect(url)
        await broker.connect()
        try:
            return await Consumers(flow.design, flow.target, broker, options=ConsumeOptions(**options),
                                   progress=False).run(once=True)
        finally:
            await broker.close()

    return asyncio.run(run())


def _publish(url: str, messages: list[Message]) -> list[Any]:
    async def run() -> list[Any]:
        broker = connect(url)
        await broker.connect()
        try:
            return await broker.publish(messages, timeout=5)
        finally:
            await broker.close()

    return asyncio.run(run())


def _unpublish(flow: Flow, service: str) -> int:
    tables = ServiceTables(flow.design, flow.target, service)
    with flow.target.engine(flow.design, service).begin() as conn:
        return conn.execute(sa.update(tables.outbox).values(published_at=None)).rowcount


def _inbox_rows(flow: Flow) -> int:
    total = 0
    for service in flow.design.services:
        tables = ServiceTables(flow.design, flow.target, service)
        with flow.target.engine(flow.design, service).connect() as conn:
            total += conn.execute(sa.select(sa.func.count()).select_from(tables.inbox)).scalar() or 0
    return total


def _expected_inbox(flow: Flow) -> dict[str, int]:
    """Per consuming service, the messages it must have processed: every outbox row of a type it applies."""
    rows: dict[str, list[str]] = {}
    for service in flow.design.services:
        outbox = ServiceTables(flow.design, flow.target, service).outbox
        with flow.target.engine(flow.design, service).connect() as conn:
            rows[service] = list(conn.execute(sa.select(outbox.c.type)).scalars())
    out = {}
    for service in flow.design.services:
        plan = consumer_plan(flow.design, service)
        out[service] = sum(1 for provider in plan.providers for t in rows[provider] if (provider, t) in plan.feeds)
    return out


def _inbox_by_service(flow: Flow) -> dict[str, int]:
    out = {}
    for service in flow.design.services:
        tables = ServiceTables(flow.design, flow.target, service)
        with flow.target.engine(flow.design, service).connect() as conn:
            out[service] = conn.execute(sa.select(sa.func.count()).select_from(tables.inbox)).scalar() or 0
    return out


def _kill_a_consumer_mid_batch(flow: Flow, url: str, tmp_path: Path) -> None:
    """``workbench events consume`` in a process of its own, SIGKILLed while it applies batches."""
    design_file = tmp_path / "design.json"
    serde.save(flow.design, design_file)
    cmd = [sys.executable, "-m", "workbench.cli", "events", "consume", "--target", str(flow.folder), "--design",
           str(design_file), "--broker", url, "--batch", "10", "--ack-wait", "2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while _inbox_rows(flow) < 100 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, "the consumer stopped on its own"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert _inbox_rows(flow) >= 100


def _in_flight(flow: Flow, url: str) -> int:
    """Messages delivered to the durable consumers and not acknowledged."""
    async def run() -> int:
        broker = connect(url)
        await broker.connect()
        try:
            total = 0
            for service in flow.design.services:
                for provider in consumer_plan(flow.design, service).providers:
                    c = await broker.consumer_stats(stream_name(flow.design, provider),
                                                    flow.design.service(service).namespace)
                    total += c.ack_pending if c else 0
            return total
        finally:
            await broker.close()

    return asyncio.run(run())


def _dead_letters(flow: Flow, url: str, service: str) -> list[Any]:
    async def run() -> list[Any]:
        broker = connect(url)
        await broker.connect()
        try:
            sub = await broker.subscribe(stream_name(flow.design, service), "wb_test_reader",
                                         [dead_letter_subject(flow.design, service, ">")], 5, 10)
            return list(await sub.fetch(10, 1))
        finally:
            await broker.close()

    return asyncio.run(run())


def test_replicas_and_read_models_converge_through_duplicates_poison_and_a_killed_consumer(
        flow: Flow, tmp_path: Path) -> None:
    url = shared_broker()
    try:
        first = flow.monolith.write()
        changes = sum(len(t) for t in first)
        assert changes > 100 and {c.operation for t in first for c in t} == {"insert", "update", "delete"}
        relayed = _relay(flow, url, duplicate_window=1.0)
        assert sum(s.published for s in relayed.values()) > changes / 2

        # duplicate publishes: within the broker's window it drops them; after it, the consumers' inbox does
        again = _unpublish(flow, "order")
        assert again > 0
        assert _relay(flow, url, ["order"])["order"].duplicates == again
        time.sleep(1.1)
        assert _unpublish(flow, "order") == again
        assert _relay(flow, url, ["order"])["order"].duplicates == 0  # stored twice now

        # a poison message among the good ones: its key is no integer
        plan = consumer_plan(flow.design, "return")
        poison_type = next(t for (p, t), f in plan.feeds.items() if p == "order" and f.table == "orders")
        bad = Message(subject(flow.design, "order", "orders", poison_type), json.dumps({"id": "not a number"}).encode(),
                      {MSG_ID: str(uuid.uuid4()), "Wb-Event-Type": poison_type, "Wb-Aggregate-Type": "orders",
                       "Wb-Aggregate-Id": "x", "Wb-Version": "1"})
        assert _publish(url, [bad])[0].ok
        for _ in range(2):  # the monolith writes on
            flow.monolith.write(updates=8, inserts=3)
        _relay(flow, url)
        assert flow.verify(["return"]), "the replicas should be stale before the consumers run"

        _kill_a_consumer_mid_batch(flow, url, tmp_path)
        assert _in_flight(flow, url) > 0  # it died holding delivered, unacknowledged messages
        stats = _consume(flow, url, idle=2.5)  # longer than ack_wait: the killed batches come back
        assert sum(s.applied for s in stats.values()) > 0

        assert flow.verify() == []  # every owned table, replica and read model equals the legacy data
        assert _inbox_by_service(flow) == _expected_inbox(flow)  # each message processed exactly once
        takers = {s for s in flow.design.services if ("order", poison_type) in consumer_plan(flow.design, s).feeds}
        assert "return" in takers
        for service in takers:  # the poison message went to each taker's dead letters once, with the reason
            (letter,) = _dead_letters(flow, url, service)
            assert letter.headers[H_DEAD_REASON].startswith("column id of ") and letter.data == bad.data

    finally:
        delete_streams(url, flow.design)


def test_out_of_order_redelivered_and_duplicated_events_change_nothing(flow: Flow) -> None:
    d = flow.design
    plan = consumer_plan(d, "order")
    table = "countries"
    copy = plan.copies[table]
    applier = Applier(d, flow.target, plan)
    feeds = {f.action: f for (p, t), f in plan.feeds.items() if f.table == table}
    engine = flow.target.engine(d, "order")
    t = applier.tables.table(copy.target)
    with engine.connect() as conn:
        row = dict(conn.execute(sa.select(t).limit(1)).one()._mapping)
    code = row[copy.key[0]]

    def event(action: str, version: int, name: str | None, message: uuid.UUID | None = None) -> Any:
        payload = {**{k: (str(v) if v is not None else None) for k, v in row.items()}, "name": name}
        incoming = Incoming(message or uuid.uuid4(), feeds[action].provider, feeds[action].type, table, str(code),
                            version, payload)
        return applier.prepare(incoming, feeds[action])

    def name() -> str | None:
        with engine.connect() as conn:
            return conn.execute(sa.select(t.c.name).where(t.c[copy.key[0]] == code)).scalar()

    same = uuid.uuid4()
    assert applier.apply([event("updated", 5, "five", same)]).applied == 1 and name() == "five"
    assert applier.apply([event("updated", 3, "three")]).stale == 1 and name() == "five"  # older: ignored
    assert applier.apply([event("updated", 9, "nine", same)]).duplicates == 1 and name() == "five"  # same id
    out = applier.apply([event("updated", 11, "eleven"), event("updated", 10, "ten")])  # one batch, out of order
    assert (out.applied, out.stale, name()) == (1, 1, "eleven")
    assert applier.apply([event("deleted", 12, None)]).applied == 1 and name() is None
    assert applier.apply([event("created", 8, "late")]).stale == 1 and name() is None  # no resurrection
    assert applier.apply([event("created", 13, "back")]).applied == 1 and name() == "back"
    with engine.connect() as conn:
        versions = applier.tables.versions
        assert conn.execute(sa.select(versions.c.version).where(versions.c.aggregatetype == table,
                                                                versions.c.aggregateid == str(code))).scalar() == 13
        assert conn.execute(sa.select(sa.func.count()).select_from(applier.tables.inbox)).scalar() == 7
    # old inbox rows pruned: a replayed old message finds its aggregate's version and still changes nothing
    assert applier.prune(utcnow() - dt.timedelta(days=1)) == 0
    assert applier.prune(utcnow() + dt.timedelta(seconds=1)) == 7
    assert applier.apply([event("updated", 5, "five", same)]).stale == 1 and name() == "back"


def test_transition_events_from_row_changes(sample_design: Design) -> None:
    events = TransitionEvents(sample_design)
    owner = sample_design.owner()
    created = next(e for e in sample_design.events if e.table == "orders" and e.type == "OrderCreated")
    before = {c: 1 for c in created.payload}
    after = {**before, "total_amount": "12.50"}
    del after["currency_code"]  # absent from the after image (PostgreSQL's unchanged TOAST): from the before image
    made = events.events([
        Change("orders", "insert", {"id": 1}, None, {**before, "order_date": "2020-01-02 03:04:05"}, "0/16B3748", 7),
        Change("main.orders", "update", {"id": 1}, before, after),
        Change("orders", "delete", [1], {"id": 1}, None),
        Change("no_such_table", "insert", {"id": 1}, None, {"id": 1}),
    ])
    assert list(made) == [owner["orders"]]
    ins, upd, dele = made[owner["orders"]]
    assert (ins.type, upd.type, dele.type) == ("OrderCreated", "OrderUpdated", "OrderDeleted")
    assert ins.aggregatetype == "orders" and ins.aggregateid == "1"
    assert set(created.payload) <= set(ins.payload) and ins.payload["_source"]["position"] == "0/16B3748"
    assert upd.payload["total_amount"] == "12.50" and upd.payload["currency_code"] == 1
    assert dele.payload["id"] == 1 and "total_amount" not in dele.payload
    quiet = next(k for k in owner if not any(e.table == k and e.consumers for e in sample_design.events))
    assert events.events([Change(quiet, "insert", {}, None, {})]) == {}  # nobody follows it: no event


def test_relay_and_consumers_ride_out_a_broker_restart(flow: Flow, tmp_path: Path) -> None:
    flow.monolith.write(updates=3, inserts=1)
    with own_broker(tmp_path) as server:
        async def run() -> tuple[dict[str, Any], dict[str, Any]]:
            relay_broker, consumer_broker = connect(server.url), connect(server.url)
            await relay_broker.connect()
            await consumer_broker.connect()
            stop = asyncio.Event()
            relay = Relay(flow.design, flow.target, relay_broker, options=RelayOptions(batch=50, ack_timeout=1.0,
                          max_backoff=0.5), progress=False)
            consumers = Consumers(flow.design, flow.target, consumer_broker, options=ConsumeOptions(
                batch=50, ack_wait=2.0, fetch_timeout=0.3, max_backoff=0.5), progress=False)
            tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(consumers.run(stop))]
            try:
                deadline = time.monotonic() + 30
                while sum(s.published for s in relay.stats.values()) < 100 and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                server.kill()
                await asyncio.to_thread(flow.monolith.write, 3, 1)  # the monolith writes on meanwhile
                await asyncio.sleep(2.5)  # longer than the relay waits for acknowledgements
                await asyncio.to_thread(server.start)
                quiet, deadline = 0, time.monotonic() + 90
                while time.monotonic() < deadline:
                    await asyncio.sleep(0.5)
                    waiting = await asyncio.to_thread(lambda: sum(_waiting(flow, s) for s in flow.design.services))
                    lag = await _lag(consumer_broker, flow)
                    quiet = quiet + 1 if waiting == 0 and lag == 0 else 0
                    if quiet >= 3:
                        break
            finally:
                stop.set()
                await asyncio.gather(*tasks)
                await relay_broker.close()
                await consumer_broker.close()
            return relay.stats, consumers.stats

        relayed, consumed = run_with_timeout(run(), 150)
    assert any(s.errors for s in relayed.values()), "the relay should have noticed the broker going away"
    assert sum(s.published for s in relayed.values()) > 100
    assert flow.verify() == []


def run_with_timeout(coro: Any, seconds: float) -> Any:
    return asyncio.run(asyncio.wait_for(coro, seconds))


def _waiting(flow: Flow, service: str) -> int:
    tables = ServiceTables(flow.design, flow.target, service)
    with flow.target.engine(flow.design, service).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(tables.outbox)
                            .where(tables.outbox.c.published_at.is_(None))).scalar() or 0


async def _lag(broker: Any, flow: Flow) -> int:
    total = 0
    for service in flow.design.services:
        for provider in consumer_plan(flow.design, service).providers:
            c = await broker.consumer_stats(stream_name(flow.design, provider), flow.design.service(service).namespace)
            total += c.lag if c is not None else 1
    return total


def _order_saga(d: Design) -> Saga:
    """The sample's order saga: order places the order (PENDING), warehouse takes the stock (the pivot),
    order confirms it."""
    for saga in d.sagas:
        if [s.service for s in saga.steps] == ["order", "warehouse", "order"]:
            return saga
    pytest.fail(f"no order -> warehouse -> order saga in the sample's design: {[s.name for s in d.sagas]}")


PENDING, PAID, CANCELLED = 1, 2, 5  # the sample's status_codes for orders


def test_the_order_saga_confirms_or_compensates_driven_by_events(flow: Flow) -> None:
    url = shared_broker()
    d, target = flow.design, flow.target
    saga = _order_saga(d)
    assert [s.kind for s in saga.steps] == ["compensatable", "pivot", "retriable"] and saga.pending_state == "orders"
    orders = ServiceTables(d, target, "order").table(d.service("order").table("orders").table.name)
    stock = ServiceTables(d, target, "warehouse").table(d.service("warehouse").table("warehouse_stock").table.name)

    def place(conn: sa.Connection, data: dict[str, Any]) -> dict[str, Any]:  # step 1: the order, PENDING
        row = dict(conn.execute(sa.select(orders).order_by(orders.c.id.desc()).limit(1)).one()._mapping)
        row.update(id=row["id"] + 1, order_number=f"SAGA-{row['id'] + 1}", status_id=PENDING)
        conn.execute(sa.insert(orders).values(row))
        data["order_id"] = row["id"]
        return {"id": row["id"]}

    def take_stock(conn: sa.Connection, data: dict[str, Any]) -> dict[str, Any]:  # step 2, the pivot
        q = data["quantity"]
        done = conn.execute(sa.update(stock).where(
            stock.c.warehouse_id == data["warehouse_id"], stock.c.product_id == data["product_id"],
            stock.c.quantity_on_hand - stock.c.quantity_reserved >= q).values(
            quantity_on_hand=stock.c.quantity_on_hand - q)).rowcount
        if not done:
            raise StepFailed(f"not enough stock for {q}")
        return {"warehouse_id": data["warehouse_id"], "product_id": data["product_id"]}

    def status(conn: sa.Connection, data: dict[str, Any], to: int) -> dict[str, Any]:
        conn.execute(sa.update(orders).where(orders.c.id == data["order_id"]).values(status_id=to))
        return {"id": data["order_id"]}

    run = SagaRun(d, target, saga, {1: place, 2: take_stock, 3: lambda c, x: status(c, x, PAID)},
                  {1: lambda c, x: status(c, x, CANCELLED) and None})
    with target.engine(d, "warehouse").connect() as conn:
        w, p, before = conn.execute(sa.select(stock.c.warehouse_id, stock.c.product_id, stock.c.quantity_on_hand)
                                    .where(stock.c.quantity_on_hand - stock.c.quantity_reserved >= 1).limit(1)).one()
    good = run.start({"warehouse_id": w, "product_id": p, "quantity": 1})
    bad = run.start({"warehouse_id": w, "product_id": p, "quantity": 10**6})
    ids = {r.saga_id: r for r in run.log if r.step == 1}
    assert set(ids) == {good, bad}

    def outcome() -> dict[int, int]:
        with target.engine(d, "order").connect() as conn:
            return dict(conn.execute(sa.select(orders.c.id, orders.c.status_id).where(
                orders.c.order_number.like("SAGA-%"))).all())

    async def drive() -> None:
        relay_broker, saga_broker = connect(url), connect(url)
        await relay_broker.connect()
        await saga_broker.connect()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(Relay(d, target, relay_broker, ["order", "warehouse"], progress=False).run(stop)),
                 asyncio.create_task(run.participate(saga_broker, stop))]
        try:
            deadline = time.monotonic() + 30
            while PENDING in outcome().values() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
            await relay_broker.close()
            await saga_broker.close()

    try:
        asyncio.run(drive())
        assert sorted(outcome().values()) == [PAID, CANCELLED]
        with target.engine(d, "warehouse").connect() as conn:
            after = conn.execute(sa.select(stock.c.quantity_on_hand).where(
                stock.c.warehouse_id == w, stock.c.product_id == p)).scalar()
        assert after == before - 1  # taken once for the good order, never for the refused one
        trail = sorted((r.saga_id == good, r.step, r.what) for r in run.log)
        assert trail == [(False, 1, "compensated"), (False, 1, "done"),
                         (False, 2, "failed: not enough stock for 1000000"),
                         (True, 1, "done"), (True, 2, "done"), (True, 3, "done")]
        with target.engine(d, "order").connect() as conn:  # step 1's event carries the order as its replicas need
            outbox = ServiceTables(d, target, "order").outbox
            payload = conn.execute(sa.select(outbox.c.payload).where(outbox.c.type == saga.steps[0].event)
                                   ).scalars().first()
        catalog = next(e for e in d.events if e.service == "order" and e.type == saga.steps[0].event)
        assert set(catalog.payload) <= set(payload) and payload["_saga"]["name"] == saga.name
    finally:
        delete_streams(url, d)


@pytest.mark.postgres
def test_on_postgresql_through_the_command_line(sample_design: Design, small_sample_path: Path, pg_url: str,
                                                tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.cli import main
    from workbench.events.status import collect
    from workbench.operate.monitor import queries

    url = shared_broker()
    d = _prefixed(sample_design)
    services = ["customer", "order", "reference", "return", "warehouse"]  # "return" and the services it follows
    assert set(consumer_plan(d, "return").providers) <= set(services)
    target = Target.parse(pg_url)
    monolith = Monolith.copy_of(small_sample_path, tmp_path, d, target, services=services)
    migrate(monolith.url, pg_url, d, services=services, alembic=False, progress=False)
    design_file = tmp_path / "design.json"
    serde.save(d, design_file)
    common = ["--target", pg_url, "--design", str(design_file), "--broker", url]
    try:
        monolith.write(updates=6, inserts=2)
        assert main(["events", "relay", *common, "--once", *(x for s in services for x in ("--service", s))]) == 0
        assert "published" in capsys.readouterr().out

        # a message PostgreSQL refuses (a value too long for its column) among good ones: found, dead-lettered
        plan = consumer_plan(d, "return")
        tables = ServiceTables(d, target, "return")
        copy = next(c for c in plan.copies.values() if any(
            isinstance(tables.table(c.target).c[x].type, sa.String) and tables.table(c.target).c[x].type.length
            for x in c.columns if x not in c.key))
        t = tables.table(copy.target)
        column = next(x for x in copy.columns if x not in copy.key and isinstance(t.c[x].type, sa.String)
                      and t.c[x].type.length)
        with target.engine(d, "return").connect() as conn:
            row = dict(conn.execute(sa.select(t).limit(1)).one()._mapping)
        feed = next(f for f in plan.feeds.values() if f.table == copy.table and f.action == "updated")
        payload = {k: (str(v) if v is not None else None) for k, v in row.items()}
        payload[column] = "x" * (t.c[column].type.length + 5)
        key = str(row[copy.key[0]])
        bad = Message(subject(d, feed.provider, copy.table, feed.type), json.dumps(payload).encode(),
                      {MSG_ID: str(uuid.uuid4()), "Wb-Event-Type": feed.type, "Wb-Aggregate-Type": copy.table,
                       "Wb-Aggregate-Id": key, "Wb-Version": str(10**12)})
        assert _publish(url, [bad])[0].ok
        monolith.write(updates=6, inserts=2)
        assert main(["events", "relay", *common, "--once", *(x for s in services for x in ("--service", s))]) == 0
        capsys.readouterr()

        assert main(["events", "consume", *common, "--once", "--idle", "1", "--service", "return"]) == 1
        out = capsys.readouterr().out
        assert "1 dead letters" in out and "dead letter: the database refused it: value too long" in out
        report = verify(monolith.url, pg_url, d, services=["return"], progress=False)
        assert report.problems() == []

        found = {s.service: s for s in collect(d, target, url, services)}
        assert found["return"].dead_letters == 1 and found["return"].consumer_lag == 0
        assert all(s.waiting == 0 and s.database == "ok" and s.broker == "ok" for s in found.values())
        assert found["return"].processed_total and found["return"].processed_per_s
        assert main(["events", "status", *common, "--service", "return"]) == 0
        assert "return" in capsys.readouterr().out

        watch = {q.name: q.sql for q in queries(d, "postgresql", services=["return"])}
        with target.engine(d, "return").connect() as conn:
            assert conn.execute(sa.text(watch["outbox_backlog"])).one()[0] == 0
            (consumer, processed, last_day, _), = conn.execute(sa.text(watch["processed_growth"])).all()
        assert (consumer, processed, last_day) == ("return", found["return"].processed_total, processed)
    finally:
        delete_streams(url, d)
        target.dispose()
