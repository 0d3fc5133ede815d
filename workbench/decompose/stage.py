"""The Decompose stage end to end, for the notebook: inputs, decomposition, scores, sweep, artifacts.

The notebook stays a thin sequence of calls into this module. Inputs come from the Assess stage's
folder (``schema.json``, ``workload.json``), or are built here when missing: the database is
introspected read-only, and the sample database gets its simulated workload. The results are
written beside them: ``decomposition.yaml`` (the artifact the Design stage reads), ``scores.json``
and ``sweep.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from workbench import serde
from workbench.decompose import metrics as m
from workbench.decompose import signals as sig
from workbench.decompose.graph import build_graph
from workbench.decompose.model import Decomposition, Service, load_decomposition, save_decomposition
from workbench.decompose.options import DecomposeOptions
from workbench.decompose.pipeline import decompose
from workbench.decompose.scoring import score
from workbench.decompose.stability import RESOLUTION_GRID
from workbench.decompose.sweep import DEFAULT_RESOLUTIONS, sweep
from workbench.schema import Schema
from workbench.workload.model import Workload

ARTIFACTS = ("decomposition.yaml", "scores.json", "sweep.csv")


@dataclass
class Inputs:
    """The stage's inputs and where each came from (a file, or built now)."""

    schema: Schema
    workload: Workload | None
    truth: dict[str, str] | None
    origin: dict[str, str] = field(default_factory=dict)


@dataclass
class StageResult:
    """Everything the notebook shows."""

    inputs: Inputs
    graph: nx.Graph
    decomposition: Decomposition
    scores: dict[str, Any]
    comparison: pd.DataFrame
    sweep: pd.DataFrame
    paths: dict[str, Path]
    checks: dict[str, bool]
    baseline: dict[str, str] = field(default_factory=dict)
    schema_only: Decomposition | None = None


def inputs(db_url: str, out_dir: str | Path, *, schema_path: str | Path | None = None,
           workload_path: str | Path | None = None, workload_logs: Sequence[str] = (),
           workload_format: str | None = None, truth_path: str | Path | None = None) -> Inputs:
    """``schema.json`` and ``workload.json`` from ``out_dir`` (or the given paths), built when missing;
    the answer key from ``truth_path``, or the sample's own when the database is the sample."""
    from workbench.workload.stage import sample_domains, schema_and_workload

    origin: dict[str, str] = {}
    schema, workload = schema_and_workload(db_url, out_dir, origin, schema_path=schema_path,
                                           workload_path=workload_path, logs=workload_logs,
                                           log_format=workload_format, without="decomposed from the schema alone")
    truth: dict[str, str] | None
    if truth_path:
        truth, origin["answer key"] = m.load_truth(truth_path), Path(truth_path).name
    else:
        truth = sample_domains(schema)
        origin["answer key"] = "the sample's domains" if truth else "none"
    return Inputs(schema, workload, truth, origin)


def fk_louvain(schema: Schema, seed: int = 0) -> dict[str, str]:
    """The baseline: plain Louvain on the declared foreign-key graph, unweighted, resolution 1."""
    g: nx.Graph[str] = nx.Graph()
    g.add_nodes_from(t.key for t in schema.base_tables)
    g.add_edges_from(sig.fk_edges(schema))
    parts = nx.community.louvain_communities(g, seed=seed)
    return {t: f"louvain {i}" for i, part in enumerate(sorted(parts, key=lambda p: (-len(p), min(p)))) for t in part}


def _row(label: str, s: Mapping[str, Any]) -> dict[str, Any]:
    wl = s.get("workload") or {}
    truth = s.get("truth") or {}
    return {"decomposition": label, "services": s["services"], "ARI": truth.get("ari"), "NMI": truth.get("nmi"),
            "MoJoFM": truth.get("mojofm"), "modularity": s["modularity"], "cross-service FKs": s["cross_service_fks"],
            "of which to replicas": s["cross_service_fks_to_replicas"],
            "distributed tx": wl.get("distributed_tx_share"), "distributed writes": wl.get("distributed_write_share"),
            "cross-service joins": wl.get("cross_join_share")}


