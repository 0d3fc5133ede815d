"""The granularity trade-off: more services against more distributed transactions, keys and joins.

A sweep decomposes the schema at a series of resolutions (or service counts) and measures each
result, so the architect sees what every extra service costs. Each point is also decomposed with
other seeds and a little noise in the edge weights; ``stability`` is how much those runs agree
(mean pairwise ARI). The recommended point is chosen as :func:`decompose` chooses a resolution:
the largest sum of stability and modularity
(:func:`~workbench.decompose.stability.choose_resolution`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from workbench.decompose.cluster import RESOLUTION_METHODS
from workbench.decompose.graph import build_graph
from workbench.decompose.options import DecomposeOptions
from workbench.decompose.pipeline import DEFAULT_RESOLUTION, PERTURBATION, decompose, perturbed
from workbench.decompose.scoring import score
from workbench.decompose.stability import SELECTION_SEEDS, agreement, choose_resolution
from workbench.schema import Schema
from workbench.workload.model import Workload

DEFAULT_RESOLUTIONS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)

COLUMNS = ["resolution", "k", "services", "stability", "modularity", "cross_service_fks", "cross_weight_share",
           "distributed_tx_share", "distributed_write_share", "cross_join_share", "ari"]


def sweep(schema: Schema, workload: Workload | None = None, options: DecomposeOptions | None = None, *,
          resolutions: Iterable[float] | None = None, services: Iterable[int] | None = None,
          seeds: int = SELECTION_SEEDS, truth: Mapping[str, str] | None = None, progress: bool | None = None,
          **overrides: Any) -> pd.DataFrame:
    """One row per resolution (or per service count in ``services``) with the trade-off metrics.

    ``seeds`` runs per point measure its stability (the first one is scored). ``options`` (or
    keyword ``overrides`` of single options) are the decomposition's: pins, exclusions and weights
    hold at every point. Without ``services``, methods lacking a resolution sweep service counts
    2..min(20, tables).
    """
    base = replace(options or DecomposeOptions(), **overrides) if overrides else (options or DecomposeOptions())
    method, seed = base.method, base.seed
    w = base.weight_model()
    g = build_graph(schema, workload, w, exclude=sorted(set(base.exclude)))
    if services is None and resolutions is None and method not in RESOLUTION_METHODS:
        services = range(2, max(3, min(20, g.number_of_nodes())))
    points: list[tuple[float | None, int | None]] = (
        [(None, int(k)) for k in services] if services is not None
        else [(float(r), None) for r in (resolutions or DEFAULT_RESOLUTIONS)])
    rows = []
    for res, k in tqdm(points, desc="sweep", disable=None if progress is None else not progress, leave=False):
        noisy = [g] + [perturbed(g, PERTURBATION, seed + i) for i in range(1, max(1, seeds))]
        runs = [decompose(schema, workload, replace(base, resolution=res or DEFAULT_RESOLUTION, services=k,
                                                    seed=seed + i, stability=0), graph=h, progress=False)
                for i, h in enumerate(noisy)]
        d = runs[0]
        parts = [_parts(r) for r in runs]
        s = score(d, schema, workload, truth=truth, weights=w, graph=g)
        wl = s.get("workload", {})
        rows.append({"resolution": res, "k": k, "services": s["services"], "stability": round(agreement(parts), 4),
                     "modularity": s["modularity"],
                     "cross_service_fks": s["cross_service_fks"] + s["cross_service_implied_fks"],
                     "cross_weight_share": s["cross_weight_share"],
                     "distributed_tx_share": wl.get("distributed_tx_share"),
                     "distributed_write_share": wl.get("distributed_write_share"),
                     "cross_join_share": wl.get("cross_join_share"),
                     "ari": s.get("truth", {}).get("ari")})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["recommended"] = False
    if len(frame):
        frame.loc[recommend(frame), "recommended"] = True
    return frame


def _parts(d: Any) -> list[set[str]]:
    return [set(svc.tables) for svc in d.services.values()]


def recommend(frame: pd.DataFrame) -> int:
    """Row label of the recommended point: the largest stability + modularity (ties: the first)."""
    stability = {float(i): float(v) for i, v in enumerate(frame["stability"].fillna(0.0))}
    modularity = {float(i): float(v) for i, v in enumerate(frame["modularity"].fillna(0.0))}
    return int(frame.index[int(choose_resolution(stability, modularity))])
