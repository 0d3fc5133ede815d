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
from eventflow import Monolith, delete_streams, own_broker, shared_broker

from workbench import serde
from workbench.decompose import decompose
from workbench.design import design as make_design
from workbench.design.model import Design, Saga
from workbench.events.apply import Applier, Incoming
from workbench.events.broker import MSG_ID, Message, connect
from workbench.events.capture import Stager, TransitionEvents
from workbench.events.codec import encode
from workbench.events.consume import H_DEAD_REASON, ConsumeOptions, Consumers
from workbench.events.relay import Relay, RelayOptions
from workbench.events.saga import SagaRun, StepFailed
from workbench.events.store import ServiceTables, utcnow
from workbench.events.topology import Feed, LocalCopy, consumer_plan, dead_letter_subject, stream_name, subject
from workbench.introspect import introspect
from workbench.migrate import migrate
from workbench.migrate.canon import kind_of
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


@dataclass
class Copied:
    """A table some service keeps a read-only copy of, and the events that feed it."""

    consumer: str
    provider: str
    table: str
    copy: LocalCopy
    columns: dict[str, sa.Column[Any]]
    feeds: dict[str, Feed]


def _a_copy(d: Design, target: Target, text_length: bool = False, consumers: list[str] | None = None) -> Copied:
    """A copy (picked the same way every run) with a one-column integer key and a text column (of bounded
    length, if asked), fed by created, updated and deleted events: the decomposition decides which."""
    for service in consumers or sorted(d.services):
        plan = consumer_plan(d, service)
        for table, copy in sorted(plan.copies.items()):
            t = ServiceTables(d, target, service).table(copy.target)
            feeds = {f.action: f for f in plan.feeds.values() if f.table == table}
            key_ok = len(copy.key) == 1 and kind_of(t.c[copy.key[0]].type).name == "int"
            texts = [c for c in copy.columns if c not in copy.key and kind_of(t.c[c].type).name == "text"
                     and (getattr(t.c[c].type, "length", None) or 0) >= (8 if text_length else 0)]
            if key_ok and texts and set(feeds) == {"created", "updated", "deleted"}:
                ordered = {c: t.c[c] for c in [copy.key[0], *texts]}
                return Copied(service, copy.provider, table, copy, ordered, feeds)
    pytest.fail("the sample's design has no copy with an integer key and a text column")


def test_replicas_and_read_models_converge_through_duplicates_poison_and_a_killed_consumer(
        flow: Flow, tmp_path: Path) -> None:
    url = shared_broker()
    try:
        first = flow.monolith.write()
        changes = sum(len(t) for t in first)
        assert changes > 100 and {c.op for t in first for c in t} == {"insert", "update", "delete"}
        relayed = _relay(flow, url, duplicate_window=1.0)
        assert sum(s.published for s in relayed.values()) > changes / 2

        # duplicate publishes: within the broker's window it drops them; after it, the consumers' inbox does
        picked = _a_copy(flow.design, flow.target)
        provider, consumer, table = picked.provider, picked.consumer, picked.table
        again = _unpublish(flow, provider)
        assert again > 0
        assert _relay(flow, url, [provider])[provider].duplicates == again
        time.sleep(1.1)
        assert _unpublish(flow, provider) == again
        assert _relay(flow, url, [provider])[provider].duplicates == 0  # stored twice now

        # a poison message among the good ones: its key is no integer
        feed = picked.feeds["updated"]
        key = picked.copy.key[0]
        bad = Message(subject(flow.design, provider, table, feed.type), json.dumps({key: "not a number"}).encode(),
                      {MSG_ID: str(uuid.uuid4()), "Wb-Event-Type": feed.type, "Wb-Aggregate-Type": table,
                       "Wb-Aggregate-Id": "x", "Wb-Version": "1"})
        assert _publish(url, [bad])[0].ok
        for _ in range(2):  # the monolith writes on
            flow.monolith.write(updates=8, inserts=3)
        _relay(flow, url)
        assert flow.verify([consumer]), "the copies should be stale before the consumers run"

        _kill_a_consumer_mid_batch(flow, url, tmp_path)
        assert _in_flight(flow, url) > 0  # it died holding delivered, unacknowledged messages
        stats = _consume(flow, url, idle=2.5)  # longer than ack_wait: the killed batches come back
        assert sum(s.applied for s in stats.values()) > 0

        assert flow.verify() == []  # every owned table, replica and read model equals the legacy data
        assert _inbox_by_service(flow) == _expected_inbox(flow)  # each message processed exactly once
        takers = {s for s in flow.design.services if (provider, feed.type) in consumer_plan(flow.design, s).feeds}
        assert consumer in takers
        for service in takers:  # the poison message went to each taker's dead letters, with the reason (twice
            # if the killed consumer sent it and died before terminating it, the 1 s window long past: one id)
            letters = _dead_letters(flow, url, service)
            dead_id = f"dead:{flow.design.service(service).namespace}:{bad.msg_id}"
            assert letters and all(x.headers[MSG_ID] == dead_id and x.data == bad.data and
                                   x.headers[H_DEAD_REASON].startswith(f"column {key} of ") for x in letters)

    finally:
        delete_streams(url, flow.design)


