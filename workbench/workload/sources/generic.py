"""Generic logs: JSON Lines (one object per statement) and CSV with the same column names.

Keys: ``sql`` (required), ``calls`` (default 1), ``session``, ``transaction``, ``duration_ms``,
``timestamp`` (accepted, not used: the order of the lines is the order of execution). Any
application or proxy can write this, which makes it the format of last resort.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from workbench.workload.sources.base import IssueSink, Statement, csv_records, malformed, number, open_text

KEYS = ("sql", "calls", "session", "transaction", "duration_ms", "timestamp")


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _text(value: str) -> str:
    """A JSON string with any lone surrogate (``"\\ud800"``: no character, and no UTF-8 either) as
    U+FFFD, which later marks the statement as binary, as undecodable bytes in a file are."""
    return _SURROGATE.sub("\ufffd", value)


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else _text(str(value))


def _no_constant(name: str) -> float:
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON: a line holding one is malformed."""
    raise ValueError(f"{name} is not JSON")


def read_jsonl(source: str, issues: IssueSink) -> Iterator[Statement]:
    """Statements of a JSON Lines file; a line that is not an object with a string ``sql`` is reported.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
    ...     _ = f.write('{"sql": "SELECT 1", "calls": 3, "session": 7}\\n')
    >>> list(read_jsonl(f.name, None)); os.unlink(f.name)
    [('SELECT 1', 3, 0.0, '7', None)]
    """
    with open_text(source) as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line, parse_constant=_no_constant)
            except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
                malformed(issues, source, f"line {line_no}", "not JSON")
                continue
            sql = obj.get("sql") if isinstance(obj, dict) else None
            if not isinstance(sql, str):
                malformed(issues, source, f"line {line_no}", "no string 'sql'")
                continue
            calls = number(obj.get("calls", 1), int, 1)
            duration = number(obj.get("duration_ms", 0.0), float, 0.0)
            if calls is None or duration is None:
                malformed(issues, source, f"line {line_no}", "calls or duration_ms: not a finite, non-negative number")
                continue
            yield _text(sql), int(calls), float(duration), _opt(obj.get("session")), _opt(obj.get("transaction"))


def read_csv(source: str, issues: IssueSink) -> Iterator[Statement]:
    """Statements of a CSV file whose header names the JSON Lines keys (``sql`` required)."""
    wanted: dict[str, tuple[str, ...]] = {"sql": ("!sql",), "calls": ("calls",), "session": ("session",),
                                          "transaction": ("transaction",), "duration_ms": ("duration_ms",)}
    for fields, calls, duration in csv_records(source, issues, wanted, time_field="duration_ms"):
        yield fields["sql"] or "", calls, duration, _opt(fields["session"]), _opt(fields["transaction"])
