"""From schema (and workload) to candidate services: the Decompose stage as a sequence of named phases.

Each phase reads and extends one :class:`State`:

1. :func:`prepare`: check the options and constraints, build the weighted table graph;
2. :func:`find_roles`: reference data, cross-cutting tables and hubs (tables that glue domains);
3. :func:`set_aside`: take cross-cutting tables (and reference data) out, damp hubs, find the
   tables with no edge left;
4. :func:`cluster`: cluster the rest under the architect's constraints (the most modular of
   several seeds);
5. :func:`absorb_into_kernel`: clusters that lean on the schema's central cluster join it;
6. :func:`place_unclustered`: tables with no edge go where their only ties lead, else where their
   names point, else stay unassigned with why;
7. :func:`fit_count`: exactly the asked number of clustered services, when one was asked;
8. :func:`name`: a name per service a person recognises;
9. :func:`measure_confidence`: how often each table lands with its service over seeds and resolutions;
10. :func:`place_shared`: reference data to a replicated reference-data service (or its owner),
    cross-cutting tables to a platform service, satellites after them, hubs explained;
11. :func:`group_contexts`: bounded contexts, a few services each, the coarser level;
12. :func:`explain`: a reason for every table, ambiguous tables listed;
13. :func:`assemble`: the :class:`~workbench.decompose.model.Decomposition`.

The signals behind the graph, the granularity and the kernel were chosen on four real application
schemas with known ownership, never on names or tables of theirs (``bench/decompose_real.py``).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
from tqdm.auto import tqdm

from workbench.decompose import signals as sig
from workbench.decompose.cluster import RESOLUTION_METHODS, SEEDED_METHODS
from workbench.decompose.cluster import cluster as run_method
from workbench.decompose.cluster.fit import bisect
from workbench.decompose.constraints import Constraints, contract, enforce, expand
from workbench.decompose.contexts import CONTEXT_RESOLUTION
from workbench.decompose.contexts import group_contexts as context_of
from workbench.decompose.graph import Weights, build_graph
from workbench.decompose.model import Decomposition, Service, TableNote
from workbench.decompose.naming import name_services
from workbench.decompose.options import DecomposeOptions
from workbench.decompose.placement import name_home, pull, ties
from workbench.decompose.roles import Role, detect_roles
from workbench.decompose.stability import confidence, stability_runs
from workbench.decompose.vocabulary import Vocabulary
from workbench.errors import EmptyDatabaseError, WorkbenchError
from workbench.schema import Schema
from workbench.workload.model import Workload

DEFAULT_RESOLUTION = 1.75
"""Resolution of the clustering unless one is given. With the leading-word signal and the kernel
phase reading granularity from the schema, one resolution serves schemas whose modules hold 3 to 24
tables (``bench/decompose_real.py``; the sweep shows the others)."""

BEST_OF = 10
"""Clusterings (consecutive seeds) run for the result; the one of highest modularity is kept, so
the cut does not hang on one seed's luck."""

KERNEL_SHARE = 0.15
"""A cluster sending at least this share of its key endpoints to the kernel joins it (see
:func:`absorb_into_kernel`)."""

PLATFORM = "platform"
"""Name of the service that takes cross-cutting tables."""

REFERENCE = "reference"
"""Name of the service that takes shared reference data (``reference="service"``)."""

HUB_DAMPING = 0.5
"""Hub edges are scaled by this while clustering, so a table half the schema points at cannot glue
the domains it serves into one; the hub itself still lands with the service it is most tied to."""

HUB_PAIR_DAMPING = 0.5
"""Edges between two hubs are scaled by this: two central tables tied to each other are most often
the roots of two aggregates referencing one another (an order and its customer)."""

OWNER_DAMPING = 0.1
"""With ``reference="owner"``, reference tables stay in the clustering with edges scaled by this:
they barely pull, so they cannot glue domains, yet their owner is found among their neighbours."""

PERTURBATION = 0.3
"""Spread (log-normal sigma) of the random factors applied to edge weights in the runs that test a
resolution: a cut the evidence supports survives a little noise in it; an arbitrary one moves."""


