"""Per-service SQLAlchemy ``MetaData`` built from the design, for one target dialect.

Each service's tables live in its own namespace: a schema (PostgreSQL, SQL Server, Oracle), a
database (MySQL/MariaDB: ``CREATE SCHEMA`` is ``CREATE DATABASE`` there) or a file (SQLite,
where tables stay unqualified). Only foreign keys inside the service are declared; the columns
of cross-service FKs stay, documented by a column comment, as references by id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlglot import exp, parse_one
from sqlglot.errors import SqlglotError

from workbench.db import sqlglot_dialect
from workbench.design.model import Design, Reference, ServiceDesign, TargetTable
from workbench.design.objectnames import unique_name
from workbench.design.sqltypes import to_sqlalchemy
from workbench.errors import WorkbenchError
from workbench.schema import Column, UserType

DIALECTS = ("postgresql", "mysql", "sqlite", "mssql", "oracle")
"""Target dialects the DDL is generated for (all ship with SQLAlchemy: no driver needed to compile)."""

QUALIFIED = {"postgresql", "mysql", "mssql", "oracle"}
"""Dialects whose service tables are qualified by the namespace (SQLite uses one file per service)."""

_KEY_TEXT_LIMIT = {"mysql": 255, "mssql": 450, "oracle": 1000}
"""Indexed text must have a bounded length on these targets; 255 characters x 4 bytes fits MySQL's key limit."""


_CANONICAL = {"mariadb": "mysql", "postgres": "postgresql", "sqlserver": "mssql"}


def check_dialect(name: str) -> str:
    """The canonical target dialect name; :class:`WorkbenchError` naming the bad one otherwise.

    >>> check_dialect("mariadb"), check_dialect("PostgreSQL")
    ('mysql', 'postgresql')
    """
    canonical = _CANONICAL.get(name.lower(), name.lower())
    if canonical not in DIALECTS:
        raise WorkbenchError(f"unknown target dialect {name!r} (known: {', '.join(DIALECTS)})")
    return canonical


_TIME_FUNCS: dict[type[exp.Expression], Callable[[], sa.ColumnElement[Any]]] = {
    exp.CurrentTimestamp: sa.func.current_timestamp, exp.CurrentDate: sa.func.current_date,
    exp.CurrentTime: sa.func.current_time}


def server_default(text: str | None, dialect: str | None, type_: sa.types.TypeEngine | None = None
                   ) -> tuple[sa.ColumnElement[Any] | sa.TextClause | str | None, str | None]:
    """A portable server default for the source's default text, or (None, why it was left out).

    Literals (numbers, strings, booleans) and the current date/time carry over; anything else
    (sequences, functions, expressions) is the service's to decide and is reported.

    >>> server_default("'active'::character varying", "postgresql")
    ('active', None)
    >>> server_default("nextval('orders_id_seq'::regclass)", "postgresql")[1]
    "default nextval('orders_id_seq'::regclass) not carried over (not a constant)"
    """
    if text is None or not text.strip():
        return None, None
    try:
        node = parse_one(text, read=sqlglot_dialect(dialect))
    except (SqlglotError, ValueError):
        node = None
    while isinstance(node, exp.Paren | exp.Cast):
        node = node.this
    boolean = isinstance(type_, sa.Boolean)
    numeric = isinstance(type_, sa.Numeric | sa.Integer | sa.Float) and not boolean
    if isinstance(node, exp.Null):
        return None, None
    if isinstance(node, exp.Boolean):
        return (sa.true() if node.this else sa.false()), None
    if isinstance(node, exp.Literal | exp.Neg) and (node.is_number or node.is_string):
        value = node.sql() if node.is_number else node.this
        if boolean and value.strip().lower() in ("0", "1", "true", "false"):
            return (sa.true() if value.strip().lower() in ("1", "true") else sa.false()), None
        if node.is_number or (numeric and re.fullmatch(r"-?\d+(\.\d+)?", value.strip())):
            return sa.text(value.strip()), None
        return value, None
    for kind, func in _TIME_FUNCS.items():
        if isinstance(node, kind):
            return func(), None
    if isinstance(node, exp.Anonymous | exp.Func) and node.sql_name().upper() in ("NOW", "CURRENT_TIMESTAMP", "GETDATE",
                                                                                   "SYSDATE", "LOCALTIMESTAMP"):
        return sa.func.current_timestamp(), None
    return None, f"default {text.strip()} not carried over (not a constant)"


