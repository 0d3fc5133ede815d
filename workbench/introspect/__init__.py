"""Introspection: a database's structure, read through a read-only session, as a :class:`Schema`.

``introspect(url)`` is the Assess stage's first step (``workbench introspect URL --out
schema.json``). Each backend has the fastest path its catalog allows, so a catalog of thousands
of tables costs a handful of round trips, not several per table:

- SQLite: pragma table-valued functions (:mod:`.sqlite`);
- MySQL/MariaDB: ``information_schema`` (:mod:`.mysql`);
- PostgreSQL: four ``pg_catalog`` queries (:mod:`.postgresql`);
- any other dialect: SQLAlchemy's bulk ``Inspector.get_multi_*`` (:mod:`.generic`).

Every path funnels through :mod:`.common` and renders types through SQLAlchemy, so the same
database gives the same model whichever path read it: the tests hold each fast path equal to the
Inspector path (``read_schema(..., bulk=False)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from tqdm.auto import tqdm

from workbench.db import friendly_errors, mask_url, scrub, source_engine
from workbench.errors import ConnectError, EmptyDatabaseError
from workbench.introspect import generic, mysql, postgresql, sqlite
from workbench.introspect.common import default_schema, family, finish, pick_schemas
from workbench.introspect.counts import apply_exact_counts
from workbench.schema import Schema, Table

__all__ = ["introspect", "read_schema"]

_BACKENDS: dict[str, ModuleType] = {"sqlite": sqlite, "mysql": mysql, "postgresql": postgresql}
_CASE_INSENSITIVE = {"sqlite", "mysql"}


def introspect(
    url: str, schemas: list[str] | None = None, exact_counts: bool = False, progress: bool | None = None
) -> Schema:
    """Read the structure of the database at ``url`` (any SQLAlchemy URL) without writing to it.

    Parameters
    ----------
    schemas
        Schemas to read; None reads every application schema (MySQL: the URL's database).
    exact_counts
        Count rows with ``COUNT(*)`` instead of using the catalog's estimates (SQLite always counts).
    progress
        Show progress bars; None shows them only on a terminal.

    Raises
    ------
    BadURLError, MissingDriverError, ConnectError, NotFoundError, EmptyDatabaseError
        With one line naming the URL, password masked.

    Examples
    --------
    >>> import sqlite3, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "shop.db"
    >>> with sqlite3.connect(path) as c:
    ...     _ = c.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total NUMERIC(12, 2))")
    >>> s = introspect(f"sqlite:///{path}", progress=False)
    >>> [(t.key, [c.type for c in t.columns], t.row_count) for t in s.tables]
    [('orders', ['INTEGER', 'NUMERIC(12, 2)'], 0)]
    """
    engine = source_engine(url, poolclass=sa.pool.NullPool)
    try:
        with friendly_errors(url), engine.connect() as conn:
            return read_schema(
                conn, database=mask_url(url), schemas=schemas, exact_counts=exact_counts, progress=progress
            )
    except sa.exc.DatabaseError as exc:
        # The bare DatabaseError class (not a subclass) is how a driver says the source itself is
        # unusable, e.g. SQLite's "file is not a database"; anything more specific is a bug here.
        if type(exc) is not sa.exc.DatabaseError:
            raise
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else "unreadable database"
        raise ConnectError(f"cannot read {mask_url(url)}: {scrub(detail)}") from None
    finally:
        engine.dispose()


def _canonical_fk_targets(tables: list[Table]) -> None:
    """Point foreign keys at tables as the catalog spells them (``REFERENCES Customers`` -> ``customers``).

    SQLite and MySQL keep the referred name as typed in the DDL; matching table keys downstream
    needs the real name.
    """
    exact = {(t.schema, t.name) for t in tables}
    folded: dict[tuple[str | None, str], list[str]] = {}
    for t in tables:
        folded.setdefault((t.schema, t.name.lower()), []).append(t.name)
    for t in tables:
        for fk in t.foreign_keys:
            if (fk.referred_schema, fk.referred_table) in exact:
                continue
            candidates = folded.get((fk.referred_schema, fk.referred_table.lower()), [])
            if len(candidates) == 1:
                fk.referred_table = candidates[0]


def read_schema(
    conn: Connection,
    *,
    database: str = "",
    schemas: Sequence[str] | None = None,
    exact_counts: bool = False,
    progress: bool | None = None,
    bulk: bool = True,
) -> Schema:
    """The :class:`Schema` of the database behind an open connection.

    ``bulk=False`` reads the structure through the plain Inspector even where a fast path
    exists: the reference the fast paths are tested against, not meant for big catalogs.
    """
    backend = family(conn.dialect)
    module = _BACKENDS.get(backend)
    default = default_schema(conn)
    available = sqlite.list_schemas(conn) if backend == "sqlite" else generic.list_schemas(conn, backend)
    chosen = pick_schemas(backend, schemas, available, default, database)

    bar = tqdm(total=3, desc="introspect", unit="step", disable=None if progress is None else not progress)
    try:
        bar.set_postfix_str("structure")
        if bulk and module is not None:
            raw = module.read(conn, chosen, default)
        else:
            loader = (lambda: module.raw_types(conn, chosen, default)) if module is not None else None
            raw = generic.read(conn, chosen, default, raw_types=loader)
        if not raw:
            where = f" (schemas: {', '.join(chosen)})" if schemas is not None else ""
            raise EmptyDatabaseError(f"no tables or views in {database}{where}")
        tables = [finish(t, backend, default) for t in raw]
        if backend in _CASE_INSENSITIVE:
            _canonical_fk_targets(tables)
        storage, logic = getattr(module, "storage", None), getattr(module, "logic", None)
        if storage is not None:  # partitions folded into their table, materialized views marked
            tables = storage(conn, tables, chosen, default)
        types, routines, triggers = logic(conn, tables, chosen, default) if logic is not None else ([], [], [])
        bar.update()
        bar.set_postfix_str("statistics")
        if module is not None:
            module.stats(conn, tables, default)
        bar.update()
        if exact_counts or backend == "sqlite":
            bar.set_postfix_str("row counts")
            apply_exact_counts(conn, tables, progress)
        bar.update()
    finally:
        bar.close()
    tables.sort(key=lambda t: t.key)
    return Schema(dialect=backend, database=database, default_schema=default, schemas=chosen, tables=tables,
                  types=types, routines=routines, triggers=triggers)
