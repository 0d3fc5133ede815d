"""Hierarchical agglomerative clustering (average linkage) over the sparse table graph.

mono2micro's method: start from single tables and repeatedly merge the two clusters with the
highest average similarity, here ``w(A, B) / (|A| |B|)`` with ``w`` the summed edge weight
between them (pairs without an edge have similarity 0 and never merge, so unrelated components
stay apart). The dendrogram is cut at ``k`` clusters, or, without ``k``, at the step with the
highest modularity for the given resolution. Neither SciPy nor scikit-learn is a dependency, and
their dense distance matrices would not fit 5,000 tables anyway; a heap over the graph's edges does.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from typing import Any

import networkx as nx


def agglomerative(g: nx.Graph, *, resolution: float = 1.0, k: int | None = None, seed: int = 0) -> list[set[Any]]:
    """Average-linkage clusters cut at ``k`` or at the best modularity; ``seed`` is unused."""
    nodes = sorted(g.nodes, key=str)
    index = {n: i for i, n in enumerate(nodes)}
    n = len(nodes)
    m = g.size(weight="weight")
    if n == 0:
        return []
    if m <= 0:
        return [{x} for x in nodes]
    size = [1] * n
    vol = [0.0] * n
    adj: list[dict[int, float]] = [defaultdict(float) for _ in range(n)]
    for a, b, w in g.edges(data="weight", default=1.0):
        i, j = index[a], index[b]
        if i == j:
            continue
        adj[i][j] += w
        adj[j][i] += w
        vol[i] += w
        vol[j] += w
    parent = list(range(n))
    alive = [True] * n
    version = [0] * n
    heap = [(-w, i, j, 0, 0) for i in range(n) for j, w in adj[i].items() if i < j]
    heapq.heapify(heap)

    merges: list[tuple[int, int]] = []
    gains: list[float] = []
    clusters = n
    target = k if k is not None else 1
    while heap and clusters > target:
        negw, i, j, vi, vj = heapq.heappop(heap)
        if not (alive[i] and alive[j]) or version[i] != vi or version[j] != vj:
            continue
        w_ij = adj[i][j]
        gains.append(w_ij / m - resolution * vol[i] * vol[j] / (2 * m * m))
        if len(adj[i]) < len(adj[j]):
            i, j = j, i  # merge the smaller neighbourhood into the larger
        merges.append((i, j))
        alive[j] = False
        parent[j] = i
        size[i] += size[j]
        vol[i] += vol[j]
        del adj[i][j]
        for x, w in adj[j].items():
            if x == i:
                continue
            adj[i][x] += w
            adj[x][i] = adj[x].get(i, 0.0) + w
            del adj[x][j]
        adj[j] = {}
        version[i] += 1
        for x, w in adj[i].items():
            a, b = (i, x) if i < x else (x, i)
            heapq.heappush(heap, (-w / (size[i] * size[x]), a, b, version[a], version[b]))
        clusters -= 1

    if k is None and merges:  # cut where modularity peaked
        running, best, best_step = 0.0, 0.0, 0
        for step, gain in enumerate(gains, start=1):
            running += gain
            if running > best + 1e-12:
                best, best_step = running, step
        merges = merges[:best_step]

    owner = list(range(n))
    for i, j in merges:
        owner[j] = i

    def root(x: int) -> int:
        while owner[x] != x:
            owner[x] = owner[owner[x]]
            x = owner[x]
        return x

    groups: dict[int, set[Any]] = defaultdict(set)
    for x in range(n):
        groups[root(x)].add(nodes[x])
    return list(groups.values())
