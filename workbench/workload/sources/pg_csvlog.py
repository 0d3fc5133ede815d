"""PostgreSQL csvlog (``log_destination = 'csvlog'``) with statement logging on.

Statements appear in the ``message`` column as ``statement: ...`` or ``execute <name>: ...``
(``log_statement``), or with their duration (``log_min_duration_statement``):
``duration: 1.2 ms  statement: ...``; a bare ``duration: 1.2 ms`` belongs to the session's
previous statement. ``parse``/``bind`` lines of the extended protocol are not executions and are
skipped. Sessions are ``session_id``; transactions are ``virtual_transaction_id``, which every
transaction has, read-only or not (``transaction_id`` is 0 until one writes). A virtual id ending
in ``/0`` is logged after the transaction ended and says nothing about grouping.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator

from workbench.workload.sources.base import IssueSink, Statement, malformed, open_text

COLUMNS = (
    "log_time", "user_name", "database_name", "process_id", "connection_from", "session_id",
    "session_line_num", "command_tag", "session_start_time", "virtual_transaction_id",
    "transaction_id", "error_severity", "sql_state_code", "message", "detail", "hint",
    "internal_query", "internal_query_pos", "context", "query", "query_pos", "location",
    "application_name", "backend_type", "leader_pid", "query_id",
)  # fmt: skip
"""The PostgreSQL 14+ layout (26 columns); 13 lacks the last two and 12 ``backend_type`` too."""

SESSION, VXID, SEVERITY, MESSAGE = 5, 9, 11, 13
_MESSAGE = re.compile(r"(?:duration: ([0-9]+(?:\.[0-9]*)?) ms(?:  |$))?(statement: |execute [^:]*: )?")


def read(source: str, issues: IssueSink) -> Iterator[Statement]:
    """Statements of a csvlog file, in log order (the hot loop of a big ingestion: kept flat).

    >>> import tempfile, os
    >>> row = ('2025-01-01 00:00:00 UTC,u,db,1,h,65.1,1,SELECT,2025-01-01 00:00:00 UTC,3/7,0,LOG,00000,'
    ...        '"duration: 0.5 ms  statement: SELECT 1",,,,,,,,,psql,client backend,,0')
    >>> with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
    ...     _ = f.write(row + "\\n")
    >>> list(read(f.name, None)); os.unlink(f.name)
    [('SELECT 1', 1, 0.5, '65.1', '3/7')]
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    match = _MESSAGE.match
    with open_text(source) as handle:
        reader = csv.reader(handle)
        for row in reader:
            if len(row) < 14:
                if row:
                    malformed(
                        issues, source, f"line {reader.line_num}", f"{len(row)} columns, a csvlog row has 22 to 26"
                    )
                continue
            if row[11] != "LOG":  # error_severity
                continue
            message = row[13]
            m = match(message)
            if m is None:  # (cannot happen: every part of _MESSAGE is optional)
                continue
            duration, kind = m.groups()
            if kind is None:  # parse/bind, connections, checkpoints, a bare log_duration
                if duration is not None and m.end() == len(message):
                    yield None, 1, float(duration), row[5], None  # belongs to the session's previous statement
                continue
            vxid = row[9]  # virtual_transaction_id; session_id is row[5]
            yield (message[m.end():], 1, float(duration) if duration else 0.0, row[5],
                   None if not vxid or vxid[-2:] == "/0" else vxid)  # fmt: skip