def perturbed(g: nx.Graph, sigma: float, seed: int) -> nx.Graph:
    """A copy of ``g`` (attributes kept) whose edge weights are multiplied by seeded log-normal noise."""
    rng = random.Random(seed)
    h = g.copy()
    for _, _, data in sorted(h.edges(data=True), key=lambda e: (e[0], e[1])):
        data["weight"] = data["weight"] * rng.lognormvariate(0.0, sigma)
    return h


def modularity_of(g: nx.Graph, resolution: float) -> Callable[[list[set[str]]], float]:
    """A function scoring partitions of ``g`` by Newman modularity at ``resolution`` (the edges read
    once, each partition scored in one pass: the best of several runs is picked on a large graph).

    >>> g = nx.barbell_graph(4, 0)
    >>> q = modularity_of(g, 1.0)([set(range(4)), set(range(4, 8))])
    >>> round(q, 6) == round(nx.community.modularity(g, [set(range(4)), set(range(4, 8))]), 6)
    True
    """
    edges = [(a, b, float(w)) for a, b, w in g.edges(data="weight", default=1.0)]
    degree: dict[Any, float] = defaultdict(float)
    for a, b, w in edges:
        degree[a] += w
        degree[b] += w
    m = sum(w for *_, w in edges)

    def score(parts: list[set[str]]) -> float:
        if m == 0:
            return 0.0
        where = {t: i for i, p in enumerate(parts) for t in p}
        inside: dict[int, float] = defaultdict(float)
        volume: dict[int, float] = defaultdict(float)
        for a, b, w in edges:
            if where.get(a) == where.get(b) and a in where:
                inside[where[a]] += w
        for t, d in degree.items():
            if t in where:
                volume[where[t]] += d
        return sum(inside.values()) / m - resolution * sum((v / (2 * m)) ** 2 for v in volume.values())

    return score


def partition(g: nx.Graph, constraints: Constraints, *, method: str, resolution: float, k: int | None,
              seed: int) -> list[set[str]]:
    """Cluster ``g`` under ``constraints``: contract keep-together groups, cluster, enforce the rest."""
    groups = constraints.groups(g.nodes)
    if groups:
        h, members = contract(g, groups)
    else:
        h, members = g, {n: {n} for n in g}
    parts = run_method(h, method, resolution=resolution, k=k, seed=seed)
    if constraints.pins or constraints.apart or constraints.min_size or constraints.max_size:
        parts = enforce(h, parts, members, constraints, bisect=lambda graph, part: bisect(graph, part, seed))
    return sorted(expand(parts, members), key=lambda s: (-len(s), min(s)))


@dataclass
class State:
    """What the phases hand each other: inputs, the graph, and the decomposition as it takes shape.

    ``parts`` are the clustered services (sets of tables) until :func:`name` turns them into
    ``where`` (table -> service); the set-aside tables join ``where`` in :func:`place_shared`.
    """

    schema: Schema
    workload: Workload | None
    options: DecomposeOptions
    constraints: Constraints
    weights: Weights
    graph: nx.Graph
    bar: Any = None
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    roles: dict[str, Role] = field(default_factory=dict)
    constrained: set[str] = field(default_factory=set)
    aside: set[str] = field(default_factory=set)
    active: nx.Graph = field(default_factory=nx.Graph)
    isolated: list[str] = field(default_factory=list)
    active_constraints: Constraints = field(default_factory=Constraints)
    parts: list[set[str]] = field(default_factory=list)
    resolution: float = DEFAULT_RESOLUTION
    placed: dict[str, TableNote] = field(default_factory=dict)
    absorbed: dict[str, tuple[str, float]] = field(default_factory=dict)
    kernel: str | None = None
    detached: list[str] = field(default_factory=list)
    fitted: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)
    clustered: dict[str, str] = field(default_factory=dict)
    conf: dict[str, float] = field(default_factory=dict)
    notes: dict[str, TableNote] = field(default_factory=dict)
    replicated: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unassigned: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    contexts: dict[str, str] = field(default_factory=dict)
    ambiguous: list[str] = field(default_factory=list)

    def run(self, s: int, res: float, k: int | None, noise: float = 0.0) -> list[set[str]]:
        """One clustering of the active graph (seed ``s``, resolution ``res``, ``k`` services, noise)."""
        graph = perturbed(self.active, noise, s) if noise > 0 else self.active
        return partition(graph, self.active_constraints, method=self.options.method, resolution=res, k=k, seed=s)

    def best(self, s: int, res: float, runs: int = BEST_OF) -> list[set[str]]:
        """The most modular of ``runs`` clusterings with seeds ``s``, ``s + 1``, ..."""
        found = [self.run(s + i, res, None) for i in range(runs if self.options.method in SEEDED_METHODS else 1)]
        if len(found) == 1:
            return found[0]
        quality = modularity_of(self.active, res)
        scores = [quality(p) for p in found]
        return found[max(range(len(found)), key=lambda i: (round(scores[i], 9), -i))]

    def tick(self) -> None:
        if self.bar is not None:
            self.bar.update()


