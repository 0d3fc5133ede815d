"""Log readers, one module per format, and the registry the CLI's ``--format`` chooses from."""

from __future__ import annotations

from workbench.errors import NotFoundError
from workbench.workload.sources import generic, mysql_digest, mysql_general_log, pg_csvlog, pg_stat_statements
from workbench.workload.sources.base import Format, IssueSink, Statement, is_url

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("pg_stat_statements", "postgres", False, pg_stat_statements.read,
               "PostgreSQL pg_stat_statements (live URL or CSV export)", live="the pg_stat_statements view"),
        Format("pg_csvlog", "postgres", True, pg_csvlog.read, "PostgreSQL csvlog with statement logging"),
        Format("mysql_digest", "mysql", False, mysql_digest.read,
               "MySQL/MariaDB events_statements_summary_by_digest (live URL or CSV export)",
               live="performance_schema.events_statements_summary_by_digest"),
        Format("mysql_general_log", "mysql", True, mysql_general_log.read,
               "MySQL/MariaDB general query log (file, or live URL: mysql.general_log)", live="mysql.general_log"),
        Format("jsonl", None, True, generic.read_jsonl, "JSON Lines: sql, calls, session, transaction, duration_ms"),
        Format("csv", None, True, generic.read_csv, "CSV with the JSON Lines keys as header"),
    )
}  # fmt: skip


def get_format(name: str) -> Format:
    """The format called ``name``; the error lists the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise NotFoundError(f"unknown log format {name!r}; known: {', '.join(sorted(FORMATS))}") from None


__all__ = ["FORMATS", "Format", "IssueSink", "Statement", "get_format", "is_url"]
