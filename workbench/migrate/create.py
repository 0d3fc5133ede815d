"""Create a service's namespace and tables on the target, resumably, from the design.

The DDL is the design's (:func:`workbench.design.schemas.service_metadata`, compiled by
SQLAlchemy). PostgreSQL gets its foreign keys only after the data (as ``pg_restore`` does), so rows
may arrive in key order whatever their references; the migration adds them once a service's tables
are complete, which validates every row. MariaDB and SQLite declare them at once: the bulk session
does not check them (``foreign_key_checks = 0``; SQLite never does unless asked), and the migration
checks every foreign key itself before it declares the service complete.

A namespace is only ever created or resumed, never taken over: one that exists without the
checkpoint table (someone else's) stops the migration. Until the ``ddl`` step is recorded, a
rerun drops whatever tables a crash left half-created (they hold no data yet) and starts over.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.schema import (
    AddConstraint,
    CreateIndex,
    CreateSchema,
    CreateTable,
    SetColumnComment,
    SetTableComment,
    sort_tables_and_constraints,
)

from workbench.design import ddl
from workbench.design.model import Design
from workbench.design.schemas import postlude, prelude, service_metadata
from workbench.errors import TargetError
from workbench.migrate import checkpoint
from workbench.migrate.target import Target

DDL_STEP = "ddl"


def table_statements(design: Design, service: str, dialect: str) -> list[str]:
    """CREATE TABLE/INDEX (and comments) for the service; on PostgreSQL without foreign keys."""
    if dialect != "postgresql":
        return [
            s for s in ddl.statements(design, service, dialect) if not s.lstrip().upper().startswith("CREATE SCHEMA")
        ]
    d = ddl.dialect_of(dialect)
    metadata = service_metadata(design, service, dialect)
    out: list[str] = prelude(design, service, dialect)
    for table, _fkcs in sort_tables_and_constraints(list(metadata.tables.values())):
        if table is None:
            continue
        out.append(str(CreateTable(table, include_foreign_key_constraints=[]).compile(dialect=d)).strip())
        out += [str(CreateIndex(ix).compile(dialect=d)) for ix in sorted(table.indexes, key=lambda i: str(i.name))]
        if table.comment:
            out.append(str(SetTableComment(table).compile(dialect=d)))
        out += [str(SetColumnComment(c).compile(dialect=d)) for c in table.columns if c.comment]
    return out + postlude(design, service, dialect)


def foreign_keys(design: Design, service: str, dialect: str) -> list[sa.ForeignKeyConstraint]:
    """The service's foreign key constraints, sorted by table and name."""
    metadata = service_metadata(design, service, dialect)
    fks = [fk for t in metadata.tables.values() for fk in t.foreign_key_constraints]
    return sorted(fks, key=lambda fk: (fk.parent.name, str(fk.name), [c.name for c in fk.columns]))


def add_foreign_key_statements(design: Design, service: str, dialect: str,
                               existing: set[tuple[str, tuple[str, ...]]]) -> list[str]:
    """``ALTER TABLE ... ADD CONSTRAINT`` for the FKs not in ``existing`` ((table, columns) pairs)."""
    d = ddl.dialect_of(dialect)
    return [str(AddConstraint(fk).compile(dialect=d)) for fk in foreign_keys(design, service, dialect)
            if (fk.parent.name, tuple(c.name for c in fk.columns)) not in existing]


def _create_namespace(conn: sa.Connection, target: Target, namespace: str) -> None:
    if target.dialect == "mysql":
        prep = conn.dialect.identifier_preparer
        conn.exec_driver_sql(f"CREATE DATABASE {prep.quote_schema(namespace)} CHARACTER SET utf8mb4")
    else:
        conn.execute(CreateSchema(namespace))


def _drop_leftovers(conn: sa.Connection, target: Target, design: Design, service: str, schema: str | None) -> None:
    present = set(sa.inspect(conn).get_table_names(schema=schema))
    metadata = service_metadata(design, service, target.dialect)
    doomed = [t for t in reversed(_sorted(metadata)) if t.name in present]
    if not doomed:
        return
    if target.dialect == "postgresql":
        prep = conn.dialect.identifier_preparer
        names = ", ".join(prep.format_table(t) for t in doomed)
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {names} CASCADE")
    else:
        for t in doomed:
            t.drop(conn, checkfirst=True)


def _same_tables(conn: sa.Connection, target: Target, design: Design, service: str, schema: str | None) -> None:
    """A namespace created earlier must hold the design's tables and columns: resuming onto another
    design's schema would mix two designs."""
    inspector = sa.inspect(conn)
    present = set(inspector.get_table_names(schema=schema)) - {checkpoint.TABLE, "alembic_version"}
    wanted = {t.table.name: [c.name for c in t.table.columns] for t in design.service(service).tables}
    where = target.where(design, service)
    missing, extra = sorted(set(wanted) - present), sorted(present - set(wanted))
    if missing or extra:
        raise TargetError(f"{where} was migrated from another design (tables {', '.join(missing) or '-'} missing, "
                          f"{', '.join(extra) or '-'} not in the design): drop it to migrate afresh")
    for name, columns in sorted(wanted.items()):
        have = [c["name"] for c in inspector.get_columns(name, schema=schema)]
        if sorted(have) != sorted(columns):
            raise TargetError(f"{where} was migrated from another design (table {name} has columns "
                              f"{', '.join(sorted(set(have) ^ set(columns)))} differing): drop it to migrate afresh")


def prepare(target: Target, design: Design, service: str) -> bool:
    """Make sure the service's namespace, checkpoint table and tables exist; True if created now.

    Raises
    ------
    TargetError
        When the namespace (or SQLite file) exists but was not created by a migration.
    """
    svc = design.service(service)
    schema = target.schema(design, service)
    engine = target.engine(design, service, migrating=True)
    with engine.begin() as conn:
        inspector = sa.inspect(conn)
        if target.dialect == "sqlite":
            tables = set(inspector.get_table_names())
        elif svc.namespace in inspector.get_schema_names():
            tables = set(inspector.get_table_names(schema=schema)) | set(inspector.get_view_names(schema=schema))
        else:
            _create_namespace(conn, target, svc.namespace)
            tables = set()
        if tables and checkpoint.TABLE not in tables:
            raise TargetError(f"{target.where(design, service)} already exists and was not created by "
                              "'workbench migrate': drop it, or migrate with another design prefix")
        checkpoint.table(schema).create(conn, checkfirst=True)
    with engine.begin() as conn:
        state = checkpoint.read(conn, schema).get(DDL_STEP)
        if state is not None and state.done:
            _same_tables(conn, target, design, service, schema)
            return False
        _drop_leftovers(conn, target, design, service, schema)
        statements = table_statements(design, service, target.dialect)
        if target.dialect == "postgresql":  # one round trip: the server runs them in order, in this transaction
            ddl.execute(conn, ";\n".join(statements))
        else:
            for statement in statements:
                ddl.execute(conn, statement)
        checkpoint.finish(conn, schema, DDL_STEP)
    return True


def _sorted(metadata: sa.MetaData) -> list[sa.Table]:
    """Tables in creation order, FK cycles tolerated (their FKs are added separately)."""
    return [t for t, _ in sort_tables_and_constraints(list(metadata.tables.values())) if t is not None]