def prepare(schema: Schema, workload: Workload | None, options: DecomposeOptions,
            graph: nx.Graph | None = None, progress: bool | None = None) -> State:
    """Phase 1: check the options against the schema and build (or take) the table graph."""
    options.check()
    constraints = options.constraints()
    keys = [t.key for t in schema.base_tables]
    if not keys:
        raise EmptyDatabaseError(f"no tables to decompose in {schema.database}")
    constraints.check(keys)
    clusterable = len(set(keys) - set(constraints.excluded))
    if options.services is not None and options.services > clusterable:
        raise WorkbenchError(f"cannot make {options.services} services out of {clusterable} tables")
    weights = options.weight_model()
    g = graph if graph is not None else build_graph(schema, workload, weights, exclude=constraints.excluded)
    bar = tqdm(total=3 + options.stability, desc="decompose", leave=False,
               disable=None if progress is None else not progress)
    constrained = set(constraints.pins) | {t for grp in constraints.together for t in grp} | \
        {t for p in constraints.apart for t in p}
    return State(schema, workload, options, constraints, weights, g, bar, Vocabulary.of(schema, list(g.nodes)),
                 constrained=constrained)


def find_roles(state: State) -> None:
    """Phase 2: tables that glue domains together, found from structure and usage (never names)."""
    if state.options.roles:
        state.roles = detect_roles(state.schema, state.graph, state.workload, seed=state.options.seed,
                                   keep=state.constrained)
    state.tick()


def set_aside(state: State) -> None:
    """Phase 3: the graph clustering sees: set-aside tables removed, hubs damped, edgeless tables out."""
    found = state.roles
    kinds = {"cross_cutting", "reference"} if state.options.reference == "service" else {"cross_cutting"}
    state.aside = {t for t, r in found.items() if r.kind in kinds}
    gc = state.graph.copy()
    gc.remove_nodes_from(state.aside)
    factor = {"hub": HUB_DAMPING, "reference": OWNER_DAMPING}
    for a, b, data in gc.edges(data=True):
        ends = [found[x].kind if x in found else None for x in (a, b)]
        if ends == ["hub", "hub"]:
            data["weight"] *= HUB_PAIR_DAMPING
        else:
            data["weight"] *= min(factor.get(k, 1.0) if k else 1.0 for k in ends)
    state.isolated = sorted(n for n in gc if gc.degree(n) == 0 and n not in state.constrained)
    state.active = gc.subgraph([n for n in gc if n not in state.isolated]).copy()
    state.active_constraints = replace(state.constraints,
                                       pins={t: s for t, s in state.constraints.pins.items() if t in state.active})


def cluster(state: State) -> None:
    """Phase 4: cluster the active graph, the most modular of several seeds."""
    opts = state.options
    state.resolution = opts.resolution if opts.resolution is not None else DEFAULT_RESOLUTION
    state.parts = state.best(opts.seed, state.resolution) if state.active.number_of_nodes() else []
    state.tick()


