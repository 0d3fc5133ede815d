"""Helpers of the event-flow tests: a monolith that keeps writing, brokers to run on, stream cleanup.

:class:`Monolith` writes to a copy of the legacy database (updates, inserts, deletes across every
table some service follows), records each write as a row change the way change capture reports it,
and does on the target what the change-capture follower does: applies the owned rows and, in the
same target transaction, stages the owners' events through :class:`workbench.events.capture.Stager`.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from servers import missing

from workbench.design.model import Design
from workbench.events.broker import connect
from workbench.events.capture import Stager
from workbench.events.codec import decoder, encode
from workbench.events.topology import stream_name
from workbench.migrate.canon import kind_of
from workbench.migrate.target import Target

NATS_URL = os.environ.get("WORKBENCH_TEST_NATS", "nats://127.0.0.1:4222")
NATS_SERVER = os.environ.get("WORKBENCH_NATS_SERVER", "/usr/sbin/nats-server")


@dataclass
class Change:
    """A row change as ``workbench.sync.RowChange`` reports it (what ``workbench.events.capture`` reads)."""

    table: str
    op: str
    key: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    position: Any = None
    xid: Any = None
    commit_time: Any = None


def shared_broker() -> str:
    """The machine's NATS server (skips locally, fails under CI=true, when it is not running)."""
    async def probe() -> None:
        broker = connect(NATS_URL)
        await broker.connect()
        await broker.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # noqa: BLE001 - any failure means "no broker"
        missing(f"NATS at {NATS_URL} is not reachable: {exc}")
    return NATS_URL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnBroker:
    """A nats-server of the test's own (never the machine's), on a free port, that it may kill and restart."""

    def __init__(self, store: Path) -> None:
        if not Path(NATS_SERVER).exists():
            missing(f"{NATS_SERVER} is not installed")
        self.port = _free_port()
        self.store = store
        self.url = f"nats://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd",
                                      str(self.store)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nats-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


@contextmanager
def own_broker(tmp: Path) -> Iterator[OwnBroker]:
    broker = OwnBroker(tmp / "nats")
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


def delete_streams(url: str, design: Design) -> None:
    """Delete the streams of the design's services (the test's own: their names carry its prefix)."""
    async def run() -> None:
        broker = connect(url)
        await broker.connect()
        try:
            for service in design.services:
                await broker.delete_stream(stream_name(design, service))
        finally:
            await broker.close()

    asyncio.run(run())


