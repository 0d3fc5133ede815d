"""Replay the sample's simulated workload -- its writes -- against a legacy database at a set rate.

The application of :mod:`workbench.workload.simulate` (checkout: order + stock + payment in one
transaction, shipping, returns, registrations, promotions, month-end refreshes, ...) is played
against the sample loaded into PostgreSQL or MariaDB, as the monolith would: its write
transactions (``BEGIN`` ... ``COMMIT``, some ``ROLLBACK``) and its autocommit writes, in stream
order, on one connection, paced to ``rate`` transactions per second. Reads are left out: they
change nothing the follower could see.

The simulator draws ids it does not know exist (a new order's lines name the id it *guessed* the
order got); the legacy database's own constraints refuse those statements. Each refused statement
is skipped and counted -- PostgreSQL: inside a savepoint, MariaDB: its statement-level rollback --
and the rest of the transaction commits, as an application that catches the error would. What
reaches the log is therefore a realistic mix: multi-table transactions, inserts, updates of hot
rows (stock, counters), deletes, bulk ``INSERT ... SELECT`` and ``DELETE`` of report rows.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from workbench.db import friendly_errors, target_engine
from workbench.workload.simulate import Population, simulate

Step = tuple[str, tuple[Any, ...]]

_IDS = {
    "customers": ("customers", "id"), "products": ("products", "id"), "categories": ("categories", "id"),
    "brands": ("brands", "id"), "orders": ("orders", "id"), "warehouses": ("warehouses", "id"),
    "suppliers": ("tblSupplier", "SupplierID"), "staff": ("staff", "id"), "carriers": ("carriers", "id"),
    "price_lists": ("price_lists", "id"), "promotions": ("promotions", "id"),
    "purchase_orders": ("purchase_orders", "id"), "shipments": ("shipments", "id"), "invoices": ("invoices", "id"),
    "payments": ("payments", "id"), "returns": ("returns", "id"),
}  # fmt: skip
"""Population field -> the sample table and key whose largest value it is."""


@dataclass
class ReplayResult:
    """What a replay did to the legacy database.

    ``commits`` (with ``track``): per committed transaction that changed rows, its id as the log
    names it (PostgreSQL: the 32-bit xid; MariaDB: the GTID) and the wall-clock time of its commit.
    """

    transactions: int = 0
    rolled_back: int = 0
    statements: int = 0
    refused: int = 0
    rows: int = 0
    seconds: float = 0.0
    commits: list[tuple[str, float]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return round(self.transactions / self.seconds, 1) if self.seconds else 0.0


def population(url: str) -> Population:
    """Id ranges of the sample loaded at ``url`` (any scale)."""
    engine = target_engine(url, poolclass=sa.pool.NullPool)
    values: dict[str, int] = {}
    try:
        with friendly_errors(url), engine.connect() as conn:
            prep = conn.dialect.identifier_preparer
            for name, (table, column) in _IDS.items():
                top = conn.exec_driver_sql(f"SELECT MAX({prep.quote(column)}) FROM {prep.quote(table)}").scalar()
                values[name] = max(1, int(top or 1))
    finally:
        engine.dispose()
    return Population(**values)


def _is_write(sql: str) -> bool:
    head = sql.lstrip()[:7].upper()
    return head.startswith(("INSERT", "UPDATE", "DELETE"))


def write_transactions(seed: int, pop: Population, sessions: int = 16) -> Iterator[tuple[list[Step], bool]]:
    """The workload's write transactions in commit order: (statements, rolled back?); endless."""
    open_: dict[int, list[Step]] = {}
    for st in simulate(statements=10**12, seed=seed, sessions=sessions, population=pop):
        if st.txn is None:
            if _is_write(st.sql):
                yield [(st.sql, st.params)], False
            continue
        if st.sql == "BEGIN":
            open_[st.session] = []
            continue
        if st.sql in ("COMMIT", "ROLLBACK"):
            steps = open_.pop(st.session, [])
            if steps:
                yield steps, st.sql == "ROLLBACK"
            continue
        if _is_write(st.sql):
            open_.setdefault(st.session, []).append((st.sql, st.params))


