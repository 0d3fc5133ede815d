"""Louvain modularity maximisation (networkx), with a resolution search when a count is asked."""

from __future__ import annotations

import math
from typing import Any

import networkx as nx

from workbench.decompose.cluster.fit import fit_k


def _run(g: nx.Graph, resolution: float, seed: int) -> list[set[Any]]:
    return [set(c) for c in nx.community.louvain_communities(g, weight="weight", resolution=resolution, seed=seed)]


def resolution_for_k(g: nx.Graph, k: int, seed: int, run: Any = _run, steps: int = 10) -> list[set[Any]]:
    """Bisect the resolution (log scale) for the partition whose size is closest to ``k``."""
    lo, hi = math.log(0.02), math.log(50.0)
    best = run(g, 1.0, seed)
    for _ in range(steps):
        if len(best) == k:
            break
        mid = (lo + hi) / 2
        parts = run(g, math.exp(mid), seed)
        if abs(len(parts) - k) < abs(len(best) - k):
            best = parts
        if len(parts) < k:
            lo = mid
        else:
            hi = mid
    return best


def louvain(g: nx.Graph, *, resolution: float = 1.0, k: int | None = None, seed: int = 0) -> list[set[Any]]:
    """Louvain communities; with ``k``, the resolution is searched and the result fitted to ``k``."""
    if k is None:
        return _run(g, resolution, seed)
    return fit_k(g, resolution_for_k(g, k, seed), k, seed=seed)
