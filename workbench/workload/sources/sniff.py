"""Which log format a file looks like, from its first lines: for the error a wrong ``--format`` gets.

A log read in the wrong format is mostly "malformed lines" and yields an empty workload; instead
of that, :func:`workbench.workload.ingest.ingest` fails and names the format the file looks like,
which this guesses from the first few dozen lines (each format has a shape no other has).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from workbench.workload.sources.mysql_general_log import _ENTRY, _HEADER

SAMPLE_BYTES = 256 * 1024
SAMPLE_LINES = 50

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
_SEVERITIES = frozenset({"DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5", "INFO", "NOTICE", "WARNING", "ERROR", "LOG",
                         "FATAL", "PANIC"})


def _head(path: Path) -> str:
    with path.open("rb") as handle:
        data = handle.read(SAMPLE_BYTES)
    for bom, encoding in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data.decode(encoding, "replace")
    return data.decode("utf-8", "replace").lstrip("\ufeff")


def _header_format(header: list[str]) -> str | None:
    names = {h.strip().lower() for h in header}
    if "digest_text" in names:
        return "mysql_digest"
    if "query" in names and "calls" in names:
        return "pg_stat_statements"
    if "sql" in names:
        return "csv"
    return None


def _share(hits: int, lines: int) -> float:
    return hits / lines if lines else 0.0


def looks_like(source: str) -> str | None:
    """The format a log file's first lines look like, or None (not a file, or no known format).

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
    ...     _ = f.write('{"sql": "SELECT 1"}\\n{"sql": "SELECT 2", "calls": 3}\\n')
    >>> looks_like(f.name); os.unlink(f.name)
    'jsonl'
    """
    path = Path(source)
    if source == "-" or not path.is_file():
        return None
    try:
        text = _head(path)
    except OSError:
        return None
    lines = [line for line in text.splitlines()[:SAMPLE_LINES * 4] if line.strip()][:SAMPLE_LINES]
    if not lines:
        return None
    jsonl = 0
    for line in lines:
        try:
            jsonl += isinstance(json.loads(line), dict)
        except (ValueError, RecursionError):
            pass
    general = sum(1 for line in lines if _ENTRY.match(line) or _HEADER.match(line))
    try:
        rows = [r for r in csv.reader(io.StringIO("\n".join(lines))) if r][:SAMPLE_LINES]
    except csv.Error:
        rows = []
    csvlog = sum(1 for r in rows if len(r) >= 22 and _TIMESTAMP.match(r[0]) and r[11] in _SEVERITIES)
    scores = {"jsonl": _share(jsonl, len(lines)), "mysql_general_log": _share(general, len(lines)),
              "pg_csvlog": _share(csvlog, len(rows))}
    header = _header_format(rows[0]) if rows else None
    if header is not None and len(rows) >= 1:
        scores[header] = max(0.6, _share(sum(1 for r in rows[1:] if len(r) == len(rows[0])), len(rows) - 1))
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= 0.5 else None
