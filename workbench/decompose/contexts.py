"""Bounded contexts: services grouped into a few large parts, the coarser of the two levels.

An architect reads a large schema top-down: first a handful of bounded contexts (sales, finance,
manufacturing), then the services inside each. Contexts are found on the *service graph* (one node
per service, edges summing the table edges between them) at a coarser resolution, so every service
lies inside exactly one context and the two levels always nest.

>>> g = nx.Graph()
>>> g.add_weighted_edges_from([("a1", "a2", 3), ("a2", "b1", 1), ("b1", "b2", 3), ("c1", "c2", 3)])
>>> ctx = group_contexts(g, {"a": {"a1"}, "a2": {"a2"}, "b": {"b1", "b2"}, "c": {"c1", "c2"}}, resolution=0.5)
>>> ctx["a"] == ctx["a2"], ctx["a"] != ctx["c"]
(True, True)
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx

CONTEXT_RESOLUTION = 1.0
"""Contexts: the service graph clustered at the standard modularity resolution (services use a finer
one), so a context is a group of services more tied to each other than chance would tie them."""


def service_graph(g: nx.Graph, services: Mapping[str, set[str]]) -> nx.Graph:
    """One node per service (attribute ``tables``), edges the summed table edge weights between them."""
    where = {t: s for s, ts in services.items() for t in ts}
    h: nx.Graph[str] = nx.Graph()
    for s, ts in sorted(services.items()):
        h.add_node(s, tables=len(ts))
    for a, b, w in g.edges(data="weight", default=1.0):
        sa, sb = where.get(a), where.get(b)
        if sa is None or sb is None or sa == sb:
            continue
        prev = h[sa][sb]["weight"] if h.has_edge(sa, sb) else 0.0
        h.add_edge(sa, sb, weight=prev + float(w))
    return h


def group_contexts(g: nx.Graph, services: Mapping[str, set[str]], *, resolution: float,
                   seed: int = 0) -> dict[str, str]:
    """service -> the name of its context (the name of the context's largest service)."""
    h = service_graph(g, services)
    if h.number_of_edges() == 0:
        return {s: s for s in services}
    parts = nx.community.louvain_communities(h, weight="weight", resolution=resolution, seed=seed)
    out: dict[str, str] = {}
    for part in sorted(parts, key=lambda p: (-sum(len(services[s]) for s in p), min(p))):
        lead = min(part, key=lambda s: (-len(services[s]), s))
        for s in part:
            out[s] = lead
    return dict(sorted(out.items()))