SEQUENCE_DEFAULT = re.compile(r"\bnextval\(\s*'((?:[^']|'')+)'(?:::regclass)?\s*\)", re.IGNORECASE)
"""A PostgreSQL sequence default (``nextval('orders_id_seq'::regclass)``); group 1 is the sequence's name."""
ON_UPDATE = re.compile(r"\bON\s+UPDATE\b", re.IGNORECASE)
"""MySQL/MariaDB's ``... ON UPDATE current_timestamp()`` inside a column default."""

NATIVE = ("postgresql", "mysql")
"""Targets that keep the source's own types, defaults and index methods when the source has their dialect."""


def same_dialect(source: str, target: str) -> bool:
    """Whether a design from a ``source`` database keeps what the source had on ``target``.

    >>> same_dialect("mysql", "mariadb"), same_dialect("postgresql", "mysql"), same_dialect("snowflake", "mysql")
    (True, False, False)
    """
    def canonical(name: str) -> str:  # any source a SQLAlchemy dialect reads, not only the design's targets
        return _CANONICAL.get(name.lower(), name.lower())

    return canonical(source) == canonical(target)


class NativeType(sa.types.UserDefinedType[object]):
    """A column type written exactly as the source database spells it (``mpaa_rating``, ``TSVECTOR``,
    ``SET('a','b')``, ``SMALLINT(5) UNSIGNED``): for a target of the source's own dialect."""

    cache_ok = True

    def __init__(self, text: str, generic: sa.types.TypeEngine[object] | None = None) -> None:
        self.text = text
        self.generic = generic

    def get_col_spec(self, **kw: object) -> str:
        return self.text

    @property
    def _type_affinity(self) -> type[sa.types.TypeEngine[object]] | None:
        """The generic type's: an integer stays an integer (identity, AUTO_INCREMENT), a string a string."""
        return self.generic._type_affinity if self.generic is not None else super()._type_affinity


def _type_name(text: str) -> tuple[str | None, str, int]:
    """(schema, name, array dimensions) of a type's text, quotes removed.

    >>> _type_name('sales."Mood"[]'), _type_name("mpaa_rating")
    (('sales', 'Mood', 1), (None, 'mpaa_rating', 0))
    """
    body = text.strip()
    dims = 0
    while body.endswith("[]"):
        body, dims = body[:-2].rstrip(), dims + 1
    parts = [p.strip().strip('"') for p in re.findall(r'"(?:[^"]|"")*"|[^.]+', body)]
    return (parts[0] if len(parts) == 2 else None), parts[-1] if parts else "", dims


def user_type(text: str, types: Sequence[UserType]) -> UserType | None:
    """The legacy enum or domain a column's type names, if it names one."""
    if not types:
        return None
    schema, name, _ = _type_name(text)
    for t in types:
        if t.name.lower() == name.lower() and (schema is None or (t.schema or "").lower() == schema.lower()):
            return t
    return None


def mapped_user_type(t: UserType) -> tuple[str, str]:
    """A named type for a target of another dialect: (type text, what is lost).

    >>> mapped_user_type(UserType("mood", kind="enum", values=["ok", "sad"]))
    ('VARCHAR(3)', 'VARCHAR(3), values (ok, sad) not enforced')
    """
    if t.kind == "enum":
        width = max((len(v) for v in t.values), default=1)
        return f"VARCHAR({width})", f"VARCHAR({width}), values ({', '.join(t.values)}) not enforced"
    rules = [c[1] for c in t.checks] + (["NOT NULL"] if t.not_null else [])
    return t.base or "TEXT", f"its base type {t.base}" + (f", its rules ({'; '.join(rules)}) not enforced"
                                                           if rules else "")


def _qualified_type(t: UserType, namespace: str, dims: int) -> str:
    prep = postgresql.dialect().identifier_preparer
    return f"{prep.quote_schema(namespace)}.{prep.quote(t.name)}" + "[]" * dims


