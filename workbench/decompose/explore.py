"""Explore a decomposition by hand: move tables, merge and split services, undo, and watch the metrics.

:class:`Explorer` is the state behind the notebook's explorer (:mod:`workbench.decompose.widget`
draws it, any notebook or script can drive it directly). It starts from a :class:`Decomposition`
and the table graph, applies the architect's edits as undoable steps, and saves the result as a
``decomposition.yaml`` the Design stage reads.

Why incremental metrics: :func:`workbench.decompose.scoring.score` rebuilds a key-only graph and
re-reads every key, transaction and table on each call (0.1 s on a 489-table schema without a
workload, seconds with a large one). A move changes only the edges, keys, transactions and
answer-key cells of the tables it moves, so the explorer keeps per-service sums and updates them
from those alone: the numbers are score()'s (same definitions, same rounding; the tests check
them against score() after random edits), at a cost that does not grow with the schema.

>>> from workbench.decompose.synthetic import planted
>>> from workbench.decompose import decompose
>>> p = planted(n_tables=40, n_domains=3, seed=3)
>>> x = Explorer(decompose(p.schema, p.workload, stability=0), p.schema, p.workload, p.truth)
>>> table = sorted(x.assignment())[0]
>>> step = x.move(table, "by hand")
>>> x.assignment()[table], x.undo().label == step.label, x.assignment()[table] != "by hand"
('by hand', True, True)
"""

from __future__ import annotations

import math
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import networkx as nx

from workbench.decompose import metrics as m
from workbench.decompose import signals as sig
from workbench.decompose.graph import Weights, build_graph, describe_edge
from workbench.decompose.model import Decomposition, Service, TableNote, load_decomposition, save_decomposition
from workbench.errors import NotFoundError, WorkbenchError
from workbench.names import check_service_name
from workbench.schema import Schema
from workbench.workload.model import Workload

Action = Literal["move", "merge", "split", "rename"]

METRICS: dict[str, str] = {
    "services": "services",
    "modularity": "modularity (all signals)",
    "modularity_fk": "modularity (foreign keys)",
    "structural_modularity": "structural modularity",
    "cross_service_fks": "cross-service FKs",
    "cross_service_fks_to_replicas": "of which to replicas",
    "cross_service_implied_fks": "cross-service implied FKs",
    "cross_weight_share": "cross-service edge weight share",
    "workload.distributed_tx_share": "distributed transactions",
    "workload.distributed_write_share": "distributed writes (sagas)",
    "workload.cross_join_share": "cross-service joins",
    "workload.cross_write_statement_share": "cross-service write statements",
    "truth.ari": "ARI (answer key)",
    "truth.nmi": "NMI (answer key)",
    "truth.mojofm": "MoJoFM (answer key)",
}
"""The metrics the explorer keeps current after every step, keyed as in :func:`scoring.score`
(dotted for nested ones), with their labels. Workload and answer-key metrics appear only when the
explorer has a workload / an answer key."""

BETTER: dict[str, int] = {"modularity": 1, "modularity_fk": 1, "structural_modularity": 1, "cross_service_fks": -1,
                          "cross_service_fks_to_replicas": 0, "cross_service_implied_fks": -1,
                          "cross_weight_share": -1, "workload.distributed_tx_share": -1,
                          "workload.distributed_write_share": -1, "workload.cross_join_share": -1,
                          "workload.cross_write_statement_share": -1, "truth.ari": 1, "truth.nmi": 1,
                          "truth.mojofm": 1, "services": 0}
"""+1: higher is better, -1: lower is better, 0: neither (for colouring a change)."""

ALONE = "(alone) "
"""Prefix of the label score() gives a table no service holds; not allowed in a service name."""


@dataclass(frozen=True)
class Move:
    """One table changing service; ``source`` None: it was in no service (unassigned)."""

    table: str
    source: str | None
    target: str


@dataclass(frozen=True)
class Step:
    """One undoable edit: what the architect asked for, the table moves it made, a rename."""

    action: Action
    label: str
    moves: tuple[Move, ...] = ()
    renamed: tuple[str, str] | None = None


@dataclass(frozen=True)
class Tie:
    """One edge of a table: the evidence tying it to ``table`` (in ``service``).

    ``signals`` holds each signal's raw strength (0 when absent), ``keys`` the declared or implied
    key columns behind it (``orders.customer_id -> customers``), ``evidence`` the same in words.
    """

    table: str
    service: str | None
    weight: float
    signals: dict[str, float]
    keys: tuple[str, ...]
    evidence: str