def run(db_url: str, out_dir: str | Path, options: DecomposeOptions | None = None, *,
        schema_path: str | Path | None = None, workload_path: str | Path | None = None,
        workload_logs: Sequence[str] = (), workload_format: str | None = None, truth_path: str | Path | None = None,
        sweep_resolutions: Sequence[float] | None = None) -> StageResult:
    """Decompose, score against the alternatives, sweep, and write the artifacts into ``out_dir``."""
    opts = options or DecomposeOptions()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    found = inputs(db_url, out, schema_path=schema_path, workload_path=workload_path, workload_logs=workload_logs,
                   workload_format=workload_format, truth_path=truth_path)
    w = opts.weight_model()
    g = build_graph(found.schema, found.workload, w, exclude=opts.exclude)
    d = decompose(found.schema, found.workload, opts, graph=g, progress=False)
    scores = score(d, found.schema, found.workload, found.truth, w, graph=g)

    rows = [_row("this decomposition" + (" (schema + workload)" if found.workload else " (schema only)"), scores)]
    schema_only = None
    if found.workload is not None:
        schema_only = decompose(found.schema, None, replace(opts, stability=0), progress=False)
        rows.append(_row("same, schema only", score(schema_only, found.schema, found.workload, found.truth, w,
                                                    graph=g)))
    baseline = fk_louvain(found.schema, opts.seed)
    base = Decomposition(services={})
    for t, name in baseline.items():
        base.services.setdefault(name, Service()).tables.append(t)
    rows.append(_row("plain Louvain on the FK graph",
                     score(base, found.schema, found.workload, found.truth, w, graph=g)))
    comparison = pd.DataFrame(rows)

    services = opts.services
    used = d.parameters["resolution"]
    grid = sorted(set(sweep_resolutions or DEFAULT_RESOLUTIONS) | set(RESOLUTION_GRID) | {used})
    frame = sweep(found.schema, found.workload, opts, resolutions=grid, truth=found.truth, progress=False) \
        if services is None else \
        sweep(found.schema, found.workload, opts, services=range(max(2, services - 4), services + 5),
              truth=found.truth, progress=False)
    chosen = d.parameters.get("resolution")
    if services is None and chosen in set(frame["resolution"]):
        frame["recommended"] = frame["resolution"] == chosen  # the point this decomposition stands on

    paths = {"decomposition.yaml": save_decomposition(d, out / "decomposition.yaml"),
             "scores.json": out / "scores.json", "sweep.csv": out / "sweep.csv"}
    serde.save(scores, paths["scores.json"])
    serde.save(frame, paths["sweep.csv"])

    placed = set(d.assignment()) | set(d.unassigned) | set(d.excluded)
    checks = {
        "every table is in a service, or unassigned with a reason": placed == {t.key for t in found.schema.base_tables},
        "every placed table has a reason": all(d.tables.get(t) and d.tables[t].reason for t in d.assignment()),
        "decomposition.yaml reads back to the same services":
            load_decomposition(paths["decomposition.yaml"]).assignment() == d.assignment(),
        "every pin is honoured": all(d.assignment().get(t) == s for t, s in opts.pins.items()),
    }
    if found.truth:
        checks["closer to the answer key than plain Louvain on the FK graph (ARI)"] = \
            bool(comparison.iloc[0]["ARI"] > comparison.iloc[-1]["ARI"])
    return StageResult(found, g, d, scores, comparison, frame, paths, checks, baseline, schema_only)


