"""Reading a decomposition: cross-service edges, the pull on ambiguous tables, and what-if moves.

These are the notebook's tables: each answers a question an architect asks of a candidate cut
("what crosses the boundary?", "why is this table here and not there?", "what if I move it?").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx
import pandas as pd

from workbench.decompose import signals as sig
from workbench.decompose.graph import Weights
from workbench.decompose.model import Decomposition
from workbench.decompose.scoring import score
from workbench.schema import Schema
from workbench.workload.model import Workload


def cross_edges(g: nx.Graph, decomposition: Decomposition) -> pd.DataFrame:
    """Edges between tables of different services, heaviest first, with every signal."""
    where = decomposition.assignment()
    rows = []
    for a, b, d in g.edges(data=True):
        sa, sb = where.get(a), where.get(b)
        if sa is None or sb is None or sa == sb:
            continue
        if (sa, a) > (sb, b):
            a, b, sa, sb = b, a, sb, sa
        rows.append({"service_a": sa, "table_a": a, "service_b": sb, "table_b": b,
                     **{s: round(float(d.get(s, 0.0)), 4) for s in sig.SIGNALS},
                     "weight": round(float(d["weight"]), 4)})
    frame = pd.DataFrame(rows, columns=["service_a", "table_a", "service_b", "table_b", *sig.SIGNALS, "weight"])
    return frame.sort_values(["weight", "table_a", "table_b"], ascending=[False, True, True], ignore_index=True)


def service_graph(g: nx.Graph, decomposition: Decomposition) -> nx.Graph:
    """Services as nodes (attribute ``tables``), edges summing the weight of the table edges between them."""
    where = decomposition.assignment()
    h: nx.Graph[str] = nx.Graph()
    for name, svc in decomposition.services.items():
        h.add_node(name, tables=len(svc.tables), kind=svc.kind)
    for a, b, w in g.edges(data="weight", default=1.0):
        sa, sb = where.get(a), where.get(b)
        if sa is None or sb is None or sa == sb:
            continue
        if h.has_edge(sa, sb):
            h.edges[sa, sb]["weight"] += w
            h.edges[sa, sb]["edges"] += 1
        else:
            h.add_edge(sa, sb, weight=w, edges=1)
    return h


def pull(g: nx.Graph, decomposition: Decomposition, tables: Iterable[str] | None = None, top: int = 3) -> pd.DataFrame:
    """For each table (default: the ambiguous ones), its summed edge weight towards each service."""
    where = decomposition.assignment()
    rows = []
    for t in sorted(tables if tables is not None else decomposition.ambiguous):
        totals: dict[str, float] = {}
        if t in g:
            for x, d in g[t].items():
                if x in where:
                    totals[where[x]] = totals.get(where[x], 0.0) + float(d["weight"])
        note = decomposition.tables.get(t)
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        rows.append({"table": t, "service": where.get(t), "confidence": note.confidence if note else None,
                     **{f"pull_{i + 1}": f"{s} ({v:.2f})" for i, (s, v) in enumerate(ranked)}})
    return pd.DataFrame(rows, columns=["table", "service", "confidence", *[f"pull_{i + 1}" for i in range(top)]])


WHAT_IF_METRICS = ("services", "modularity", "cross_service_fks", "cross_service_implied_fks", "cross_weight_share",
                   "workload.distributed_tx_share", "workload.distributed_write_share", "workload.cross_join_share",
                   "workload.transactional_purity", "truth.ari")


def _flat(scores: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key in WHAT_IF_METRICS:
        head, _, tail = key.partition(".")
        value = scores.get(head)
        if tail:
            value = value.get(tail) if isinstance(value, dict) else None
        if value is not None:
            out[key] = value
    return out


def what_if(decomposition: Decomposition, table: str, service: str, schema: Schema, workload: Workload | None = None,
            truth: Mapping[str, str] | None = None, weights: Weights | Mapping[str, float] | None = None,
            graph: nx.Graph | None = None) -> pd.DataFrame:
    """Metrics before and after moving ``table`` to ``service``, side by side with the change."""
    before = _flat(score(decomposition, schema, workload, truth, weights, graph))
    after = _flat(score(decomposition.move(table, service), schema, workload, truth, weights, graph))
    frame = pd.DataFrame({"before": pd.Series(before), "after": pd.Series(after)})
    frame["change"] = frame["after"] - frame["before"]
    return frame
