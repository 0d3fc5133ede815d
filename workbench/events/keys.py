"""Rows by key, many at a time: ``IN`` lists that every backend takes, an array on PostgreSQL.

On PostgreSQL a one-column key goes as ``col = ANY(%(array)s)``: one parameter however many keys,
so the statement text (and its parsing) stays the same from batch to batch. Elsewhere, and for
composite keys, ``IN`` lists of at most :data:`CHUNK` keys stay under every backend's parameter limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

Key = tuple[Any, ...]
CHUNK = 400
ARRAY_CHUNK = 20_000


def batches(keys: Iterable[Key], width: int, dialect: str) -> Iterator[list[Key]]:
    """``keys`` in slices one statement can take (``width``: columns per key)."""
    size = ARRAY_CHUNK if dialect == "postgresql" and width == 1 else CHUNK
    batch: list[Key] = []
    for k in keys:
        batch.append(k)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def key_in(cols: Sequence[sa.ColumnElement[Any]], keys: Sequence[Key], dialect: str) -> sa.ColumnElement[bool]:
    """``cols`` equal to one of ``keys``."""
    if len(cols) == 1:
        values = [k[0] for k in keys]
        if dialect == "postgresql" and not isinstance(cols[0].type, sa.types.NullType):
            return cols[0] == sa.any_(sa.bindparam(None, values, type_=ARRAY(cols[0].type)))
        return cols[0].in_(values)
    return sa.tuple_(*cols).in_(list(keys))
