"""MySQL and MariaDB: the whole catalog in a handful of ``information_schema`` queries.

SQLAlchemy's MySQL Inspector runs ``SHOW CREATE TABLE`` once per table and parses the text; on a
catalog of thousands of tables that is thousands of round trips. Here each kind of fact comes
from one ``information_schema`` query over all chosen schemas. Column types go through the
dialect's own ``SHOW CREATE TABLE`` column parser (fed the same text the server would print), so
they render exactly as on the Inspector path. Row counts and sizes are the catalog's
(``TABLES.TABLE_ROWS``, an estimate for InnoDB; ``DATA_LENGTH + INDEX_LENGTH``).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.mysql.reflection import ReflectedState
from sqlalchemy.engine import Connection, Dialect

from workbench.introspect.common import ColumnKey, render_type, schema_or_none, tables_named
from workbench.schema import (
    Column,
    Computed,
    ForeignKey,
    Index,
    Partition,
    Routine,
    Table,
    Trigger,
    UniqueConstraint,
    UserType,
    table_key,
)


def _query(sql: str) -> sa.TextClause:
    return sa.text(sql).bindparams(sa.bindparam("schemas", expanding=True))


_TABLES = _query(
    "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_COMMENT, TABLE_COLLATION "
    "FROM information_schema.TABLES WHERE TABLE_SCHEMA IN :schemas AND TABLE_TYPE <> 'SEQUENCE'"
)
_COLUMNS = _query(
    "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, "
    "COLUMN_COMMENT, CHARACTER_SET_NAME, COLLATION_NAME, GENERATION_EXPRESSION "
    "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN :schemas "
    "ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"
)
_COLLATIONS = sa.text("SELECT COLLATION_NAME, CHARACTER_SET_NAME, IS_DEFAULT FROM information_schema.COLLATIONS")
_STATISTICS = (
    "SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, {expression}, INDEX_TYPE "
    "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA IN :schemas "
    "ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
)
_FOREIGN_KEYS = _query(
    "SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, "
    "k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE "
    "FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
    "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
    "AND r.TABLE_NAME = k.TABLE_NAME "
    "WHERE k.TABLE_SCHEMA IN :schemas AND k.REFERENCED_TABLE_NAME IS NOT NULL "
    "ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
)
_VIEWS = _query(
    "SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN :schemas"
)
_STATS = _query(
    "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH "
    "FROM information_schema.TABLES WHERE TABLE_SCHEMA IN :schemas AND TABLE_TYPE <> 'VIEW'"
)


def _str(value: Any) -> str | None:
    """information_schema text: PyMySQL returns bytes for some columns on some servers."""
    if value is None:
        return None
    return value.decode("utf-8") if isinstance(value, bytes | bytearray) else str(value)


def _charset_clause(
    dialect: Dialect,
    charset: str | None,
    collation: str | None,
    table_collation: str | None,
    collations: Mapping[str, tuple[str, bool]],
) -> str:
    """The ``CHARACTER SET``/``COLLATE`` words ``SHOW CREATE TABLE`` prints after a column's type."""
    if not collation or not charset:
        return ""
    if getattr(dialect, "is_mariadb", False):
        # MariaDB prints both whenever the column's collation is not the table's.
        return f" CHARACTER SET {charset} COLLATE {collation}" if collation != table_collation else ""
    table_charset = collations.get(table_collation or "", (None, False))[0]
    words = f" CHARACTER SET {charset}" if charset != table_charset else ""
    if not collations.get(collation, (None, True))[1]:
        words += f" COLLATE {collation}"
    return words


def parse_type(dialect: Dialect, column_type: str, charset_clause: str = "") -> sa.types.TypeEngine | None:
    """A column type from its catalog text, through the dialect's ``SHOW CREATE TABLE`` column parser.

    >>> from sqlalchemy.dialects import mysql
    >>> d = mysql.dialect()
    >>> str(parse_type(d, "decimal(12,2) unsigned").compile(dialect=d))
    'DECIMAL(12, 2) UNSIGNED'
    """
    parser = dialect._tabledef_parser  # type: ignore[attr-defined]  # MySQLDialect's private parser: no public API
    state = ReflectedState()
    try:
        parser._parse_column(f"  `c` {column_type}{charset_clause},", state)
    except (ValueError, TypeError, KeyError):
        return None
    return state.columns[0]["type"] if state.columns else None


