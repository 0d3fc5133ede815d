"""Decompose: candidate service boundaries from the schema (and the workload), scored and editable.

>>> from workbench.decompose.synthetic import planted
>>> p = planted(n_tables=60, n_domains=3, seed=2)
>>> d = decompose(p.schema, p.workload, stability=0)
>>> round(score(d, p.schema, p.workload, truth=p.truth)["truth"]["ari"], 1) >= 0.5
True
"""

from __future__ import annotations

from workbench.decompose.graph import Weights, build_graph
from workbench.decompose.model import Decomposition, Service, TableNote, load_decomposition, save_decomposition
from workbench.decompose.pipeline import decompose
from workbench.decompose.scoring import score  # noqa: F401

__all__ = ["Decomposition", "Service", "TableNote", "Weights", "build_graph", "decompose", "load_decomposition",
           "save_decomposition", "score"]
