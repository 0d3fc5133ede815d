"""The service context map as a graph: who depends on whom, through which mechanisms."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import networkx as nx

from workbench.design.model import LEGACY, Dependency, Design


def edges(d: Dependency) -> list[tuple[str, str]]:
    """(dependent, depended-on) service pairs of one dependency.

    The holder of a reference, the reader of a join or view and the initiator of a saga depend on
    the providers; with ``domain_events`` the providers only consume the initiator's events, so
    they depend on it; a ``local_copy`` leaves no dependency once each service has its own table;
    a merge recommendation links the services to merge (``facts["merge_with"]``).

    >>> edges(Dependency("w", "write_transaction", "sales", ["audit"], mechanism="domain_events"))
    [('audit', 'sales')]
    """
    if d.mechanism == "local_copy":
        return []
    if d.mechanism == "merge_services":  # only the services it should merge with; the rest is redesigned anyway
        return [(d.consumer, p) for p in d.write_facts.get("merge_with", d.providers)]
    if d.kind == "write_transaction" and d.mechanism == "domain_events":
        return [(p, d.consumer) for p in d.providers]
    return [(d.consumer, p) for p in d.providers]


def context_graph(design: Design, costs: Mapping[str, float] | None = None, legacy: bool = False) -> nx.DiGraph:
    """dependent -> depended-on service (see :func:`edges`), with ``weight`` (summed cost of the
    mechanisms; 1 each without ``costs``), ``count``, ``mechanisms`` (a Counter) and ``dependencies``.

    Nodes carry ``kind``, ``tables`` and ``rows``; the legacy pseudo-service (tables no service
    owns) is included only when ``legacy`` is True.
    """
    g: nx.DiGraph[str] = nx.DiGraph()
    for name, svc in design.services.items():
        g.add_node(name, kind=svc.kind, tables=len(svc.owned), rows=svc.rows or 0)
    for d in design.dependencies:
        for consumer, provider in edges(d):
            if consumer == provider or (not legacy and LEGACY in (consumer, provider)):
                continue
            if not g.has_edge(consumer, provider):
                g.add_edge(consumer, provider, weight=0.0, count=0, mechanisms=Counter(), dependencies=[])
            e = g.edges[consumer, provider]
            e["weight"] += costs.get(d.mechanism, 1.0) if costs else 1.0
            e["count"] += 1
            e["mechanisms"][d.mechanism] += 1
            e["dependencies"].append(d.id)
    return g
