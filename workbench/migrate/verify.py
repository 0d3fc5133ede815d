"""``workbench verify``: proof that the target holds exactly the legacy rows the design asked for.

Per filled table (see :mod:`~workbench.migrate.units`), legacy side against target side:

1. row count and checksum of the whole table -- the count and the sum of 60-bit row hashes over
   canonical values (:mod:`~workbench.migrate.canon`), computed in the database wherever it can be,
   so a SQLite legacy table compares with its PostgreSQL or MariaDB copy;
2. when they differ, the key range is bisected (split at the median key of the side with more
   rows, as data-diff does) and only the halves whose checksums differ are followed, down to
   ranges of a few rows, which are fetched and compared row by row: ``missing`` (only in the
   legacy database), ``extra`` (only in the target), ``changed`` (with the columns that differ);
   a table without any key is compared as a multiset of rows;

then, on the target, every foreign key inside each service (rows pointing at nothing), and every
reference to another service's table (a former foreign key that no database checks any more):
those that dangle are listed, and those the legacy database did not already have count as a
difference. Key ranges are compared by code point (``COLLATE "C"``, ``utf8mb4_bin``), so sides
with different collations bisect alike.

The report holds keys and column names, never the values of the rows that differ (except for a
keyless table, whose rows have nothing else to identify them: their first values, truncated).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, cast

import sqlalchemy as sa
from tqdm import tqdm

from workbench import serde
from workbench.db import friendly_errors, mask_url, source_engine
from workbench.design.model import Design, load_design
from workbench.migrate import checkpoint
from workbench.migrate.canon import (
    Expr,
    Kind,
    canon,
    canon_sql,
    row_hash_sql,
    row_text,
    sum_sql,
    supports,
    text_hash,
    with_sqlite_functions,
)
from workbench.migrate.copy import after, step_name
from workbench.migrate.integrity import orphans
from workbench.migrate.target import Target
from workbench.migrate.units import Unit, split_key, units

LEAF_ROWS = 64
"""Bisection stops at ranges of at most this many rows, which are compared row by row."""

MAX_DIFFERENCES = 20
"""Differing rows reported per table (the counts stay exact; the listing stops)."""

MULTISET_LIMIT = 200_000
"""A keyless table that differs is compared row by row only up to this many rows per side."""

NOT_ON_TARGET = "not on the target"
"""How a table check begins its note when the service was never created on the target."""

_TEXT_KINDS = {"text", "char", "json", "uuid", "other"}


@dataclass
class RowDifference:
    """One row that differs: ``missing`` on the target, ``extra`` on the target, or ``changed``.

    ``key`` maps key columns to canonical values (for a keyless table: its first columns, truncated).
    """

    kind: str
    key: dict[str, str | None]
    columns: list[str] = field(default_factory=list)


@dataclass
class TableCheck:
    """A table's comparison.

    Attributes
    ----------
    status : ``equal``, ``different``, or ``incomplete`` (the migration's checkpoints say the table is not
        finished: not compared, a difference).
    method : how each side hashed (``database`` or ``python``), e.g. ``database/database``.
    ranges : key ranges whose checksums were compared (1 when the whole table matched).
    differences : the first :data:`MAX_DIFFERENCES` rows that differ.
    """

    service: str
    table: str
    role: str
    origin: str
    source_rows: int = 0
    target_rows: int = 0
    status: str = "equal"
    method: str = ""
    ranges: int = 1
    differences: list[RowDifference] = field(default_factory=list)
    note: str | None = None


@dataclass
class ForeignKeyCheck:
    """A foreign key inside a service and the target rows breaking it."""

    service: str
    table: str
    columns: list[str]
    referred_table: str
    referred_columns: list[str]
    violations: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ReferenceCheck:
    """A reference to another service's table: target rows pointing at nothing there, and the legacy count.

    ``new`` is True when the target has more such rows than the legacy database had (the migration
    lost the rows they point at): a difference. Otherwise the dangling rows are the legacy's own.
    """

    service: str
    table: str
    columns: list[str]
    referred_service: str
    referred_table: str
    dangling: int = 0
    legacy_dangling: int | None = None
    new: bool = False
    sample: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None


@dataclass
class VerifyReport:
    """The artifact ``verify.json``: every comparison, and whether all of them passed."""

    FORMAT: ClassVar[serde.Format] = serde.Format("verify")

    source: str
    target: str
    ok: bool = True
    tables: list[TableCheck] = field(default_factory=list)
    foreign_keys: list[ForeignKeyCheck] = field(default_factory=list)
    references: list[ReferenceCheck] = field(default_factory=list)

    def problems(self) -> list[str]:
        """One line per difference, for the CLI and the notebook."""
        absent: dict[str, list[TableCheck]] = {}
        for t in self.tables:
            if t.status == "different" and (t.note or "").startswith(NOT_ON_TARGET):
                absent.setdefault(t.service, []).append(t)
        out = [f"{service}: {checks[0].note} ({len(checks)} tables not compared)" for service, checks in absent.items()]
        out += [f"{t.service}.{t.table}: " + (t.note if t.note and not t.method else
                                              f"{t.source_rows:,} legacy rows, {t.target_rows:,} target rows, "
                                              f"{len(t.differences)} differing row(s) listed")
                for t in self.tables if t.status == "different" and not (t.note or "").startswith(NOT_ON_TARGET)]
        out += [f"{t.service}.{t.table}: {t.note}" for t in self.tables if t.status == "incomplete"]
        out += [f"{f.service}.{f.table}({', '.join(f.columns)}) -> {f.referred_table}: {f.violations} row(s) break "
                "the foreign key" for f in self.foreign_keys if f.violations]
        out += [f"{r.service}.{r.table}({', '.join(r.columns)}) -> {r.referred_service}.{r.referred_table}: "
                f"{r.dangling} dangling, the legacy database had {r.legacy_dangling}" for r in self.references if r.new]
        return out


# -- one side of a comparison -----------------------------------------------------------------------

def _bind(value: Any, kind: Kind, dialect: str) -> Any:
    """A key value from one side, bound for the other: typed on PostgreSQL, plain text on SQLite."""
    if dialect == "sqlite":
        if isinstance(value, dt.datetime):
            return value.isoformat(" ")
        if isinstance(value, dt.date | dt.time):
            return value.isoformat()
        if isinstance(value, Decimal | uuid.UUID):
            return str(value)
        return value
    if dialect == "postgresql":
        types: dict[str, sa.types.TypeEngine[Any]] = {
            "int": sa.BigInteger(), "decimal": sa.Numeric(), "numeric": sa.Numeric(), "date": sa.Date(),
            "datetime": sa.DateTime(), "datetime_tz": sa.DateTime(timezone=True), "time": sa.Time(),
            "bool": sa.Boolean(), "float": sa.Float()}
        if kind.name in types:
            return sa.literal(value, types[kind.name])
    return value


Bound = tuple[Any, ...] | None


@dataclass
class Side:
    """One side of a table comparison: a FROM item whose columns are named like the target's."""

    conn: sa.Connection
    dialect: str
    source: sa.FromClause
    unit: Unit

    def __post_init__(self) -> None:
        self.in_db = supports(self.dialect, self.unit.kinds)
        self.cols = [self.source.c[c] for c in self.unit.columns]

    @property
    def method(self) -> str:
        return "database" if self.in_db else "python"

    def _key_cols(self) -> list[sa.ColumnElement[Any]]:
        out = []
        for name in self.unit.key:
            col: sa.ColumnElement[Any] = self.source.c[name]
            if self.unit.kind(name).name in _TEXT_KINDS:
                col = sa.collate(col, "C" if self.dialect == "postgresql" else "utf8mb4_bin") \
                    if self.dialect in ("postgresql", "mysql") else col
            out.append(col)
        return out

    def _where(self, lo: Bound, hi: Bound) -> sa.ColumnElement[bool]:
        keys = self._key_cols()
        kinds = [self.unit.kind(k) for k in self.unit.key]
        terms = []
        if lo is not None:
            terms.append(after(keys, [_bind(v, k, self.dialect) for v, k in zip(lo, kinds, strict=True)]))
        if hi is not None:
            terms.append(sa.not_(after(keys, [_bind(v, k, self.dialect) for v, k in zip(hi, kinds, strict=True)])))
        return sa.and_(sa.true(), *terms)

    def checksum(self, lo: Bound = None, hi: Bound = None) -> tuple[int, int]:
        """(rows, sum of row hashes) in the key range (lo, hi]; None bounds are open."""
        where = self._where(lo, hi)
        if self.in_db:
            h = row_hash_sql(self.dialect, self.unit.kinds, self.cols)
            count, total = self.conn.execute(
                sa.select(sa.func.count(), sum_sql(self.dialect, h)).select_from(self.source).where(where)).one()
            return int(count), int(total or 0)
        count = total = 0
        result = self.conn.execution_options(stream_results=True, yield_per=10_000).execute(
            sa.select(*self.cols).where(where))
        for row in result:
            count += 1
            total += text_hash(row_text([canon(k, v) for k, v in zip(self.unit.kinds, row, strict=True)]))
        return count, total

    def split(self, lo: Bound, hi: Bound, offset: int) -> tuple[Any, ...] | None:
        """The key at ``offset`` (in code-point order) within (lo, hi]."""
        keys = self._key_cols()
        row = self.conn.execute(sa.select(*(self.source.c[k] for k in self.unit.key)).where(self._where(lo, hi))
                                .order_by(*keys).offset(offset).limit(1)).first()
        return tuple(row) if row is not None else None

    def rows(self, lo: Bound, hi: Bound, limit: int) -> dict[tuple[str | None, ...], list[str | None]]:
        """Canonical key -> canonical values of every row in (lo, hi] (at most ``limit`` rows)."""
        where = self._where(lo, hi)
        if self.in_db and self.dialect != "sqlite":
            exprs = [canon_sql(self.dialect, k, c) for k, c in zip(self.unit.kinds, self.cols, strict=True)]
            result = self.conn.execute(sa.select(*cast(list[Expr], exprs)).where(where).limit(limit))  # in_db: none
            texts = [list(r) for r in result]
        else:
            result = self.conn.execute(sa.select(*self.cols).where(where).limit(limit))
            texts = [[canon(k, v) for k, v in zip(self.unit.kinds, r, strict=True)] for r in result]
        positions = [self.unit.columns.index(k) for k in self.unit.key]
        return {tuple(t[i] for i in positions): t for t in texts}

    def all_rows(self, limit: int) -> list[list[str | None]] | None:
        """Canonical values of every row (None when there are more than ``limit``)."""
        result = self.conn.execution_options(stream_results=True, yield_per=10_000).execute(
            sa.select(*self.cols).limit(limit + 1))
        texts = [[canon(k, v) for k, v in zip(self.unit.kinds, r, strict=True)] for r in result]
        return None if len(texts) > limit else texts


