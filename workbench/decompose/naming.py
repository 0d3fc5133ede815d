"""Service names a person recognises: the word most of the service's tables share, or its central table.

A cluster ``{orders, order_items, order_status_history}`` is "order"; a cluster without a common
word is named after its most central table (largest summed edge weight inside the cluster). Names
are only suggestions: :meth:`Decomposition.rename` and hand edits change them freely.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import networkx as nx

from workbench.decompose.tokens import tokens
from workbench.decompose.vocabulary import Vocabulary
from workbench.names import service_name_problem


def _words(table: str, vocabulary: Vocabulary | None) -> list[str]:
    if vocabulary is not None and table in vocabulary.table_words:
        return list(vocabulary.words(table))
    return tokens(table.split(".")[-1])


def central_table(g: nx.Graph, tables: Iterable[str]) -> str:
    """The table with the largest summed edge weight to the others (ties: fewest name words, then name)."""
    members = set(tables)
    sub = g.subgraph([t for t in members if t in g])

    def rank(t: str) -> tuple[float, int, str]:
        strength = float(sub.degree(t, weight="weight")) if t in sub else 0.0
        return (-strength, len(tokens(t.split(".")[-1])), t)

    return min(members, key=rank)


def stem(tables: Iterable[str], share: float = 0.5, vocabulary: Vocabulary | None = None) -> str | None:
    """The word that at least ``share`` of the tables' names contain (two tables at least), if any;
    with a ``vocabulary``, its informative words (a prefix every table has is not a name).

    >>> stem(["orders", "order_items", "order_status", "carts"])
    'order'
    >>> stem(["customers", "invoices"]) is None
    True
    """
    names = sorted(set(tables))
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for name in names:
        words = _words(name, vocabulary)
        for i, w in enumerate(dict.fromkeys(words)):
            counts[w] += 1
            first[w] = min(first.get(w, 99), i)
    if not counts:
        return None
    word, n = min(counts.items(), key=lambda kv: (-kv[1], first[kv[0]], kv[0]))
    return word if n >= 2 and n >= share * len(names) else None


def suggest_name(g: nx.Graph, tables: Iterable[str], vocabulary: Vocabulary | None = None) -> str:
    """A name for one service: its common stem, else its central table's name in singular words."""
    tables = list(tables)
    common = stem(tables, vocabulary=vocabulary)
    if common:
        return common
    centre = central_table(g, tables)
    words = _words(centre, vocabulary) or [centre.split(".")[-1].lower()]
    name = "_".join(words)
    return name if service_name_problem(name) is None else "service"  # a table name no schema could carry


def name_services(g: nx.Graph, parts: list[set[str]], fixed: Mapping[int, str] | None = None,
                  reserved: Iterable[str] = (), vocabulary: Vocabulary | None = None) -> list[str]:
    """One distinct name per part; ``fixed`` (part index -> name) wins, e.g. for pinned services;
    ``reserved`` names (the reference and platform services) are never suggested."""
    fixed = dict(fixed or {})
    taken = set(fixed.values()) | set(reserved)
    names: list[str] = []
    for i, part in enumerate(parts):
        if i in fixed:
            names.append(fixed[i])
            continue
        name = suggest_name(g, part, vocabulary)
        if name in taken:
            alt = "_".join(_words(central_table(g, part), vocabulary)) or name
            name = alt if alt not in taken else name
        base, n = name, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        names.append(name)
    return names
