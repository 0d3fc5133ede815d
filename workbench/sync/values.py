"""Values on their way from the source (a log, a comparison) into a target driver.

Rows from the log arrive as Python objects of the source driver's kind (psycopg's loaders for
PostgreSQL's text values, python-mysql-replication's for the binlog); rows found by a checksum
comparison arrive as canonical texts (:mod:`workbench.migrate.canon`) and are turned back into
typed values by :func:`from_canon`. Either way :func:`converter` then does what the migration's
copy does (:func:`workbench.migrate.copy.adapter`), plus what a row-at-a-time ``INSERT`` needs
beyond a ``COPY``: booleans as ``bool`` for PostgreSQL (MariaDB has them as 0/1), a MariaDB
``TIME`` (a duration) as a time of day.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from workbench.migrate.canon import Kind
from workbench.migrate.copy import adapter

Row = tuple[Any, ...]


def from_canon(kind: Kind, text: str | None) -> Any:
    """A typed value from its canonical text (the inverse of :func:`workbench.migrate.canon.canon`).

    >>> from_canon(Kind("decimal", 2), "19.90"), from_canon(Kind("datetime"), "2011-01-04 15:21:53.000000")
    (Decimal('19.90'), datetime.datetime(2011, 1, 4, 15, 21, 53))
    >>> from_canon(Kind("bool"), "1"), from_canon(Kind("int"), "-7"), from_canon(Kind("text"), None)
    (True, -7, None)
    """
    if text is None:
        return None
    name = kind.name
    try:
        if name == "int":
            return int(text)
        if name == "bool":
            return text == "1"
        if name in ("decimal", "numeric"):
            return Decimal(text)
        if name == "float":
            return float(text)
        if name == "date":
            return dt.date.fromisoformat(text)
        if name == "datetime":
            return dt.datetime.fromisoformat(text)
        if name == "datetime_tz":
            return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
        if name == "time":
            return dt.time.fromisoformat(text)
        if name == "binary":
            return bytes.fromhex(text)
        if name == "uuid":
            return uuid.UUID(text)
    except ValueError:
        return text  # a legacy value no type accepts (kept as the text it is)
    return text


def _as_time(value: Any) -> Any:
    if isinstance(value, dt.timedelta) and dt.timedelta(0) <= value < dt.timedelta(days=1):
        return (dt.datetime.min + value).time()
    return value


_ADAPTED = {"postgresql": {"json", "other"}, "mysql": {"json", "other", "uuid"}}
"""Kinds whose values a target driver may not take as they come (SQLite: all but these below)."""

_SQLITE_AS_IS = {"int", "float", "text", "char", "bool"}


def converter(kinds: Sequence[Kind], source: str, target: str) -> Callable[[Sequence[Any]], Row]:
    """A function making one row of source values (in ``kinds`` order) ready for the target's driver.

    ``source`` is the source dialect, or ``python`` for typed values rebuilt from canonical texts.
    Only the columns whose kind may need it go through the migration's adapter.
    """
    adapt = adapter("python" if source == "sqlite" else source, target)
    needs = (lambda k: k not in _SQLITE_AS_IS) if target == "sqlite" else \
        (lambda k: k in _ADAPTED.get(target, set()))
    adapted = [i for i, kind in enumerate(kinds) if needs(kind.name)] if adapt is not None else []
    fixes: list[tuple[int, Callable[[Any], Any]]] = []
    for i, kind in enumerate(kinds):
        if kind.name == "bool" and target == "postgresql":
            fixes.append((i, lambda v: v if v is None or isinstance(v, bool) else bool(int(v))))
        elif kind.name == "time" and target != "mysql":
            fixes.append((i, _as_time))
    if not fixes and not adapted:
        return tuple

    def convert(values: Sequence[Any]) -> Row:
        row = list(values)
        for i, fix in fixes:
            row[i] = fix(row[i])
        if adapted and adapt is not None:
            done = adapt([tuple(row[i] for i in adapted)])[0]
            for j, i in enumerate(adapted):
                row[i] = done[j]
        return tuple(row)

    return convert