def absorb_into_kernel(state: State) -> None:
    """Phase 5: clusters leaning on the kernel join it.

    The kernel is the cluster holding the table the most tables refer to (a platform's ``user``, an
    ERP's ``company``). A cluster whose keys lead there for at least :data:`KERNEL_SHARE` of its key
    endpoints is one of the kernel's own parts, not a module of its own: on real schemas a core's
    pieces send a fifth to all of their references to its centre, while modules built on the core
    (plugins, add-ons) send a few keys there among many of their own. Absorption repeats, the most
    dependent cluster first, since the kernel grows; references count one way (a cluster the kernel
    refers to is not thereby part of it), each pair of tables once.
    """
    where = {t: i for i, part in enumerate(state.parts) for t in part}
    pairs = sorted({(t.key, f.referred_key) for t in state.schema.base_tables for f in t.foreign_keys
                    if t.key in where and f.referred_key in where and f.referred_key != t.key})
    if not pairs:
        return
    fan_in: dict[str, int] = defaultdict(int)
    for _, parent in pairs:
        fan_in[parent] += 1
    hub = min(fan_in, key=lambda t: (-fan_in[t], t))
    state.kernel = hub
    kernel = where[hub]
    while True:
        volume: dict[int, int] = defaultdict(int)
        toward: dict[int, int] = defaultdict(int)
        for child, parent in pairs:
            volume[where[child]] += 1
            volume[where[parent]] += 1
            if where[parent] == kernel and where[child] != kernel:
                toward[where[child]] += 1
        ranked = sorted(((toward[i] / volume[i], i) for i in toward
                         if _mergeable(state, state.parts[i], state.parts[kernel])), key=lambda x: (-x[0], x[1]))
        if not ranked or ranked[0][0] < KERNEL_SHARE:
            break
        share, i = ranked[0]
        for t in state.parts[i]:
            where[t] = kernel
            state.absorbed[t] = (hub, share)
        state.parts[kernel] |= state.parts[i]
        state.parts[i] = set()
    state.parts = sorted((p for p in state.parts if p), key=lambda p: (-len(p), min(p)))


def place_unclustered(state: State) -> None:
    """Phase 5: tables without edges: with the set-aside tables they alone are tied to, else with the
    service whose names share their rarest words, else unassigned with why."""
    g = state.graph
    aside_kind = {t: state.roles[t].kind for t in state.aside}
    by_part = {str(i): part for i, part in enumerate(state.parts)}
    for t in state.isolated:
        toward = pull(g, t, {x: aside_kind[x] for x in state.aside})
        if toward:
            state.placed[t] = TableNote(role="isolated", reason="@aside:" + next(iter(toward)))
            continue
        home = name_home(t, by_part, state.vocabulary)
        if home is not None:
            state.parts[int(home[0])].add(t)
            state.placed[t] = TableNote(role="isolated", reason=f"no keys, joins or transactions tie it to any "
                                                                f"table; named like its service (shares the "
                                                                f"word {home[1]!r})")
        elif state.options.services is not None or not state.parts:
            state.parts.append({t})  # asked for a count (or nothing else exists): a service of its own
            state.placed[t] = TableNote(role="isolated", reason="no keys, joins, transactions or shared name "
                                                                "words tie it to any table: a service of its own")
        else:
            state.unassigned[t] = ("no foreign keys (declared or implied), no shared statements or transactions, "
                                   "and no name word telling enough of one service")


def _mergeable(state: State, a: set[str], b: set[str]) -> bool:
    pins = {state.constraints.pins[t] for t in a | b if t in state.constraints.pins}
    if len(pins) > 1:
        return False
    return not any((x in a and y in b) or (x in b and y in a) for x, y in state.constraints.apart)


