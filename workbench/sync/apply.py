"""Apply committed source transactions to one service's schema, inside the caller's target transaction.

A batch of whole source transactions is folded per target table first (:class:`KeyedPlan`): for
each key only the last state counts -- the whole row to write (an upsert, so a change applied
twice leaves the same row), a delete, or, for a PostgreSQL update that left TOAST values out of
the log, the columns it has (an ``UPDATE`` of those only). Then each table gets one statement per
kind, batched (``executemany``: pipelined by psycopg, multi-row by PyMySQL). A table without a key
keeps its changes in order (:class:`OrderedPlan`): an insert adds a row, a delete removes *one*
row with exactly the old values, an update does both.

Read models touched by the batch are recomputed for the rows the changes touch (see
:mod:`workbench.sync.routes`): deleted on the target by the read-model columns the changes
determine, refilled from the fill SELECT on the legacy database restricted the same way (the
legacy database as it is now: a read model may be ahead of the owned tables, never behind once
the follower has caught up). Coarse read models are only marked: the follower compares them whole.

Foreign keys are not checked while applying (PostgreSQL ``session_replication_role = replica``,
MariaDB ``foreign_key_checks = 0``, SQLite's default): the legacy database checked them, and a
service's slice of a transaction is applied whole with the position in the same commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from workbench.migrate.copy import stream
from workbench.migrate.units import Unit
from workbench.sync.model import RowChange, SourceTransaction
from workbench.sync.reconcile import UnitDiff
from workbench.sync.routes import ProjectionRoute, Routes
from workbench.sync.values import converter

Row = tuple[Any, ...]
CHUNK = 500
"""Keys per ``IN (...)`` list."""

ROWS_PER_STATEMENT = 5_000
"""Rows per PostgreSQL ``INSERT ... SELECT FROM unnest(...)``."""


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Writer:
    """The statements writing one target table, in the target's SQL and paramstyle."""

    def __init__(self, unit: Unit, schema: str | None, dialect: sa.Dialect) -> None:
        prep = dialect.identifier_preparer
        self.unit = unit
        self.dialect = dialect.name
        self.mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.name = (f"{prep.quote_schema(schema)}." if schema else "") + prep.quote(unit.table)
        self.q = prep.quote
        self.columns = list(unit.columns)
        self.key = list(unit.key)
        self._types: list[str] | None = None
        cols = ", ".join(prep.quote(c) for c in self.columns)
        marks = ", ".join(self.mark for _ in self.columns)
        self.insert_sql = f"INSERT INTO {self.name} ({cols}) VALUES ({marks})"
        rest = [c for c in self.columns if c not in self.key]
        if not self.key:
            self.upsert_sql = self.insert_sql
        elif self.dialect == "mysql":
            sets = ", ".join(f"{prep.quote(c)} = VALUES({prep.quote(c)})" for c in rest or self.key[:1])
            self.upsert_sql = f"{self.insert_sql} ON DUPLICATE KEY UPDATE {sets}"
        else:
            target = ", ".join(prep.quote(k) for k in self.key)
            action = ("DO UPDATE SET " + ", ".join(f"{prep.quote(c)} = excluded.{prep.quote(c)}" for c in rest)) \
                if rest else "DO NOTHING"
            self.upsert_sql = f"{self.insert_sql} ON CONFLICT ({target}) {action}"

    def _in(self, columns: Sequence[str], count: int) -> str:
        if len(columns) == 1:
            return f"{self.q(columns[0])} IN ({', '.join(self.mark for _ in range(count))})"
        one = "(" + ", ".join(self.mark for _ in columns) + ")"
        return f"({', '.join(self.q(c) for c in columns)}) IN ({', '.join(one for _ in range(count))})"

    def _array_types(self, conn: sa.Connection) -> list[str] | None:
        """PostgreSQL: each column's type as the catalog spells it (None: a column is an array already)."""
        if self._types is None:
            found: dict[str, str] = dict(conn.execute(sa.text(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0 AND NOT a.attisdropped"),
                {"t": self.name}).all())
            types = [found.get(c, "text") for c in self.columns]
            self._types = [] if any(t.endswith("]") for t in types) else types
        return self._types or None

    def _many(self, conn: sa.Connection, sql: str, rows: list[Row]) -> None:
        """Write many rows with a one-row INSERT's meaning, in as few statements as the target allows.

        PostgreSQL: one ``INSERT ... SELECT * FROM unnest(%s::type[], ...)`` per chunk -- one array per
        column, so the statement stays short whatever the rows; MariaDB: ``executemany``, which PyMySQL
        sends as multi-row INSERTs; SQLite: ``executemany`` (in-process, no round trips).
        """
        if not rows:
            return
        types = self._array_types(conn) if self.dialect == "postgresql" else None
        if types is None:
            conn.exec_driver_sql(sql, rows)
            return
        head, _, tail = sql.partition(" VALUES ")
        rest = tail.partition(")")[2]
        arrays = ", ".join(f"CAST({self.mark} AS {t}[])" for t in types)
        statement = f"{head} SELECT * FROM unnest({arrays}){rest}"
        for part in _chunks(rows, ROWS_PER_STATEMENT):
            conn.exec_driver_sql(statement, tuple(list(column) for column in zip(*part, strict=True)))

    def upsert(self, conn: sa.Connection, rows: list[Row]) -> None:
        self._many(conn, self.upsert_sql, rows)

    def insert(self, conn: sa.Connection, rows: list[Row]) -> None:
        self._many(conn, self.insert_sql, rows)

    def delete_where(self, conn: sa.Connection, columns: Sequence[str], values: list[Row]) -> None:
        """Delete the rows whose ``columns`` equal one of ``values``."""
        for part in _chunks(values):
            params = tuple(v for row in part for v in row)
            conn.exec_driver_sql(f"DELETE FROM {self.name} WHERE {self._in(columns, len(part))}", params)

    def delete_keys(self, conn: sa.Connection, keys: list[Row]) -> None:
        if keys:
            self.delete_where(conn, self.key, keys)

    def patch(self, conn: sa.Connection, columns: Sequence[str], rows: list[Row]) -> None:
        """``UPDATE`` only ``columns`` (rows: their values, then the key's)."""
        sets = ", ".join(f"{self.q(c)} = {self.mark}" for c in columns)
        where = " AND ".join(f"{self.q(k)} = {self.mark}" for k in self.key)
        conn.exec_driver_sql(f"UPDATE {self.name} SET {sets} WHERE {where}", rows)

    def delete_one(self, conn: sa.Connection, rows: list[Row]) -> None:
        """Delete one row with exactly these values per row given (a table without a key)."""
        if not rows:
            return
        if self.dialect == "postgresql":
            match = " AND ".join(f"{self.q(c)} IS NOT DISTINCT FROM {self.mark}" for c in self.columns)
            sql = f"DELETE FROM {self.name} WHERE ctid = (SELECT ctid FROM {self.name} WHERE {match} LIMIT 1)"
        elif self.dialect == "mysql":
            match = " AND ".join(f"{self.q(c)} <=> {self.mark}" for c in self.columns)
            sql = f"DELETE FROM {self.name} WHERE {match} LIMIT 1"
        else:
            match = " AND ".join(f"{self.q(c)} IS {self.mark}" for c in self.columns)
            sql = f"DELETE FROM {self.name} WHERE rowid = (SELECT rowid FROM {self.name} WHERE {match} LIMIT 1)"
        conn.exec_driver_sql(sql, rows)

    def delete_all(self, conn: sa.Connection) -> None:
        conn.exec_driver_sql(f"DELETE FROM {self.name}")


@dataclass
class KeyedPlan:
    """The net effect of a batch's changes on a table with a key: per key, the last state."""

    unit: Unit
    ops: dict[Row, tuple[str, dict[str, Any] | None]] = field(default_factory=dict)
    truncated: bool = False

    def key_of(self, image: dict[str, Any] | None) -> Row | None:
        if not image:
            return None
        try:
            return tuple(image[k] for k in self.unit.key)
        except KeyError:
            return None

    def add(self, c: RowChange) -> None:
        if c.op == "truncate":
            self.ops.clear()
            self.truncated = True
            return
        if c.op == "delete":
            key = self.key_of(c.before) or self.key_of(c.key)
            if key is not None:
                self.ops[key] = ("del", None)
            return
        key = self.key_of(c.after)
        if key is None:
            return
        if c.op == "update":
            old = self.key_of(c.before)
            if old is not None and old != key:
                self.ops[old] = ("del", None)
        missing = [col for col in self.unit.columns if c.after is None or col not in c.after]
        if not missing:
            self.ops[key] = ("put", c.after)
            return
        present = {col: c.after[col] for col in self.unit.columns if c.after and col in c.after}
        previous = self.ops.get(key)
        if previous is not None and previous[0] in ("put", "patch") and previous[1] is not None:
            merged = dict(previous[1])
            merged.update(present)
            self.ops[key] = (previous[0], merged)
        else:
            self.ops[key] = ("patch", present)


@dataclass
class OrderedPlan:
    """A table without a key: its changes in order (insert a row, delete one row with these values)."""

    unit: Unit
    ops: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    truncated: bool = False
    skipped: int = 0

    def add(self, c: RowChange) -> None:
        cols = self.unit.columns
        if c.op == "truncate":
            self.ops.clear()
            self.truncated = True
            return
        if c.op in ("delete", "update"):
            if c.before is None or any(col not in c.before for col in cols):
                self.skipped += 1  # no whole old row in the log: nothing identifies the row
            else:
                self.ops.append(("del", c.before))
        if c.op in ("insert", "update") and c.after is not None:
            self.ops.append(("ins", c.after))


class ServiceApplier:
    """Applies batches of source transactions, and reconciliation diffs, to one service's tables."""

    def __init__(self, service: str, routes: Routes, schema: str | None, dialect: sa.Dialect,
                 source_dialect: str) -> None:
        self.service = service
        self.schema = schema
        self.dialect = dialect
        self.source_dialect = source_dialect
        self.units = routes.services[service]
        self.rows: dict[str, list[Unit]] = defaultdict(list)
        self.projections: dict[str, list[ProjectionRoute]] = defaultdict(list)
        labels = {u.label for u in self.units}
        for table, route in routes.tables.items():
            self.rows[table] = [u for u in route.rows if u.label in labels]
            self.projections[table] = [p for p in route.projections if p.unit.label in labels]
        self._writers: dict[str, Writer] = {}
        self._converters: dict[tuple[str, tuple[str, ...], str], Callable[[Sequence[Any]], Row]] = {}

    def wants(self, table: str) -> bool:
        return bool(self.rows.get(table) or self.projections.get(table))

    def writer(self, unit: Unit) -> Writer:
        if unit.label not in self._writers:
            self._writers[unit.label] = Writer(unit, self.schema, self.dialect)
        return self._writers[unit.label]

    def convert(self, unit: Unit, columns: Sequence[str], origin: str) -> Callable[[Sequence[Any]], Row]:
        """Converter for ``columns`` of ``unit`` from ``origin`` values (a source dialect, or ``python``)."""
        key = (unit.label, tuple(columns), origin)
        if key not in self._converters:
            self._converters[key] = converter([unit.kind(c) for c in columns], origin, self.dialect.name)
        return self._converters[key]

    # -- log changes ---------------------------------------------------------------------------------

    def apply(self, conn: sa.Connection, txns: list[SourceTransaction],
              source: sa.Engine | None) -> tuple[int, set[str]]:
        """Apply the service's changes of ``txns``; (row changes applied, labels of coarse read models touched)."""
        plans: dict[str, KeyedPlan | OrderedPlan] = {}
        wanted: dict[str, dict[tuple[str, ...], set[Row]]] = defaultdict(lambda: defaultdict(set))
        coarse: set[str] = set()
        units = {u.label: u for u in self.units}
        count = 0
        for txn in txns:
            for c in txn.changes:
                rows, projections = self.rows.get(c.table), self.projections.get(c.table)
                if not rows and not projections:
                    continue
                count += 1
                for unit in rows or ():
                    plan = plans.get(unit.label)
                    if plan is None:
                        plan = plans[unit.label] = KeyedPlan(unit) if unit.key else OrderedPlan(unit)
                    plan.add(c)
                for pr in projections or ():
                    if pr.recompute is None or c.op == "truncate":
                        coarse.add(pr.unit.label)
                        continue
                    if c.op == "update" and pr.used is not None and c.before and c.after and \
                            all(col in c.before and col in c.after and c.before[col] == c.after[col]
                                for col in pr.used):
                        continue  # the log has both images and nothing the read model reads changed
                    for rc in pr.recompute:
                        for image in (c.before, c.after):
                            if image and all(image.get(col) is not None for col in rc.table_columns):
                                wanted[pr.unit.label][rc.rm_columns].add(tuple(image[col] for col in rc.table_columns))
        for plan in plans.values():
            self._write_plan(conn, plan)
        if wanted and source is not None:
            with source.connect() as sconn:
                for label, by_columns in wanted.items():
                    self._recompute(conn, sconn, units[label], by_columns)
        return count, coarse

    def _write_plan(self, conn: sa.Connection, plan: KeyedPlan | OrderedPlan) -> None:
        unit, w = plan.unit, self.writer(plan.unit)
        if plan.truncated:
            w.delete_all(conn)
        full = self.convert(unit, unit.columns, self.source_dialect)
        if isinstance(plan, OrderedPlan):
            run: list[Row] = []
            kind = ""
            for op, image in [*plan.ops, ("end", {})]:
                if op != kind and run:
                    (w.insert if kind == "ins" else w.delete_one)(conn, run)
                    run = []
                kind = op
                if op != "end":
                    run.append(full([image.get(c) for c in unit.columns]))
            return
        key_conv = self.convert(unit, unit.key, self.source_dialect)
        deletes = [key_conv(k) for k, (op, _) in plan.ops.items() if op == "del"]
        w.delete_keys(conn, deletes)
        puts = [full([image[c] for c in unit.columns]) for op, image in plan.ops.values()
                if op == "put" and image is not None]
        w.upsert(conn, puts)
        patches: dict[tuple[str, ...], list[Row]] = defaultdict(list)
        for key, (op, patch) in plan.ops.items():
            if op == "patch" and patch:
                cols = tuple(c for c in unit.columns if c in patch and c not in unit.key)
                if cols:
                    patches[cols].append(self.convert(unit, cols, self.source_dialect)([patch[c] for c in cols])
                                         + key_conv(key))
        for cols, rows in patches.items():
            w.patch(conn, cols, rows)

    def _recompute(self, conn: sa.Connection, sconn: sa.Connection, unit: Unit,
                   by_columns: dict[tuple[str, ...], set[Row]]) -> None:
        """Delete the read-model rows matching the changes and refill them from the legacy database."""
        w = self.writer(unit)
        sub = unit.source_from(self.source_dialect)
        select_cols = [sub.c[c] for c in unit.columns]
        fresh: dict[Row, Row] = {}
        full = self.convert(unit, unit.columns, self.source_dialect)
        positions = [unit.columns.index(k) for k in unit.key]
        for columns, values in by_columns.items():
            ordered = sorted(values, key=repr)
            w.delete_where(conn, columns, [self.convert(unit, columns, self.source_dialect)(v) for v in ordered])
            for part in _chunks(ordered):
                if len(columns) == 1:
                    cond = sub.c[columns[0]].in_([v[0] for v in part])
                else:
                    cond = sa.tuple_(*(sub.c[c] for c in columns)).in_([tuple(v) for v in part])
                for row in sconn.execute(sa.select(*select_cols).where(cond)):
                    converted = full(tuple(row))
                    fresh[tuple(converted[i] for i in positions)] = converted
        w.upsert(conn, list(fresh.values()))

    # -- reconciliation diffs -----------------------------------------------------------------------------

    def apply_diff(self, conn: sa.Connection, d: UnitDiff, source: sa.Connection | None = None,
                   chunk: int = 5_000) -> int:
        """Write a :class:`UnitDiff`; rows written. ``source`` streams a keyless table that is replaced whole."""
        unit, w = d.unit, self.writer(d.unit)
        typed = self.convert(unit, unit.columns, "python")
        if d.replace:
            if source is None:
                raise ValueError("a whole-table replacement needs the source connection")
            w.delete_all(conn)
            raw = self.convert(unit, unit.columns, self.source_dialect)
            written = 0
            for rows in stream(source, unit.source_select(self.source_dialect), chunk):
                w.insert(conn, [raw(r) for r in rows])
                written += len(rows)
            return written
        if unit.key:
            positions = [unit.columns.index(k) for k in unit.key]
            w.delete_keys(conn, [tuple(typed(r)[i] for i in positions) for r in d.deleted])
            w.upsert(conn, [typed(r) for r in d.inserted] + [typed(new) for _, new in d.updated])
        else:
            w.delete_one(conn, [typed(r) for r in d.deleted])
            w.insert(conn, [typed(r) for r in d.inserted])
        return d.count
