"""Bring one table of a service level with the legacy database by comparing checksums, writing only what differs.

This is ``verify``'s comparison (:class:`workbench.migrate.verify.Side`: row counts and
order-independent checksums per key range, computed in the database where it can be) driven to
the end instead of stopping at the first differences: key ranges whose checksums differ are
bisected down to :data:`LEAF_ROWS` rows, whose rows are compared one by one. The result is a
:class:`UnitDiff` -- rows only in the legacy database, rows that differ, rows only on the target --
which :mod:`workbench.sync.apply` writes. A table without a key is compared as a multiset of rows.

It serves three purposes: following a SQLite legacy database, which has no change log (every
poll compares every table: the checksums find the changed key ranges and only those rows are
read and copied, deletes included); bringing a service level with a snapshot of a PostgreSQL or
MariaDB source before following its log (see :mod:`workbench.sync.follow`); and refreshing read
models whose changed rows cannot be told from a change (filled from a view, or without a key).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from workbench.migrate.canon import row_text
from workbench.migrate.units import Unit
from workbench.migrate.verify import Side
from workbench.sync.model import RowChange
from workbench.sync.values import from_canon

LEAF_ROWS = 256
"""Key ranges of at most this many rows are compared row by row."""

MULTISET_LIMIT = 500_000
"""A table without a key and more rows than this is replaced whole when it differs."""

Row = tuple[Any, ...]
Bound = tuple[Any, ...] | None


@dataclass
class UnitDiff:
    """What differs between a unit's legacy rows and its target table (typed values, ``unit.columns`` order).

    ``replace`` is True for a keyless table too large to compare row by row: the target's rows are
    to be replaced by the legacy rows.
    """

    unit: Unit
    inserted: list[Row] = field(default_factory=list)
    updated: list[tuple[Row, Row]] = field(default_factory=list)
    deleted: list[Row] = field(default_factory=list)
    replace: bool = False
    ranges: int = 1

    @property
    def count(self) -> int:
        return len(self.inserted) + len(self.updated) + len(self.deleted)

    @property
    def empty(self) -> bool:
        return not self.count and not self.replace

    def changes(self, table: str, position: str, xid: str, commit_time: Any = None) -> list[RowChange]:
        """The differences as row changes of legacy table ``table`` (``before``: the target's row)."""
        cols = self.unit.columns
        key = self.unit.key

        def named(row: Row) -> dict[str, Any]:
            return dict(zip(cols, row, strict=True))

        out = []
        for row in self.inserted:
            after = named(row)
            out.append(RowChange(table, "insert", {k: after[k] for k in key}, None, after, position, xid, commit_time))
        for old, new in self.updated:
            after = named(new)
            out.append(RowChange(table, "update", {k: after[k] for k in key}, named(old), after, position, xid,
                                 commit_time))
        for row in self.deleted:
            before = named(row)
            out.append(RowChange(table, "delete", {k: before[k] for k in key}, before, None, position, xid,
                                 commit_time))
        return out


def _typed(unit: Unit, texts: list[str | None]) -> Row:
    return tuple(from_canon(k, t) for k, t in zip(unit.kinds, texts, strict=True))


def _leaf(src: Side, tgt: Side, lo: Bound, hi: Bound, size: int, out: UnitDiff) -> None:
    a, b = src.rows(lo, hi, size), tgt.rows(lo, hi, size)
    unit = out.unit
    for key in a.keys() | b.keys():
        mine, theirs = a.get(key), b.get(key)
        if theirs is None and mine is not None:
            out.inserted.append(_typed(unit, mine))
        elif mine is None and theirs is not None:
            out.deleted.append(_typed(unit, theirs))
        elif mine is not None and theirs is not None and row_text(mine) != row_text(theirs):
            out.updated.append((_typed(unit, theirs), _typed(unit, mine)))


def _multiset(src: Side, tgt: Side, out: UnitDiff) -> None:
    a, b = src.all_rows(MULTISET_LIMIT), tgt.all_rows(MULTISET_LIMIT)
    if a is None or b is None:
        out.replace = True
        return
    ca, cb = Counter(tuple(r) for r in a), Counter(tuple(r) for r in b)
    for row, n in (ca - cb).items():
        out.inserted += [_typed(out.unit, list(row))] * n
    for row, n in (cb - ca).items():
        out.deleted += [_typed(out.unit, list(row))] * n


def diff(unit: Unit, src: Side, tgt: Side, leaf: int = LEAF_ROWS) -> UnitDiff:
    """Every row that differs between the legacy side ``src`` and the target side ``tgt`` of ``unit``."""
    out = UnitDiff(unit)
    s, t = src.checksum(), tgt.checksum()
    if s == t:
        return out
    if not unit.key:
        _multiset(src, tgt, out)
        return out
    stack: list[tuple[Bound, Bound, int]] = [(None, None, max(s[0], t[0]))]
    counts: dict[tuple[Bound, Bound], tuple[int, int]] = {(None, None): (s[0], t[0])}
    while stack:
        lo, hi, n = stack.pop()
        if n <= leaf:
            _leaf(src, tgt, lo, hi, n * 2 + leaf, out)
            continue
        s_count, t_count = counts.pop((lo, hi), (0, 0))
        side, count = (src, s_count) if s_count >= t_count else (tgt, t_count)
        mid = side.split(lo, hi, count // 2)
        if mid is None or mid == hi or mid == lo:
            _leaf(src, tgt, lo, hi, n * 2 + leaf, out)
            continue
        for a, b in ((lo, mid), (mid, hi)):
            cs, ct = src.checksum(a, b), tgt.checksum(a, b)
            out.ranges += 1
            if cs != ct:
                counts[(a, b)] = (cs[0], ct[0])
                stack.append((a, b, max(cs[0], ct[0])))
    return out
