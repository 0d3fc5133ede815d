"""Migration waves, strangler-fig style: extract first what the rest depends on least.

The service dependency graph has an edge ``consumer -> provider`` per cross-boundary dependency,
weighted by what cutting it costs (:data:`~workbench.plan.effort.MECHANISM_COST`). Moving a
service nobody else depends on leaves the monolith working untouched (the new service still reads
what it needs from the legacy database through CDC-fed replicas, read models or APIs); moving a
service everyone depends on first would force every remaining caller onto new interfaces at once.

Each wave takes the services that no remaining service depends on (topological generations, as
networkx computes them, but re-evaluated after every wave); when only cycles remain, the service
the rest depends on least breaks the cycle, and its dependencies on still-legacy services are
listed as served by the monolith. Services the design says to merge move as one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx

from workbench.design.graph import context_graph
from workbench.design.model import Design
from workbench.plan.effort import MECHANISM_COST


def service_graph(design: Design, costs: Mapping[str, float] | None = None) -> nx.DiGraph:
    """dependent -> depended-on service (:func:`workbench.design.graph.edges`), ``weight`` being
    the summed cost of cutting the dependencies (:data:`~workbench.plan.effort.MECHANISM_COST`).

    The legacy pseudo-service (tables no service owns) is left out: it never moves.
    """
    return context_graph(design, costs or MECHANISM_COST)


def merge_groups(design: Design) -> list[set[str]]:
    """Services linked by a ``merge_services`` recommendation (connected groups), each sorted set."""
    g: nx.Graph[str] = nx.Graph()
    g.add_nodes_from(design.services)
    for d in design.dependencies:
        if d.mechanism == "merge_services":
            for s in d.write_facts.get("merge_with") or d.providers:
                if s in design.services and d.consumer in design.services:
                    g.add_edge(d.consumer, s)
    return sorted((set(c) for c in nx.connected_components(g)), key=lambda c: sorted(c))


def order_waves(g: nx.DiGraph, groups: Iterable[set[str]], points: Mapping[str, float] | None = None,
                max_per_wave: int | None = None) -> list[tuple[list[str], str]]:
    """Waves as (services, rationale), first to last.

    Parameters
    ----------
    g : the service graph (:func:`service_graph`).
    groups : sets of services that move together (each a unit; singletons for the rest).
    points : effort per service: among equally free units, the cheaper goes first (an early win).
    max_per_wave : at most this many units per wave (None: no limit).

    Examples
    --------
    >>> g = nx.DiGraph([("web", "orders", {"weight": 1}), ("orders", "customers", {"weight": 1})])
    >>> [w for w, _ in order_waves(g, [{"web"}, {"orders"}, {"customers"}])]
    [['web'], ['orders'], ['customers']]
    """
    points = points or {}
    units = [frozenset(u) for u in groups]
    unit_of = {s: u for u in units for s in u}
    c: nx.DiGraph[frozenset[str]] = nx.DiGraph()
    c.add_nodes_from(units)
    for a, b, data in g.edges(data=True):
        ua, ub = unit_of.get(a), unit_of.get(b)
        if ua is None or ub is None or ua == ub:
            continue
        w = c.edges[ua, ub]["weight"] if c.has_edge(ua, ub) else 0.0
        c.add_edge(ua, ub, weight=w + data.get("weight", 1.0))
    remaining = set(units)
    waves: list[tuple[list[str], str]] = []
    while remaining:
        sub = c.subgraph(remaining)
        load = {u: sum(d["weight"] for _, _, d in sub.in_edges(u, data=True)) for u in remaining}
        free = [u for u in remaining if load[u] == 0]
        if free:
            chosen, why = free, "no service still to move depends on it"
        else:
            least = min(load.values())
            chosen = [u for u in remaining if load[u] == least]
            chosen = sorted(chosen, key=lambda u: (sum(points.get(s, 0.0) for s in u), sorted(u)))[:1]
            dependents = sorted(s for a, _ in sub.in_edges(chosen[0]) for s in a)
            why = f"breaks a dependency cycle: the least depended on (cost {least:g}, by {', '.join(dependents)})"
        chosen = sorted(chosen, key=lambda u: (sum(points.get(s, 0.0) for s in u), sorted(u)))
        if max_per_wave:
            chosen = chosen[:max_per_wave]
        services = sorted(s for u in chosen for s in u)
        merged = [u for u in chosen if len(u) > 1]
        if merged:
            why += "; moved together (merge recommended): " + "; ".join(", ".join(sorted(u)) for u in merged)
        waves.append((services, why))
        remaining -= set(chosen)
    return waves