class Monolith:
    """The legacy database (a copy) writing on, followed into the target as change capture would."""

    def __init__(self, legacy: Path, design: Design, target: Target, seed: int = 3,
                 services: list[str] | None = None) -> None:
        self.url = f"sqlite:///{legacy}"
        self.design = design
        self.target = target
        self.stager = Stager(design, target)
        self.rng = random.Random(seed)
        self.owner = design.owner()
        self.engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        md = sa.MetaData()
        md.reflect(self.engine)
        self.tables = {t.name: t for t in md.tables.values()}
        referred = {fk.column.table.name for t in md.tables.values() for fk in t.foreign_keys}
        followed = {e.table for e in design.events if e.action == "updated" and e.consumers}
        self.followed = sorted(t for t in followed if t in self.tables and t in self.owner and
                               self.tables[t].primary_key.columns and (services is None or self.owner[t] in services))
        self.unreferenced = {t for t in self.followed if t not in referred}
        self.targets: dict[str, dict[str, sa.Table]] = {}
        self.positions = 0

    @classmethod
    def copy_of(cls, sample: Path, tmp: Path, design: Design, target: Target, seed: int = 3,
                services: list[str] | None = None) -> Monolith:
        legacy = tmp / "legacy.sqlite"
        shutil.copy(sample, legacy)
        return cls(legacy, design, target, seed, services)

    # -- writing on the legacy database ---------------------------------------------------------------
    def _changeable(self, t: sa.Table) -> list[sa.Column[Any]]:
        pk = {c.name for c in t.primary_key.columns}
        unique = {c for ix in t.indexes if ix.unique for c in ix.columns.keys()}
        unique |= {c for con in t.constraints if isinstance(con, sa.UniqueConstraint) for c in con.columns.keys()}
        out = []
        for c in t.columns:
            if c.name in pk or c.name in unique or c.foreign_keys or c.name.endswith("_id"):
                continue
            kind = kind_of(c.type).name
            length = getattr(c.type, "length", None)
            if kind in ("int", "decimal", "numeric", "float") or (kind == "text" and (length is None or length > 12)):
                out.append(c)
        return out

    def _changed(self, t: sa.Table, row: dict[str, Any], tag: str) -> dict[str, Any]:
        after = dict(row)
        for c in self._changeable(t)[:2]:
            v = after[c.name]
            if isinstance(v, str):
                after[c.name] = (v[:-1] if len(v) > 1 else v) + tag
            elif isinstance(v, int | float) and not isinstance(v, bool):
                after[c.name] = v + 1
        return after

    def write(self, updates: int = 4, inserts: int = 2) -> list[list[Change]]:
        """One round of writes on every followed table; returns the source transactions (one per table)."""
        transactions: list[list[Change]] = []
        with self.engine.begin() as conn:
            for name in self.followed:
                t = self.tables[name]
                pk = [c.name for c in t.primary_key.columns]
                rows = [dict(r._mapping) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
                if not rows:
                    continue
                txn: list[Change] = []
                for row in self.rng.sample(rows, min(updates, len(rows))):
                    after = self._changed(t, row, self.rng.choice("XYZ"))
                    conn.execute(sa.update(t).where(*(t.c[k] == row[k] for k in pk))
                                 .values({k: v for k, v in after.items() if k not in pk}))
                    txn.append(self._change(name, "update", pk, row, after))
                int_key = len(pk) == 1 and kind_of(t.c[pk[0]].type).name == "int"
                if int_key and self._insertable(t):
                    top = max(r[pk[0]] for r in rows)
                    for i in range(inserts):
                        new = self._changed(t, dict(self.rng.choice(rows)), "N")
                        new[pk[0]] = top + 1 + i
                        for c in t.columns:  # unique text columns get a unique value
                            if c.name != pk[0] and isinstance(new[c.name], str) and c in self._unique(t):
                                tail = f"-{new[pk[0]]}"
                                room = (getattr(c.type, "length", None) or 30) - len(tail)
                                new[c.name] = new[c.name][:max(room, 1)] + tail
                        conn.execute(sa.insert(t).values(new))
                        txn.append(self._change(name, "insert", pk, None, new))
                    gone = dict(conn.execute(sa.select(t).where(t.c[pk[0]] == top + 1)).one()._mapping)
                    conn.execute(sa.delete(t).where(t.c[pk[0]] == top + 1))
                    txn.append(self._change(name, "delete", pk, gone, None))
                if name in self.unreferenced and len(rows) > 5:
                    victim = self.rng.choice(rows[:-1])
                    conn.execute(sa.delete(t).where(*(t.c[k] == victim[k] for k in pk)))
                    txn.append(self._change(name, "delete", pk, victim, None))
                transactions.append(txn)
        for txn in transactions:
            self.follow(txn)
        return transactions

    def _unique(self, t: sa.Table) -> set[sa.Column[Any]]:
        out = {c for ix in t.indexes if ix.unique for c in ix.columns}
        out |= {c for con in t.constraints if isinstance(con, sa.UniqueConstraint) for c in con.columns}
        return out

    def _insertable(self, t: sa.Table) -> bool:
        pk = set(t.primary_key.columns)
        return all(kind_of(c.type).name == "text" for c in self._unique(t) - pk)

    def _change(self, table: str, op: str, pk: list[str], before: dict[str, Any] | None,
                after: dict[str, Any] | None) -> Change:
        self.positions += 1
        row = after if after is not None else before
        assert row is not None
        return Change(table, op, {k: row[k] for k in pk}, before, after, position=self.positions,
                      xid=f"tx{self.positions}")

    # -- following it on the target (what workbench.sync does) ------------------------------------------
    def _target_table(self, service: str, table: str) -> sa.Table:
        tables = self.targets.setdefault(service, {})
        if table not in tables:
            svc = self.design.service(service)
            name = next(tt.table.name for tt in svc.tables if tt.role == "owned" and tt.source == table)
            from workbench.design.schemas import service_metadata

            md = service_metadata(self.design, service, self.target.dialect)
            tables[table] = next(t for t in md.tables.values() if t.name == name)
        return tables[table]

    def follow(self, txn: list[Change]) -> None:
        """Apply one source transaction to the owners' tables, staging its events in the same transaction."""
        for service in sorted({self.owner[c.table] for c in txn}):
            mine = [c for c in txn if self.owner[c.table] == service]
            with self.target.engine(self.design, service).begin() as conn:
                for c in mine:
                    t = self._target_table(service, c.table)
                    where = [t.c[k] == self._typed(t, k, v) for k, v in c.key.items()]
                    values = {k: self._typed(t, k, v) for k, v in (c.after or {}).items()}
                    if c.op == "update":
                        conn.execute(sa.update(t).where(*where).values(values))
                    elif c.op == "insert":
                        conn.execute(sa.insert(t).values(values))
                    else:
                        conn.execute(sa.delete(t).where(*where))
                self.stager.stage(conn, service, mine)

    @staticmethod
    def _typed(t: sa.Table, column: str, value: Any) -> Any:
        return decoder(kind_of(t.c[column].type))(encode(value))
