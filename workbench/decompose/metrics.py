"""How good a decomposition is: structure, workload cost, and agreement with a known answer.

Definitions follow the peers (REFERENCE.md section 2) so numbers can be compared with theirs:
Newman modularity (networkx); CARGO's transactional purity; mono2micro's cohesion, coupling and
complexity, with *functionalities* = distinct transaction shapes (statement templates when the
log has no transactions); Mono2Micro's structural modularity (SM) and extreme-size share (NED);
and, against an answer key, ARI, NMI and MoJoFM. Every function takes ``assignment``
(table -> service); tables missing from it count as services of their own.

>>> truth = {"a": "x", "b": "x", "c": "y", "d": "y"}
>>> ari(truth, truth), nmi(truth, truth), mojofm(truth, truth)
(1.0, 1.0, 100.0)
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from workbench.decompose import signals as sig
from workbench.errors import ArtifactError, NotFoundError
from workbench.schema import Schema
from workbench.workload.model import Workload

Assignment = Mapping[str, str]


# ---------------------------------------------------------------- agreement with an answer key
def _contingency(a: Assignment, b: Assignment) -> tuple[np.ndarray, list[str]]:
    common = sorted(set(a) & set(b))
    if not common:
        raise ArtifactError("the two partitions share no table: nothing to compare")
    frame = pd.crosstab(pd.Series([a[t] for t in common], dtype=str), pd.Series([b[t] for t in common], dtype=str))
    return frame.to_numpy(dtype=float), common


def _comb2(x: np.ndarray | float) -> Any:
    return x * (x - 1) / 2.0


def ari(a: Assignment, b: Assignment) -> float:
    """Adjusted Rand index (Hubert & Arabie) over the tables both partitions place.

    >>> round(ari({"a": 0, "b": 0, "c": 1, "d": 1}, {"a": 0, "b": 0, "c": 1, "d": 2}), 4)
    0.5714
    """
    table, _ = _contingency(a, b)
    n = table.sum()
    index = _comb2(table).sum()
    rows, cols = _comb2(table.sum(axis=1)).sum(), _comb2(table.sum(axis=0)).sum()
    expected = rows * cols / _comb2(n) if n > 1 else 0.0
    maximum = (rows + cols) / 2.0
    if math.isclose(maximum, expected):
        return 1.0
    return float((index - expected) / (maximum - expected))


def nmi(a: Assignment, b: Assignment) -> float:
    """Normalised mutual information, arithmetic-mean normalisation (scikit-learn's default)."""
    table, _ = _contingency(a, b)
    n = table.sum()
    p = table / n
    pa, pb = p.sum(axis=1), p.sum(axis=0)
    nz = p > 0
    mi = float((p[nz] * np.log(p[nz] / np.outer(pa, pb)[nz])).sum())
    ha = float(-(pa[pa > 0] * np.log(pa[pa > 0])).sum())
    hb = float(-(pb[pb > 0] * np.log(pb[pb > 0])).sum())
    if ha == 0 and hb == 0:
        return 1.0
    return max(0.0, mi / ((ha + hb) / 2.0))


def mojofm(candidate: Assignment, truth: Assignment) -> float:
    """MoJoFM (Wen & Tzerpos 2004): 100 * (1 - mno(A, B) / max over X of mno(X, B)), B the truth.

    ``mno`` counts the Move and Join operations turning A into B: each cluster of A is tagged with
    the truth clusters it shares most tables with, a maximum bipartite matching (networkx) picks
    one per cluster so as many distinct truth clusters as possible are kept, and then
    moves = tables outside their cluster's tag, joins = clusters of A - distinct tags kept.

    >>> round(mojofm({1: "a", 2: "a", 3: "a", 4: "b", 5: "b"}, {1: "x", 2: "x", 3: "y", 4: "y", 5: "y"}), 2)
    66.67
    """
    common = sorted(set(candidate) & set(truth), key=str)
    if not common:
        raise ArtifactError("the two partitions share no table: nothing to compare")
    overlap: dict[str, Counter[str]] = defaultdict(Counter)
    for t in common:
        overlap[str(candidate[t])][str(truth[t])] += 1
    clusters = sorted(overlap)
    bip: nx.Graph[tuple[str, str]] = nx.Graph()
    left = [("A", c) for c in clusters]
    bip.add_nodes_from(left, bipartite=0)
    best_tag: dict[str, str] = {}
    moves = 0
    for c in clusters:
        top = max(overlap[c].values())
        tags = sorted(g for g, v in overlap[c].items() if v == top)
        best_tag[c] = tags[0]
        moves += sum(overlap[c].values()) - top
        for g in tags:
            bip.add_edge(("A", c), ("B", g))
    matching = nx.bipartite.hopcroft_karp_matching(bip, top_nodes=left)
    groups = {matching[("A", c)][1] if ("A", c) in matching else best_tag[c] for c in clusters}
    mno = moves + len(clusters) - len(groups)
    sizes = sorted(Counter(str(truth[t]) for t in common).values())
    kept = 0
    for s in sizes:
        if kept < s:
            kept += 1
    worst = len(common) - kept
    if worst <= 0:
        return 100.0
    return 100.0 * (1.0 - mno / worst)


def load_truth(path: str | Path) -> dict[str, str]:
    """An answer key CSV with columns ``table,domain``."""
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"answer key not found: {path}")
    try:
        frame = pd.read_csv(path, dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: not a CSV answer key: {str(exc).splitlines()[0]}") from None
    if not {"table", "domain"} <= set(frame.columns):
        raise ArtifactError(f"{path}: expected columns 'table,domain', found {','.join(map(str, frame.columns))}")
    frame = frame.dropna(subset=["table", "domain"])
    return {str(t).strip(): str(d).strip() for t, d in zip(frame["table"], frame["domain"], strict=True)}


# ---------------------------------------------------------------- structure
def _label(assignment: Assignment, table: str) -> str:
    return assignment.get(table, f"(alone) {table}")


def modularity(g: nx.Graph, assignment: Assignment, weight: str | None = "weight") -> float | None:
    """Newman modularity of the partition on ``g`` (None for a graph without edges)."""
    if g.number_of_edges() == 0:
        return None
    groups: dict[str, set[str]] = defaultdict(set)
    for n in g:
        groups[_label(assignment, n)].add(n)
    return float(nx.community.modularity(g, list(groups.values()), weight=weight))


def cross_service_fks(schema: Schema, assignment: Assignment) -> dict[str, int]:
    """Declared and implied foreign keys whose two tables sit in different services."""
    declared = cross_declared = 0
    for t in schema.base_tables:
        for fk in t.foreign_keys:
            if fk.referred_key == t.key:
                continue
            declared += 1
            if _label(assignment, t.key) != _label(assignment, fk.referred_key):
                cross_declared += 1
    implied = sig.implied_references(schema)
    cross_implied = sum(1 for c, p, _ in implied if _label(assignment, c) != _label(assignment, p))
    return {"declared": declared, "cross_declared": cross_declared,
            "implied": len(implied), "cross_implied": cross_implied}


def structural_modularity(schema: Schema, assignment: Assignment) -> float | None:
    """Mono2Micro's SM over the key graph: mean internal density minus mean pairwise inter-density."""
    members: dict[str, int] = Counter(_label(assignment, t.key) for t in schema.base_tables)
    inside: Counter[str] = Counter()
    between: Counter[tuple[str, str]] = Counter()
    edges = set(sig.fk_edges(schema)) | set(sig.implied_fk_edges(schema))
    for a, b in edges:
        la, lb = _label(assignment, a), _label(assignment, b)
        if la == lb:
            inside[la] += 1
        else:
            between[(min(la, lb), max(la, lb))] += 1
    k = len(members)
    if k == 0 or not edges:
        return None
    cohesion = sum(inside[s] / members[s] ** 2 for s in members) / k
    if k == 1:
        return cohesion
    coupling = sum(v / (2 * members[a] * members[b]) for (a, b), v in between.items()) / (k * (k - 1) / 2)
    return cohesion - coupling


def size_distribution(assignment: Assignment, small: int = 2, large_share: float = 0.5) -> dict[str, Any]:
    """Service sizes, and NED: the share of tables in services of extreme size (fewer than
    ``small`` tables, or more than ``large_share`` of all tables)."""
    sizes = sorted(Counter(assignment.values()).values(), reverse=True)
    total = sum(sizes)
    if not sizes:
        return {"services": 0, "sizes": [], "min": 0, "median": 0, "max": 0, "ned": 0.0}
    extreme = sum(s for s in sizes if s < small or (len(sizes) > 1 and s > large_share * total))
    return {"services": len(sizes), "sizes": sizes, "min": sizes[-1], "median": float(np.median(sizes)),
            "max": sizes[0], "ned": extreme / total}


# ---------------------------------------------------------------- workload
def _functionalities(workload: Workload) -> list[tuple[set[str], set[str], float]]:
    """(tables read, tables written, weight) per transaction shape, or per template without transactions."""
    if workload.transactions:
        return [(set(tx.tables_read) - set(tx.tables_written), set(tx.tables_written), float(tx.count))
                for tx in workload.transactions]
    return [(set(t.tables_read) - set(t.tables_written), set(t.tables_written), float(t.calls))
            for t in workload.templates]


def _share(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def workload_costs(workload: Workload, assignment: Assignment, known: set[str] | None = None) -> dict[str, Any]:
    """Distributed transactions and cross-service statements, weighted by count/calls.

    ``distributed_tx_share``: transactions touching more than one service; ``distributed_write_share``:
    transactions *writing* more than one service (each needs a saga); ``distributed_read_share``:
    transactions writing at most one service but reading another (API composition or a replica).
    Statement shares: ``cross_join_share`` (statements joining tables of two services, among
    statements that join), ``cross_read_statement_share`` and ``cross_write_statement_share``.
    """
    def svc(tables: Iterable[str]) -> set[str]:
        return {_label(assignment, t) for t in tables if known is None or t in known}

    total = dist = dist_w = dist_r = 0.0
    for tx in workload.transactions:
        touched, written = svc([*tx.tables_read, *tx.tables_written]), svc(tx.tables_written)
        total += tx.count
        if len(touched) > 1:
            dist += tx.count
            if len(written) > 1:
                dist_w += tx.count
            else:
                dist_r += tx.count
    joins = cross_joins = reads = cross_reads = writes = cross_writes = 0.0
    for tpl in workload.templates:
        calls = float(tpl.calls)
        touched = svc([*tpl.tables_read, *tpl.tables_written])
        if tpl.joins:
            joins += calls
            if any(_label(assignment, a) != _label(assignment, b) for a, b in tpl.joins
                   if known is None or (a in known and b in known)):
                cross_joins += calls
        if tpl.tables_written:
            writes += calls
            cross_writes += calls if len(touched) > 1 else 0.0
        elif touched:
            reads += calls
            cross_reads += calls if len(touched) > 1 else 0.0
    return {
        "transactions": total,
        "distributed_tx_share": _share(dist, total),
        "distributed_write_share": _share(dist_w, total),
        "distributed_read_share": _share(dist_r, total),
        "cross_join_share": _share(cross_joins, joins),
        "cross_read_statement_share": _share(cross_reads, reads),
        "cross_write_statement_share": _share(cross_writes, writes),
    }


def _home(read: set[str], written: set[str], assignment: Assignment) -> str:
    """The service a transaction belongs to: the one owning most of what it writes (else reads)."""
    counts = Counter(_label(assignment, t) for t in (written or read))
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def transactional_purity(workload: Workload, assignment: Assignment, known: set[str] | None = None) -> float | None:
    """CARGO's purity: 1 - mean over tables of the normalised entropy of the home services of the
    transactions touching the table (weighted by count). 1.0: no table is shared by two services'
    transactions."""
    funcs = [(r & known if known else r, w & known if known else w, c) for r, w, c in _functionalities(workload)]
    funcs = [f for f in funcs if f[0] or f[1]]
    if not funcs:
        return None
    services = {_label(assignment, t) for r, w, _ in funcs for t in r | w}
    if len(services) <= 1:
        return 1.0
    per_table: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for read, written, count in funcs:
        home = _home(read, written, assignment)
        for t in read | written:
            per_table[t][home] += count
    norm = math.log(len(services))
    entropies = []
    for dist in per_table.values():
        total = sum(dist.values())
        h = -sum((v / total) * math.log(v / total) for v in dist.values() if v > 0) if total else 0.0
        entropies.append(h / norm)
    return 1.0 - float(np.mean(entropies))


def cohesion_coupling(workload: Workload, assignment: Assignment, known: set[str] | None = None) -> dict[str, Any]:
    """mono2micro's mean cohesion and coupling over services (functionalities = transaction shapes)."""
    size = Counter(assignment.values())
    touches: list[dict[str, set[str]]] = []
    for read, written, _ in _functionalities(workload):
        by_service: dict[str, set[str]] = defaultdict(set)
        for t in read | written:
            if (known is None or t in known) and t in assignment:
                by_service[assignment[t]].add(t)
        if by_service:
            touches.append(by_service)
    cohesion: dict[str, list[float]] = defaultdict(list)
    accessed: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for by_service in touches:
        for s, ts in by_service.items():
            cohesion[s].append(len(ts) / size[s])
            for other, ots in by_service.items():
                if other != s:
                    accessed[s][other] |= ots
    k = len(size)
    coh = {s: float(np.mean(v)) for s, v in cohesion.items()}
    cpl = {s: (sum(len(accessed[s][o]) / size[o] for o in accessed[s]) / (k - 1) if k > 1 else 0.0) for s in size}
    return {"cohesion": float(np.mean(list(coh.values()))) if coh else None,
            "coupling": float(np.mean(list(cpl.values()))) if cpl and touches else None}


def complexity(workload: Workload, assignment: Assignment, known: set[str] | None = None) -> dict[str, Any]:
    """mono2micro's complexity: per distributed functionality, how many other distributed ones touch
    one of its tables in the other mode (one reads where the other writes): the relaxed-consistency
    cost. Returns the mean and the count of distributed functionalities."""
    funcs = []
    for read, written, _ in _functionalities(workload):
        r = {t for t in read if known is None or t in known}
        w = {t for t in written if known is None or t in known}
        if len({_label(assignment, t) for t in r | w}) > 1:
            funcs.append((r, w))
    readers: dict[str, set[int]] = defaultdict(set)
    writers: dict[str, set[int]] = defaultdict(set)
    for i, (r, w) in enumerate(funcs):
        for t in r:
            readers[t].add(i)
        for t in w:
            writers[t].add(i)
    values = []
    for i, (r, w) in enumerate(funcs):
        other: set[int] = set()
        for t in r:
            other |= writers[t]
        for t in w:
            other |= readers[t]
        other.discard(i)
        values.append(len(other))
    return {"distributed_functionalities": len(funcs), "complexity": float(np.mean(values)) if values else 0.0}
