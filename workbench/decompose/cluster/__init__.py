"""Clustering algorithms behind one interface, modelled on ``networkx.algorithms.community``.

Every method is a function ``(graph, *, resolution, k, seed) -> list[set[str]]`` over a weighted
``nx.Graph`` (edge attribute ``weight``). ``resolution`` tunes granularity where the method has
one; ``k``, when given, asks for that many clusters (as close as the graph's connectivity allows).
Results are deterministic for a given seed and returned in a canonical order (largest first,
then by smallest member).

>>> import networkx as nx
>>> g = nx.barbell_graph(5, 0)
>>> [sorted(c) for c in cluster(g, "louvain", seed=1)]
[[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

import networkx as nx

from workbench.decompose.cluster.agglomerative import agglomerative
from workbench.decompose.cluster.greedy import greedy_modularity
from workbench.decompose.cluster.label_propagation import label_propagation
from workbench.decompose.cluster.leiden import leiden, leiden_available
from workbench.decompose.cluster.louvain import louvain
from workbench.errors import WorkbenchError

Method = Callable[..., list[set[Any]]]

METHODS: dict[str, Method] = {
    "louvain": louvain,
    "greedy_modularity": greedy_modularity,
    "label_propagation": label_propagation,
    "agglomerative": agglomerative,
    "leiden": leiden,
}
"""Method name -> function; ``leiden`` needs the optional ``leidenalg`` package."""

RESOLUTION_METHODS = frozenset({"louvain", "greedy_modularity", "agglomerative", "leiden"})
"""Methods for which ``resolution`` changes the result (label propagation has none)."""

SEEDED_METHODS = frozenset({"louvain", "label_propagation", "leiden"})
"""Methods whose result depends on the seed (the others are deterministic)."""


def canonical(parts: Iterable[Iterable[Hashable]]) -> list[set[Any]]:
    """Clusters as sets, largest first, ties by smallest member: a stable order for every method."""
    sets = [set(p) for p in parts if p]
    return sorted(sets, key=lambda s: (-len(s), min(map(str, s))))


def available_methods() -> list[str]:
    """The methods usable here (``leiden`` only when its package is installed)."""
    return [m for m in METHODS if m != "leiden" or leiden_available()]


def cluster(g: nx.Graph, method: str = "louvain", *, resolution: float = 1.0, k: int | None = None,
            seed: int = 0) -> list[set[Any]]:
    """Partition ``g`` with ``method``; every node lands in exactly one cluster."""
    if method not in METHODS:
        raise WorkbenchError(f"unknown clustering method {method!r}; choose one of {', '.join(METHODS)}")
    if resolution <= 0:
        raise WorkbenchError(f"resolution must be positive, got {resolution}")
    if k is not None and k < 1:
        raise WorkbenchError(f"number of services must be at least 1, got {k}")
    if g.number_of_nodes() == 0:
        return []
    return canonical(METHODS[method](g, resolution=resolution, k=k, seed=seed))
