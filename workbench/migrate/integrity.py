"""Rows whose reference points at nothing: foreign keys inside a service, references across services.

Both are the same anti-join -- child rows whose non-NULL reference columns match no parent row --
counted in the database, with the first few offending keys for the message or the report. A
service's own foreign keys must hold (the migration refuses to finish a service otherwise); a
reference to another service's table is no longer checked by any database, so verification lists
those that dangle, and compares with the legacy database: only the ones the migration introduced
are a difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

SAMPLE = 5
"""Offending keys kept per check."""


@dataclass
class Orphans:
    """Child rows pointing at no parent row: how many, and the first keys (column -> value)."""

    count: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def orphans(conn: sa.Connection, child: tuple[str, str | None], columns: Sequence[str],
            parent: tuple[str, str | None], referred: Sequence[str], key: Sequence[str],
            limit: int = SAMPLE) -> Orphans:
    """Rows of ``child`` (name, schema) whose ``columns`` match no ``referred`` row of ``parent``.

    ``key`` names the child columns shown for each offending row (its primary key, or the
    reference columns themselves when it has none).
    """
    shown = list(key) or list(columns)
    c = sa.table(child[0], *(sa.column(n) for n in dict.fromkeys([*columns, *shown])), schema=child[1]).alias(
        "wb_child"
    )
    p = sa.table(parent[0], *(sa.column(n) for n in referred), schema=parent[1]).alias("wb_parent")
    on = sa.and_(*(c.c[a] == p.c[b] for a, b in zip(columns, referred, strict=True)))
    where = sa.and_(*(c.c[a].is_not(None) for a in columns), p.c[referred[0]].is_(None))
    joined = c.outerjoin(p, on)
    count = conn.execute(sa.select(sa.func.count()).select_from(joined).where(where)).scalar_one()
    sample: list[dict[str, Any]] = []
    if count:
        query = sa.select(*(c.c[n] for n in shown)).select_from(joined).where(where).order_by(
            *(c.c[n] for n in shown)).limit(limit)
        sample = [{n: _plain(v) for n, v in zip(shown, row, strict=True)} for row in conn.execute(query)]
    return Orphans(int(count), sample)


def describe(sample: list[dict[str, Any]]) -> str:
    """The first offending key as ``(a, b)=(1, 2)``.

    >>> describe([{"id": 7}])
    '(id)=(7)'
    """
    if not sample:
        return "(none)"
    first = sample[0]
    return f"({', '.join(first)})=({', '.join(repr(v) for v in first.values())})"