def fit_count(state: State) -> None:
    """Phase 7: exactly ``options.services`` clustered services, never against a pin or keep-apart pair.

    Too many: a service with no edge joins the kernel (or, without one, the service its names match),
    then the two services whose merge gains most modularity merge, the smaller into the larger.
    Too few: tables placed by name alone go back to services of their own, then the table, or the group
    of tables sharing a leading name word, least tied to its service (weighted by how much of the
    service stays) leaves it, until the count is met.
    """
    k = state.options.services
    if k is None:
        return
    parts = [set(p) for p in state.parts if p]
    g = state.graph.subgraph({t for p in parts for t in p})
    kernel = next((i for i, p in enumerate(parts) if state.kernel in p), None) if state.kernel else None
    while len(parts) > k:
        where = {t: i for i, p in enumerate(parts) for t in p}
        volume: dict[int, float] = defaultdict(float)
        between: dict[tuple[int, int], float] = defaultdict(float)
        for a, b, data in g.edges(data=True):
            w = float(data["weight"])
            i, j = where[a], where[b]
            volume[i] += w
            volume[j] += w
            if i != j:
                between[(min(i, j), max(i, j))] += w
        lonely = sorted((i for i in range(len(parts)) if volume[i] == 0), key=lambda i: (len(parts[i]), min(parts[i])))
        target: tuple[int, int] | None = None
        for i in lonely:
            into = kernel if kernel is not None and kernel != i and _mergeable(state, parts[i], parts[kernel]) \
                else _name_target(state, parts, i)
            if into is not None:
                target = (i, into)
                break
        if target is None:
            total = sum(volume.values()) or 1.0
            gains = sorted(((2 * w / total - 2 * volume[i] * volume[j] / total ** 2, i, j)
                            for (i, j), w in between.items() if _mergeable(state, parts[i], parts[j])),
                           key=lambda x: (-x[0], x[1], x[2]))
            if gains:
                _, i, j = gains[0]
                target = (i, j) if len(parts[i]) <= len(parts[j]) else (j, i)
            else:
                order = sorted(range(len(parts)), key=lambda i: (len(parts[i]), min(parts[i])))
                small = order[0]
                named = _name_target(state, parts, small)
                target = (small, named if named is not None else order[-1])
        i, j = target
        parts[j] |= parts[i]
        state.fitted.extend(sorted(parts[i]))
        kernel = kernel if kernel != i else j
        parts = [p for n, p in enumerate(parts) if n != i]
        if kernel is not None and kernel > i:
            kernel -= 1
    named_only = sorted(t for t, n in state.placed.items() if not (n.reason or "").startswith("@aside:"))
    for t in named_only:
        if len(parts) >= k:
            break
        home = next(p for p in parts if t in p)
        if len(home) > 1:
            home.discard(t)
            parts.append({t})
    while len(parts) < k:
        where = {t: i for i, p in enumerate(parts) for t in p}
        best: tuple[float, frozenset[str]] | None = None
        for home in parts:
            if len(home) < 2:
                continue
            groups: dict[str, set[str]] = defaultdict(set)  # the service's tables by leading name word
            for t in home:
                groups[(state.vocabulary.words(t) or (t,))[0]].add(t)
            candidates = [{t} for t in sorted(home)]
            if len(groups) > 1:
                candidates += [grp for grp in groups.values() if len(grp) > 1]
            for leaving in candidates:
                if leaving & set(state.constraints.pins):
                    continue
                total = sum(float(d["weight"]) for t in leaving if t in g for _, d in g[t].items())
                inside = sum(float(d["weight"]) for t in leaving if t in g for x, d in g[t].items()
                             if x in home and x not in leaving)
                cost = (len(home) - len(leaving)) * ((inside / total if total else 0.0) + 0.1)
                if best is None or (cost, sorted(leaving)) < (best[0], sorted(best[1])):
                    best = (cost, frozenset(leaving))
        if best is None:
            raise WorkbenchError(f"could not make exactly {k} services: the constraints allow {len(parts)}")
        leaving = set(best[1])
        parts[where[next(iter(leaving))]] -= leaving
        parts.append(leaving)
        state.detached.extend(sorted(leaving))
    state.parts = sorted(parts, key=lambda s: (-len(s), min(s)))


