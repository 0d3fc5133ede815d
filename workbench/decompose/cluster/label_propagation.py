"""Asynchronous weighted label propagation (networkx): fast, no resolution, fitted to ``k`` on request."""

from __future__ import annotations

from typing import Any

import networkx as nx

from workbench.decompose.cluster.fit import fit_k


def label_propagation(g: nx.Graph, *, resolution: float = 1.0, k: int | None = None,
                      seed: int = 0) -> list[set[Any]]:
    """Label propagation communities; ``resolution`` only steers merges when fitting to ``k``."""
    # networkx iterates nodes in a seeded shuffle, so a fixed seed gives a fixed result
    parts = [set(c) for c in nx.community.asyn_lpa_communities(g, weight="weight", seed=seed)]
    return parts if k is None else fit_k(g, parts, k, resolution, seed)