def _default(value: str | None, extra: str, mariadb: bool) -> str | None:
    """A column default as ``SHOW CREATE TABLE`` prints it, which is what the Inspector reports.

    MariaDB's catalog already quotes literals; MySQL's does not (and marks expressions
    ``DEFAULT_GENERATED``). An ``ON UPDATE`` clause joins the default, as in SQLAlchemy.

    >>> _default("'a'", "", True), _default("a", "", False), _default("NULL", "", True)
    ("'a'", "'a'", None)
    >>> _default("current_timestamp()", "on update current_timestamp()", True)
    'current_timestamp() ON UPDATE current_timestamp()'
    """
    if value is None or (mariadb and value == "NULL"):
        return None
    if not mariadb and "DEFAULT_GENERATED" not in extra.upper():
        value = "'" + value.replace("'", "''") + "'"
    at = extra.lower().find("on update ")
    if at >= 0:
        return f"{value} ON UPDATE {extra[at + len('on update '):]}"
    return value


def raw_types(conn: Connection, schemas: list[str], default: str | None) -> Mapping[ColumnKey, str]:
    """``COLUMN_TYPE`` of every column: the fallback text for types SQLAlchemy does not know."""
    return {
        (schema_or_none(s, default), t, c): str(_str(ct))
        for s, t, c, ct, *_ in conn.execute(_COLUMNS, {"schemas": schemas})
    }


def read(conn: Connection, schemas: list[str], default: str | None) -> list[Table]:
    """Tables and views of ``schemas`` in six ``information_schema`` queries."""
    dialect = conn.dialect
    mariadb = bool(getattr(dialect, "is_mariadb", False))
    params = {"schemas": schemas}
    tables: dict[tuple[str, str], Table] = {}
    table_collation: dict[tuple[str, str], str | None] = {}
    for schema, name, ttype, comment, collation in conn.execute(_TABLES, params).all():
        is_view = _str(ttype) == "VIEW"
        tables[(schema, name)] = Table(
            name=name, schema=schema, kind="view" if is_view else "table",
            comment=None if is_view else (_str(comment) or None),
        )  # fmt: skip
        table_collation[(schema, name)] = _str(collation)

    collations = {
        str(_str(name)): (str(_str(cs)), _str(is_default) == "Yes")
        for name, cs, is_default in conn.execute(_COLLATIONS)
    }
    types: dict[tuple[str, str], str] = {}  # catalogs repeat a few column types thousands of times
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)  # unknown types fall back to the catalog text
        for schema, tname, cname, ctype, nullable, dflt, extra, comment, charset, collation, generation in \
                conn.execute(_COLUMNS, params).all():
            table = tables.get((schema, tname))
            if table is None:
                continue
            ctype, extra = str(_str(ctype)), _str(extra) or ""
            is_view = table.kind == "view"
            clause = (
                ""
                if is_view
                else _charset_clause(
                    dialect, _str(charset), _str(collation), table_collation[(schema, tname)], collations
                )
            )
            rendered = types.get((ctype, clause))
            if rendered is None:
                rendered = types[(ctype, clause)] = render_type(parse_type(dialect, ctype, clause), dialect, ctype)
            generated = "GENERATED" in extra.upper() and not is_view
            table.columns.append(
                Column(
                    name=cname,
                    type=rendered,
                    nullable=_str(nullable) == "YES",
                    default=None if is_view or generated else _default(_str(dflt), extra, mariadb),
                    comment=_str(comment) or None,
                    computed=Computed(_str(generation) or "", "STORED" in extra.upper() or "PERSISTENT"
                                      in extra.upper()) if generated else None,
                    identity="auto_increment" if "auto_increment" in extra.lower() and not is_view else None,
                )
            )

    index_rows: dict[tuple[str, str, str], tuple[bool, list[str], str | None]] = {}
    # MySQL 8 keeps functional index parts in STATISTICS.EXPRESSION; MariaDB has no such indexes.
    functional = not getattr(dialect, "is_mariadb", False) and (dialect.server_version_info or (0,)) >= (8, 0, 13)
    statistics = _query(_STATISTICS.format(expression="EXPRESSION" if functional else "NULL"))
    for schema, tname, iname, non_unique, cname, expression, itype in conn.execute(statistics, params).all():
        method = _str(itype) if _str(itype) in ("FULLTEXT", "SPATIAL") else None
        entry = index_rows.setdefault((schema, tname, iname), (not int(non_unique), [], method))
        entry[1].append(cname if cname is not None else (_str(expression) or ""))
    for (schema, tname, iname), (unique, cols, method) in index_rows.items():
        table = tables.get((schema, tname))
        if table is None:
            continue
        if iname == "PRIMARY":
            table.primary_key = cols
        elif unique:  # a unique key is a constraint in MySQL, as the Inspector reports it
            table.unique_constraints.append(UniqueConstraint(iname, cols))
        else:
            table.indexes.append(Index(iname, cols, False, method))

    fks: dict[tuple[str, str, str], ForeignKey] = {}
    fk_rows = conn.execute(_FOREIGN_KEYS, params).all()
    for schema, tname, cname, col, rschema, rtable, rcol, on_update, on_delete in fk_rows:
        fk = fks.get((schema, tname, cname))
        if fk is None:
            fk = fks[(schema, tname, cname)] = ForeignKey(
                columns=[], referred_table=rtable, referred_columns=[], referred_schema=rschema, name=cname,
                on_delete=_str(on_delete), on_update=_str(on_update),
            )  # fmt: skip
            if (schema, tname) in tables:
                tables[(schema, tname)].foreign_keys.append(fk)
        fk.columns.append(col)
        fk.referred_columns.append(rcol)

    for schema, name, definition in conn.execute(_VIEWS, params):
        table = tables.get((schema, name))
        if table is not None:
            table.definition = _str(definition) or None
    return list(tables.values())