def translate(sql: str, params: tuple[Any, ...], mark: str) -> tuple[str, tuple[Any, ...]]:
    """The portable ``?`` statement in the driver's paramstyle, tuple values expanded into IN lists.

    >>> translate("DELETE FROM t WHERE a = ? AND b IN (?) AND c LIKE '%x'", (1, (2, 3)), "%s")
    ("DELETE FROM t WHERE a = %s AND b IN (%s, %s) AND c LIKE '%%x'", (1, 2, 3))
    """
    text = sql.replace("%", "%%") if mark == "%s" else sql
    pieces = text.split("?")
    out = [pieces[0]]
    values: list[Any] = []
    for piece, value in zip(pieces[1:], params, strict=True):
        if isinstance(value, tuple):
            out.append(", ".join(mark for _ in value))
            values.extend(value)
        else:
            out.append(mark)
            values.append(value)
        out.append(piece)
    return "".join(out), tuple(values)


def replay(url: str, *, rate: float = 50.0, duration: float | None = None, transactions: int | None = None,
           seed: int = 7, track: bool = False, stop: threading.Event | None = None) -> ReplayResult:
    """Replay the workload's writes against ``url`` at ``rate`` transactions/s until ``duration`` s,
    ``transactions`` committed, or ``stop`` is set."""
    pop = population(url)
    engine = target_engine(url, poolclass=sa.pool.NullPool)
    result = ReplayResult()
    started = time.monotonic()
    try:
        with friendly_errors(url), engine.connect() as conn:
            dbapi: Any = conn.connection.driver_connection
            family = conn.dialect.name
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            conn.rollback()
            if family == "mysql":
                with dbapi.cursor() as cur:
                    cur.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')")
            errors: tuple[type[BaseException], ...] = (
                getattr(conn.dialect.loaded_dbapi, "Error", Exception),)
            count = 0
            for steps, rollback in write_transactions(seed, pop):
                if stop is not None and stop.is_set():
                    break
                if duration is not None and time.monotonic() - started >= duration:
                    break
                if transactions is not None and result.transactions >= transactions:
                    break
                due = started + count / rate if rate > 0 else 0
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                count += 1
                _run_transaction(dbapi, family, steps, rollback, mark, errors, result, track)
    finally:
        engine.dispose()
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _statements(cur: Any, steps: list[Step], mark: str, errors: tuple[type[BaseException], ...],
                result: ReplayResult, savepoint: Any) -> int:
    changed = 0
    for sql, params in steps:
        text, values = translate(sql, params, mark)
        result.statements += 1
        try:
            if savepoint is not None:
                with savepoint():  # PostgreSQL: a refused statement must not abort the transaction
                    cur.execute(text, values)
            else:
                cur.execute(text, values)  # MariaDB rolls back the refused statement only
            changed += max(cur.rowcount, 0)
        except errors:
            result.refused += 1
    return changed


def _run_transaction(dbapi: Any, family: str, steps: list[Step], rollback: bool, mark: str,
                     errors: tuple[type[BaseException], ...], result: ReplayResult, track: bool) -> None:
    xid = None
    with dbapi.cursor() as cur:
        if family == "postgresql":
            import psycopg

            with dbapi.transaction() as outer:
                changed = _statements(cur, steps, mark, errors, result, dbapi.transaction)
                if track and changed and not rollback:
                    cur.execute("SELECT pg_current_xact_id()::text")
                    xid = str(int(cur.fetchone()[0]) & 0xFFFFFFFF)
                if rollback:
                    raise psycopg.Rollback(outer)
        else:
            changed = _statements(cur, steps, mark, errors, result, None)
            if rollback:
                dbapi.rollback()
            else:
                dbapi.commit()
        moment = time.time()
        if rollback:
            result.rolled_back += 1
            return
        if track and changed and family == "mysql":
            cur.execute("SELECT @@last_gtid")
            xid = cur.fetchone()[0]
    result.transactions += 1
    result.rows += changed
    if track and xid:
        result.commits.append((xid, moment))


def shuffled(seed: int, items: list[Any]) -> list[Any]:
    """A seeded shuffle (deterministic kill moments in rehearsals)."""
    out = list(items)
    random.Random(seed).shuffle(out)
    return out
