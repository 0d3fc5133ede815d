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
from workbench.workload.sources.base import MAX_DURATION_MS, IssueSink, Statement, csv_records, is_url

PICOSECONDS_PER_MS = 1e9
_WANTED: dict[str, tuple[str, ...]] = {"text": ("!digest_text",), "calls": ("count_star",), "time": ("sum_timer_wait",)}


def read(source: str, issues: IssueSink) -> Iterator[Statement]:
    """Digest rows (live URL or CSV export with a header) as statements with call counts."""
    if is_url(source):
        yield from _live(source)
        return
    for fields, calls, picos in csv_records(source, issues, _WANTED, time_limit=MAX_DURATION_MS * PICOSECONDS_PER_MS):
        text = fields["text"]
        if text and text != "NULL":
            yield text, calls, picos / PICOSECONDS_PER_MS, None, None


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
