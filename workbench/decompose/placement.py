"""Where a table goes when clustering did not decide it: pull towards services, ties, and names.

Clustering places the tables that the graph ties together. The rest need an explicit, explained
home: a table without keys or shared statements goes to the service whose table names share its
rarest words; a table whose every tie leads to one set-aside service follows it. These helpers
measure that evidence; :mod:`workbench.decompose.pipeline` applies it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import networkx as nx

from workbench.decompose.graph import describe_edge
from workbench.decompose.vocabulary import Vocabulary


def pull(g: nx.Graph, table: str, where: Mapping[str, str]) -> dict[str, float]:
    """Summed edge weight from ``table`` to each service (``where``: table -> service), heaviest first.

    >>> g = nx.Graph([("a", "b", {"weight": 2.0}), ("a", "c", {"weight": 1.0})])
    >>> pull(g, "a", {"b": "x", "c": "y"})
    {'x': 2.0, 'y': 1.0}
    """
    out: dict[str, float] = defaultdict(float)
    if table in g:
        for x, data in g[table].items():
            if x in where and x != table:
                out[where[x]] += float(data["weight"])
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def ties(g: nx.Graph, table: str, mates: Iterable[str], top: int = 3) -> str:
    """The heaviest edges from ``table`` to ``mates``, in words: ``orders (foreign key), ...``."""
    mates = set(mates)
    edges = sorted(((float(d["weight"]), x, d) for x, d in g[table].items() if x in mates),
                   key=lambda e: (-e[0], e[1])) if table in g else []
    return "; ".join(f"{x} ({describe_edge(d)})" for _, x, d in edges[:top])


NAME_EVIDENCE = 1.0
"""Least name evidence (summed rarity of shared words, see :func:`name_home`) that places a table."""


def name_home(table: str, services: Mapping[str, Iterable[str]], vocabulary: Vocabulary | None = None,
              least: float = NAME_EVIDENCE) -> tuple[str, str] | None:
    """The service whose table names share the most telling words with ``table``, and the word.

    Each word ``table`` shares with other tables counts its rarity in the schema (inverse document
    frequency) times the share of the service's tables using it; below ``least`` in all, or tied
    between services, it is no evidence.

    >>> name_home("order_archive", {"sales": ["orders", "order_lines"], "stock": ["stock_levels"]}, least=0.0)
    ('sales', 'order')
    >>> name_home("settings", {"sales": ["orders"]}) is None
    True
    """
    members = {s: sorted(ts) for s, ts in services.items()}
    vocab = vocabulary or Vocabulary.of_names([table, *(t for ts in members.values() for t in ts)])
    if table not in vocab.table_words:
        vocab = Vocabulary.of_names([table, *(t for ts in members.values() for t in ts)])
    words = set(vocab.words(table))
    if not words:
        return None
    words = {w for w in words if vocab.df.get(w, 0) > 1}
    scores: list[tuple[float, str, str]] = []
    for svc, tables in sorted(members.items()):
        used: dict[str, int] = defaultdict(int)
        for t in tables:
            for w in set(vocab.words(t)) & words:
                used[w] += 1
        if not used:
            continue
        score = sum(vocab.idf(w) * n / len(tables) for w, n in used.items())
        best_word = max(used, key=lambda w: (vocab.idf(w), used[w], w))
        scores.append((score, svc, best_word))
    scores = [x for x in scores if x[0] >= least]
    if not scores:
        return None
    scores.sort(key=lambda s: (-s[0], s[1]))
    if len(scores) > 1 and scores[1][0] >= 0.999 * scores[0][0]:
        return None  # a tie between services: no better than a guess
    return scores[0][1], scores[0][2]
