"""Load the sample monolith into an empty server database (PostgreSQL, MariaDB; SQLite works too).

The same :data:`~workbench.sample.tables.METADATA` is rendered for the target's dialect, so types
map per backend and names come out identical everywhere. The FK cycles (customers <-> addresses,
staff <-> departments) are handled the way bulk restores do it, without NULL-then-UPDATE tricks:
on PostgreSQL the tables are created without foreign keys, filled through ``COPY``, then indexed
and constrained (which validates every row); on MariaDB they are created with their constraints
while ``foreign_key_checks`` is off and filled with batched ``executemany``.

MariaDB note: InnoDB creates an index for every foreign key that lacks one, so the "FK without
a supporting index" trait exists on SQLite and PostgreSQL only.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import AddConstraint, CreateIndex, CreateTable
from tqdm import tqdm

from workbench.db import friendly_errors, mask_url, target_engine
from workbench.errors import TargetError
from workbench.sample.data import DEFAULT_SEED, generate, paused_gc
from workbench.sample.tables import DOMAINS, METADATA, VIEWS
from workbench.sample.world import Rows

_BATCH = 5000


def _insert_sql(table: sa.Table, dialect: sa.Dialect) -> str:
    prep = dialect.identifier_preparer
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    cols = ", ".join(prep.quote(c.name) for c in table.columns)
    return f"INSERT INTO {prep.format_table(table)} ({cols}) VALUES ({', '.join(mark for _ in table.columns)})"


def _copy_postgres(conn: sa.Connection, table: sa.Table, rows: Rows) -> None:
    """PostgreSQL COPY through psycopg 3: an order of magnitude faster than INSERTs."""
    prep = conn.dialect.identifier_preparer
    cols = ", ".join(prep.quote(c.name) for c in table.columns)
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {prep.format_table(table)} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_batches(conn: sa.Connection, table: sa.Table, rows: Rows) -> None:
    sql = _insert_sql(table, conn.dialect)
    for start in range(0, len(rows), _BATCH):
        conn.exec_driver_sql(sql, rows[start:start + _BATCH])


def load(url: str, scale: float = 1.0, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Create the sample schema in the empty database at ``url`` and load the rows :func:`build` writes.

    Returns the number of rows loaded per table, sorted by table name.

    Raises
    ------
    TargetError
        If the target already holds any table or view of the sample.
    BadURLError, MissingDriverError, ConnectError
        If the URL cannot be used (the message shows it with the password masked).
    """
    engine = target_engine(url, poolclass=sa.pool.NullPool)
    counts: dict[str, int] = {}
    try:
        with friendly_errors(url):
            inspector = sa.inspect(engine)
            existing = set(inspector.get_table_names()) | set(inspector.get_view_names())
            clash = sorted(existing & set(DOMAINS))
            if clash:
                raise TargetError(
                    f"{mask_url(url)} already holds {len(clash)} of the sample's tables (e.g. {clash[0]}): "
                    "load into an empty database"
                )
            with engine.begin() as conn:
                family = conn.dialect.name
                # PostgreSQL: constraints after the data (validated then). Others: inline, with
                # MariaDB's checks off while loading (rows were checked on SQLite), since each
                # ALTER TABLE there costs a table rebuild; SQLite cannot add constraints later.
                late_fks = family == "postgresql"
                is_mysql = family in ("mysql", "mariadb")
                if is_mysql:
                    conn.exec_driver_sql("SET SESSION foreign_key_checks = 0")
                for table in METADATA.sorted_tables:
                    fks = [] if late_fks else list(table.foreign_key_constraints)
                    create = CreateTable(table, include_foreign_key_constraints=fks)
                    if is_mysql:
                        conn.exec_driver_sql(
                            _with_inline_indexes(str(create.compile(dialect=conn.dialect)), table, conn.dialect)
                        )
                    else:
                        conn.execute(create)
                writer = _copy_postgres if family == "postgresql" else _insert_batches
                steps = tqdm(
                    generate(scale, seed), total=len(METADATA.tables), desc="sample tables", unit="table", disable=None
                )
                with paused_gc():
                    for name, rows in steps:
                        writer(conn, METADATA.tables[name], rows)
                        counts[name] = len(rows)
                for table in METADATA.sorted_tables if not is_mysql else ():
                    for index in sorted(table.indexes, key=lambda i: str(i.name)):
                        conn.execute(CreateIndex(index))
                for table in METADATA.sorted_tables:
                    for fk in sorted(table.foreign_key_constraints, key=lambda c: str(c.name)):
                        # MariaDB's compiler leaves the cycle-breaking (use_alter) keys out of CREATE TABLE
                        if late_fks or (fk.use_alter and family != "sqlite"):
                            # isolate_from_table=False: do not mark the shared METADATA's constraint as
                            # "ALTER only", or every later CREATE TABLE in this process would drop it
                            conn.execute(AddConstraint(fk, isolate_from_table=False))
                if is_mysql:
                    conn.exec_driver_sql("SET SESSION foreign_key_checks = 1")
                for name, select in VIEWS.items():
                    conn.exec_driver_sql(f"CREATE VIEW {name} AS {select}")
                if family == "postgresql":
                    _advance_sequences(conn)
    finally:
        engine.dispose()
    return dict(sorted(counts.items()))


def _with_inline_indexes(ddl: str, table: sa.Table, dialect: sa.Dialect) -> str:
    """MariaDB: declare the indexes inside CREATE TABLE; each separate CREATE INDEX is a slow table rebuild."""
    prep = dialect.identifier_preparer
    clauses = [
        f"{'UNIQUE ' if ix.unique else ''}INDEX {prep.quote(str(ix.name))} "
        f"({', '.join(prep.quote(c.name) for c in ix.columns)})"
        for ix in sorted(table.indexes, key=lambda i: str(i.name))
    ]
    body = ddl.rstrip()
    if not clauses:
        return body
    if not body.endswith(")"):
        raise RuntimeError(f"unexpected CREATE TABLE text for {table.name}: {body[-40:]!r}")
    return body[:-1].rstrip() + ", \n\t" + ", \n\t".join(clauses) + "\n)"


def _advance_sequences(conn: sa.Connection) -> None:
    """Move each SERIAL sequence past the loaded ids, so the application's next INSERT works."""
    prep = conn.dialect.identifier_preparer
    for table in METADATA.sorted_tables:
        col = table.autoincrement_column
        if col is None:
            continue
        qualified = prep.format_table(table)
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{qualified}', '{col.name}'), "
            f"COALESCE((SELECT MAX({prep.quote(col.name)}) FROM {qualified}), 0) + 1, false)"
        )
