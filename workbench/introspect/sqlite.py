"""SQLite: the whole catalog in four queries through the pragma table-valued functions.

SQLAlchemy's SQLite Inspector runs several ``PRAGMA`` statements per table; joining
``sqlite_master`` with ``pragma_table_xinfo``/``pragma_foreign_key_list``/``pragma_index_list``/
``pragma_index_info`` fetches the same facts for every table at once. Types go through the
dialect's own affinity rules, so they match the Inspector path exactly. Constraint names exist
only in the ``CREATE TABLE`` text: it is parsed with sqlglot, and only for tables that name one.
Row counts are exact (``COUNT(*)``); sizes come from the ``dbstat`` virtual table when the SQLite
library has it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
import sqlglot
import sqlglot.expressions as exp
from sqlalchemy.engine import Connection, Dialect

from workbench.introspect.common import ColumnKey, render_type, tables_named, unwrap
from workbench.schema import Column, Computed, ForeignKey, Index, Routine, Table, Trigger, UniqueConstraint, UserType

_USER = "m.name NOT LIKE 'sqlite~_%' ESCAPE '~'"
_OBJECTS = sa.text(
    f"SELECT m.type, m.name, m.sql FROM main.sqlite_master m WHERE m.type IN ('table', 'view') AND {_USER}"
)
_COLUMN_LIST = 'p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden'
_COLUMNS = sa.text(
    f"SELECT m.name, {_COLUMN_LIST} FROM main.sqlite_master m JOIN pragma_table_xinfo(m.name, 'main') p "
    f"WHERE m.type IN ('table', 'view') AND {_USER}"
)
_TABLE_COLUMNS = sa.text(
    f"SELECT m.name, {_COLUMN_LIST} FROM main.sqlite_master m JOIN pragma_table_xinfo(m.name, 'main') p "
    f"WHERE m.type = 'table' AND {_USER}"
)
_VIEW_COLUMNS = sa.text(f"SELECT {_COLUMN_LIST} FROM pragma_table_xinfo(:name, 'main') p")
_VIEWS = sa.text(f"SELECT m.name FROM main.sqlite_master m WHERE m.type = 'view' AND {_USER}")
_FOREIGN_KEYS = sa.text(
    'SELECT m.name, f.id, f."table", f."from", f."to", f.on_update, f.on_delete '
    "FROM main.sqlite_master m JOIN pragma_foreign_key_list(m.name, 'main') f "
    f"WHERE m.type = 'table' AND {_USER} ORDER BY m.name, f.id, f.seq"
)
_INDEXES = sa.text(
    'SELECT m.name, il.name, il."unique", il.origin, ii.cid, ii.name '
    "FROM main.sqlite_master m JOIN pragma_index_list(m.name, 'main') il "
    "JOIN pragma_index_info(il.name, 'main') ii "
    f"WHERE m.type = 'table' AND {_USER} ORDER BY m.name, il.name, ii.seqno"
)
_SIZES = sa.text("SELECT name, pgsize FROM dbstat('main', 1)")
_OWNERS = sa.text("SELECT name, tbl_name FROM main.sqlite_master WHERE type IN ('table', 'index')")
_NAMES_CONSTRAINT = re.compile(r"\bconstraint\b", re.IGNORECASE)


def list_schemas(conn: Connection) -> list[str]:
    """Attached databases; the workbench reads ``main`` (``temp`` is never a source)."""
    return [row[1] for row in conn.exec_driver_sql("PRAGMA database_list") if row[1] != "temp"]


def _column_type(dialect: Dialect, name: str, declared: str, hidden: int) -> sa.types.TypeEngine:
    # The very helper SQLite's Inspector.get_columns uses (affinity rules, GENERATED ALWAYS
    # stripped from computed columns), so both paths render the same type.
    info: dict[str, Any] = dialect._get_column_info(  # type: ignore[attr-defined]  # SQLiteDialect's, private
        name, declared.upper(), True, None, 0, bool(hidden), hidden == 3, None
    )
    return info["type"]


def raw_types(conn: Connection, schemas: list[str], default: str | None) -> Mapping[ColumnKey, str]:
    """Declared column types as written in the DDL, the fallback for what SQLAlchemy cannot render."""
    return {(None, t, c): declared or "" for t, c, declared, *_ in _column_rows(conn, None)}


def _column_rows(conn: Connection, views: list[str] | None) -> list[Any]:
    """Columns of every table and view in one query; view by view if a view is broken.

    A view over a dropped table makes ``pragma_table_xinfo`` fail, and with it the bulk query;
    such a view is then listed without columns rather than failing the whole run.
    """
    try:
        return list(conn.execute(_COLUMNS).all())
    except sa.exc.OperationalError:
        pass
    rows: list[tuple[Any, ...]] = [tuple(r) for r in conn.execute(_TABLE_COLUMNS).all()]
    if views is None:
        views = list(conn.execute(_VIEWS).scalars())
    for view in views:
        try:
            rows += [(view, *r) for r in conn.execute(_VIEW_COLUMNS, {"name": view}).all()]
        except sa.exc.OperationalError:
            continue
    return rows


def _identifiers(node: exp.Expression | None) -> tuple[str, ...]:
    if node is None:
        return ()
    return tuple(i.name for i in node.find_all(exp.Identifier))


def _reference(ref: exp.Expression | None) -> tuple[str, tuple[str, ...]]:
    """Referred table and columns of a ``REFERENCES`` clause."""
    target = ref.this if ref is not None else None
    if isinstance(target, exp.Schema):
        return target.this.name, tuple(i.name for i in target.expressions)
    return (target.name if target is not None else ""), ()


def constraint_names(sql: str) -> tuple[dict[tuple[tuple[str, ...], str], str], dict[tuple[str, ...], str]]:
    """Names of foreign keys (by local columns and referred table) and unique constraints (by columns).

    SQLite keeps constraint names only in the ``CREATE TABLE`` text. Keys are case-folded, as
    SQLite identifiers are case-insensitive.

    >>> fks, uqs = constraint_names('CREATE TABLE t (a int, CONSTRAINT "fk a" FOREIGN KEY (a) REFERENCES p, '
    ...                             'CONSTRAINT uq_a UNIQUE (a))')
    >>> fks, uqs
    ({(('a',), 'p'): 'fk a'}, {('a',): 'uq_a'})
    """
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except sqlglot.errors.SqlglotError:
        return {}, {}
    body = tree.this if isinstance(tree, exp.Create) else None
    if not isinstance(body, exp.Schema):
        return {}, {}
    fks: dict[tuple[tuple[str, ...], str], str] = {}
    uqs: dict[tuple[str, ...], str] = {}

    def fold(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(n.lower() for n in names)

    for node in body.expressions:
        if isinstance(node, exp.Constraint) and node.this is not None:
            for kind in node.expressions:
                if isinstance(kind, exp.ForeignKey):
                    table, _ = _reference(kind.args.get("reference"))
                    fks[(fold(tuple(i.name for i in kind.expressions)), table.lower())] = node.this.name
                elif isinstance(kind, exp.UniqueColumnConstraint):
                    uqs[fold(_identifiers(kind.this))] = node.this.name
        elif isinstance(node, exp.ColumnDef):
            for cc in node.constraints:
                if cc.this is None:
                    continue
                if isinstance(cc.kind, exp.Reference):
                    table, _ = _reference(cc.kind)
                    fks[((node.name.lower(),), table.lower())] = cc.this.name
                elif isinstance(cc.kind, exp.UniqueColumnConstraint):
                    uqs[(node.name.lower(),)] = cc.this.name
    return fks, uqs


def _expression_columns(conn: Connection, names: list[str]) -> dict[str, list[str]]:
    """Element texts of expression indexes, parsed from their ``CREATE INDEX`` statements."""
    if not names:
        return {}
    query = sa.text("SELECT name, sql FROM main.sqlite_master WHERE type = 'index' AND name IN :names").bindparams(
        sa.bindparam("names", expanding=True)
    )
    out: dict[str, list[str]] = {}
    for name, sql in conn.execute(query, {"names": names}):
        try:
            params = sqlglot.parse_one(sql, read="sqlite").find(exp.IndexParameters)
        except sqlglot.errors.SqlglotError:
            continue
        if params is not None:
            out[name] = [
                (e.this if isinstance(e, exp.Ordered) else e).sql(dialect="sqlite")
                for e in params.args.get("columns") or []
            ]
    return out


def _generated(sql: str) -> dict[str, str]:
    """Generated columns' expressions in a ``CREATE TABLE`` text, by lower-cased column name.

    >>> _generated("CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a * 2) VIRTUAL, c TEXT AS (length('x,y')))")
    {'b': 'a * 2', 'c': "LENGTH('x,y')"}
    """
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except (sqlglot.errors.SqlglotError, ValueError):
        return {}
    out = {}
    for column in tree.find_all(exp.ColumnDef):
        for constraint in column.constraints:
            if isinstance(constraint.kind, exp.ComputedColumnConstraint):
                out[column.name.lower()] = unwrap(constraint.kind.this.sql("sqlite"))
    return out


def read(conn: Connection, schemas: list[str], default: str | None) -> list[Table]:
    """Tables and views of the ``main`` database in four catalog queries."""
    dialect = conn.dialect
    tables: dict[str, Table] = {}
    sqls: dict[str, str] = {}
    for kind, name, sql in conn.execute(_OBJECTS).all():
        tables[name] = Table(name=name, schema=default, kind="view" if kind == "view" else "table")
        sqls[name] = sql or ""
        if kind == "view":
            tables[name].definition = sql

    pk_parts: dict[str, list[tuple[int, str]]] = defaultdict(list)
    generated: dict[str, dict[str, str]] = {}
    types: dict[tuple[str, int], str] = {}  # catalogs repeat a few declared types thousands of times
    views = [name for name, t in tables.items() if t.kind == "view"]
    for tname, cname, declared, notnull, dflt, pk, hidden in _column_rows(conn, views):
        if hidden == 1:  # hidden columns of virtual tables, as the Inspector skips them
            continue
        rendered = types.get((declared, hidden))
        if rendered is None:
            rendered = types[(declared, hidden)] = render_type(
                _column_type(dialect, cname, declared or "", hidden), dialect, declared or ""
            )
        computed = None
        if hidden in (2, 3):  # generated: its expression lives only in the CREATE TABLE text
            if tname not in generated:
                generated[tname] = _generated(sqls.get(tname, ""))
            computed = Computed(generated[tname].get(cname.lower(), ""), hidden == 3)
        tables[tname].columns.append(
            Column(
                name=cname,
                type=rendered,
                nullable=not notnull,
                default=None if dflt is None else str(dflt),
                computed=computed,
            )
        )
        if pk:
            pk_parts[tname].append((pk, cname))
    for tname, parts in pk_parts.items():
        tables[tname].primary_key = [c for _, c in sorted(parts)]
    pk_by_folded = {name.lower(): t.primary_key for name, t in tables.items()}

    named = {name: constraint_names(sql) for name, sql in sqls.items() if _NAMES_CONSTRAINT.search(sql)}

    fks: dict[tuple[str, int], ForeignKey] = {}
    for tname, fid, rtable, local, remote, on_update, on_delete in conn.execute(_FOREIGN_KEYS).all():
        fk = fks.get((tname, fid))
        if fk is None:
            fk = fks[(tname, fid)] = ForeignKey(
                columns=[], referred_table=rtable, referred_columns=[], referred_schema=default,
                on_delete=on_delete, on_update=on_update,
            )  # fmt: skip
            tables[tname].foreign_keys.append(fk)
        fk.columns.append(local)
        if remote is not None:
            fk.referred_columns.append(remote)
    for (tname, _), fk in fks.items():
        if not fk.referred_columns:  # REFERENCES t: the referred table's primary key
            fk.referred_columns = list(pk_by_folded.get(fk.referred_table.lower(), []))
        fk_names = named.get(tname, ({}, {}))[0]
        fk.name = fk_names.get((tuple(c.lower() for c in fk.columns), fk.referred_table.lower()))

    index_rows: dict[tuple[str, str], tuple[bool, str, list[tuple[int, str | None]]]] = {}
    for tname, iname, unique, origin, cid, cname in conn.execute(_INDEXES).all():
        entry = index_rows.setdefault((tname, iname), (bool(unique), origin, []))
        entry[2].append((cid, cname))
    expressions = _expression_columns(
        conn, sorted(iname for (_, iname), (_, _, cols) in index_rows.items() if any(c == -2 for c, _ in cols))
    )
    for (tname, iname), (unique, origin, cols) in index_rows.items():
        table = tables[tname]
        if origin == "pk":
            continue
        names = [cname if cid >= 0 else ("rowid" if cid == -1 else "") for cid, cname in cols]
        if origin == "u":
            uq_names = named.get(tname, ({}, {}))[1]
            table.unique_constraints.append(
                UniqueConstraint(uq_names.get(tuple(str(n).lower() for n in names)), [str(n) for n in names])
            )
        else:
            exprs = expressions.get(iname)
            if exprs is not None and len(exprs) == len(names):
                names = [n if cid >= 0 else exprs[i] for i, ((cid, _), n) in enumerate(zip(cols, names, strict=False))]
            table.indexes.append(Index(iname, [str(n) for n in names], unique))
    return list(tables.values())


def stats(conn: Connection, tables: list[Table], default: str | None) -> None:
    """Sizes (table plus its indexes) from ``dbstat`` where available; counts are exact, done elsewhere."""
    try:
        btrees = conn.execute(_SIZES).all()
    except sa.exc.OperationalError:  # SQLite built without SQLITE_ENABLE_DBSTAT_VTAB
        btrees = []
    # Joined here, not in SQL: SQLite joins dbstat to sqlite_master by nested scans (quadratic).
    owner: dict[str, str] = dict(conn.execute(_OWNERS).tuples().all()) if btrees else {}
    sizes: dict[str, int] = defaultdict(int)
    for name, size in btrees:
        if name in owner:
            sizes[owner[name]] += int(size)
    for table in tables:
        table.size_bytes = sizes.get(table.name) if table.kind == "table" else None


_TRIGGERS = sa.text(f"SELECT m.name, m.tbl_name, m.sql FROM main.sqlite_master m WHERE m.type = 'trigger' AND {_USER}")
_TRIGGER_HEAD = re.compile(r"\bTRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:\"[^\"]*\"|\S+)\s+(BEFORE|AFTER|INSTEAD\s+OF)?\s*"
                           r"(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def logic(conn: Connection, tables: list[Table], schemas: list[str], default: str | None
          ) -> tuple[list[UserType], list[Routine], list[Trigger]]:
    """Triggers (SQLite has no stored routines and no named types)."""
    base_tables = [t for t in tables if t.kind == "table"]
    triggers = []
    for name, table, sql in conn.execute(_TRIGGERS).all():
        head = _TRIGGER_HEAD.search(sql or "")
        timing = " ".join((head.group(1) or "BEFORE").upper().split()) if head else "BEFORE"
        events = [head.group(2).upper()] if head else []
        triggers.append(Trigger(name, table, timing, events, None, sql or "",
                                sorted({table, *tables_named(sql or "", base_tables)})))
    return [], [], triggers