def test_out_of_order_redelivered_and_duplicated_events_change_nothing(flow: Flow) -> None:
    d = flow.design
    picked = _a_copy(d, flow.target)
    plan = consumer_plan(d, picked.consumer)
    table, copy, feeds = picked.table, picked.copy, picked.feeds
    applier = Applier(d, flow.target, plan)
    engine = flow.target.engine(d, picked.consumer)
    t = applier.tables.table(copy.target)
    text = list(picked.columns)[1]
    with engine.connect() as conn:
        row = dict(conn.execute(sa.select(t).order_by(t.c[copy.key[0]]).limit(1)).one()._mapping)
    code = row[copy.key[0]]

    def event(action: str, version: int, value: str | None, message: uuid.UUID | None = None) -> Any:
        payload = {**{k: encode(v) for k, v in row.items()}, text: value}
        incoming = Incoming(message or uuid.uuid4(), feeds[action].provider, feeds[action].type, table, str(code),
                            version, payload)
        return applier.prepare(incoming, feeds[action])

    def name() -> str | None:
        with engine.connect() as conn:
            return conn.execute(sa.select(t.c[text]).where(t.c[copy.key[0]] == code)).scalar()

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


def test_transition_events_from_the_captures_transactions(flow: Flow) -> None:
    """The change capture's own RowChange and SourceTransaction in, the owners' state events out: each
    once however often a batch comes, a column the log left out taken from the owner's row."""
    from workbench.sync import RowChange, SourceTransaction

    d = flow.design
    events = TransitionEvents(d)
    owner = d.owner()["orders"]
    created = next(e for e in d.events if e.table == "orders" and e.action == "created" and e.consumers)
    orders = ServiceTables(d, flow.target, owner).table(d.service(owner).table("orders").table.name)
    with flow.target.engine(d, owner).connect() as conn:
        row = dict(conn.execute(sa.select(orders).order_by(orders.c.id).limit(1)).one()._mapping)
    left_out = next(c for c in reversed(created.payload) if c != "id")
    after = {k: v for k, v in row.items() if k != left_out}  # PostgreSQL's unchanged TOAST value: not in the log
    batch = [
        SourceTransaction("0/16B3748", "731", None, [
            RowChange("orders", "insert", {"id": 10**6}, None, {**row, "id": 10**6}, "0/16B3748", "731", None),
            RowChange("main.orders", "update", {"id": row["id"]}, {"id": row["id"]}, after, "0/16B3748", "731",
                      None, (left_out,)),
            RowChange("orders", "truncate", {}, None, None, "0/16B3748", "731", None),
            RowChange("no_such_table", "insert", {"id": 1}, None, {"id": 1}, "0/16B3748", "731", None)]),
        SourceTransaction("0/16B3800", "732", None, [
            RowChange("orders", "delete", {"id": 10**6}, {"id": 10**6}, None, "0/16B3800", "732", None)])]
    made = {s: [e.type for e in es] for s, es in events.events(batch[0].changes).items()}
    assert made == {owner: [created.type, created.type.replace("Created", "Updated")]}

    stager = Stager(d, flow.target)
    outbox = stager.tables(owner).outbox

    def staged() -> list[tuple[str, str, dict[str, Any]]]:
        with flow.target.engine(d, owner).connect() as conn:
            return [tuple(r) for r in conn.execute(sa.select(outbox.c.type, outbox.c.aggregateid, outbox.c.payload)
                                                   .order_by(outbox.c.seq))]

    stager.listener(batch)
    first = staged()
    assert [(t, a) for t, a, _ in first] == [(created.type, str(10**6)), (created.type.replace("Created", "Updated"),
                                              str(row["id"])), (created.type.replace("Created", "Deleted"), str(10**6))]
    insert, update, delete = (p for _, _, p in first)
    assert set(created.payload) <= set(insert) and insert["_source"] == {"position": "0/16B3748", "transaction": "731",
                                                                          "committed": None}
    assert update[left_out] == encode(row[left_out])  # from the owner's row in the target
    assert delete == {"id": 10**6, "_source": {"position": "0/16B3800", "transaction": "732", "committed": None}}
    assert stager.stage_transactions(batch) == {owner: 0} and staged() == first  # the batch again: nothing new
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