def stats(conn: Connection, tables: list[Table], default: str | None) -> None:
    """Row estimates (exact for MyISAM) and data + index sizes from ``information_schema.TABLES``."""
    schemas = sorted({t.schema or default or "" for t in tables})
    found: dict[tuple[str | None, str], tuple[int | None, int | None]] = defaultdict(lambda: (None, None))
    for schema, name, rows, data, index in conn.execute(_STATS, {"schemas": schemas}):
        size = None if data is None and index is None else int(data or 0) + int(index or 0)
        found[(schema_or_none(schema, default), name)] = (None if rows is None else int(rows), size)
    for table in tables:
        if table.kind == "view":
            table.row_count, table.size_bytes = None, None
            continue
        table.row_count, table.size_bytes = found[(table.schema, table.name)]
        table.row_count_exact = False


# -- storage: partitions --------------------------------------------------------------------------------

_PARTITIONS = _query(
    "SELECT TABLE_SCHEMA, TABLE_NAME, PARTITION_NAME, SUBPARTITION_NAME, PARTITION_METHOD, PARTITION_EXPRESSION, "
    "PARTITION_DESCRIPTION, TABLE_ROWS FROM information_schema.PARTITIONS "
    "WHERE TABLE_SCHEMA IN :schemas AND PARTITION_NAME IS NOT NULL "
    "ORDER BY TABLE_SCHEMA, TABLE_NAME, PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION"
)


def _bound(method: str, description: str | None) -> str:
    """A partition's rule as ``SHOW CREATE TABLE`` words it.

    >>> _bound("RANGE", "2022"), _bound("LIST", "1,2"), _bound("HASH", None)
    ('VALUES LESS THAN (2022)', 'VALUES IN (1,2)', '')
    """
    if not description:
        return ""
    if method.startswith("RANGE"):
        return "VALUES LESS THAN " + (description if description == "MAXVALUE" else f"({description})")
    if method.startswith("LIST"):
        return f"VALUES IN ({description})"
    return ""