@dataclass(frozen=True)
class TableInsight:
    """Why a table is where it is, on the current state.

    ``pull``: summed edge weight towards each service, strongest first (its own service always
    listed); ``confidence``, ``role`` and ``reason`` are the decomposition's, until the table is
    moved by hand (then ``role`` is ``pinned`` and ``confidence`` None).
    """

    table: str
    service: str | None
    original: str | None
    role: str
    confidence: float | None
    reason: str | None
    pull: dict[str, float]
    ties: list[Tie]
    rows: int | None


@dataclass(frozen=True)
class MemberFit:
    """How much at home a table is in its service: its pull inside, and the strongest pull outside."""

    table: str
    inside: float
    best_other: str | None
    outside: float


@dataclass(frozen=True)
class ServiceInsight:
    """A service on the current state: its tables (least at home first), and its ties to other services."""

    name: str
    kind: str
    context: str | None
    tables: list[str]
    rows: int
    internal_weight: float
    ties: dict[str, float]
    members: list[MemberFit]


@dataclass
class _Partition:
    """Group ids of every base table: services and tables alone (unassigned, excluded)."""

    group: dict[str, int] = field(default_factory=dict)
    members: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))


class _Modularity:
    """Newman modularity of a graph under the partition, kept as per-group sums.

    Q = sum_c L_c / m - (D_c / 2m)^2 with L_c the weight inside group c and D_c its degree sum
    (networkx's definition at resolution 1); a move of t from A to B changes L_A, L_B by t's
    weight towards A and B, and D_A, D_B by t's degree.
    """

    def __init__(self, g: nx.Graph, group: Mapping[str, int], weight: str | None) -> None:
        self.adj: dict[str, list[tuple[str, float]]] = defaultdict(list)
        self.m = 0.0
        self.degree: dict[str, float] = defaultdict(float)
        for a, b, d in g.edges(data=True):
            w = float(d.get(weight, 1.0)) if weight else 1.0
            self.m += w
            self.adj[a].append((b, w))
            if a != b:
                self.adj[b].append((a, w))
            self.degree[a] += w
            self.degree[b] += w
        self.inside: dict[int, float] = defaultdict(float)
        self.total: dict[int, float] = defaultdict(float)
        for a, b, d in g.edges(data=True):
            if group[a] == group[b]:
                self.inside[group[a]] += float(d.get(weight, 1.0)) if weight else 1.0
        for n in g:
            self.total[group[n]] += self.degree[n]
        self.inside_sum = sum(self.inside.values())
        self.square_sum = sum(v * v for v in self.total.values())

    def move(self, table: str, old: int, new: int, group: Mapping[str, int]) -> None:
        """Update for ``table`` leaving ``old`` for ``new`` (``group`` still says ``old``)."""
        if table not in self.degree and table not in self.adj:
            return
        to_old = sum(w for x, w in self.adj[table] if x != table and group[x] == old)
        to_new = sum(w for x, w in self.adj[table] if x != table and group[x] == new)
        loop = sum(w for x, w in self.adj[table] if x == table)
        self.inside[old] -= to_old + loop
        self.inside[new] += to_new + loop
        self.inside_sum += to_new - to_old
        k = self.degree[table]
        self.square_sum -= self.total[old] ** 2 + self.total[new] ** 2
        self.total[old] -= k
        self.total[new] += k
        self.square_sum += self.total[old] ** 2 + self.total[new] ** 2

    @property
    def value(self) -> float | None:
        if self.m == 0:
            return None
        return self.inside_sum / self.m - self.square_sum / (4 * self.m * self.m)

    @property
    def cross_share(self) -> float | None:
        return (self.m - self.inside_sum) / self.m if self.m else None


class _Items:
    """Items (keys, transactions, templates) whose contribution depends on the tables they touch.

    ``value(i)`` gives item i's contribution as a tuple of numbers under the current partition;
    the totals are kept by subtracting an affected item's old contribution and adding its new one.
    """

    def __init__(self, count: int, tables_of: Callable[[int], Iterable[str]], value: Callable[[int], tuple[float, ...]],
                 width: int) -> None:
        self.value = value
        self.index: dict[str, list[int]] = defaultdict(list)
        for i in range(count):
            for t in set(tables_of(i)):
                self.index[t].append(i)
        self.totals = [0.0] * width
        for i in range(count):
            self._add(value(i), 1)
        self._pending: list[tuple[int, tuple[float, ...]]] = []

    def _add(self, values: tuple[float, ...], sign: int) -> None:
        for k, v in enumerate(values):
            self.totals[k] += sign * v

    def before(self, table: str) -> None:
        self._pending = [(i, self.value(i)) for i in self.index.get(table, ())]

    def after(self) -> None:
        for i, old in self._pending:
            self._add(old, -1)
            self._add(self.value(i), 1)
        self._pending = []