def services_frame(d: Decomposition) -> pd.DataFrame:
    """One row per service: kind, size, mean confidence, its tables."""
    rows = []
    for name, svc in d.services.items():
        conf = [c for t in svc.tables if t in d.tables and (c := d.tables[t].confidence) is not None]
        rows.append({"service": name, "context": svc.context, "kind": svc.kind, "tables": len(svc.tables),
                     "confidence": round(sum(conf) / len(conf), 3) if conf else None,
                     "members": ", ".join(svc.tables)})
    return pd.DataFrame(rows, columns=["service", "context", "kind", "tables", "confidence", "members"])


def contexts_frame(d: Decomposition) -> pd.DataFrame:
    """One row per bounded context: its services and tables, largest first (the coarser level)."""
    by_context: dict[str, list[str]] = {}
    for name, svc in d.services.items():
        by_context.setdefault(svc.context or name, []).append(name)
    rows = [{"context": c, "services": len(names), "tables": sum(len(d.services[n].tables) for n in names),
             "members": ", ".join(sorted(names, key=lambda n: (-len(d.services[n].tables), n)))}
            for c, names in by_context.items()]
    frame = pd.DataFrame(rows, columns=["context", "services", "tables", "members"])
    return frame.sort_values(["tables", "context"], ascending=[False, True], ignore_index=True)


def roles_frame(d: Decomposition) -> pd.DataFrame:
    """Tables placed by an explicit treatment (reference, cross-cutting, hub, satellite, isolated,
    pinned) and the unassigned ones, with the reason."""
    rows = [{"table": t, "role": n.role, "service": d.service_of(t), "reason": n.reason}
            for t, n in d.tables.items() if n.role != "domain"]
    rows += [{"table": t, "role": "unassigned", "service": None, "reason": why} for t, why in d.unassigned.items()]
    return pd.DataFrame(rows, columns=["table", "role", "service", "reason"]).sort_values(["role", "table"],
                                                                                         ignore_index=True)


def differences(result: StageResult) -> pd.DataFrame:
    """Where this decomposition and plain Louvain on the FK graph disagree about the answer key:
    per table, whether each puts it with the majority of its domain's tables."""
    truth = result.inputs.truth
    if not truth:
        return pd.DataFrame(columns=["table", "domain", "this decomposition", "plain Louvain"])

    def agrees(assignment: Mapping[str, str]) -> dict[str, bool]:
        by_domain: dict[str, list[str]] = {}
        for t, dom in truth.items():
            if t in assignment:
                by_domain.setdefault(dom, []).append(assignment[t])
        home = {dom: max(sorted(set(v)), key=v.count) for dom, v in by_domain.items()}
        return {t: assignment.get(t) == home.get(dom) for t, dom in truth.items() if t in assignment}

    ours, theirs = agrees(result.decomposition.assignment()), agrees(result.baseline)
    rows = [{"table": t, "domain": truth[t], "this decomposition": ours.get(t), "plain Louvain": theirs.get(t),
             "service": result.decomposition.assignment().get(t)}
            for t in sorted(set(ours) | set(theirs)) if ours.get(t) != theirs.get(t)]
    return pd.DataFrame(rows, columns=["table", "domain", "this decomposition", "plain Louvain", "service"])


def what_if_candidate(result: StageResult) -> tuple[str, str] | None:
    """A move worth trying: the least confident table towards its second strongest pull, else the
    heaviest cross-service edge's first table towards the other side."""
    d = result.decomposition
    for t in sorted(d.ambiguous, key=lambda t: (d.tables[t].confidence or 0.0, t)):
        others = [s for s in d.tables[t].pull if s != d.service_of(t)]
        if others:
            return t, others[0]
    from workbench.decompose.explain import cross_edges

    edges = cross_edges(result.graph, d)
    if len(edges):
        return str(edges.iloc[0]["table_a"]), str(edges.iloc[0]["service_b"])
    return None


__all__ = ["ARTIFACTS", "Inputs", "StageResult", "contexts_frame", "differences", "fk_louvain", "inputs",
           "roles_frame", "run",
           "services_frame", "what_if_candidate"]