def storage(conn: Connection, tables: list[Table], schemas: list[str], default: str | None) -> list[Table]:
    """Partitions listed on their table (MySQL lists a partitioned table once already)."""
    by_key = {(t.schema, t.name): t for t in tables}
    for schema, name, part, sub, method, expression, description, rows in conn.execute(
            _PARTITIONS, {"schemas": schemas}):
        table = by_key.get((schema_or_none(schema, default), name))
        if table is None:
            continue
        method = _str(method) or ""
        table.partitioning = f"{method} ({_str(expression) or ''})"
        table.partitions.append(Partition(_str(sub) or _str(part) or "", table.schema,
                                          _bound(method, _str(description)), None if rows is None else int(rows)))
    return tables


# -- logic: routines and triggers ------------------------------------------------------------------------

_ROUTINES = _query(
    "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE, DTD_IDENTIFIER, ROUTINE_DEFINITION, IS_DETERMINISTIC, "
    "SQL_DATA_ACCESS, SECURITY_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN :schemas "
    "ORDER BY ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE"
)
_PARAMETERS = _query(
    "SELECT SPECIFIC_SCHEMA, SPECIFIC_NAME, ROUTINE_TYPE, PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER "
    "FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA IN :schemas AND ORDINAL_POSITION > 0 "
    "ORDER BY SPECIFIC_SCHEMA, SPECIFIC_NAME, ORDINAL_POSITION"
)
_TRIGGERS = _query(
    "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_MANIPULATION, EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, "
    "ACTION_STATEMENT, ACTION_TIMING, ACTION_ORIENTATION FROM information_schema.TRIGGERS "
    "WHERE EVENT_OBJECT_SCHEMA IN :schemas ORDER BY EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, ACTION_TIMING, "
    "EVENT_MANIPULATION, ACTION_ORDER"
)


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def logic(conn: Connection, tables: list[Table], schemas: list[str], default: str | None
          ) -> tuple[list[UserType], list[Routine], list[Trigger]]:
    """Stored functions and procedures, and triggers (MySQL has no named types: ENUM/SET are column types).

    Each ``definition`` is the ``CREATE`` statement without a schema or ``DEFINER``: run in a
    database, it creates the object there, and the body's unqualified names resolve there.
    """
    params = {"schemas": schemas}
    base_tables = [t for t in tables if t.kind == "table"]
    arguments: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for schema, name, rtype, mode, pname, dtd in conn.execute(_PARAMETERS, params):
        words = ([_str(mode) or ""] if _str(rtype) == "PROCEDURE" else []) + [_ident(_str(pname) or ""), _str(dtd)]
        arguments[(str(_str(schema)), str(_str(name)), str(_str(rtype)))].append(" ".join(w for w in words if w))
    routines = []
    for schema, name, rtype, returns, body, deterministic, access, security in conn.execute(_ROUTINES, params):
        schema, name, rtype = str(_str(schema)), str(_str(name)), str(_str(rtype))
        args = ", ".join(arguments.get((schema, name, rtype), []))
        head = f"CREATE {rtype} {_ident(name)}({args})"
        if rtype == "FUNCTION":
            head += f" RETURNS {_str(returns)}"
        head += f"\n    {'' if _str(deterministic) == 'YES' else 'NOT '}DETERMINISTIC {_str(access) or 'CONTAINS SQL'}"
        head += f" SQL SECURITY {_str(security) or 'DEFINER'}"
        text = _str(body) or ""
        routines.append(Routine(name, schema_or_none(schema, default), "function" if rtype == "FUNCTION" else
                                "procedure", args, _str(returns) if rtype == "FUNCTION" else None, "sql",
                                f"{head}\n{text}" if text else "", tables_named(text, base_tables)))
    triggers = []
    for _, name, event, tschema, table, statement, timing, orientation in conn.execute(_TRIGGERS, params):
        key = table_key(schema_or_none(str(_str(tschema)), default), str(_str(table)))
        body = _str(statement) or ""
        definition = (f"CREATE TRIGGER {_ident(str(_str(name)))} {_str(timing)} {_str(event)} ON "
                      f"{_ident(str(_str(table)))} FOR EACH {_str(orientation) or 'ROW'} {body}")
        triggers.append(Trigger(str(_str(name)), key, str(_str(timing)), [str(_str(event))], None, definition,
                                sorted({key, *tables_named(body, base_tables)})))
    return [], routines, triggers
