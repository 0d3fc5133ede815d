"""DDL per service and target dialect, compiled by SQLAlchemy (never pasted together as strings).

Order follows ``CREATE``'s needs: the namespace, then tables in foreign-key order with their
indexes and comments, then the foreign keys of any cycle as ``ALTER TABLE`` (SQLite declares
every FK inline: it resolves them lazily, and cannot add one later).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import (
    AddConstraint,
    CreateIndex,
    CreateSchema,
    CreateTable,
    SetColumnComment,
    SetTableComment,
    sort_tables_and_constraints,
)

from workbench.db import friendly_errors, mask_url, target_engine
from workbench.design.model import Design
from workbench.design.schemas import check_dialect, postlude, prelude, service_metadata
from workbench.errors import TargetError
from workbench.names import one_line, sql_comment, target_name_problem


def dialect_of(name: str) -> Dialect:
    """A SQLAlchemy dialect instance for a target name (no DBAPI driver needed).

    Its paramstyle is ``named``: with the drivers' ``pyformat`` SQLAlchemy doubles every ``%`` of a
    name (``pct%%table``), right for a statement sent with parameters, wrong in a DDL file and in a
    statement sent without any (as the migration sends its DDL).
    """
    from sqlalchemy.dialects import mssql, mysql, oracle, postgresql, sqlite

    modules = {"postgresql": postgresql, "mysql": mysql, "sqlite": sqlite, "mssql": mssql, "oracle": oracle}
    return modules[check_dialect(name)].dialect(paramstyle="named")


def check_names(design: Design, services: Iterable[str], dialect: str) -> None:
    """:class:`TargetError` naming the first table whose name, or a column's, ``dialect`` cannot hold
    (too long, a trailing space, characters it refuses, two columns equal but for case where case
    does not count): in one line, before anything is created or copied, instead of the server's
    traceback half-way (or PostgreSQL's silent cut and a table verify then calls missing).
    """
    dialect = check_dialect(dialect)
    folded = dialect in ("mysql", "sqlite", "mssql")  # column names compare without case there
    for service in sorted(services):
        for tt in design.service(service).tables:
            t = tt.table
            problem = target_name_problem(t.name, dialect)
            where = f"{service}.{one_line(t.name)}"
            if problem:
                raise TargetError(f"{where}: the table name {problem}; give the table another name in design.json "
                                  f"(its 'table.name') to migrate it into {dialect}")
            seen: dict[str, str] = {}
            for c in t.columns:
                problem = target_name_problem(c.name, dialect, "column")
                if problem:
                    raise TargetError(f"{where}: column {one_line(c.name)!r}: the name {problem}; rename the column "
                                      f"in design.json to migrate it into {dialect}")
                key = c.name.lower() if folded else c.name
                if key in seen:
                    raise TargetError(f"{where}: columns {one_line(seen[key])!r} and {one_line(c.name)!r} are one "
                                      f"name to {dialect} (case does not count there); rename one in design.json")
                seen[key] = c.name


def execute(conn: sa.Connection, statement: str) -> None:
    """Run one statement of :func:`statements` as it is written: sent without parameters, so a
    driver with ``%s`` placeholders (psycopg, PyMySQL) takes a ``%`` in a name for the character."""
    conn.exec_driver_sql(statement, execution_options={"no_parameters": True})


def statements(design: Design, service: str, dialect: str) -> list[str]:
    """The service's DDL for ``dialect``, one statement per item, without terminators."""
    dialect = check_dialect(dialect)
    d = dialect_of(dialect)
    svc = design.service(service)
    metadata = service_metadata(design, service, dialect)
    out: list[str] = []
    if dialect in ("postgresql", "mysql", "mssql"):
        out.append(str(CreateSchema(svc.namespace).compile(dialect=d)))
    out += prelude(design, service, dialect)  # the legacy's enums, domains, sequences: same dialect only
    inline = dialect == "sqlite"
    tables = list(metadata.tables.values())
    comments = d.supports_comments and not d.inline_comments
    for table, unordered in sort_tables_and_constraints(tables):
        # SQLAlchemy hands these over as a set: sort them, or the script changes from run to run.
        fkcs = sorted(unordered, key=lambda c: (c.parent.name, str(c.name)))
        if table is None:
            if not inline:
                out += [str(AddConstraint(fkc).compile(dialect=d)) for fkc in fkcs]
            continue
        create = CreateTable(table, include_foreign_key_constraints=None if inline else fkcs)
        out.append(str(create.compile(dialect=d)).strip())
        out += [str(CreateIndex(ix).compile(dialect=d)) for ix in sorted(table.indexes, key=lambda i: str(i.name))]
        if comments:
            if table.comment:
                out.append(str(SetTableComment(table).compile(dialect=d)))
            out += [str(SetColumnComment(c).compile(dialect=d)) for c in table.columns if c.comment]
    return out + postlude(design, service, dialect)


SEPARATORS = {"mssql": "\nGO\n\n"}


def script(design: Design, service: str, dialect: str) -> str:
    """The service's DDL as a runnable script with a header saying where it goes and what it leaves out."""
    dialect = check_dialect(dialect)
    svc = design.service(service)
    where = {"postgresql": f"schema {svc.namespace}", "mssql": f"schema {svc.namespace}",
             "mysql": f"database {svc.namespace}", "oracle": f"schema (user) {svc.namespace.upper()}",
             "sqlite": f"its own database file, e.g. {svc.namespace}.sqlite"}[dialect]
    # names in comments go through sql_comment(): a line break in a table name must not end the comment
    lines = [f"-- Service {svc.name}: {where} ({dialect}).",
             "-- Generated by the workbench from design.json; cross-service foreign keys are not declared:"]
    for r in svc.references:
        lines.append(sql_comment(f"--   {r.table}({', '.join(r.columns)}) -> {r.referred_service}.{r.referred_table}"
                                 f"({', '.join(r.referred_columns)}): reference by id, see {r.dependency}"))
    if not svc.references:
        lines.append("--   (none)")
    if dialect == "oracle":
        lines.append(f"-- Create the user {svc.namespace.upper()} first (Oracle has no CREATE SCHEMA of its own).")
    if any(t.identity and t.role in ("owned", "copy") for t in svc.tables):
        lines.append("-- After copying the legacy rows, restart each identity above the largest copied id.")
    sep = SEPARATORS.get(dialect, ";\n\n")
    body = sep.join(s.strip() for s in statements(design, service, dialect))
    return "\n".join(lines) + "\n\n" + body + sep.rstrip(" \n") + "\n"


def apply(design: Design, url: str, services: Iterable[str] | None = None) -> dict[str, str]:
    """Create the services' schemas and tables in a *target* database (never the legacy source).

    PostgreSQL, MySQL/MariaDB and SQL Server get one schema (database) per service in the server
    ``url`` points to. For SQLite, ``url`` names a folder and each service gets its own file there.
    Returns service -> where it was created.

    Raises
    ------
    TargetError
        When a service's namespace (or file) already exists: the design never overwrites.
    """
    names = sorted(services) if services is not None else sorted(design.services)
    if "://" not in url:
        check_names(design, names, "sqlite")
        return _apply_sqlite(design, Path(url), names)
    engine = target_engine(url)
    dialect = check_dialect(engine.dialect.name)
    check_names(design, names, dialect)
    out = {}
    try:
        with friendly_errors(url), engine.begin() as conn:
            existing = set(sa.inspect(conn).get_schema_names())
            for name in names:
                ns = design.service(name).namespace
                if ns in existing:
                    raise TargetError(f"{dialect} namespace {ns} already exists in {mask_url(url)}: drop it or use "
                                      "another prefix")
            for name in names:
                for stmt in statements(design, name, dialect):
                    execute(conn, stmt)
                out[name] = f"{mask_url(url)} {design.service(name).namespace}"
    finally:
        engine.dispose()
    return out


def _apply_sqlite(design: Design, folder: Path, names: list[str]) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in names:
        path = folder / f"{design.service(name).namespace}.sqlite"
        if path.exists():
            raise TargetError(f"SQLite file already exists: {path}")
    for name in names:
        path = folder / f"{design.service(name).namespace}.sqlite"
        engine = target_engine(f"sqlite:///{path}")
        try:
            with engine.begin() as conn:
                for stmt in statements(design, name, "sqlite"):
                    execute(conn, stmt)
        finally:
            engine.dispose()
        out[name] = str(path)
    return out
