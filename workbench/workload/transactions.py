"""Grouping a session-ordered statement stream into transactions, kept as counted shapes.

Where the source names transactions (PostgreSQL csvlog's virtual transaction id, a ``transaction``
key in JSON Lines) that id is the transaction: it ends when the session moves to another id,
commits, or logs a statement without an id (PostgreSQL writes ``B/0`` once a transaction is over,
so an autocommit statement logged after it ran has none). Otherwise each session is replayed:
``BEGIN``/``START TRANSACTION`` open a block that ``COMMIT``/``END``/``ROLLBACK`` close,
``SET autocommit = 0`` makes every statement open one implicitly (MySQL drivers), and any other
statement is a transaction of one. Rolled-back transactions are kept: they ran, and their tables
were locked together.

Only open transactions are held (at most one per session), and finished ones are reduced at once
to their shape (tables read, tables written), so memory grows with sessions and shapes, never
with the number of statements.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

Shape = tuple[frozenset[str], frozenset[str]]


class TemplateLike(Protocol):
    """What the grouper needs of a template: its table sets and how it moves the transaction."""

    reads: frozenset[str]
    writes: frozenset[str]
    control: str | None


class TransactionGrouper:
    """Feeds on (session, transaction id, template, calls) in log order; counts transaction shapes.

    >>> class T:
    ...     def __init__(self, r=(), w=(), c=None):
    ...         self.reads, self.writes, self.control = frozenset(r), frozenset(w), c
    >>> g = TransactionGrouper()
    >>> for t in [T(c="begin"), T(r=["stock"]), T(w=["orders"]), T(c="commit"), T(r=["stock"])]:
    ...     g.add("s1", None, t, 1)
    >>> sorted((sorted(r), sorted(w), n) for (r, w), n in g.finish().items())
    [(['stock'], [], 1), (['stock'], ['orders'], 1)]
    """

    def __init__(self) -> None:
        self.shapes: Counter[Shape] = Counter()
        self.open_transactions: dict[str | None, list[Any]] = {}
        """Per session, the open transaction: ``[transaction id (None: implicit), template, ...]``."""
        self._manual: set[str | None] = set()
        self._shape_of: dict[tuple[TemplateLike, ...], Shape | None] = {}

    def _close(self, session: str | None) -> None:
        state = self.open_transactions.pop(session, None)
        if state is None or len(state) < 2:
            return
        if len(state) == 2:  # a transaction of one statement: most of them
            t = state[1]
            if t.reads or t.writes:
                self.shapes[(t.reads, t.writes)] += 1
            return
        key = tuple(state[1:])  # the same statements in the same order: the same shape, computed once
        shape = self._shape_of.get(key)
        if shape is None:
            reads: set[str] = set()
            writes: set[str] = set()
            for t in key:
                reads |= t.reads
                writes |= t.writes
            shape = self._shape_of[key] = (frozenset(reads), frozenset(writes)) if reads or writes else None
            if len(self._shape_of) > 100_000:  # a safety valve, not a limit real workloads reach
                self._shape_of.clear()
        if shape is not None:
            self.shapes[shape] += 1

    def add(self, session: str | None, txn: str | None, template: TemplateLike, calls: int = 1) -> None:
        """One statement (run ``calls`` times, which only matters for a transaction of one)."""
        control = template.control
        state = self.open_transactions.get(session)
        if txn is not None:
            if state is not None:
                if state[0] == txn:
                    if control is None:
                        state.append(template)
                    elif control != "begin":
                        self._close(session)
                    return
                self._close(session)
            if control is None:
                self.open_transactions[session] = [txn, template]
            elif control == "begin":
                self.open_transactions[session] = [txn]
            return
        if state is not None and state[0] is not None:
            self._close(session)  # the source stopped naming the transaction: it is over
            state = None
        if control is not None:
            if control == "begin":
                self._close(session)  # a BEGIN inside a block commits it, as MySQL does
                self.open_transactions[session] = [None]
            elif control in ("commit", "rollback"):
                self._close(session)
            elif control == "autocommit_off":
                self._manual.add(session)
            elif control == "autocommit_on":
                self._manual.discard(session)
                self._close(session)
            return
        if state is not None:
            state.append(template)
        elif session in self._manual:
            self.open_transactions[session] = [None, template]
        elif template.reads or template.writes:
            self.shapes[(template.reads, template.writes)] += calls

    def finish(self) -> Counter[Shape]:
        """Close what is still open (a log cut mid-transaction) and return the shape counts."""
        for session in list(self.open_transactions):
            self._close(session)
        return self.shapes
