"""Copy one unit's rows from the legacy database to the target: streamed in key order, in chunks.

Each chunk is written with the target's bulk path -- PostgreSQL ``COPY ... FROM STDIN`` through
psycopg, batched multi-row ``INSERT`` (``executemany``) on MariaDB and SQLite -- together with its
checkpoint row, in one transaction (see :mod:`workbench.migrate.checkpoint`). The legacy side is
one streaming SELECT per unit (a server-side cursor on PostgreSQL, an unbuffered one on MariaDB),
resumed after the last committed key, or for a keyless legacy table after the rows already copied;
a keyless read model is written in one transaction. A read model whose fill passes
:data:`EXPLOSION` times the design's row estimate stops: its join multiplies rows.

When the target refuses a chunk (a constraint, a value out of range), the chunk is rolled back and
replayed row by row, without committing, to name the row the target refuses: the unit stops with
that row's key and the database's own message; nothing of the chunk stays behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from tqdm import tqdm

from workbench.db import scrub
from workbench.design.ddl import dialect_of
from workbench.migrate import checkpoint
from workbench.migrate.units import Unit

Row = tuple[Any, ...]

EXPLOSION = 10
"""A read model filling more than this many times the design's row estimate stops: its join multiplies rows."""

EXPLOSION_FLOOR = 100_000
"""... but never below this many rows (estimates of small tables are rough)."""


def step_name(unit: Unit) -> str:
    """The checkpoint step of a unit."""
    return f"copy:{unit.table}"


# -- the legacy side ------------------------------------------------------------------------------