def native_sql(text: str, namespace: str, types: Sequence[UserType]) -> str:
    """A PostgreSQL default or generation expression pointed at the service's schema: casts to the legacy
    named types and sequence names qualified by ``namespace`` (unqualified, they would find nothing there).

    >>> native_sql("'G'::mpaa_rating", "film", [UserType("mpaa_rating")])
    "'G'::film.mpaa_rating"
    >>> native_sql("nextval('public.payment_payment_id_seq'::regclass)", "billing", [])
    "nextval('billing.payment_payment_id_seq'::regclass)"
    """
    def cast(match: re.Match[str]) -> str:
        schema, name, dims = _type_name(match.group(1))
        found = user_type(match.group(1), types)
        return "::" + (_qualified_type(found, namespace, dims) if found is not None else match.group(1))

    text = re.sub(r'::((?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*)(?:\.(?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*))?(?:\[\])*)', cast,
                  text)
    return SEQUENCE_DEFAULT.sub(lambda m: f"nextval('{sequence_name(m.group(1), namespace)}'::regclass)", text)


def sequence_name(legacy: str, namespace: str) -> str:
    """The service's sequence for a legacy one (same name, the service's schema), as regclass text.

    >>> sequence_name('"Public"."Order Seq"', "sales")
    'sales."Order Seq"'
    """
    _, name, _ = _type_name(legacy.replace("''", "'"))
    prep = postgresql.dialect().identifier_preparer
    return f"{prep.quote_schema(namespace)}.{prep.quote(name)}".replace("'", "''")


def _type(tt: TargetTable, column: str, type_text: str, source: str, target: str, key_columns: set[str],
          types: Sequence[UserType] = (), namespace: str = "") -> sa.types.TypeEngine:
    if not tt.neutral_types and same_dialect(source, target) and target in NATIVE:
        named = user_type(type_text, types) if target == "postgresql" else None
        if named is not None:
            base = mapped_user_type(named)[0]
            return NativeType(_qualified_type(named, namespace, _type_name(type_text)[2]),
                              to_sqlalchemy(base, source, target).type)
        return NativeType(type_text, to_sqlalchemy(type_text, source, target).type)
    named = user_type(type_text, types) if not tt.neutral_types else None
    if named is not None:
        type_text = mapped_user_type(named)[0]
    mapped = to_sqlalchemy(type_text, None if tt.neutral_types else source, target).type
    if isinstance(mapped, sa.JSON) and target == "postgresql":
        return postgresql.JSONB()
    limit = _KEY_TEXT_LIMIT.get(target)
    if limit and column in key_columns and (isinstance(mapped, sa.Text) or (isinstance(mapped, sa.String) and (
            mapped.length is None or mapped.length > limit))):
        return sa.String(limit)
    if limit and column in key_columns and isinstance(mapped, sa.LargeBinary):
        return sa.LargeBinary(limit) if target != "mysql" else sa.types.VARBINARY(limit)
    return mapped


def _comment(existing: str | None, refs: list[Reference], column: str) -> str | None:
    notes = [f"reference by id to {r.referred_service}.{r.referred_table}"
             f"({', '.join(r.referred_columns)}), no FK ({r.dependency})" for r in refs if column in r.columns]
    parts = [p for p in [existing, *notes] if p]
    return " | ".join(parts) if parts else None


def _default(c: Column, tt: TargetTable, source: str, target: str, type_: sa.types.TypeEngine,
             types: Sequence[UserType], namespace: str) -> sa.ColumnElement[object] | sa.TextClause | str | None:
    """The column's server default on ``target``: the source's own text on a target of its dialect (an
    identity column has none: the identity numbers it), else a portable constant or nothing."""
    if c.default is None or tt.identity == c.name:
        return None
    if not tt.neutral_types and same_dialect(source, target) and target in NATIVE:
        text = native_sql(c.default, namespace, types) if target == "postgresql" else c.default
        return sa.text(text)
    default, _ = server_default(c.default, None if tt.neutral_types else source, type_)
    return default


