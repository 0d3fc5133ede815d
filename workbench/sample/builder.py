"""Write the sample monolith to a SQLite file, atomically.

The file is built under a temporary name next to the target and renamed over it only when
complete, so a reader never sees half a database and an interrupted build leaves the old file.
SQLite gets the DDL SQLAlchemy renders for it, then rows through ``executemany`` in one
transaction with journaling off; indexes and views are created after the data (faster, and
what a bulk restore does too).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable
from tqdm import tqdm

from workbench.errors import TargetError
from workbench.sample.data import DEFAULT_SEED, generate, paused_gc
from workbench.sample.tables import METADATA, VIEWS


def _insert_sql(table: sa.Table, dialect: sa.Dialect, placeholder: str) -> str:
    prep = dialect.identifier_preparer
    cols = ", ".join(prep.quote(c.name) for c in table.columns)
    marks = ", ".join(placeholder for _ in table.columns)
    return f"INSERT INTO {prep.format_table(table)} ({cols}) VALUES ({marks})"


def build(path: str | Path, scale: float = 1.0, seed: int = DEFAULT_SEED) -> Path:
    """Generate the sample database as a SQLite file at ``path`` and return the path.

    At ``scale=1.0`` the largest tables hold over 100,000 rows; ``scale`` multiplies every
    volume (reference data keeps its size; every table keeps a few rows). The same
    ``(scale, seed)`` always produces the same table contents.

    Raises
    ------
    TargetError
        If the file or its folder cannot be written.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    dialect = sqlite_dialect.dialect()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        con = sqlite3.connect(tmp, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise TargetError(f"cannot write the sample database {path}: {exc}") from None
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-64000")
        con.execute("BEGIN")
        for table in METADATA.sorted_tables:
            con.execute(str(CreateTable(table).compile(dialect=dialect)))
        steps = tqdm(
            generate(scale, seed), total=len(METADATA.tables), desc="sample tables", unit="table", disable=None
        )
        with paused_gc():
            for name, rows in steps:
                con.executemany(_insert_sql(METADATA.tables[name], dialect, "?"), rows)
        for table in METADATA.sorted_tables:
            for index in sorted(table.indexes, key=lambda i: str(i.name)):
                con.execute(str(CreateIndex(index).compile(dialect=dialect)))
        for name, select in VIEWS.items():
            con.execute(f"CREATE VIEW {name} AS {select}")
        con.execute("COMMIT")
        con.close()
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(Exception):
            con.close()
        tmp.unlink(missing_ok=True)
        if isinstance(exc, (OSError, sqlite3.OperationalError)):
            raise TargetError(f"cannot write the sample database {path}: {exc}") from None
        raise
    return path
