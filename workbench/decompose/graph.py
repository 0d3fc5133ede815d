"""The weighted table graph: every signal kept on the edge, combined into one ``weight``.

Nodes are base tables (views are read models over other tables and own no data). Each edge keeps
the raw strength of every signal of :mod:`workbench.decompose.signals` as an attribute of the same
name, and ``weight`` = sum of ``Weights.<signal> * strength``. Reasons and "pull" explanations read
the raw signals; clustering reads ``weight``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields

import networkx as nx
import pandas as pd

from workbench.decompose import signals as sig
from workbench.decompose.vocabulary import Vocabulary
from workbench.errors import WorkbenchError
from workbench.schema import Schema
from workbench.workload.model import Workload


@dataclass(frozen=True)
class Weights:
    """How much each signal counts. The defaults were chosen on planted synthetic schemas and the
    sample database, with and without workloads (see ``bench/decompose.py``).

    Attributes
    ----------
    fk : a declared foreign key (strength 1, 2 when the child is part of its parent): the backbone.
    implied_fk : an undeclared reference found by name: a little less sure than a declared one.
    join : join affinity in [0, 1].
    cowrite : co-write affinity in [0, 1]: the costliest tie to cut (a saga), so the heaviest of
        the workload signals; yet a monolith's business operations routinely write several
        domains at once (checkout: order, stock, payment), so workload signals together weigh
        about as much as a key, confirming structure rather than overriding it.
    coaccess : transaction co-access (reads included) in [0, 1].
    name : the same leading name word, 1 / (n - 1) for a word n tables share: a module's tables are
        named alike (``loan_*``), and the word is the best single evidence real schemas offer.
    schema : the same database schema (when there are several): the DBA's own grouping.
    hub_damping : discount of keys to much-referenced tables: a plain reference to a table that d
        tables refer to counts 1 up to d = 3, 0.7 up to 9, 0.4 beyond (raised to ``hub_damping``:
        0 switches it off). On real schemas a key to a table few others use joins one module nine
        times in ten, a key to a table everything uses little more than one time in three
        (``bench/decompose_real.py``). The part-of bonus of a composition is not discounted.
    """

    fk: float = 1.0
    implied_fk: float = 0.8
    join: float = 1.0
    cowrite: float = 1.0
    coaccess: float = 0.5
    name: float = 3.0
    schema: float = 0.5
    hub_damping: float = 1.0

    @classmethod
    def from_mapping(cls, values: dict[str, float] | None) -> Weights:
        """Defaults overridden by ``values``; an unknown key is an error naming it."""
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise WorkbenchError(f"unknown weight {unknown[0]!r}; known: {', '.join(sorted(known))}")
        bad = [k for k, v in values.items() if not isinstance(v, int | float) or v < 0 or math.isnan(v)]
        if bad:
            raise WorkbenchError(f"weight {bad[0]!r} must be a non-negative number, got {values[bad[0]]!r}")
        return cls(**{k: float(v) for k, v in values.items()})

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def specificity(fan_in: int) -> float:
    """How much a plain reference to a table with ``fan_in`` referrers says about ownership.

    >>> [specificity(d) for d in (1, 3, 4, 9, 10, 136)]
    [1.0, 1.0, 0.7, 0.7, 0.4, 0.4]
    """
    return 1.0 if fan_in <= 3 else 0.7 if fan_in <= 9 else 0.4


def build_graph(schema: Schema, workload: Workload | None = None, weights: Weights | None = None,
                exclude: Iterable[str] = (), max_neighbours: int = 12) -> nx.Graph:
    """The table graph of ``schema`` (and ``workload`` when given), minus ``exclude``.

    Node attributes: ``row_count``, ``columns`` (count), ``fk_out`` (declared keys to other tables).
    Edge attributes: one per signal (raw strength, 0 when absent) and ``weight``. Graph attributes:
    ``referrers`` (table -> tables referencing it, declared or implied) and ``implied`` (the
    implied references), so later steps need not recompute them.

    Key and name edges (bounded by construction) are always kept; every other edge survives only if
    it is among the ``max_neighbours`` heaviest of one of its tables. Workloads tie every table to
    dozens of others by a statement or two; the sparsified graph keeps what distinguishes a table
    and clusters several times faster.
    """
    weights = weights or Weights()
    excluded = set(exclude)
    tables = sorted((t for t in schema.base_tables if t.key not in excluded), key=lambda t: t.key)
    keys = {t.key for t in tables}
    g: nx.Graph[str] = nx.Graph()
    for t in tables:
        fk_out = len({f.referred_key for f in t.foreign_keys if f.referred_key != t.key})
        g.add_node(t.key, row_count=t.row_count, columns=len(t.columns), fk_out=fk_out)

    implied_refs = sig.implied_references(schema)
    referrers = sig.references(schema, implied_refs)
    vocabulary = Vocabulary.of(schema)
    raw: dict[str, dict[sig.Pair, float]] = {"fk": sig.fk_edges(schema, vocabulary),
                                             "implied_fk": sig.implied_fk_edges(schema, implied_refs),
                                             "name": sig.name_similarity(schema, vocabulary),
                                             "schema": sig.schema_edges(schema)}
    if workload is not None:
        raw["join"] = sig.join_affinity(workload, keys)
        raw["cowrite"] = sig.cowrite_affinity(workload, keys)
        raw["coaccess"] = sig.coaccess_affinity(workload, keys)

    parents: dict[sig.Pair, set[str]] = {}
    for parent, children in referrers.items():
        for child in children:
            parents.setdefault(sig.pair(child, parent), set()).add(parent)

    def damping(p: sig.Pair) -> float:
        if weights.hub_damping <= 0:
            return 1.0
        heads = parents.get(p) or set(p)
        d = min(len(referrers.get(h, ())) for h in heads)
        return float(specificity(d) ** weights.hub_damping)

    edges: dict[sig.Pair, dict[str, float]] = {}
    for name in sig.SIGNALS:
        for p, strength in raw.get(name, {}).items():
            if p[0] in keys and p[1] in keys:
                edges.setdefault(p, dict.fromkeys(sig.SIGNALS, 0.0))[name] = strength
    ranked: dict[str, list[tuple[float, str]]] = {}
    for (a, b), data in edges.items():
        plain, part_of = min(data["fk"], 1.0), max(data["fk"] - 1.0, 0.0)
        structural = (weights.fk * plain + weights.implied_fk * data["implied_fk"]) * damping((a, b)) \
            + weights.fk * part_of
        data["weight"] = (structural + weights.join * data["join"] + weights.cowrite * data["cowrite"]
                          + weights.coaccess * data["coaccess"] + weights.name * data["name"]
                          + weights.schema * data["schema"])
        ranked.setdefault(a, []).append((data["weight"], b))
        ranked.setdefault(b, []).append((data["weight"], a))
    strongest: set[sig.Pair] = set()
    for key, near in ranked.items():
        for _, other in sorted(near, key=lambda x: (-x[0], x[1]))[:max_neighbours]:
            strongest.add(sig.pair(key, other))
    g.add_edges_from((a, b, data) for (a, b), data in sorted(edges.items())
                     if data["weight"] > 0 and (data["fk"] > 0 or data["implied_fk"] > 0 or data["name"] > 0
                                                or (a, b) in strongest))
    g.graph["weights"] = weights.as_dict()
    g.graph["has_workload"] = workload is not None
    g.graph["referrers"] = {p: sorted(c) for p, c in sorted(referrers.items()) if p in keys}
    g.graph["implied"] = implied_refs
    return g


def edges_frame(g: nx.Graph) -> pd.DataFrame:
    """The edges with every signal as a column, heaviest first: the graph as a person reads it."""
    rows = [{"a": a, "b": b, **{s: d.get(s, 0.0) for s in sig.SIGNALS}, "weight": d["weight"]}
            for a, b, d in g.edges(data=True)]
    frame = pd.DataFrame(rows, columns=["a", "b", *sig.SIGNALS, "weight"])
    return frame.sort_values(["weight", "a", "b"], ascending=[False, True, True], ignore_index=True)


def describe_edge(data: dict[str, float]) -> str:
    """The signals behind an edge in words, strongest contribution first.

    >>> describe_edge({"fk": 1.0, "cowrite": 0.42, "name": 0.0})
    'foreign key, co-written 0.42'
    """
    labels = {"fk": "foreign key", "implied_fk": "implied key", "join": "joined", "cowrite": "co-written",
              "coaccess": "same transactions", "name": "similar name", "schema": "same schema"}
    parts = []
    for s in sig.SIGNALS:
        v = float(data.get(s, 0.0) or 0.0)
        if v <= 0:
            continue
        plain = s in ("fk", "implied_fk", "schema")
        parts.append((-v * (2.0 if plain else 1.0), s, labels[s] if plain else f"{labels[s]} {v:.2f}"))
    return ", ".join(p[2] for p in sorted(parts))
