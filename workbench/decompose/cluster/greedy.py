"""Clauset-Newman-Moore greedy modularity (networkx): deterministic, agglomerative, can stop at ``k``."""

from __future__ import annotations

from typing import Any

import networkx as nx

from workbench.decompose.cluster.fit import fit_k


def greedy_modularity(g: nx.Graph, *, resolution: float = 1.0, k: int | None = None,
                      seed: int = 0) -> list[set[Any]]:
    """Greedy modularity communities; ``seed`` is accepted for the common interface and unused."""
    if k is None:
        return [set(c) for c in nx.community.greedy_modularity_communities(g, weight="weight", resolution=resolution)]
    parts = nx.community.greedy_modularity_communities(g, weight="weight", resolution=resolution,
                                                       cutoff=min(k, g.number_of_nodes()), best_n=k)
    return fit_k(g, [set(c) for c in parts], k, resolution, seed)