def _name_target(state: State, parts: list[set[str]], i: int) -> int | None:
    """The part whose table names the most tables of part ``i`` match (None: no name evidence)."""
    others = {str(j): p for j, p in enumerate(parts) if j != i and _mergeable(state, parts[i], p)}
    votes: dict[str, float] = defaultdict(float)
    for t in sorted(parts[i]):
        home = name_home(t, others, state.vocabulary)
        if home:
            votes[home[0]] += 1
    return int(max(votes, key=lambda j: (votes[j], -len(others[j]), j))) if votes else None


def name(state: State) -> None:
    """Phase 7: a distinct name per clustered service (pinned services keep their pinned name)."""
    fixed = {}
    for i, part in enumerate(state.parts):
        pinned = sorted({state.constraints.pins[t] for t in part if t in state.constraints.pins})
        if pinned:
            fixed[i] = pinned[0]
    state.names = name_services(state.graph, state.parts, fixed, reserved={REFERENCE, PLATFORM},
                                vocabulary=state.vocabulary)
    state.where = {t: state.names[i] for i, part in enumerate(state.parts) for t in part}
    state.clustered = {t: s for t, s in state.where.items() if t not in state.placed}


def measure_confidence(state: State) -> None:
    """Phase 8: the share of extra runs (seeds, nudged resolution or count) in which each table stays."""
    opts = state.options
    clustered_parts = [{t for t in p if t in state.clustered} for p in state.parts]
    clustered_parts = [p for p in clustered_parts if p]
    if opts.stability > 0 and state.active.number_of_nodes() > 0:
        def tick(s: int, res: float, k: int | None) -> list[set[str]]:
            out = state.run(s, res, k)
            state.tick()
            return out

        k = len(clustered_parts) if opts.services is not None else None
        runs = stability_runs(tick, runs=opts.stability, seed=opts.seed, resolution=state.resolution, k=k,
                              vary_resolution=opts.method in RESOLUTION_METHODS, progress=False)
        state.conf = confidence(clustered_parts, runs)