def _first_saga(d: Design) -> Saga:
    """The design's first saga whose go/no-go step runs in another service than the initiator's."""
    for saga in d.sagas:
        pivot = next((s for s in saga.steps if s.kind == "pivot"), None)
        if saga.style == "choreography" and pivot is not None and pivot.service != saga.initiator and \
                saga.steps[0].kind == "compensatable":
            return saga
    pytest.fail(f"no choreography saga with a pivot in another service: {[s.name for s in d.sagas]}")


def _touchable(d: Design, target: Target, service: str, key: str) -> tuple[sa.Table, str, str] | None:
    """The service's own table ``key`` as created, its one-column key and a number column a step can change
    (None when it has none: the step then changes nothing)."""
    name = next(tt.table.name for tt in d.service(service).tables if tt.role == "owned" and tt.source == key)
    t = ServiceTables(d, target, service).table(name)
    pk = [c.name for c in t.primary_key.columns]
    number = next((c.name for c in t.columns if c.name not in pk and not c.name.endswith("_id")
                   and kind_of(c.type).name in ("int", "decimal", "numeric")), None)
    return (t, pk[0], number) if len(pk) == 1 and number is not None else None


def test_the_first_saga_of_the_design_runs_on_events_and_compensates(flow: Flow) -> None:
    """Each step changes a row of its first table (by a saga's amount); the pivot refuses when asked;
    the compensatable steps before it undo their change from the before-values the saga carries."""
    url = shared_broker()
    d, target = flow.design, flow.target
    saga = _first_saga(d)
    pivot = next(s for s in saga.steps if s.kind == "pivot")
    found = {s.order: _touchable(d, target, s.service, s.tables[0]) for s in saga.steps}
    if found[1] is None or found[pivot.order] is None:
        pytest.fail(f"{saga.name}: its first step's or its pivot's table has no number column to change")
    tables = {o: x for o, x in found.items() if x is not None}
    where = {o: (saga.steps[o - 1].service, t.name) for o, (t, _, _) in tables.items()}

    def row(order: int) -> tuple[Any, Any]:
        t, key, number = tables[order]
        with target.engine(d, saga.steps[order - 1].service).connect() as conn:
            return tuple(conn.execute(sa.select(t.c[key], t.c[number]).order_by(t.c[key]).limit(1)).one())

    def step(order: int) -> Any:
        if order not in tables:
            return lambda conn, data: None  # a step that only records: nothing here to change
        t, key, number = tables[order]

        def run(conn: sa.Connection, data: dict[str, Any]) -> dict[str, Any]:
            ident, before = conn.execute(sa.select(t.c[key], t.c[number]).order_by(t.c[key]).limit(1)).one()
            conn.execute(sa.update(t).where(t.c[key] == ident).values({number: t.c[number] + data["amount"]}))
            data[f"before_{order}"] = encode(before)
            if order == pivot.order and data["refuse"]:
                raise StepFailed("refused by the pivot's rule")
            return {key: ident}

        return run

    def undo(order: int) -> Any:
        t, key, number = tables[order]

        def run(conn: sa.Connection, data: dict[str, Any]) -> None:
            ident = conn.execute(sa.select(t.c[key]).order_by(t.c[key]).limit(1)).scalar()
            conn.execute(sa.update(t).where(t.c[key] == ident).values({number: data[f"before_{order}"]}))

        return run

    run = SagaRun(d, target, saga, {s.order: step(s.order) for s in saga.steps},
                  {s.order: undo(s.order) for s in saga.steps if s.kind == "compensatable"})
    start = {o: row(o) for o in tables}
    good = run.start({"amount": 1, "refuse": False})

    def finished(saga_id: str) -> bool:
        return any(r.saga_id == saga_id and (r.step == len(saga.steps) or r.what == "compensated") for r in run.log)

    async def drive(saga_id: str) -> None:
        relay_broker, saga_broker = connect(url), connect(url)
        await relay_broker.connect()
        await saga_broker.connect()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(Relay(d, target, relay_broker, saga.participants, progress=False).run(stop)),
                 asyncio.create_task(run.participate(saga_broker, stop))]
        try:
            deadline = time.monotonic() + 30
            while not finished(saga_id) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
            await relay_broker.close()
            await saga_broker.close()

    try:
        asyncio.run(drive(good))
        assert [(r.step, r.what) for r in run.log if r.saga_id == good] == [(s.order, "done") for s in saga.steps]
        changed = {o: row(o) for o in start}
        for order in start:  # every step changed its row once (a service's steps may share one)
            assert changed[order][1] == start[order][1] + sum(1 for o in where if where[o] == where[order])

        bad = run.start({"amount": 1000, "refuse": True})
        asyncio.run(drive(bad))
        trail = [(r.step, r.what) for r in run.log if r.saga_id == bad]
        undone = [s.order for s in reversed(saga.steps[:pivot.order - 1]) if s.kind == "compensatable"]
        assert trail == [(1, "done"), *((o, "done") for o in range(2, pivot.order)), (pivot.order,
                         "failed: refused by the pivot's rule"), *((o, "compensated") for o in undone)]
        assert {o: row(o) for o in start} == changed  # compensated back; the pivot's change rolled back
        with target.engine(d, saga.initiator).connect() as conn:  # step 1's event carries what the catalog lists
            outbox = ServiceTables(d, target, saga.initiator).outbox
            payload = conn.execute(sa.select(outbox.c.payload).where(outbox.c.type == saga.steps[0].event)
                                   ).scalars().first()
        catalog = next(e for e in d.events if e.service == saga.initiator and e.type == saga.steps[0].event)
        assert set(catalog.payload) & set(tables[1][0].c.keys()) <= set(payload)
        assert payload["_saga"]["name"] == saga.name
    finally:
        delete_streams(url, d)


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_on_a_server_through_the_command_line(backend: str, sample_design: Design, small_sample_path: Path,
                                              tmp_path: Path, request: pytest.FixtureRequest,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.cli import main
    from workbench.events.status import collect
    from workbench.operate.monitor import queries

    url = shared_broker()
    pg_url = request.getfixturevalue("pg_url" if backend == "postgresql" else "mysql_url")
    d = with_prefix(sample_design, f"{sa.make_url(pg_url).database}_")  # MariaDB: databases the fixture drops
    target = Target.parse(pg_url)
    # a consumer with read models, following few services, with a copy PostgreSQL can refuse a value of (a
    # bounded text column)
    def rank(service: str) -> tuple[bool, int, str]:
        plan = consumer_plan(d, service)
        return not any(r.maintained for r in plan.read_models), len(plan.providers) or 99, service

    fewest = sorted(d.services, key=rank)
    picked = _a_copy(d, target, text_length=True, consumers=fewest)
    consumer = picked.consumer
    services = sorted({consumer, *consumer_plan(d, consumer).providers})
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
        copy = picked.copy
        t = ServiceTables(d, target, consumer).table(copy.target)
        column = list(picked.columns)[1]
        with target.engine(d, consumer).connect() as conn:
            row = dict(conn.execute(sa.select(t).limit(1)).one()._mapping)
        feed = picked.feeds["updated"]
        payload = {k: encode(v) for k, v in row.items()}
        payload[column] = "x" * (t.c[column].type.length + 5)
        key = str(row[copy.key[0]])
        bad = Message(subject(d, feed.provider, copy.table, feed.type), json.dumps(payload).encode(),
                      {MSG_ID: str(uuid.uuid4()), "Wb-Event-Type": feed.type, "Wb-Aggregate-Type": copy.table,
                       "Wb-Aggregate-Id": key, "Wb-Version": str(10**12)})
        assert _publish(url, [bad])[0].ok
        monolith.write(updates=6, inserts=2)
        assert main(["events", "relay", *common, "--once", *(x for s in services for x in ("--service", s))]) == 0
        capsys.readouterr()

        assert main(["events", "consume", *common, "--once", "--idle", "1", "--service", consumer]) == 1
        out = capsys.readouterr().out
        refusal = "value too long" if backend == "postgresql" else "Data too long"
        assert "1 dead letters" in out and f"dead letter: the database refused it: {refusal}" in out
        report = verify(monolith.url, pg_url, d, services=[consumer], progress=False)
        assert report.problems() == [] and any(c.role == "projection" for c in report.tables)

        found = {s.service: s for s in collect(d, target, url, services)}
        assert found[consumer].dead_letters == 1 and found[consumer].consumer_lag == 0
        assert all(s.waiting == 0 and s.database == "ok" and s.broker == "ok" for s in found.values())
        assert found[consumer].processed_total and found[consumer].processed_per_s
        assert main(["events", "status", *common, "--service", consumer]) == 0
        assert consumer in capsys.readouterr().out

        watch = {q.name: q.sql for q in queries(d, backend, services=[consumer])}
        with target.engine(d, consumer).connect() as conn:
            assert conn.execute(sa.text(watch["outbox_backlog"])).one()[0] == 0
            (who, processed, last_day, _), = conn.execute(sa.text(watch["processed_growth"])).all()
        assert (who, processed, last_day) == (consumer, found[consumer].processed_total, processed)
    finally:
        delete_streams(url, d)
        target.dispose()
