"""Bringing any partition to exactly ``k`` clusters: merge the closest pair or split the loosest.

Shared by the methods that have no native notion of a cluster count. Merges follow the largest
modularity gain (so two clusters tied by many heavy edges merge first); splits cut the cluster
whose own two-way Louvain split scores best.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import networkx as nx


def merge_to(g: nx.Graph, parts: list[set[Any]], k: int, resolution: float) -> list[set[Any]]:
    parts = [set(p) for p in parts]
    m = g.size(weight="weight") or 1.0
    while len(parts) > k:
        where = {n: i for i, p in enumerate(parts) for n in p}
        vol = [sum(d for _, d in g.degree(p, weight="weight")) for p in parts]
        between: dict[tuple[int, int], float] = defaultdict(float)
        for a, b, w in g.edges(data="weight", default=1.0):
            i, j = where[a], where[b]
            if i != j:
                between[(min(i, j), max(i, j))] += w
        if not between:
            break  # the rest are disconnected: merging them would be arbitrary
        (i, j), _ = max(between.items(),
                        key=lambda kv: (kv[1] / m - resolution * vol[kv[0][0]] * vol[kv[0][1]] / (2 * m * m),
                                        -kv[0][0], -kv[0][1]))
        parts[i] |= parts[j]
        del parts[j]
    return parts


def bisect(g: nx.Graph, part: set[Any], seed: int) -> list[set[Any]] | None:
    sub = g.subgraph(part)
    if sub.number_of_edges() == 0:
        return None
    for resolution in (1.0, 2.0, 4.0, 8.0, 16.0):
        pieces = nx.community.louvain_communities(sub, weight="weight", resolution=resolution, seed=seed)
        if len(pieces) >= 2:
            return merge_to(sub, [set(p) for p in pieces], 2, resolution)
    return None


def fit_k(g: nx.Graph, parts: list[set[Any]], k: int, resolution: float = 1.0, seed: int = 0) -> list[set[Any]]:
    """``parts`` merged or split until there are ``k`` (or as near as connectivity allows)."""
    parts = merge_to(g, parts, k, resolution)
    unsplittable: set[frozenset[Any]] = set()
    while len(parts) < k:
        order = sorted(range(len(parts)), key=lambda i: (-len(parts[i]), min(map(str, parts[i]))))
        candidates = [i for i in order if len(parts[i]) > 1 and frozenset(parts[i]) not in unsplittable]
        if not candidates:
            break
        i = candidates[0]
        halves = bisect(g, parts[i], seed)
        if halves is None or len(halves) < 2:
            unsplittable.add(frozenset(parts[i]))
            continue
        parts = [p for j, p in enumerate(parts) if j != i] + halves
    return parts