def place_shared(state: State) -> None:
    """Phase 9: reference data, cross-cutting tables, hubs' reasons, satellites, and the tables with no
    edge that only set-aside tables are tied to."""
    g, where, clustered, found = state.graph, state.where, state.clustered, state.roles
    for t, role in sorted(found.items()):
        if role.kind != "reference":
            continue
        readers = list(pull(g, t, clustered))
        if state.options.reference == "service" or t not in where:
            where[t] = REFERENCE
            state.kinds[REFERENCE] = "reference"
            state.replicated[REFERENCE].append(t)
            state.notes[t] = TableNote(role="reference", reason=f"{role.reason}; in the reference-data service"
                                       + (f", replicated read-only to {', '.join(readers[:8])}" if readers else ""))
            continue
        toward = pull(g, t, {x: s for x, s in clustered.items() if x != t and x not in found}) or \
            pull(g, t, clustered)
        if not toward:
            continue
        owner = next(iter(toward))
        where[t] = owner
        state.replicated[owner].append(t)
        others = [s for s in toward if s != owner]
        mates = [x for x, s in clustered.items() if s == owner and x != t]
        state.notes[t] = TableNote(confidence=round(toward[owner] / sum(toward.values()), 3), role="reference",
                                   reason=f"{role.reason}; owned by {owner} (strongest ties: "
                                          f"{ties(g, t, mates) or 'none'})"
                                          + (f"; replicate read-only to {', '.join(others[:8])}" if others else ""),
                                   pull={s: round(v, 3) for s, v in list(toward.items())[:4]})

    for t, role in sorted(found.items()):
        if role.kind == "cross_cutting":
            where[t] = PLATFORM
            state.kinds[PLATFORM] = "platform"
            state.notes[t] = TableNote(role="cross_cutting", reason=f"{role.reason}; placed in the platform service")

    for t, role in sorted(found.items()):
        if role.kind != "hub" or t not in clustered:
            continue
        svc = clustered[t]
        toward = pull(g, t, clustered)
        runner = [s for s in toward if s != svc]
        mates = [x for x, s in clustered.items() if s == svc and x != t]
        state.notes[t] = TableNote(confidence=round(state.conf[t], 3) if t in state.conf else None, role="hub",
                                   reason=f"{role.reason}; kept with {svc}, its strongest ties ({ties(g, t, mates)})"
                                          + (f"; summed weight {toward.get(svc, 0.0):.2f} there against "
                                             f"{toward[runner[0]]:.2f} towards {runner[0]}" if runner else ""),
                                   pull={s: round(v, 3) for s, v in list(toward.items())[:4]})

    # satellites: tables nothing references whose declared keys all lead to set-aside tables of one
    # service (exchange rates of the currencies, an archive of the audit trail) follow them
    set_aside_home = {t: where[t] for t in state.aside if t in where}
    referrers = g.graph["referrers"] if "referrers" in g.graph else sig.references(state.schema)
    referenced = {p for p, children in referrers.items() if children}
    by_key = {t.key: t for t in state.schema.base_tables}
    left: dict[str, int] = defaultdict(int)
    for svc in clustered.values():
        left[svc] += 1
    for t in sorted(clustered):
        if t in referenced or t in state.constrained or t in found:
            continue
        if state.options.services is not None and left[clustered[t]] == 1:
            continue  # the last table of one of the services asked for stays
        targets = {f.referred_key for f in by_key[t].foreign_keys if f.referred_key != t}
        structural = {x for x, d in g[t].items() if d.get("fk", 0) > 0 or d.get("implied_fk", 0) > 0}
        homes = {set_aside_home.get(x) for x in targets | structural}
        only = next(iter(homes)) if len(homes) == 1 else None
        if targets and only is not None:
            home = only
            where[t] = home
            left[clustered[t]] -= 1
            state.notes[t] = TableNote(role="satellite", reason=f"its keys lead only to {home} tables "
                                       f"({ties(g, t, set_aside_home)}) and no table refers to it")

    for t, note in sorted(state.placed.items()):
        if note.reason and note.reason.startswith("@aside:"):
            toward = pull(g, t, set_aside_home)
            home = next(iter(toward)) if toward else note.reason.removeprefix("@aside:")
            where[t] = home
            targets = {f.referred_key for f in by_key[t].foreign_keys if f.referred_key != t}
            satellite = bool(targets) and t not in referenced and {set_aside_home.get(x) for x in targets} == {home}
            state.notes[t] = TableNote(role="satellite", reason=f"its keys lead only to {home} tables "
                                       f"({ties(g, t, set_aside_home)}) and no table refers to it") if satellite \
                else TableNote(role="isolated", reason=f"tied only to {home} tables ({ties(g, t, set_aside_home)})")
        else:
            state.notes[t] = note
    state.tick()


def group_contexts(state: State) -> None:
    """Phase 10: bounded contexts over the clustered services; shared services are contexts of their own."""
    services: dict[str, set[str]] = defaultdict(set)
    for t, s in state.where.items():
        if s not in state.kinds:
            services[s].add(t)
    state.contexts = context_of(state.graph, services, resolution=min(CONTEXT_RESOLUTION, state.resolution),
                                seed=state.options.seed) if services else {}
    for s in state.kinds:
        state.contexts[s] = s


def explain(state: State) -> None:
    """Phase 11: a reason for every table still without one; low-confidence tables listed as ambiguous."""
    g, opts = state.graph, state.options
    members: dict[str, set[str]] = defaultdict(set)
    for x, y in state.where.items():
        members[y].add(x)
    fitted = set(state.fitted)
    for t, s in state.where.items():
        if t in state.notes:
            continue
        found = ties(g, t, members[s] - {t})
        c = round(state.conf[t], 3) if t in state.conf else None
        if t in state.constraints.pins:
            state.notes[t] = TableNote(confidence=c, role="pinned",
                                       reason=f"pinned to {s} by the architect" + (f"; ties: {found}" if found else ""))
            continue
        reason = f"ties: {found}" if found else "no direct ties inside; placed by its neighbours or the constraints"
        if t in state.absorbed:
            hub, share = state.absorbed[t]
            reason += f"; its group joined the kernel around {hub} ({share:.0%} of the group's keys lead there)"
        if t in state.detached:
            reason = f"left its service to make the {opts.services} services asked for (least tied to it); " + reason
        if t in fitted:
            reason += f"; joined {s} to make the {opts.services} services asked for (no tie to any other service)"
        state.notes[t] = TableNote(confidence=c, role="domain", reason=reason)
        if c is not None and c < opts.ambiguity:
            toward = pull(g, t, state.where)
            state.notes[t].pull = {k: round(v, 3) for k, v in list(toward.items())[:4]}
    state.ambiguous = sorted(t for t, n in state.notes.items()
                             if n.confidence is not None and n.confidence < opts.ambiguity
                             and n.role in ("domain", "hub"))