def _computed(c: Column, tt: TargetTable, source: str, target: str, types: Sequence[UserType],
              namespace: str) -> sa.Computed | None:
    """A generated column stays generated on a target of the source's dialect; elsewhere it becomes a plain
    column holding the copied values (the design's notes say so)."""
    if c.computed is None or tt.neutral_types or not same_dialect(source, target):
        return None
    text = native_sql(c.computed.expression, namespace, types) if target == "postgresql" else c.computed.expression
    return sa.Computed(sa.text(text), persisted=True if target == "postgresql" else c.computed.stored)


def _index_options(method: str | None, target: str) -> dict[str, Any]:
    if not method:
        return {}
    return {"postgresql_using": method} if target == "postgresql" else {"mysql_prefix": method}


def table(tt: TargetTable, metadata: sa.MetaData, service: ServiceDesign, source_dialect: str, target: str,
          taken: set[str] | None = None, types: Sequence[UserType] = ()) -> sa.Table:
    """The SQLAlchemy table for one target table of ``service`` in ``target``'s terms.

    ``taken`` holds the index and constraint names already used in the service's namespace (see
    :func:`~workbench.design.objectnames.unique_name`); every one this table declares is named
    explicitly, unique among them and within the target's length limit. On a target of the source's
    dialect the table keeps what the source had: its types (``types``: the legacy enums and domains,
    created in the service's schema), defaults (``ON UPDATE`` included), generated columns, index
    methods (GiST, FULLTEXT); elsewhere they are mapped as the design's notes say.
    """
    t = tt.table
    taken = set() if taken is None else taken
    schema = service.namespace if target in QUALIFIED else None
    native = not tt.neutral_types and same_dialect(source_dialect, target)
    indexes = [ix for ix in t.indexes if native or not ix.method]  # GiST, FULLTEXT: their own dialect only
    key_columns = set(t.primary_key) | {c for u in t.unique_constraints for c in u.columns} | \
        {c for i in indexes if not i.method for c in i.columns} | {c for fk in t.foreign_keys for c in fk.columns}
    refs = [r for r in service.references if r.table == t.name]
    # SQLite numbers only a lone INTEGER PRIMARY KEY (its rowid): a column of a composite key goes without
    identity = None if target == "sqlite" and len(t.primary_key) > 1 else tt.identity
    columns = []
    for c in t.columns:
        type_ = _type(tt, c.name, c.type, source_dialect, target, key_columns, types, service.namespace)
        if identity == c.name and target == "sqlite" and isinstance(type_, sa.BigInteger):
            type_ = sa.Integer()  # SQLite generates only an INTEGER PRIMARY KEY (64 bits there)
        default = _default(c, tt, source_dialect, target, type_, types, service.namespace)
        computed = _computed(c, tt, source_dialect, target, types, service.namespace)
        args: list[sa.schema.SchemaItem] = [sa.Identity()] if identity == c.name else []
        if computed is not None:
            args.append(computed)
        columns.append(sa.Column(c.name, type_, *args, nullable=c.nullable and c.name not in t.primary_key,
                                 server_default=default if default is not None and computed is None else None,
                                 comment=_comment(c.comment, refs, c.name), autoincrement=identity == c.name))
    constraints: list[sa.schema.SchemaItem] = []
    if t.primary_key:
        constraints.append(sa.PrimaryKeyConstraint(*t.primary_key))
    for u in t.unique_constraints:
        name = unique_name(u.name or f"uq_{t.name}_{'_'.join(u.columns)}", target, taken, table=t.name)
        constraints.append(sa.UniqueConstraint(*u.columns, name=name))
    for fk in t.foreign_keys:
        prefix = f"{schema}." if schema else ""
        name = unique_name(fk.name or f"fk_{t.name}_{'_'.join(fk.columns)}", target, taken, table=t.name)
        constraints.append(sa.ForeignKeyConstraint(
            fk.columns, [f"{prefix}{fk.referred_table}.{c}" for c in fk.referred_columns], name=name,
            ondelete=fk.on_delete, onupdate=fk.on_update))
    result = sa.Table(t.name, metadata, *columns, *constraints, schema=schema, comment=t.comment)
    names = {c.name for c in t.columns}
    for ix in indexes:
        if not ix.columns or any(c not in names for c in ix.columns):
            continue  # an expression index: the service recreates it if it still needs it
        name = unique_name(ix.name or f"ix_{t.name}_{'_'.join(ix.columns)}", target, taken, table=t.name)
        sa.Index(name, *(result.c[c] for c in ix.columns), unique=ix.unique, **_index_options(ix.method, target))
    return result


