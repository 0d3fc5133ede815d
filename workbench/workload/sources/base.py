"""What every log reader yields, and the helpers they share (files, CSV headers, live servers).

A reader turns one source (a file path or a database URL) into a stream of statements in log
order. Each is a plain tuple, not an object, because a million-line log makes a million of them:
``(sql, calls, duration_ms, session, transaction)``. ``sql`` is None for a duration reported on
its own line, which belongs to the session's previous statement (PostgreSQL ``log_duration``).
Lines a reader cannot use are reported to the :class:`IssueSink` and skipped.
"""

from __future__ import annotations

import csv
import io
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from workbench.errors import ArtifactError, NotFoundError

Statement = tuple[str | None, int, float, str | None, str | None]

MAX_DURATION_MS = 1e15
"""A duration above this (31,000 years, even summed over calls) is no measurement: the line is
reported as malformed. It also keeps every sum of durations finite: ``workload.json`` never holds
``Infinity``."""


class IssueSink(Protocol):
    """Receives input a reader had to skip; ``text`` is sampled after normalisation unless ``safe``."""

    def add(self, kind: str, text: str, count: int = 1, safe: bool = False) -> None: ...


def malformed(issues: IssueSink, source: str, where: str, reason: str) -> None:
    """Report an unusable line by position and reason only: its content may hold anything.

    >>> class Sink:
    ...     def add(self, kind, text, count=1, safe=False): print(kind, text, safe)
    >>> malformed(Sink(), "/var/log/pg.csv", "row 7", "3 columns")
    malformed_line pg.csv row 7: 3 columns True
    """
    name = source if is_url(source) else Path(source).name
    issues.add("malformed_line", f"{name} {where}: {reason}", safe=True)


Reader = Callable[[str, IssueSink], Iterator[Statement]]


@dataclass(frozen=True)
class Format:
    """A log format the workbench can ingest.

    Attributes
    ----------
    name : the ``--format`` value.
    dialect : sqlglot dialect of the SQL it holds (None: the schema's or the caller's).
    transactional : whether it keeps sessions and statement order, so transactions can be rebuilt;
        aggregated sources (pg_stat_statements, digests) do not.
    read : the reader.
    live : what a database URL as source reads.
    """

    name: str
    dialect: str | None
    transactional: bool
    read: Reader
    description: str
    live: str | None = None


def is_url(source: str) -> bool:
    """Whether a source names a database rather than a file.

    >>> is_url("postgresql://db/x"), is_url("logs/postgresql.csv")
    (True, False)
    """
    return "://" in source


def open_text(source: str) -> IO[str]:
    """A log file as text; undecodable bytes become U+FFFD and are reported as binary later."""
    if source == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="")
    path = Path(source)
    if not path.is_file():
        raise NotFoundError(f"log file not found: {path}")
    return path.open(encoding="utf-8", errors="replace", newline="")


def header_index(header: list[str], wanted: dict[str, tuple[str, ...]], source: str) -> dict[str, int | None]:
    """Positions of the wanted columns in a CSV header, matched case-insensitively by any alias.

    A first alias starting with ``!`` marks the column as required.

    >>> header_index(["QUERY", "Calls"], {"query": ("!query",), "calls": ("calls",), "t": ("total_time",)}, "x")
    {'query': 0, 'calls': 1, 't': None}
    """
    names = {h.strip().lower().lstrip("\ufeff"): i for i, h in enumerate(header)}
    out: dict[str, int | None] = {}
    for key, aliases in wanted.items():
        required = aliases[0].startswith("!")
        found = next((names[a.lstrip("!").lower()] for a in aliases if a.lstrip("!").lower() in names), None)
        if found is None and required:
            found_text = ", ".join(shorten(h) for h in header[:12]) + (", ..." if len(header) > 12 else "")
            raise ArtifactError(f"{source}: CSV header has no {aliases[0].lstrip('!')!r} column (found: {found_text})")
        out[key] = found
    return out


def shorten(text: str, limit: int = 40) -> str:
    """A field of unknown size as a message may show it: one line, at most ``limit`` characters.

    >>> shorten("SELECT " + "a" * 80), shorten("a\\n b")
    ('SELECT aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...', 'a b')
    """
    text = " ".join(text[: limit * 4].split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def csv_rows(source: str) -> Iterator[list[str]]:
    """Rows of a CSV file; fields may span lines, as PostgreSQL and exports write them."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with open_text(source) as handle:
        yield from csv.reader(handle)


def csv_records(
    source: str, issues: IssueSink, wanted: dict[str, tuple[str, ...]], time_field: str = "time",
    time_limit: float = MAX_DURATION_MS,
) -> Iterator[tuple[dict[str, str | None], int, float]]:
    """Rows of a CSV export with a header, as (fields by name, calls, time).

    Every CSV source shares this: columns are found by alias (:func:`header_index`; ``wanted`` must
    name ``calls`` and ``time_field``), a row of the wrong width or with a non-numeric count or
    time is reported as malformed and skipped, an absent field reads as None.
    """
    rows = csv_rows(source)
    header = next(rows, None)
    if header is None:
        return
    cols = header_index(header, wanted, source)
    width = len(header)
    for line, row in enumerate(rows, start=2):
        if len(row) != width:
            if row:
                malformed(issues, source, f"row {line}", f"{len(row)} columns, the header has {width}")
            continue
        fields = {key: (row[i] if i is not None else None) for key, i in cols.items()}
        calls = number(fields["calls"], int, 1)
        time = number(fields[time_field], float, 0.0, time_limit)
        if calls is None or time is None:
            malformed(issues, source, f"row {line}", f"calls or {time_field}: not a finite, non-negative number")
            continue
        yield fields, int(calls), float(time)


def number(text: object, kind: type[int] | type[float], default: int | float,
           limit: float = MAX_DURATION_MS) -> int | float | None:
    """A count or duration field of a CSV or JSON line; None when present but not a usable one
    (not a number, infinite, NaN, negative, or a duration beyond ``limit``): the caller reports
    the line as malformed.

    >>> number("12", int, 1), number("", int, 1), number("x", int, 1), number("1.5", float, 0.0)
    (12, 1, None, 1.5)
    >>> number("inf", int, 1), number("1e400", float, 0.0), number("NaN", float, 0.0), number(-3, int, 1)
    (None, None, None, None)
    """
    if text is None or text == "":
        return default
    if isinstance(text, bool):
        return None
    try:
        value = float(text) if not isinstance(text, int) else text  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    if not (0 <= value <= (limit if kind is float else math.inf)) or value != value:
        return None  # NaN fails both comparisons; inf and 1e400 (inf once parsed) fail the first
    try:
        return int(value) if kind is int else float(value)
    except (OverflowError, ValueError):
        return None