def assemble(state: State) -> Decomposition:
    """Phase 12: the decomposition artifact, services largest first, with how it was made."""
    opts = state.options
    svc_tables: dict[str, list[str]] = defaultdict(list)
    for t, s in state.where.items():
        svc_tables[s].append(t)
    pinned_names = set(state.constraints.pins.values())
    out_services = {}
    for s in sorted(svc_tables, key=lambda s: (-len(svc_tables[s]), s)):
        kind = state.kinds.get(s) or ("pinned" if s in pinned_names and s not in state.names else "domain")
        out_services[s] = Service(tables=sorted(svc_tables[s]), kind=kind,
                                  replicated=sorted(state.replicated.get(s, [])), context=state.contexts.get(s))
    parameters: dict[str, Any] = {"resolution": state.resolution, "services": opts.services,
                                  "seed": opts.seed, "stability_runs": opts.stability, "reference": opts.reference,
                                  "weights": state.weights.as_dict(), "workload": state.workload is not None,
                                  "contexts": len(set(state.contexts.values()))}
    if state.kinds and opts.services is not None:
        parameters["services_note"] = (f"{opts.services} clustered services as asked, plus the "
                                       f"{' and '.join(sorted(state.kinds))} service(s) of shared tables")
    if state.constraints.pins:
        parameters["pins"] = dict(sorted(state.constraints.pins.items()))
    if state.bar is not None:
        state.bar.close()
    return Decomposition(services=out_services, tables=dict(sorted(state.notes.items())), unassigned=state.unassigned,
                         excluded=state.constraints.excluded, ambiguous=state.ambiguous, method=opts.method,
                         parameters=parameters)


PHASES = (find_roles, set_aside, cluster, absorb_into_kernel, place_unclustered, fit_count, name, measure_confidence,
          place_shared, group_contexts, explain)
"""The phases after :func:`prepare`, in order; :func:`assemble` ends the run."""


def decompose(schema: Schema, workload: Workload | None = None, options: DecomposeOptions | None = None, *,
              progress: bool | None = None, graph: nx.Graph | None = None, **overrides: Any) -> Decomposition:
    """Candidate services for ``schema`` (and ``workload``, when logs were analysed).

    Parameters
    ----------
    options : the choices (:class:`~workbench.decompose.options.DecomposeOptions`); keyword
        ``overrides`` replace single fields (``decompose(schema, services=12)``).
    progress : show a progress bar (None: when the output is a terminal).
    graph : the table graph, when already built with the same weights and exclusions (sweeps reuse it).
    """
    base = options or DecomposeOptions()
    if overrides:
        unknown = sorted(set(overrides) - set(vars(base)))
        if unknown:
            raise WorkbenchError(f"unknown decomposition option {unknown[0]!r}")
        values = {k: v for k, v in overrides.items()}
        for key in ("pins", "weights"):
            if key in values:
                values[key] = dict(values[key] or {})
        for key in ("together", "apart"):
            if key in values:
                values[key] = [list(x) for x in values[key] or []]
        if "exclude" in values:
            values["exclude"] = list(values["exclude"] or [])
        if isinstance(values.get("weights"), Weights):
            values["weights"] = {k: v for k, v in values["weights"].as_dict().items()}
        base = replace(base, **values)
    state = prepare(schema, workload, base, graph, progress)
    for phase in PHASES:
        phase(state)
    return assemble(state)
