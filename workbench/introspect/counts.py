"""Exact row counts, many tables per statement.

Counting is the one step whose cost grows with the data, not the catalog, so it batches
``SELECT COUNT(*)`` of up to :data:`BATCH` tables into one ``UNION ALL`` statement (SQLite allows
500 terms in a compound select), ends the (read-only) transaction after each batch so table locks
do not pile up, and shows a progress bar.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from tqdm.auto import tqdm

from workbench.schema import Table

BATCH = 400
"""Tables counted per statement: few round trips, well under SQLite's compound-select limit."""


def count_rows(conn: Connection, tables: Sequence[Table], progress: bool | None = None) -> dict[str, int]:
    """``COUNT(*)`` of each table, by table key.

    Names go through SQLAlchemy's quoting, so identifiers with quotes, spaces or reserved words
    are safe. ``progress=None`` shows a bar only on a terminal.
    """
    result: dict[str, int] = {}
    # Plain SQL text, quoted by the dialect's own preparer: compiling hundreds of Core selects
    # costs more than the counting itself on a big, mostly empty catalog.
    quote = conn.dialect.identifier_preparer.format_table
    bar = tqdm(
        total=len(tables), desc="counting rows", unit="table", disable=None if progress is None else not progress
    )
    try:
        for start in range(0, len(tables), BATCH):
            chunk = tables[start : start + BATCH]
            statement = " UNION ALL ".join(
                f"SELECT {i} AS i, COUNT(*) AS n FROM {quote(sa.table(t.name, schema=t.schema))}"
                for i, t in enumerate(chunk)
            )
            for i, n in conn.exec_driver_sql(statement):
                result[chunk[int(i)].key] = int(n)
            if conn.in_transaction():
                # A server keeps each counted table's lock to the end of the transaction; thousands
                # of them overflow PostgreSQL's lock table (max_locks_per_transaction).
                conn.commit()
            bar.update(len(chunk))
    finally:
        bar.close()
    return result


def apply_exact_counts(conn: Connection, tables: Sequence[Table], progress: bool | None = None) -> None:
    """Replace the row counts of base tables (not views) with exact ones."""
    base = [t for t in tables if t.kind == "table"]
    counts = count_rows(conn, base, progress)
    for t in base:
        t.row_count = counts[t.key]
        t.row_count_exact = True