def service_metadata(design: Design, service: str, dialect: str) -> sa.MetaData:
    """All tables of ``service`` for ``dialect``, in one ``MetaData`` (internal FKs resolve inside it)."""
    dialect = check_dialect(dialect)
    svc = design.service(service)
    metadata = sa.MetaData()
    taken = {tt.table.name for tt in svc.tables}  # PostgreSQL, SQLite, Oracle: tables and indexes share names
    for tt in svc.tables:
        table(tt, metadata, svc, design.source_dialect, dialect, taken, design.types)
    return metadata


def prelude(design: Design, service: str, dialect: str) -> list[str]:
    """What a service's tables need before they are created, on a target of the source's dialect: its
    copies of the legacy enums, domains and sequences (PostgreSQL), in the service's schema."""
    dialect = check_dialect(dialect)
    if dialect != "postgresql" or not same_dialect(design.source_dialect, dialect):
        return []
    svc = design.service(service)
    used: dict[str, UserType] = {}
    sequences: set[str] = set()
    for tt in svc.tables:
        if tt.neutral_types:
            continue
        for c in tt.table.columns:
            named = user_type(c.type, design.types)
            if named is not None:
                used[named.key] = named
            for match in SEQUENCE_DEFAULT.finditer(c.default or "") if tt.identity != c.name else ():
                sequences.add(sequence_name(match.group(1), svc.namespace))
    for named in list(used.values()):  # a domain over an enum or another domain needs that one too
        base = user_type(named.base or "", design.types) if named.kind == "domain" else None
        if base is not None:
            used.setdefault(base.key, base)
    prep = postgresql.dialect().identifier_preparer
    out = []
    for named in sorted(used.values(), key=lambda t: (t.kind != "enum", t.key)):
        name = _qualified_type(named, svc.namespace, 0)
        if named.kind == "enum":
            labels = ", ".join("'" + v.replace("'", "''") + "'" for v in named.values)
            out.append(f"CREATE TYPE {name} AS ENUM ({labels})")
            continue
        base = user_type(named.base or "", design.types)
        words = [f"CREATE DOMAIN {name} AS "
                 f"{_qualified_type(base, svc.namespace, 0) if base is not None else named.base}"]
        if named.default is not None:
            words.append(f"DEFAULT {native_sql(named.default, svc.namespace, design.types)}")
        if named.not_null:
            words.append("NOT NULL")
        words += [f"CONSTRAINT {prep.quote(check[0])} {check[1]}" for check in named.checks]
        out.append(" ".join(words))
    out += [f"CREATE SEQUENCE IF NOT EXISTS {name.replace(chr(39) * 2, chr(39))}" for name in sorted(sequences)]
    return out


def sequence_columns(design: Design, service: str, dialect: str) -> list[tuple[str, str, str]]:
    """(sequence, table, column) of every column numbered by a sequence default the service keeps
    (PostgreSQL, source of the same dialect; an identity column's own sequence is not listed)."""
    if check_dialect(dialect) != "postgresql" or not same_dialect(design.source_dialect, dialect):
        return []
    svc = design.service(service)
    out = []
    for tt in svc.tables:
        for c in tt.table.columns if not tt.neutral_types else []:
            match = SEQUENCE_DEFAULT.search(c.default or "")
            if match is not None and tt.identity != c.name:
                out.append((sequence_name(match.group(1), svc.namespace).replace("''", "'"), tt.table.name, c.name))
    return out


def postlude(design: Design, service: str, dialect: str) -> list[str]:
    """What follows the service's tables: each kept sequence owned by its column (dropped with it, and
    found by ``pg_get_serial_sequence`` when the migration moves it above the copied values)."""
    prep = postgresql.dialect().identifier_preparer
    ns = prep.quote_schema(design.service(service).namespace)
    return [f"ALTER SEQUENCE {sequence} OWNED BY {ns}.{prep.quote(table)}.{prep.quote(column)}"
            for sequence, table, column in sequence_columns(design, service, dialect)]