def _binary(col: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """A text column compared by code point (ties only between equal strings) on MariaDB."""
    return sa.collate(col, "utf8mb4_bin") if dialect == "mysql" else col


def after(cols: Sequence[sa.ColumnElement[Any]], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """``(c1, c2, ...) > (v1, v2, ...)`` in lexicographic order, spelled with AND/OR (index friendly everywhere).

    >>> str(after([sa.column("a"), sa.column("b")], [1, 2]).compile(compile_kwargs={"literal_binds": True}))
    'a > 1 OR a = 1 AND b > 2'
    """
    terms = []
    for i, col in enumerate(cols):
        equal = [cols[j] == values[j] for j in range(i)]
        terms.append(sa.and_(*equal, col > values[i]))
    return sa.or_(*terms)


def source_query(unit: Unit, dialect: str, state: checkpoint.StepState) -> sa.Select[Any]:
    """The unit's legacy rows in copy order, after what ``state`` says was committed."""
    select = unit.source_select(dialect)
    cols = {c.name: c for c in select.selected_columns}
    if unit.key:
        key = [cols[k] for k in unit.key]
        select = select.order_by(*key)
        if state.last_key is not None:
            select = select.where(after(key, list(state.last_key)))
        return select
    if unit.projection is None and dialect == "sqlite":
        select = select.order_by(sa.literal_column("rowid"))
    else:
        text_kinds = {"text", "char", "json", "uuid", "other"}
        select = select.order_by(*(_binary(cols[c], dialect) if unit.kind(c).name in text_kinds else cols[c]
                                   for c in unit.columns))
    return select.offset(state.rows) if state.rows else select


def stream(conn: sa.Connection, query: sa.Select[Any], size: int) -> Iterator[list[Row]]:
    """The query's rows as lists of plain tuples, ``size`` at a time, without buffering the whole result."""
    result = conn.execution_options(stream_results=True, yield_per=size).execute(query)
    try:
        while True:
            rows = result.fetchmany(size)
            if not rows:
                return
            yield [tuple(r) for r in rows]
    finally:
        result.close()


# -- the target side ------------------------------------------------------------------------------

def _adapt_value(value: Any, target: str) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if target == "sqlite":
        if isinstance(value, Decimal | uuid.UUID | dt.timedelta):
            return str(value)
        if isinstance(value, dt.datetime):
            return value.isoformat(" ")
        if isinstance(value, dt.date | dt.time):
            return value.isoformat()
        if isinstance(value, memoryview):
            return value.tobytes()
    elif target == "mysql" and isinstance(value, uuid.UUID):
        return value.hex
    return value


def adapter(source: str, target: str) -> Callable[[list[Row]], list[Row]] | None:
    """What raw legacy values need before the target's driver takes them (None: nothing).

    A SQLite source yields only int, float, str, bytes and None, which every target driver takes.
    """
    if source == "sqlite":
        return None

    def adapt(rows: list[Row]) -> list[Row]:
        return [tuple(_adapt_value(v, target) for v in row) for row in rows]

    return adapt


def _qualified(conn: sa.Connection, name: str, schema: str | None) -> str:
    prep = conn.dialect.identifier_preparer
    return (f"{prep.quote_schema(schema)}." if schema else "") + prep.quote(name)


def insert_sql(conn: sa.Connection, name: str, schema: str | None, columns: Sequence[str]) -> str:
    """A parameterised single-row INSERT in the driver's paramstyle (executemany batches it)."""
    prep = conn.dialect.identifier_preparer
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cols = ", ".join(prep.quote(c) for c in columns)
    return f"INSERT INTO {_qualified(conn, name, schema)} ({cols}) VALUES ({', '.join(mark for _ in columns)})"


def write(conn: sa.Connection, dialect: str, name: str, schema: str | None, columns: Sequence[str],
          rows: list[Row]) -> None:
    """Write ``rows`` with the target's bulk path, inside the caller's transaction."""
    if dialect == "postgresql":  # COPY goes without parameters: names quoted without doubling '%'
        prep = dialect_of(dialect).identifier_preparer
        cols = ", ".join(prep.quote(c) for c in columns)
        table = (f"{prep.quote_schema(schema)}." if schema else "") + prep.quote(name)
        raw: Any = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        conn.exec_driver_sql(insert_sql(conn, name, schema, columns), rows)


class UnitStopped(Exception):
    """A unit cannot be completed: the row the target refused (its key and the database's message),
    or a read model whose fill multiplies rows far beyond the design's estimate."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"{where}: {detail}")
        self.where, self.detail = where, detail


def _error_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    return scrub(lines[0] if lines else type(orig).__name__)


def _describe(unit: Unit, row: Row) -> str:
    if unit.key:
        positions = [unit.columns.index(k) for k in unit.key]
        return f"the row with key ({', '.join(unit.key)})=({', '.join(repr(row[i]) for i in positions)})"
    shown = ", ".join(f"{c}={v!r}" for c, v in list(zip(unit.columns, row, strict=True))[:4])
    return f"the row ({shown}{', ...' if len(unit.columns) > 4 else ''}) (no key)"


def find_rejected(
    engine: sa.Engine, dialect: str, unit: Unit, schema: str | None, rows: list[Row]
) -> UnitStopped | None:
    """Replay ``rows`` one by one in a transaction that is rolled back; the first row refused, if any."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            sql = insert_sql(conn, unit.table, schema, unit.columns)
            for row in rows:
                try:
                    conn.exec_driver_sql(sql, row)
                except sa.exc.DBAPIError as exc:
                    if exc.connection_invalidated:
                        raise
                    return UnitStopped(unit.label, f"the target rejected {_describe(unit, row)}: {_error_line(exc)}")
        finally:
            trans.rollback()
    return None


@dataclass
class CopyOutcome:
    """What one run did to a unit."""

    rows: int
    copied: int
    chunks: int
    resumed: bool
    already_done: bool = False


def _fill_fingerprint(unit: Unit, dialect: sa.Dialect, ceiling: int) -> str:
    """A short digest of a read model's fill and limit: a stop is remembered for exactly this fill."""
    text = str(unit.source_select(dialect.name).compile(dialect=dialect))
    return hashlib.sha256(f"{text}|{ceiling}".encode()).hexdigest()[:16]


def copy_unit(unit: Unit, source: sa.Engine, target: sa.Engine, target_dialect: str, schema: str | None,
              chunk_size: int, progress: bool | None = None, state: checkpoint.StepState | None = None) -> CopyOutcome:
    """Copy the unit's rows that are not on the target yet; raises :class:`UnitStopped` on a refused row.

    ``state`` is the unit's checkpoint as read before (read now when None). A keyless read model
    (its rows have no order to resume in, and sorting a wide join to make one can cost more than
    the copy) is written in one transaction: a kill rolls it back whole, the rerun starts it over.
    """
    step = step_name(unit)
    if state is None:
        with target.connect() as conn:
            state = checkpoint.read(conn, schema).get(step, checkpoint.StepState())
    if state.done:
        return CopyOutcome(state.rows, 0, 0, False, already_done=True)
    source_dialect = source.dialect.name
    adapt = adapter(source_dialect, target_dialect)
    dbapi_error: type[Exception] = getattr(target.dialect.loaded_dbapi, "Error", sa.exc.DBAPIError)
    key_positions = [unit.columns.index(k) for k in unit.key]
    atomic = unit.projection is not None and not unit.key
    if atomic:
        state = checkpoint.StepState()
    outcome = CopyOutcome(state.rows, 0, 0, resumed=state.chunk > 0)
    chunk, rows_total = state.chunk, state.rows
    total = max(unit.rows_hint or 0, rows_total) or None
    ceiling = max(int(EXPLOSION * unit.rows_hint), EXPLOSION_FLOOR) if unit.projection is not None and unit.rows_hint \
        else None
    query = source_query(unit, source_dialect, state) if not atomic else unit.source_select(source_dialect)
    explosion = None
    if ceiling is not None:
        explosion = UnitStopped(unit.label, f"the read model's fill yields more than {ceiling:,} rows, {EXPLOSION} "
                                            f"times the design's estimate ({unit.rows_hint:,}): its join multiplies "
                                            "rows (a join predicate left out?): fix the projection in the design, "
                                            "then migrate the service afresh")
        fingerprint = _fill_fingerprint(unit, source.dialect, ceiling)
        with target.connect() as conn:
            if checkpoint.read(conn, schema).get(f"stopped:{unit.table}:{fingerprint}"):
                raise explosion  # the same fill stopped before: no need to stream it again
    bar = tqdm(total=total, initial=rows_total, desc=unit.label, unit=" rows",
               disable=None if progress is None else not progress, leave=False, dynamic_ncols=True)
    whole = target.connect() if atomic else None
    whole_tx = whole.begin() if whole is not None else None
    try:
        with source.connect() as sconn:
            for rows in stream(sconn, query, chunk_size):
                if adapt is not None:
                    rows = adapt(rows)
                last = tuple(rows[-1][i] for i in key_positions) if key_positions else None
                if explosion is not None and rows_total + len(rows) > (ceiling or 0):
                    if whole is not None:
                        whole.close()  # roll back what this run wrote, then remember why it stopped
                        whole = None
                    with target.begin() as conn:
                        checkpoint.finish(conn, schema, f"stopped:{unit.table}:{fingerprint}")
                    raise explosion
                try:
                    if whole is not None:
                        write(whole, target_dialect, unit.table, schema, unit.columns, rows)
                        checkpoint.record(whole, schema, step, chunk + 1, rows_total + len(rows), last)
                    else:
                        with target.begin() as conn:
                            write(conn, target_dialect, unit.table, schema, unit.columns, rows)
                            checkpoint.record(conn, schema, step, chunk + 1, rows_total + len(rows), last)
                except (sa.exc.DBAPIError, dbapi_error) as exc:  # COPY raises the driver's own errors
                    if getattr(exc, "connection_invalidated", False):
                        raise
                    if whole_tx is not None:
                        whole_tx.rollback()  # release the table before replaying the chunk elsewhere
                    rejected = find_rejected(target, target_dialect, unit, schema, rows)
                    raise rejected or UnitStopped(unit.label, f"the target rejected a chunk of {len(rows)} rows: "
                                                              f"{_error_line(exc)}") from None
                chunk += 1
                rows_total += len(rows)
                outcome.copied += len(rows)
                outcome.chunks += 1
                bar.update(len(rows))
        if whole is not None and whole_tx is not None:
            checkpoint.finish(whole, schema, step, rows_total)
            whole_tx.commit()
        else:
            with target.begin() as conn:
                checkpoint.finish(conn, schema, step, rows_total)
    finally:
        bar.close()
        if whole is not None:
            whole.close()  # rolls back whatever was not committed
    outcome.rows = rows_total
    return outcome
