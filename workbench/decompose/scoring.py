"""``workbench score``: every metric of a decomposition, hand-edited or not, as one JSON-ready dict.

Only the decomposition's ``services`` mapping is read, so a file a person edited is scored exactly
like a generated one. The table graph is rebuilt from the schema (and workload) with the given
weights, so modularity compares decompositions on the same evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx

from workbench.decompose import metrics as m
from workbench.decompose.graph import Weights, build_graph
from workbench.decompose.model import Decomposition, validate
from workbench.errors import NotFoundError
from workbench.schema import Schema
from workbench.workload.model import Workload


def _round(value: Any, digits: int = 4) -> Any:
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: _round(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v, digits) for v in value]
    return value


def score(decomposition: Decomposition, schema: Schema, workload: Workload | None = None,
          truth: Mapping[str, str] | None = None, weights: Weights | Mapping[str, float] | None = None,
          graph: nx.Graph | None = None) -> dict[str, Any]:
    """All metrics of ``decomposition`` over ``schema`` (and ``workload``, and an answer key ``truth``).

    ``cross_service_fks`` counts every declared key between two services, those to replicated
    reference data included (``cross_service_fks_to_replicas`` of them: a local replica serves them).
    Tables of the schema that no service holds (unassigned, or forgotten in a hand edit) count as
    services of their own; excluded tables are left out everywhere. A service naming a table the
    schema lacks is an error naming it. ``graph``: the table graph if already built (same weights).
    """
    validate(decomposition)
    w = weights if isinstance(weights, Weights) else Weights.from_mapping(dict(weights or {}))
    keys = {t.key for t in schema.base_tables}
    assignment = decomposition.assignment()
    unknown = sorted(set(assignment) - keys)
    if unknown:
        raise NotFoundError(f"decomposition places table {unknown[0]!r}, which is not in the schema"
                            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))
    excluded = set(decomposition.excluded)
    considered = keys - excluded
    assignment = {t: s for t, s in assignment.items() if t in considered}
    unplaced = sorted(considered - set(assignment))
    full = {**assignment, **{t: f"(alone) {t}" for t in unplaced}}

    g = graph if graph is not None else build_graph(schema, workload, w, exclude=excluded)
    fk_only = build_graph(schema, None, Weights(implied_fk=0, name=0, hub_damping=0), exclude=excluded)
    cross = m.cross_service_fks(schema, full)
    replicated = {t for svc in decomposition.services.values() for t in svc.replicated}
    to_replicas = sum(1 for t in schema.base_tables for fk in t.foreign_keys
                      if fk.referred_key in replicated and fk.referred_key != t.key
                      and full.get(t.key) != full.get(fk.referred_key))
    total_weight = g.size(weight="weight")
    cross_weight = sum(d for a, b, d in g.edges(data="weight", default=1.0) if full[a] != full[b])
    out: dict[str, Any] = {
        "tables": len(considered),
        "services": len(set(assignment.values())),
        "unplaced": len(unplaced),
        "modularity": m.modularity(g, full),
        "modularity_fk": m.modularity(fk_only, full, weight=None),
        "structural_modularity": m.structural_modularity(schema, full),
        "cross_service_fks": cross["cross_declared"],
        "cross_service_implied_fks": cross["cross_implied"],
        "cross_service_fks_to_replicas": to_replicas,
        "foreign_keys": cross["declared"],
        "cross_weight_share": cross_weight / total_weight if total_weight else None,
        "size": m.size_distribution(assignment),
    }
    if workload is not None:
        out["workload"] = {
            **m.workload_costs(workload, full, considered),
            "transactional_purity": m.transactional_purity(workload, full, considered),
            **m.cohesion_coupling(workload, assignment, considered),
            **m.complexity(workload, full, considered),
        }
    if truth is not None:
        known = {t: d for t, d in truth.items() if t in considered}
        compared = sorted(set(known) & set(full))
        if compared:
            out["truth"] = {"tables_compared": len(compared), "tables_missing_from_truth": len(considered - set(known)),
                            "ari": m.ari(full, known), "nmi": m.nmi(full, known), "mojofm": m.mojofm(full, known)}
        else:
            out["truth"] = {"tables_compared": 0, "ari": None, "nmi": None, "mojofm": None}
    return _round(out)
