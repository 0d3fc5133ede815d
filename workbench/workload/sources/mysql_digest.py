"""MySQL/MariaDB ``performance_schema.events_statements_summary_by_digest``: live or CSV export.

One row per digest: ``DIGEST_TEXT`` (identifiers in backticks, literals as ``?``, IN-lists as
``(...)``, cut at ``max_digest_length`` bytes with a trailing ``...``), ``COUNT_STAR`` and
``SUM_TIMER_WAIT`` in picoseconds. Aggregated: templates and counts, no transactions. Live reads
keep to the URL's database when it names one.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from workbench.db import friendly_errors, mask_url, source_engine
from workbench.errors import WorkbenchError
from workbench.workload.sources.base import IssueSink, Statement, csv_rows, header_index, is_url, malformed, number

PICOSECONDS_PER_MS = 1e9
_WANTED = {"text": ("!digest_text",), "calls": ("count_star",), "time": ("sum_timer_wait",)}


def read(source: str, issues: IssueSink) -> Iterator[Statement]:
    """Digest rows (live URL or CSV export with a header) as statements with call counts."""
    if is_url(source):
        yield from _live(source)
        return
    rows = csv_rows(source)
    header = next(rows, None)
    if header is None:
        return
    cols = header_index(header, _WANTED, source)
    q, c, t = cols["text"], cols["calls"], cols["time"]
    width = len(header)
    for line, row in enumerate(rows, start=2):
        if len(row) != width:
            if row:
                malformed(issues, source, f"row {line}", f"{len(row)} columns, the header has {width}")
            continue
        text = row[q]  # type: ignore[index]
        if not text or text == "NULL":
            continue
        calls = number(row[c], int, 1) if c is not None else 1
        picos = number(row[t], float, 0.0) if t is not None else 0.0
        if calls is None or picos is None:
            malformed(issues, source, f"row {line}", "calls or time is not a number")
            continue
        yield text, int(calls), float(picos) / PICOSECONDS_PER_MS, None, None


def _live(url: str) -> Iterator[Statement]:
    engine = source_engine(url)
    try:
        with friendly_errors(url), engine.connect() as conn:
            enabled = conn.execute(sa.text("SELECT @@performance_schema")).scalar()
            if not enabled:
                raise WorkbenchError(
                    f"performance_schema is off in {mask_url(url)}: set performance_schema=ON in the server "
                    "configuration and restart it, or export the digest table to CSV elsewhere"
                )
            where = "WHERE DIGEST_TEXT IS NOT NULL"
            params = {}
            if engine.url.database:
                where += " AND SCHEMA_NAME = :db"
                params["db"] = engine.url.database
            rows = conn.execute(
                sa.text(
                    "SELECT DIGEST_TEXT, COUNT_STAR, SUM_TIMER_WAIT "
                    f"FROM performance_schema.events_statements_summary_by_digest {where} ORDER BY DIGEST, DIGEST_TEXT"
                ),
                params,
            ).all()
    finally:
        engine.dispose()
    for text, calls, picos in rows:
        yield str(text), int(calls or 0), float(picos or 0) / PICOSECONDS_PER_MS, None, None
