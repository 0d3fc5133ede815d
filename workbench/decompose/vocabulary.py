"""The words of a schema's table names, weighed by what they say about ownership.

Real schemas name a module's tables with a shared leading word (``loan_charge``, ``loan_schedule``;
``forum_posts``, ``forum_subscriptions``; ``Sales Invoice``, ``Sales Invoice Item``), while a word
that starts most names (a product prefix such as ``m_``, ``tab`` or ``app_``) says nothing. So a
table's *informative words* are its name's words with such a leading word dropped, and the name
signal, the service names and the placement of tables without keys all read them from here.

>>> from workbench.schema import Schema, Table
>>> v = Vocabulary.of(Schema("db", "sqlite", tables=[Table(n) for n in
...     ("app_loan", "app_loan_charge", "app_client", "app_client_address", "app_office", "app_staff",
...      "app_role", "app_user_role", "audit")]))
>>> v.words("app_loan_charge"), v.words("audit")
(('loan', 'charge'), ('audit',))
>>> sorted(v.ubiquitous)
['app']
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from workbench.decompose.tokens import NOISE, tokens
from workbench.schema import Schema

UBIQUITOUS_SHARE = 0.5
"""A leading word starting at least this share of the table names is a prefix, not a domain..."""

UBIQUITOUS_MIN_TABLES = 8
"""... in a schema of at least this many tables (in a handful of tables half may well be one module),
and unless some table is named by that word alone (then it is a module's root, ``loan``)."""


def _name(key: str) -> str:
    return key.split(".")[-1]


@dataclass(frozen=True)
class Vocabulary:
    """Per table (by key) its informative name words, and how many tables use each word.

    Attributes
    ----------
    table_words : table key -> its informative words, in order.
    df : word -> number of tables whose informative words contain it.
    ubiquitous : leading words dropped because they start most names.
    """

    table_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    df: dict[str, int] = field(default_factory=dict)
    ubiquitous: frozenset[str] = frozenset()

    @classmethod
    def of(cls, schema: Schema, tables: Iterable[str] | None = None) -> Vocabulary:
        """The vocabulary of ``schema``'s base tables (or of the given table keys)."""
        keys = sorted(tables if tables is not None else (t.key for t in schema.base_tables))
        return cls.of_names(keys)

    @classmethod
    def of_names(cls, keys: Iterable[str]) -> Vocabulary:
        """The vocabulary of a list of table keys (``schema.table`` or ``table``)."""
        raw = {k: tuple(tokens(_name(k), drop_noise=False)) for k in sorted(set(keys))}
        n = len(raw)
        ubiquitous: set[str] = set()
        # peel leading words while one starts most of the remaining names (``tab`` then nothing;
        # ``mdl_`` then nothing); never a table's only word
        words = dict(raw)
        while n >= UBIQUITOUS_MIN_TABLES:
            first = Counter(w[0] for w in words.values() if len(w) > 1)
            whole = {w[0] for w in words.values() if len(w) == 1}
            common = [w for w, c in first.items() if c >= UBIQUITOUS_SHARE * n and w not in whole]
            if not common:
                break
            ubiquitous.update(common)
            words = {k: (w[1:] if len(w) > 1 and w[0] in common else w) for k, w in words.items()}
        # connectors and generic words (``tbl``, ``map``, ``of``) say nothing either, unless nothing else is left
        cleaned = {k: tuple(x for x in w if x not in NOISE) or w for k, w in words.items()}
        df = Counter(w for ws in cleaned.values() for w in set(ws))
        return cls(cleaned, dict(df), frozenset(ubiquitous))

    def words(self, table: str) -> tuple[str, ...]:
        """The informative words of ``table`` (known to the vocabulary)."""
        return self.table_words.get(table, ())

    def leading(self, table: str, depth: int = 1) -> tuple[str, ...] | None:
        """The first ``depth`` informative words of ``table``, or None when it has fewer."""
        w = self.words(table)
        return w[:depth] if len(w) >= depth else None

    def idf(self, word: str) -> float:
        """Inverse document frequency of ``word`` over the tables: rare words say more."""
        n = max(len(self.table_words), 1)
        return math.log(n / self.df[word]) if self.df.get(word) else 0.0
