"""PostgreSQL ``pg_stat_statements``: live from a server, or a CSV export of the view.

One row per normalised statement (constants already ``$n``) with ``calls`` and
``total_exec_time`` (``total_time`` before PostgreSQL 13). The view aggregates away sessions and
order, so it yields templates and counts but no transactions. Live reads keep to the URL's
database; a CSV export holds whatever was exported (``\\copy (SELECT * FROM pg_stat_statements
WHERE dbid = ...) TO 'pgss.csv' CSV HEADER``).
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from workbench.db import friendly_errors, mask_url, source_engine
from workbench.errors import NotFoundError, WorkbenchError
from workbench.workload.sources.base import IssueSink, Statement, csv_records, is_url

_WANTED = {"query": ("!query",), "calls": ("calls",), "time": ("total_exec_time", "total_time")}


def read(source: str, issues: IssueSink) -> Iterator[Statement]:
    """Rows of the view (live URL) or of its CSV export, as statements with call counts."""
    if is_url(source):
        yield from _live(source)
        return
    for fields, calls, time in csv_records(source, issues, _WANTED):
        yield fields["query"] or "", calls, time, None, None


def _live(url: str) -> Iterator[Statement]:
    engine = source_engine(url)
    try:
        with friendly_errors(url), engine.connect() as conn:
            schema = conn.execute(
                sa.text(
                    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                    "WHERE e.extname = 'pg_stat_statements'"
                )
            ).scalar()
            if schema is None:
                raise NotFoundError(
                    f"pg_stat_statements is not installed in {mask_url(url)} (CREATE EXTENSION pg_stat_statements)"
                )
            version = conn.execute(sa.text("SHOW server_version_num")).scalar()
            time_col = "total_exec_time" if int(version or 0) >= 130000 else "total_time"
            view = f'"{schema}".pg_stat_statements'
            query = sa.text(
                f"SELECT query, calls, {time_col} FROM {view} "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND query IS NOT NULL ORDER BY queryid, userid, query"
            )
            try:
                rows = conn.execute(query).all()
            except sa.exc.DBAPIError as exc:
                detail = str(exc.orig).strip().splitlines()[0] if exc.orig else "query failed"
                raise WorkbenchError(f"cannot read pg_stat_statements in {mask_url(url)}: {detail}") from None
    finally:
        engine.dispose()
    for query_text, calls, total in rows:
        yield query_text, int(calls or 0), float(total or 0.0), None, None