class Explorer:
    """A decomposition being edited by hand, with its metrics kept current.

    Parameters
    ----------
    decomposition : the starting point (generated or hand-edited ``decomposition.yaml``).
    schema : the schema it decomposes (``schema.json``).
    workload : the workload (``workload.json``), for the workload metrics and signals.
    truth : an answer key (table -> domain), for ARI, NMI and MoJoFM.
    weights : signal weights of the table graph (default: those the decomposition was made with).
    graph : the table graph, if already built with those weights.
    seed : for the automatic split.

    Raises
    ------
    NotFoundError
        When the decomposition places a table the schema lacks.
    """

    def __init__(self, decomposition: Decomposition, schema: Schema, workload: Workload | None = None,
                 truth: Mapping[str, str] | None = None, weights: Weights | Mapping[str, float] | None = None,
                 graph: nx.Graph | None = None, seed: int = 0) -> None:
        if weights is None:
            stored = decomposition.parameters.get("weights")
            weights = Weights.from_mapping(dict(stored)) if isinstance(stored, dict) else Weights()
        self.weights = weights if isinstance(weights, Weights) else Weights.from_mapping(dict(weights))
        self.original = decomposition
        self.schema = schema
        self.workload = workload
        self.truth = dict(truth) if truth else None
        self.seed = seed
        keys = [t.key for t in schema.base_tables]
        placed = decomposition.assignment()
        unknown = sorted(set(placed) - set(keys))
        if unknown:
            raise NotFoundError(f"the decomposition places table {unknown[0]!r}, which is not in the schema"
                                + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))
        self.excluded = set(decomposition.excluded)
        self.graph = graph if graph is not None else build_graph(schema, workload, self.weights, exclude=self.excluded)
        self.considered = {k for k in keys if k not in self.excluded}
        self._rows = {t.key: t.row_count for t in schema.base_tables}

        # services: metadata survives a service emptied by a move, so undo restores kind/context/replicas
        self._meta: dict[str, Service] = {n: s for n, s in decomposition.services.items()}
        self._order: list[str] = list(decomposition.services)
        self._gid: dict[str, int] = {}
        self._name: dict[int, str] = {}
        self.part = _Partition()
        self._alone = {t: -1 - i for i, t in enumerate(sorted(keys))}  # a group of its own per table
        for name, svc in decomposition.services.items():
            gid = self._new_group(name)
            for t in svc.tables:
                self._place(t, gid)
        for t in keys:
            if t not in self.part.group:
                self._place(t, self._alone[t])
        self._home = {t: placed.get(t) for t in keys}
        self._home_group = dict(self.part.group)
        self._original_group = dict(self._gid)
        self._replicated = {t for s in decomposition.services.values() for t in s.replicated}
        self._build_trackers()
        self.steps: list[Step] = []
        self.redo_steps: list[Step] = []
        self.start = self.metrics()
        self.previous = dict(self.start)

    # ----------------------------------------------------------------------------------- set-up

    def _new_group(self, name: str) -> int:
        gid = len(self._name) + 1
        self._gid[name] = gid
        self._name[gid] = name
        return gid

    def _place(self, table: str, gid: int) -> None:
        self.part.group[table] = gid
        self.part.members[gid].add(table)

    def _build_trackers(self) -> None:
        group = self.part.group
        self._mod = _Modularity(self.graph, group, "weight")
        fk_only = build_graph(self.schema, None, Weights(implied_fk=0, name=0, hub_damping=0), exclude=self.excluded)
        self._mod_fk = _Modularity(fk_only, group, None)

        # declared keys (one per constraint, self-references left out), as cross_service_fks counts them
        fks: list[tuple[str, str]] = [(t.key, fk.referred_key) for t in self.schema.base_tables
                                      for fk in t.foreign_keys if fk.referred_key != t.key]
        replicated = self._replicated

        def fk_value(i: int) -> tuple[float, ...]:
            c, p = fks[i]
            cross = group.get(c, c) != group.get(p, p)  # a key to a table outside the schema crosses
            return (1.0 if cross else 0.0, 1.0 if cross and p in replicated else 0.0)

        self._fks = _Items(len(fks), lambda i: fks[i], fk_value, 2)
        implied = [(c, p) for c, p, _ in sig.implied_references(self.schema)]

        def implied_value(i: int) -> tuple[float, ...]:
            c, p = implied[i]
            return (1.0 if group.get(c, c) != group.get(p, p) else 0.0,)

        self._implied = _Items(len(implied), lambda i: implied[i], implied_value, 1)
        self._n_fks = len(fks)

        # structural modularity: members per group and key edges inside/between groups
        self._sm_edges = sorted(set(sig.fk_edges(self.schema)) | set(sig.implied_fk_edges(self.schema)))
        self._sm_index: dict[str, list[int]] = defaultdict(list)
        for i, (a, b) in enumerate(self._sm_edges):
            self._sm_index[a].append(i)
            self._sm_index[b].append(i)
        self._sm_inside: Counter[int] = Counter()
        self._sm_between: Counter[tuple[int, int]] = Counter()
        for a, b in self._sm_edges:
            self._sm_count(a, b, 1)

        # workload: per transaction and per template, score()'s definitions
        known = self.considered
        wl = self.workload
        txs = [(sorted({*tx.tables_read, *tx.tables_written} & known), sorted(set(tx.tables_written) & known),
                float(tx.count)) for tx in (wl.transactions if wl else [])]

        def tx_value(i: int) -> tuple[float, ...]:
            touched, written, count = txs[i]
            if len({group[t] for t in touched}) <= 1:
                return (0.0, 0.0, 0.0)
            multi = len({group[t] for t in written}) > 1
            return (count, count if multi else 0.0, 0.0 if multi else count)

        self._txs = _Items(len(txs), lambda i: txs[i][0], tx_value, 3)
        self._tx_total = sum(c for *_, c in txs)
        tpls = [(sorted({*t.tables_read, *t.tables_written} & known),
                 [(a, b) for a, b in t.joins if a in known and b in known], bool(t.joins), bool(t.tables_written),
                 float(t.calls)) for t in (wl.templates if wl else [])]

        def tpl_value(i: int) -> tuple[float, ...]:
            touched, joins, joined, writes, calls = tpls[i]
            cross_join = calls if joined and any(group[a] != group[b] for a, b in joins) else 0.0
            multi = len({group[t] for t in touched}) > 1
            return (cross_join, calls if writes and multi else 0.0, calls if not writes and touched and multi else 0.0)

        self._tpls = _Items(len(tpls), lambda i: tpls[i][0], tpl_value, 3)
        self._joins = sum(c for _, _, joined, _, c in tpls if joined)
        self._writes = sum(c for _, _, _, writes, c in tpls if writes)
        self._reads = sum(c for touched, _, _, writes, c in tpls if not writes and touched)

        # answer key: contingency of (group, domain) over the tables both place
        self._known = {t: d for t, d in (self.truth or {}).items() if t in known}
        self._cells: Counter[tuple[int, str]] = Counter((group[t], d) for t, d in self._known.items())
        self._rowsum: Counter[int] = Counter(group[t] for t in self._known)
        self._colsum: Counter[str] = Counter(self._known.values())

    def _sm_count(self, a: str, b: str, sign: int) -> None:
        ga, gb = self.part.group[a], self.part.group[b]
        if ga == gb:
            self._sm_inside[ga] += sign
        else:
            self._sm_between[(min(ga, gb), max(ga, gb))] += sign

    # ----------------------------------------------------------------------------------- moving

    def _relocate(self, table: str, gid: int) -> None:
        """Move one table to group ``gid``, updating every tracker from that table's items alone."""
        group = self.part.group
        old = group[table]
        if old == gid:
            return
        trackers = (self._fks, self._implied, self._txs, self._tpls)
        for tracker in trackers:
            tracker.before(table)
        for i in self._sm_index.get(table, ()):
            self._sm_count(*self._sm_edges[i], -1)
        self._mod.move(table, old, gid, group)
        self._mod_fk.move(table, old, gid, group)
        domain = self._known.get(table)
        if domain is not None:
            self._cells[(old, domain)] -= 1
            self._cells[(gid, domain)] += 1
            self._rowsum[old] -= 1
            self._rowsum[gid] += 1
        self.part.members[old].discard(table)
        self.part.members[gid].add(table)
        group[table] = gid
        for i in self._sm_index.get(table, ()):
            self._sm_count(*self._sm_edges[i], 1)
        for tracker in trackers:
            tracker.after()

    def _apply(self, moves: Sequence[Move]) -> None:
        for mv in moves:
            if mv.target not in self._gid:
                self._new_group(mv.target)
                self._order.append(mv.target)
            self._relocate(mv.table, self._gid[mv.target])

    def _unapply(self, moves: Sequence[Move]) -> None:
        for mv in reversed(moves):
            if mv.source is None:
                self._relocate(mv.table, self._alone[mv.table])
            else:
                if mv.source not in self._gid:
                    self._new_group(mv.source)
                    self._order.append(mv.source)
                self._relocate(mv.table, self._gid[mv.source])

    def _do(self, step: Step) -> Step:
        self.previous = self.metrics()
        if step.renamed:
            self._rename(*step.renamed)
        self._apply(step.moves)
        self.steps.append(step)
        return step

    def _check_tables(self, tables: Iterable[str]) -> list[str]:
        out = []
        for t in tables:
            if t in self.excluded:
                raise WorkbenchError(f"table {t!r} is excluded from the decomposition: it cannot be moved")
            if t not in self.part.group:
                raise NotFoundError(f"table {t!r} is not in the schema")
            if t not in out:
                out.append(t)
        if not out:
            raise WorkbenchError("no table given to move")
        return out

    @staticmethod
    def _check_name(name: str) -> str:
        name = str(name).strip()
        if not name:
            raise WorkbenchError("a service needs a name")
        if name.startswith(ALONE):
            raise WorkbenchError(f"a service name cannot start with {ALONE.strip()!r}")
        return check_service_name(name, "explorer")

    def move(self, tables: str | Iterable[str], service: str) -> Step:
        """Move a table (or several) into ``service``, created when new; services left empty go.

        Raises
        ------
        NotFoundError, WorkbenchError
            For a table the schema lacks or the decomposition excludes, an empty service name, or
            a move that would change nothing.
        """
        names = self._check_tables([tables] if isinstance(tables, str) else tables)
        service = self._check_name(service)
        moves = tuple(Move(t, self.service_of(t), service) for t in names if self.service_of(t) != service)
        if not moves:
            raise WorkbenchError(f"nothing to move: {', '.join(names)} already in {service}")
        what = moves[0].table if len(moves) == 1 else f"{len(moves)} tables"
        self.redo_steps.clear()
        return self._do(Step("move", f"move {what} to {service}", moves))

    def merge(self, source: str, into: str) -> Step:
        """Move every table of service ``source`` into ``into`` (an existing or a new service)."""
        self._require(source)
        into = self._check_name(into)
        if into == source:
            raise WorkbenchError(f"cannot merge {source} into itself")
        moves = tuple(Move(t, source, into) for t in self.tables_of(source))
        self.redo_steps.clear()
        return self._do(Step("merge", f"merge {source} into {into}", moves))

    def split(self, service: str, tables: Iterable[str] | None = None, name: str | None = None) -> Step:
        """Split ``service``: ``tables`` (default: the lighter half of a Kernighan-Lin bisection of its
        own table graph, seeded) move to a new service ``name`` (default ``<service>_2``, numbered on)."""
        members = self._require(service)
        if len(members) < 2:
            raise WorkbenchError(f"service {service} has one table: nothing to split")
        if tables is None:
            part = self._bisect(members)
        else:
            part = self._check_tables(tables)
            stray = sorted(set(part) - set(members))
            if stray:
                raise WorkbenchError(f"table {stray[0]!r} is not in service {service}")
            if len(part) == len(members):
                raise WorkbenchError(f"splitting off every table of {service} is a rename")
        new = self._check_name(name) if name else self._fresh(f"{service}_2")
        if new in self.services():
            raise WorkbenchError(f"service {new} exists: split into a new service (or move the tables there)")
        moves = tuple(Move(t, service, new) for t in sorted(part))
        self.redo_steps.clear()
        return self._do(Step("split", f"split {len(moves)} tables of {service} off into {new}", moves))

    def _bisect(self, members: list[str]) -> list[str]:
        sub = self.graph.subgraph(members).copy()
        sub.add_nodes_from(members)
        one, other = nx.community.kernighan_lin_bisection(sub, weight="weight", seed=self.seed)
        a, b = sorted(one), sorted(other)
        return a if (len(a), a) < (len(b), b) else b

    def _fresh(self, base: str) -> str:
        name, n = base, 2
        while name in self._gid and self.part.members[self._gid[name]]:
            n += 1
            name = f"{base.rsplit('_', 1)[0]}_{n}"
        return name

    def rename(self, old: str, new: str) -> Step:
        """Call service ``old`` ``new`` (a name not in use)."""
        self._require(old)
        new = self._check_name(new)
        if new in self.services():
            raise WorkbenchError(f"cannot rename {old} to {new}: a service of that name exists")
        if new in self._gid:  # emptied by an earlier step, which undo would fill again
            raise WorkbenchError(f"cannot rename {old} to {new}: an earlier step emptied a service of that name "
                                 "(undo may bring it back); choose another name")
        self.redo_steps.clear()
        return self._do(Step("rename", f"rename {old} to {new}", (), (old, new)))

    def _rename(self, old: str, new: str) -> None:
        gid = self._gid.pop(old)
        self._gid[new] = gid
        self._name[gid] = new
        self._order = [new if n == old else n for n in self._order]
        self._meta[new] = self._meta.pop(old, Service())

    def undo(self) -> Step:
        """Take back the last step; :class:`WorkbenchError` when there is none."""
        if not self.steps:
            raise WorkbenchError("nothing to undo")
        self.previous = self.metrics()
        step = self.steps.pop()
        self._unapply(step.moves)
        if step.renamed:
            self._rename(step.renamed[1], step.renamed[0])
        self.redo_steps.append(step)
        return step

    def redo(self) -> Step:
        """Apply again the last step taken back."""
        if not self.redo_steps:
            raise WorkbenchError("nothing to redo")
        return self._do(self.redo_steps.pop())

    def _require(self, service: str) -> list[str]:
        if service not in self.services():
            raise NotFoundError(f"service not found: {service}")
        return self.tables_of(service)

    # ---------------------------------------------------------------------------------- reading

    def services(self) -> list[str]:
        """Service names in order (the decomposition's, then new ones as created), empty ones left out."""
        return [n for n in self._order if n in self._gid and self.part.members[self._gid[n]]]

    def tables_of(self, service: str) -> list[str]:
        gid = self._gid.get(service)
        return sorted(self.part.members[gid]) if gid is not None else []

    def service_of(self, table: str) -> str | None:
        """The table's service, None when no service holds it."""
        if table not in self.part.group:
            raise NotFoundError(f"table {table!r} is not in the schema")
        return self._name.get(self.part.group[table])

    def assignment(self) -> dict[str, str]:
        """table -> service, for every table in a service."""
        return {t: self._name[g] for t, g in sorted(self.part.group.items()) if g in self._name}

    def tables(self) -> list[str]:
        """Every table that can be moved (the schema's base tables less the excluded), sorted."""
        return sorted(self.considered)

    def metrics(self) -> dict[str, Any]:
        """The current value of each of :data:`METRICS` (rounded as score() rounds)."""
        sizes = sorted((len(self.part.members[self._gid[n]]) for n in self.services()), reverse=True)
        out: dict[str, Any] = {
            "services": len(sizes),
            "modularity": self._mod.value,
            "modularity_fk": self._mod_fk.value,
            "structural_modularity": self._structural(),
            "cross_service_fks": int(self._fks.totals[0]),
            "cross_service_fks_to_replicas": int(self._fks.totals[1]),
            "cross_service_implied_fks": int(self._implied.totals[0]),
            "cross_weight_share": self._mod.cross_share,
        }
        if self.workload is not None:
            dist, dist_w, _ = self._txs.totals
            cross_joins, cross_writes, _ = self._tpls.totals
            out["workload.distributed_tx_share"] = _share(dist, self._tx_total)
            out["workload.distributed_write_share"] = _share(dist_w, self._tx_total)
            out["workload.cross_join_share"] = _share(cross_joins, self._joins)
            out["workload.cross_write_statement_share"] = _share(cross_writes, self._writes)
        if self._known:
            out["truth.ari"] = self._ari()
            out["truth.nmi"] = self._nmi()
            out["truth.mojofm"] = m.mojofm(self._labels(self._known), self._known)
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}

    def _labels(self, tables: Iterable[str]) -> dict[str, str]:
        return {t: self._name.get(self.part.group[t], ALONE + t) for t in tables}

    def _structural(self) -> float | None:
        if not self._sm_edges:
            return None
        members = {g: len(ts) for g, ts in self.part.members.items() if ts}
        k = len(members)
        cohesion = sum(self._sm_inside[g] / n ** 2 for g, n in members.items()) / k
        if k == 1:
            return cohesion
        coupling = sum(v / (2 * members[a] * members[b]) for (a, b), v in self._sm_between.items() if v)
        return cohesion - coupling / (k * (k - 1) / 2)

    def _ari(self) -> float:
        n = float(len(self._known))
        index = sum(_comb2(v) for v in self._cells.values())
        rows = sum(_comb2(v) for v in self._rowsum.values())
        cols = sum(_comb2(v) for v in self._colsum.values())
        expected = rows * cols / _comb2(n) if n > 1 else 0.0
        maximum = (rows + cols) / 2.0
        if math.isclose(maximum, expected):
            return 1.0
        return (index - expected) / (maximum - expected)

    def _nmi(self) -> float:
        n = float(len(self._known))

        def xlogx(values: Iterable[int]) -> float:
            return sum(v * math.log(v) for v in values if v > 0)

        ha = math.log(n) - xlogx(self._rowsum.values()) / n
        hb = math.log(n) - xlogx(self._colsum.values()) / n
        if abs(ha) < 1e-12 and abs(hb) < 1e-12:
            return 1.0
        mi = xlogx(self._cells.values()) / n - xlogx(self._rowsum.values()) / n - xlogx(self._colsum.values()) / n \
            + math.log(n)
        return max(0.0, mi / ((ha + hb) / 2.0))

    def changes(self) -> list[dict[str, Any]]:
        """Per metric: its label, the value at the start, before the last step, now, and the change
        the last step made (None where a value is missing), in :data:`METRICS` order."""
        now = self.metrics()
        rows = []
        for key, label in METRICS.items():
            if key not in now:
                continue
            before, value = self.previous.get(key), now[key]
            change = round(value - before, 4) if isinstance(value, int | float) and isinstance(
                before, int | float) else None
            rows.append({"metric": key, "label": label, "start": self.start.get(key), "before": before, "now": value,
                         "change": change, "better": BETTER.get(key, 0)})
        return rows

    def scores(self) -> dict[str, Any]:
        """Every metric of :func:`scoring.score` on the current state (the slow, complete check)."""
        from workbench.decompose.scoring import score

        return score(self.to_decomposition(), self.schema, self.workload, self._known or None, self.weights,
                     graph=self.graph)

    # ---------------------------------------------------------------------------------- insight

    def _keys_between(self) -> dict[tuple[str, str], list[str]]:
        if not hasattr(self, "_key_text"):
            text: dict[tuple[str, str], list[str]] = defaultdict(list)
            for t in self.schema.base_tables:
                for fk in t.foreign_keys:
                    if fk.referred_key != t.key:
                        text[sig.pair(t.key, fk.referred_key)].append(
                            f"{t.key}.{', '.join(fk.columns)} -> {fk.referred_key}")
            for c, p, col in sig.implied_references(self.schema):
                text[sig.pair(c, p)].append(f"{c}.{col} -> {p} (implied)")
            self._key_text = dict(text)
        return self._key_text

    def pull(self, table: str) -> dict[str, float]:
        """Summed edge weight from ``table`` towards each service, strongest first (ties by name);
        its own service is always listed."""
        own = self.service_of(table)
        totals: dict[str, float] = {own: 0.0} if own else {}
        if table in self.graph:
            for x, d in self.graph[table].items():
                s = self.service_of(x)
                if s is not None and x != table:
                    totals[s] = totals.get(s, 0.0) + float(d["weight"])
        return {s: round(v, 3) for s, v in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))}

    def table(self, table: str) -> TableInsight:
        """The table's service, pull, confidence, role, reason and every tie with its evidence."""
        service = self.service_of(table)
        original = self._home.get(table)
        note = self.original.tables.get(table) or TableNote()
        moved = self.part.group[table] != self._home_group[table]
        keys = self._keys_between()
        ties = []
        if table in self.graph:
            for x, d in self.graph[table].items():
                ties.append(Tie(x, self.service_of(x), round(float(d["weight"]), 3),
                                {s: round(float(d.get(s, 0.0)), 3) for s in sig.SIGNALS},
                                tuple(keys.get(sig.pair(table, x), ())), describe_edge(d)))
        ties.sort(key=lambda t: (-t.weight, t.table))
        return TableInsight(table, service, original, "pinned" if moved else note.role,
                            None if moved else note.confidence,
                            f"moved to {service} by hand (was {original or 'unassigned'})" if moved else
                            (note.reason or self.original.unassigned.get(table)),
                            self.pull(table), ties, self._rows.get(table))

    def service(self, name: str) -> ServiceInsight:
        """A service's tables (least at home first), rows, and its ties to other services."""
        members = self._require(name)
        meta = self._meta.get(name, Service())
        inside = 0.0
        ties: dict[str, float] = defaultdict(float)
        fits = []
        for t in members:
            p = self.pull(t)
            own = p.get(name, 0.0)
            others = [(s, v) for s, v in p.items() if s != name]
            fits.append(MemberFit(t, own, others[0][0] if others else None, others[0][1] if others else 0.0))
            inside += own / 2
            for s, v in others:
                ties[s] += v
        fits.sort(key=lambda f: (f.inside - f.outside, f.table))
        return ServiceInsight(name, meta.kind, meta.context, members,
                              sum(self._rows.get(t) or 0 for t in members), round(inside, 3),
                              {s: round(v, 3) for s, v in sorted(ties.items(), key=lambda kv: (-kv[1], kv[0]))}, fits)

    # ----------------------------------------------------------------------------------- saving

    def to_decomposition(self) -> Decomposition:
        """The current state as a :class:`Decomposition`: services in order with their kind and
        context kept (a new service has none; a context named after a renamed service follows the
        rename, as :meth:`Decomposition.rename` does), replicated tables following the table, tables
        moved by hand noted as ``pinned``, the steps listed under ``parameters["edits"]``."""
        placed = self.assignment()
        renamed = {old: self._name[gid] for old, gid in self._original_group.items()}
        services: dict[str, Service] = {}
        for name in self.services():
            meta = self._meta.get(name) or Service()
            tables = self.tables_of(name)
            services[name] = replace(meta, tables=tables, replicated=sorted(set(tables) & self._replicated))
            if meta.context in renamed:  # a context is named after its largest service: renamed with it
                services[name] = replace(services[name], context=renamed[meta.context])
        notes: dict[str, TableNote] = {}
        for t, note in self.original.tables.items():
            notes[t] = replace(note, pull={renamed.get(k, k): v for k, v in note.pull.items()})
        moved = set()
        for t, s in placed.items():
            if self._home_group[t] != self.part.group[t]:
                moved.add(t)
                notes[t] = TableNote(confidence=None, role="pinned",
                                     reason=f"moved to {s} by hand (was {self._home.get(t) or 'unassigned'})")
        unassigned = {t: why for t, why in self.original.unassigned.items() if t not in placed}
        parameters = dict(self.original.parameters)
        if self.steps:
            parameters["edits"] = [s.label for s in self.steps]
        return Decomposition(services, dict(sorted(notes.items())), unassigned, list(self.original.excluded),
                             [t for t in self.original.ambiguous if t not in moved], self.original.method, parameters)

    def save(self, path: str | Path) -> Path:
        """Write the current state as ``decomposition.yaml`` (or .json), replacing the file only once
        the new one is complete: a failure leaves the previous file as it was."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix or ".yaml", dir=path.parent)
        os.close(fd)
        try:
            save_decomposition(self.to_decomposition(), tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    # ------------------------------------------------------------------------------- factories

    @classmethod
    def from_folder(cls, folder: str | Path, decomposition: str | Path | None = None,
                    truth: str | Path | None = None) -> Explorer:
        """An explorer on a stage folder: its ``schema.json``, ``workload.json`` (if any) and
        ``decomposition.yaml`` (or ``decomposition``), with the answer key CSV ``truth`` if given."""
        from workbench import serde

        folder = Path(folder)
        schema = serde.load(Schema, folder / "schema.json")
        workload = serde.load(Workload, folder / "workload.json") if (folder / "workload.json").exists() else None
        d = load_decomposition(decomposition or folder / "decomposition.yaml")
        return cls(d, schema, workload, m.load_truth(truth) if truth else None)


def _share(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def _comb2(x: float) -> float:
    return x * (x - 1) / 2.0


__all__ = ["METRICS", "Explorer", "MemberFit", "Move", "ServiceInsight", "Step", "TableInsight", "Tie"]