def _row_diffs(unit: Unit, src: dict[tuple[str | None, ...], list[str | None]],
               tgt: dict[tuple[str | None, ...], list[str | None]]) -> list[RowDifference]:
    out = []
    for key in sorted(set(src) | set(tgt), key=lambda k: [("" if v is None else v) for v in k]):
        a, b = src.get(key), tgt.get(key)
        named = dict(zip(unit.key, key, strict=True))
        if a is None:
            out.append(RowDifference("extra", named))
        elif b is None:
            out.append(RowDifference("missing", named))
        elif text_hash(row_text(a)) != text_hash(row_text(b)):
            out.append(
                RowDifference("changed", named, [c for c, x, y in zip(unit.columns, a, b, strict=True) if x != y])
            )
    return out


def bisect(src: Side, tgt: Side, check: TableCheck) -> None:
    stack: list[tuple[Bound, Bound, int]] = [(None, None, max(check.source_rows, check.target_rows))]
    while stack and len(check.differences) < MAX_DIFFERENCES:
        lo, hi, n = stack.pop()
        if n <= LEAF_ROWS:
            found = _row_diffs(src.unit, src.rows(lo, hi, LEAF_ROWS * 4), tgt.rows(lo, hi, LEAF_ROWS * 4))
            check.differences += found[: MAX_DIFFERENCES - len(check.differences)]
            continue
        s_count = src.checksum(lo, hi)[0] if lo is not None or hi is not None else check.source_rows
        t_count = tgt.checksum(lo, hi)[0] if lo is not None or hi is not None else check.target_rows
        side, count = (src, s_count) if s_count >= t_count else (tgt, t_count)
        mid = side.split(lo, hi, count // 2)
        if mid is None or mid == hi:
            found = _row_diffs(src.unit, src.rows(lo, hi, count * 2 + 1), tgt.rows(lo, hi, count * 2 + 1))
            check.differences += found[: MAX_DIFFERENCES - len(check.differences)]
            continue
        halves = []
        for a, b in ((lo, mid), (mid, hi)):
            s, t = src.checksum(a, b), tgt.checksum(a, b)
            check.ranges += 1
            if s != t:
                halves.append((a, b, max(s[0], t[0])))
        stack += reversed(halves)  # the lower half first: differences listed in key order


def _multiset(src: Side, tgt: Side, check: TableCheck) -> None:
    a, b = src.all_rows(MULTISET_LIMIT), tgt.all_rows(MULTISET_LIMIT)
    if a is None or b is None:
        check.note = f"no key: more than {MULTISET_LIMIT:,} rows, the differing rows are not listed"
        return
    ca, cb = Counter(row_text(r) for r in a), Counter(row_text(r) for r in b)
    shown = src.unit.columns[:4]
    for kind, counter in (("missing", ca - cb), ("extra", cb - ca)):
        for text in sorted(counter):
            values = text.split("\x1f")
            key = {c: (None if v == "\x1e" else v[:40]) for c, v in zip(shown, values, strict=False)}
            for _ in range(counter[text]):
                if len(check.differences) < MAX_DIFFERENCES:
                    check.differences.append(RowDifference(kind, key))
    check.note = "no key: compared as a multiset of rows; listed by their first columns"


def compare(unit: Unit, src: Side, tgt: Side) -> TableCheck:
    """Compare one unit's two sides: counts and checksums, then bisection down to the rows."""
    check = TableCheck(unit.service, unit.table, unit.role, unit.origin, method=f"{src.method}/{tgt.method}")
    s, t = src.checksum(), tgt.checksum()
    check.source_rows, check.target_rows = s[0], t[0]
    if s == t:
        return check
    check.status = "different"
    if unit.key:
        bisect(src, tgt, check)
    else:
        _multiset(src, tgt, check)
    return check


# -- the whole design ---------------------------------------------------------------------------------

def _attach(conn: sa.Connection, target: Target, design: Design, service: str) -> str | None:
    """On SQLite, make another service's file visible as schema ``wb_<namespace>``; its schema name."""
    if target.dialect != "sqlite":
        return design.service(service).namespace
    path = target.path(design, service)
    if not path.exists():
        return None
    alias = f"wb_{design.service(service).namespace}"
    attached = {row[1] for row in conn.exec_driver_sql("PRAGMA database_list")}
    if alias not in attached:
        conn.exec_driver_sql(f"ATTACH DATABASE ? AS \"{alias}\"", (str(path),))
    return alias


def _references(design: Design, service: str, target: Target, tconn: sa.Connection,
                sconn: sa.Connection, services: set[str], present: set[str]) -> list[ReferenceCheck]:
    """Cross-service references of ``service`` that point at nothing on the target (``present``:
    the service's tables there, lower-cased), against the same count in the legacy database."""
    svc = design.service(service)
    schema = target.schema(design, service)
    out = []
    for r in svc.references:
        check = ReferenceCheck(service, r.table, list(r.columns), r.referred_service, r.referred_table)
        out.append(check)
        provider = design.services.get(r.referred_service)
        owned = next((t for t in provider.tables if t.role == "owned" and t.source == r.referred_table), None) \
            if provider is not None else None
        if owned is None or r.referred_service not in services:
            check.note = f"{r.referred_service} not verified in this run: not checked"
            continue
        other = _attach(tconn, target, design, r.referred_service)
        if other is None:
            check.note = f"{r.referred_service} is not on the target: not checked"
            continue
        if r.table.lower() not in present or owned.table.name.lower() not in \
                {t.lower() for t in sa.inspect(tconn).get_table_names(schema=other)}:
            check.note = "a table of the reference is missing on the target: not checked"
            continue
        consumer = svc.table(r.table)
        found = orphans(tconn, (r.table, schema), r.columns, (owned.table.name, other), r.referred_columns,
                        consumer.table.primary_key)
        check.dangling, check.sample = found.count, found.sample
        if consumer.source:
            child, parent = split_key(consumer.source, design.source_dialect), \
                split_key(r.referred_table, design.source_dialect)
            legacy = orphans(sconn, (child[1], child[0]), r.columns, (parent[1], parent[0]), r.referred_columns,
                             consumer.table.primary_key, limit=0)
            check.legacy_dangling = legacy.count
        check.new = check.dangling > (check.legacy_dangling or 0)
    return out


def _steps(conn: sa.Connection, schema: str | None) -> dict[str, checkpoint.StepState] | None:
    """The migration's checkpoints in a namespace; None when it has none (filled by other means)."""
    if checkpoint.TABLE not in sa.inspect(conn).get_table_names(schema=schema):
        return None
    return checkpoint.read(conn, schema)


def verify(source: str, target: str | Path, design: Design | str | Path, *, services: Iterable[str] | None = None,
           progress: bool | None = None) -> VerifyReport:
    """Compare the target with the legacy database, table by table, then check references.

    Parameters
    ----------
    source : URL of the legacy database (read-only).
    target : the migration's target (server URL or SQLite folder).
    design : the design (or its folder / ``design.json``).
    services : services to verify (default: all).

    Returns
    -------
    VerifyReport
        ``ok`` is False on any difference: counts, checksums, broken foreign keys, or references
        dangling on the target that did not dangle in the legacy database.
    """
    if not isinstance(design, Design):
        design = load_design(design)
    names = sorted(services) if services is not None else sorted(design.services)
    for name in names:
        design.service(name)
    where = Target.parse(target)
    report = VerifyReport(mask_url(source), where.display)
    engine = with_sqlite_functions(source_engine(source, poolclass=sa.pool.NullPool))
    work = [(name, unit) for name in names for unit in units(design, name)]
    bar = tqdm(total=len(work), desc="verify", unit=" table", disable=None if progress is None else not progress,
               leave=False)
    try:
        with friendly_errors(source), engine.connect() as sconn:
            for name in names:
                schema = where.schema(design, name)
                with friendly_errors(where.url(design, name)):  # an unreachable target is named as such
                    exists = where.exists(design, name)
                if not exists:  # never migrated there: every table differs, nothing to read
                    for unit in units(design, name):
                        report.tables.append(TableCheck(name, unit.table, unit.role, unit.origin, status="different",
                                                        note=f"{NOT_ON_TARGET}: {where.where(design, name)}"))
                        bar.update(1)
                    continue
                with where.engine(design, name).connect() as tconn:
                    steps = _steps(tconn, schema)
                    present = {t.lower() for t in sa.inspect(tconn).get_table_names(schema=schema)}
                    for unit in units(design, name):
                        bar.set_postfix_str(unit.label, refresh=False)
                        state = steps.get(step_name(unit)) if steps is not None else None
                        if unit.table.lower() not in present:
                            report.tables.append(
                                TableCheck(
                                    name,
                                    unit.table,
                                    unit.role,
                                    unit.origin,
                                    status="different",
                                    note="the table is missing on the target",
                                )
                            )
                        elif steps is not None and (state is None or not state.done):
                            report.tables.append(TableCheck(
                                name, unit.table, unit.role, unit.origin, target_rows=state.rows if state else 0,
                                status="incomplete", note="the migration has not finished this table (checkpoints)"))
                        else:
                            src = Side(sconn, engine.dialect.name, unit.source_from(engine.dialect.name), unit)
                            tgt = Side(tconn, where.dialect, unit.target_table(schema), unit)
                            report.tables.append(compare(unit, src, tgt))
                        bar.update(1)
                    for tt in design.service(name).tables:
                        for fk in tt.table.foreign_keys if tt.table.name.lower() in present else []:
                            if fk.referred_table.lower() not in present:
                                continue  # reported as missing above
                            found = orphans(tconn, (tt.table.name, schema), fk.columns, (fk.referred_table, schema),
                                            fk.referred_columns, tt.table.primary_key)
                            report.foreign_keys.append(ForeignKeyCheck(
                                name, tt.table.name, list(fk.columns), fk.referred_table, list(fk.referred_columns),
                                found.count, found.sample))
                    report.references += _references(design, name, where, tconn, sconn, set(names), present)
    finally:
        bar.close()
        engine.dispose()
        where.dispose()
    report.ok = not report.problems()
    return report
