"""MySQL/MariaDB general query log: the file the server writes, or the ``mysql.general_log`` table.

Every statement a client sends, in arrival order, with the connection (thread) id: sessions and
order are kept, so transactions are rebuilt from ``BEGIN``/``COMMIT`` and ``SET autocommit``.
Values are inlined by the client (or by the server for ``Execute`` of a prepared statement), so
every line is normalised. A file entry is ``[time]<TAB>id Command<TAB>argument``; the time is
left out when it repeats, and a multi-line statement simply continues on the following lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import sqlalchemy as sa

from workbench.db import friendly_errors, source_engine
from workbench.workload.sources.base import IssueSink, Statement, is_url, malformed, open_text

STATEMENT_COMMANDS = frozenset({"Query", "Execute"})
"""``Prepare`` is not an execution; ``Execute`` carries the statement with its values."""

_ENTRY = re.compile(
    r"^(?:\d{6}\s+\d{1,2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"\t+ *(\d+) ([A-Z][A-Za-z ]*?)\t(.*)$",
    re.S,
)
_HEADER = re.compile(r"^(?:\S+, Version: .*started with:|Tcp port: .*|Time\s+Id\s+Command\s+Argument)\s*$")


def read(source: str, issues: IssueSink) -> Iterator[Statement]:
    """Statements of a general log file (or, for a URL, of the ``mysql.general_log`` table).

    >>> import tempfile, os
    >>> lines = ["Time\\t\\t    Id Command\\tArgument", "250101  9:00:00\\t    7 Query\\tSELECT a", "FROM t",
    ...          "\\t\\t    7 Quit\\t"]
    >>> with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
    ...     _ = f.write("\\n".join(lines) + "\\n")
    >>> list(read(f.name, None)); os.unlink(f.name)
    [('SELECT a\\nFROM t', 1, 0.0, '7', None)]
    """
    if is_url(source):
        yield from _table(source, issues)
        return
    pending: list[str] | None = None
    session = ""
    with open_text(source) as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            m = _ENTRY.match(line)
            if m is None:
                if _HEADER.match(line):
                    continue
                if pending is not None:
                    pending.append(line)
                elif line.strip():
                    malformed(issues, source, f"line {number}", "not a general log entry")
                continue
            if pending is not None:
                yield "\n".join(pending), 1, 0.0, session, None
                pending = None
            if m.group(2) in STATEMENT_COMMANDS:
                session = m.group(1)
                pending = [m.group(3)]
        if pending is not None:
            yield "\n".join(pending), 1, 0.0, session, None


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else str(value)


_CONNECT_DB = re.compile(r" on (.*?)(?: using \S+)?\s*$", re.S)
_USE = re.compile(r"^\s*use\s+(`(?:[^`]|``)+`|[^\s;]+)\s*;?\s*$", re.I | re.S)


def _database(command: str, text: str) -> str | None:
    """The database a session is on after this entry, when the entry says (else None).

    >>> _database("Connect", "app@localhost on shop using TCP/IP"), _database("Init DB", "crm")
    ('shop', 'crm')
    >>> _database("Query", "USE `my``db`"), _database("Connect", "app@localhost on  using Socket")
    ('my`db', '')
    """
    if command == "Init DB":
        return text.strip()
    if command in ("Connect", "Change user"):
        m = _CONNECT_DB.search(text)
        return m.group(1).strip() if m else None
    if command == "Query" and text[:3].lower() == "use":
        m = _USE.match(text)
        if m:
            name = m.group(1)
            return name[1:-1].replace("``", "`") if name.startswith("`") else name
    return None


def _table(url: str, issues: IssueSink) -> Iterator[Statement]:
    """Rows of ``mysql.general_log`` in insertion order (the CSV engine's natural order), keeping the
    statements of the URL's database when it names one, as ``pg_stat_statements`` is read.

    The table has no database column: a session's database is followed from its ``Connect`` entry,
    ``Init DB`` and ``USE``. Statements of sessions on other databases are left out, and so are
    those of sessions connected before the log was switched on (their database is unknown); both
    are counted as issues (``other_database``, ``unknown_database``). A URL without a database
    reads every session. The workbench's own reading session is never part of the workload.
    """
    engine = source_engine(url)
    wanted = engine.url.database or None
    current: dict[object, str | None] = {}  # thread -> database ('' none chosen); absent: unknown
    try:
        with friendly_errors(url), engine.connect() as conn:
            me = conn.execute(sa.text("SELECT CONNECTION_ID()")).scalar()
            result = conn.execution_options(stream_results=True, yield_per=10_000).execute(
                sa.text("SELECT thread_id, command_type, argument FROM mysql.general_log")
            )
            for thread_id, command, argument in result:
                if thread_id == me:
                    continue
                text = _text(argument)
                if command == "Quit":
                    current.pop(thread_id, None)
                    continue
                database = _database(str(command), text)
                if database is not None:
                    current[thread_id] = database
                if command not in STATEMENT_COMMANDS:
                    continue
                if wanted is not None:
                    on = current.get(thread_id)
                    if on is None:
                        issues.add("unknown_database", f"session {thread_id}: connected before the log began",
                                   safe=True)
                        continue
                    if on != wanted:
                        issues.add("other_database", f"session {thread_id} on database {on or '(none)'}", safe=True)
                        continue
                yield text, 1, 0.0, str(thread_id), None
    finally:
        engine.dispose()
