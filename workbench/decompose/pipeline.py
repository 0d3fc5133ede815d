"""From schema (and workload) to candidate services: the whole Decompose stage in one call.

Steps: build the weighted table graph; find the tables that glue domains together (reference data,
cross-cutting tables, hubs); cluster the rest under the architect's constraints; give every set-aside
table an explicit home (reference data to a reference-data service replicated read-only to its
readers, or to the owner it is most tied to; cross-cutting tables to a platform service; tables tied
only to those follow them; tables with no edges by name, or "unassigned" with why); measure each
table's confidence over seeds and resolutions; name the services; explain every table.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import networkx as nx
from tqdm.auto import tqdm

from workbench.decompose import signals as sig
from workbench.decompose.cluster import RESOLUTION_METHODS, cluster
from workbench.decompose.cluster._fit import _bisect
from workbench.decompose.constraints import Constraints, contract, enforce, expand
from workbench.decompose.graph import Weights, build_graph, describe_edge
from workbench.decompose.model import Decomposition, Service, TableNote
from workbench.decompose.naming import name_services
from workbench.decompose.roles import Role, detect_roles
from workbench.decompose.stability import (
    RESOLUTION_GRID,
    SELECTION_SEEDS,
    agreement,
    choose_resolution,
    confidence,
    stability_runs,
)
from workbench.decompose.tokens import tokens
from workbench.errors import EmptyDatabaseError, WorkbenchError
from workbench.schema import Schema
from workbench.workload.model import Workload

DEFAULT_RESOLUTION = 1.0
"""Resolution used where one must be fixed (a count of services, or a sweep point without one);
:func:`decompose` chooses its own when given none (see :func:`~workbench.decompose.stability.choose_resolution`)."""

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


def partition(g: nx.Graph, constraints: Constraints, *, method: str, resolution: float, k: int | None,
              seed: int) -> list[set[str]]:
    """Cluster ``g`` under ``constraints``: contract keep-together groups, cluster, enforce the rest."""
    groups = constraints.groups(g.nodes)
    if groups:
        h, members = contract(g, groups)
    else:
        h, members = g, {n: {n} for n in g}
    parts = cluster(h, method, resolution=resolution, k=k, seed=seed)
    if constraints.pins or constraints.apart or constraints.min_size or constraints.max_size:
        parts = enforce(h, parts, members, constraints, bisect=lambda graph, part: _bisect(graph, part, seed))
    return sorted(expand(parts, members), key=lambda s: (-len(s), min(s)))


def _pull(g: nx.Graph, table: str, where: Mapping[str, str]) -> dict[str, float]:
    """Summed edge weight from ``table`` to each service."""
    pull: dict[str, float] = defaultdict(float)
    if table in g:
        for x, data in g[table].items():
            if x in where and x != table:
                pull[where[x]] += float(data["weight"])
    return dict(sorted(pull.items(), key=lambda kv: (-kv[1], kv[0])))


def _ties(g: nx.Graph, table: str, mates: Iterable[str], top: int = 3) -> str:
    mates = set(mates)
    edges = sorted(((float(d["weight"]), x, d) for x, d in g[table].items() if x in mates),
                   key=lambda e: (-e[0], e[1])) if table in g else []
    return "; ".join(f"{x} ({describe_edge(d)})" for _, x, d in edges[:top])


def _name_home(table: str, parts: Mapping[str, Iterable[str]]) -> tuple[str, str] | None:
    """The service whose names share the most (rarest) words with ``table``, and the word."""
    words = set(tokens(table.split(".")[-1]))
    if not words:
        return None
    df: dict[str, int] = defaultdict(int)
    vocab: dict[str, set[str]] = {}
    for svc, tables in parts.items():
        vocab[svc] = {w for t in tables for w in tokens(t.split(".")[-1])} | set(tokens(svc))
        for w in vocab[svc]:
            df[w] += 1
    best = None
    for svc in sorted(vocab):
        shared = words & vocab[svc]
        if not shared:
            continue
        score = sum(1.0 / df[w] for w in shared)
        if best is None or score > best[0]:
            best = (score, svc, sorted(shared, key=lambda w: (df[w], w))[0])
    if best is None or sum(1 for s in vocab if best[2] in vocab[s]) > 1:
        return None  # the word is shared by several services: no better than a guess
    return best[1], best[2]


def decompose(schema: Schema, workload: Workload | None = None, *, method: str = "louvain",
              resolution: float | None = None, services: int | None = None,
              pins: Mapping[str, str] | None = None,
              together: Iterable[Iterable[str]] = (), apart: Iterable[Iterable[str]] = (),
              min_size: int | None = None, max_size: int | None = None, exclude: Iterable[str] = (),
              weights: Weights | Mapping[str, float] | None = None, seed: int = 0, stability: int = 8,
              ambiguity: float = 0.75, roles: bool = True, reference: str = "service",
              progress: bool | None = None, graph: nx.Graph | None = None) -> Decomposition:
    """Candidate services for ``schema``.

    Parameters
    ----------
    workload : the workload model, when logs were analysed; without it the schema alone decides.
    method : a clustering method of :data:`workbench.decompose.cluster.METHODS`.
    resolution : granularity (higher: more, smaller services); ignored when ``services`` is given.
        None (the default): the most stable of :data:`~workbench.decompose.stability.RESOLUTION_GRID`,
        each tried with several seeds (methods without a resolution use 1.0).
    services : target number of clustered services (reference and platform services not counted).
    pins : table -> service name; together / apart: groups and pairs; min_size / max_size: bounds;
        exclude: tables left out (see :class:`~workbench.decompose.constraints.Constraints`).
    weights : signal weights (:class:`~workbench.decompose.graph.Weights` or a mapping of overrides).
    seed : seed of the clustering; the stability runs use the following seeds.
    stability : number of extra runs (other seeds, nudged resolution) measuring confidence; 0 skips.
        When the resolution is chosen, the runs made to choose it serve (up to this many).
    ambiguity : confidence below which a table is listed as ambiguous.
    roles : detect reference data, cross-cutting tables and hubs (False clusters every table alike).
    reference : ``"service"`` puts shared reference data in one reference-data service replicated
        read-only to its readers; ``"owner"`` gives each lookup to the service most tied to it.
    graph : the table graph, when already built with the same weights and exclusions (sweeps reuse it).
    """
    if reference not in ("service", "owner"):
        raise WorkbenchError(f"reference must be 'service' or 'owner', got {reference!r}")
    w = weights if isinstance(weights, Weights) else Weights.from_mapping(dict(weights or {}))
    constraints = Constraints(pins=dict(pins or {}), together=[list(g) for g in together],
                              apart=[list(p) for p in apart], min_size=min_size, max_size=max_size,
                              excluded=sorted(set(exclude)))
    keys = [t.key for t in schema.base_tables]
    if not keys:
        raise EmptyDatabaseError(f"no tables to decompose in {schema.database}")
    constraints.check(keys)
    bar = tqdm(total=3 + stability, desc="decompose", disable=None if progress is None else not progress, leave=False)

    g = graph if graph is not None else build_graph(schema, workload, w, exclude=constraints.excluded)
    constrained = set(constraints.pins) | {t for grp in constraints.together for t in grp} | \
        {t for p in constraints.apart for t in p}
    found: dict[str, Role] = detect_roles(schema, g, workload, seed=seed, keep=constrained) if roles else {}
    bar.update()

    # set aside what clustering must not see: cross-cutting tables, and reference data in "service" mode
    aside_kinds = {"cross_cutting", "reference"} if reference == "service" else {"cross_cutting"}
    aside = {t for t, r in found.items() if r.kind in aside_kinds}
    gc = g.copy()
    gc.remove_nodes_from(aside)
    factor = {"hub": HUB_DAMPING, "reference": OWNER_DAMPING}
    for a, b, data in gc.edges(data=True):
        kinds = [found[x].kind if x in found else None for x in (a, b)]
        if kinds == ["hub", "hub"]:
            data["weight"] *= HUB_PAIR_DAMPING
        else:
            data["weight"] *= min(factor.get(k, 1.0) if k else 1.0 for k in kinds)
    isolated = sorted(n for n in gc if gc.degree(n) == 0 and n not in constrained)
    active = gc.subgraph([n for n in gc if n not in isolated]).copy()
    active_constraints = replace(constraints, pins={t: s for t, s in constraints.pins.items() if t in active})

    def run(s: int, res: float, k: int | None, noise: float = 0.0) -> list[set[str]]:
        graph = perturbed(active, noise, s) if noise > 0 else active
        return partition(graph, active_constraints, method=method, resolution=res, k=k, seed=s)

    auto = resolution is None and services is None and method in RESOLUTION_METHODS and active.number_of_nodes() > 1
    chosen: dict[str, Any] = {}
    trials: dict[float, list[list[set[str]]]] = {}
    if auto:
        for res in RESOLUTION_GRID:
            trials[res] = [run(seed + i, res, None, PERTURBATION if i else 0.0) for i in range(SELECTION_SEEDS)]
        by_resolution = {res: agreement(r) for res, r in trials.items()}
        modular = {res: nx.community.modularity(active, r[0], weight="weight") for res, r in trials.items()}
        resolution = choose_resolution(by_resolution, modular)
        chosen = {"resolution_chosen_by": "agreement across seeds and noise, plus modularity",
                  "agreement_by_resolution": {str(r): round(v, 4) for r, v in by_resolution.items()},
                  "modularity_by_resolution": {str(r): round(v, 4) for r, v in modular.items()}}
        parts = trials[resolution][0]
    else:
        resolution = resolution if resolution is not None else DEFAULT_RESOLUTION
        parts = run(seed, resolution, services)
    bar.update()

    fixed = {}
    for i, part in enumerate(parts):
        pinned = sorted({constraints.pins[t] for t in part if t in constraints.pins})
        if pinned:
            fixed[i] = pinned[0]
    reserved = {REFERENCE, PLATFORM}
    names = name_services(g, parts, fixed, reserved=reserved)
    where = {t: names[i] for i, part in enumerate(parts) for t in part}
    clustered = dict(where)

    conf: dict[str, float] = {}
    if auto and stability > 0:
        i = RESOLUTION_GRID.index(resolution)
        near = [RESOLUTION_GRID[j] for j in (i - 1, i + 1) if 0 <= j < len(RESOLUTION_GRID)]
        runs = [*trials[resolution][1:], *(r for res in near for r in trials[res])][:stability]
        conf = confidence(parts, runs)
    elif stability > 0 and active.number_of_nodes() > 0:
        def tick(s: int, res: float, k: int | None) -> list[set[str]]:
            out = run(s, res, k)
            bar.update()
            return out

        runs = stability_runs(tick, runs=stability, seed=seed, resolution=resolution, k=services,
                              vary_resolution=method in RESOLUTION_METHODS, progress=False)
        conf = confidence(parts, runs)

    notes: dict[str, TableNote] = {}
    replicated: dict[str, list[str]] = defaultdict(list)
    unassigned: dict[str, str] = {}
    kinds: dict[str, str] = {}

    for t, role in sorted(found.items()):
        if role.kind != "reference":
            continue
        readers = list(_pull(g, t, clustered))
        if reference == "service" or t not in where:
            where[t] = REFERENCE
            kinds[REFERENCE] = "reference"
            replicated[REFERENCE].append(t)
            notes[t] = TableNote(role="reference", reason=f"{role.reason}; in the reference-data service"
                                 + (f", replicated read-only to {', '.join(readers[:8])}" if readers else ""))
            continue
        pull = _pull(g, t, {x: s for x, s in clustered.items() if x != t and x not in found}) or \
            _pull(g, t, clustered)
        if not pull:
            continue
        owner = next(iter(pull))
        where[t] = owner
        replicated[owner].append(t)
        others = [s for s in pull if s != owner]
        mates = [x for x, s in clustered.items() if s == owner and x != t]
        notes[t] = TableNote(confidence=round(pull[owner] / sum(pull.values()), 3), role="reference",
                             reason=f"{role.reason}; owned by {owner} (strongest ties: {_ties(g, t, mates) or 'none'})"
                                    + (f"; replicate read-only to {', '.join(others[:8])}" if others else ""),
                             pull={s: round(v, 3) for s, v in list(pull.items())[:4]})

    for t, role in sorted(found.items()):
        if role.kind != "cross_cutting":
            continue
        where[t] = PLATFORM
        kinds[PLATFORM] = "platform"
        notes[t] = TableNote(role="cross_cutting", reason=f"{role.reason}; placed in the platform service")

    for t, role in sorted(found.items()):
        if role.kind != "hub" or t not in clustered:
            continue
        svc = clustered[t]
        pull = _pull(g, t, clustered)
        runner = [s for s in pull if s != svc]
        mates = [x for x, s in clustered.items() if s == svc and x != t]
        notes[t] = TableNote(confidence=round(conf[t], 3) if t in conf else None, role="hub",
                             reason=f"{role.reason}; kept with {svc}, its strongest ties ({_ties(g, t, mates)})"
                                    + (f"; summed weight {pull.get(svc, 0.0):.2f} there against "
                                       f"{pull[runner[0]]:.2f} towards {runner[0]}" if runner else ""),
                             pull={s: round(v, 3) for s, v in list(pull.items())[:4]})

    # satellites: tables nothing references whose declared keys all lead to set-aside tables of one
    # service (exchange rates of the currencies, an archive of the audit trail) follow them
    set_aside_home = {t: where[t] for t in aside if t in where}
    referrers = g.graph["referrers"] if "referrers" in g.graph else sig.references(schema)
    referenced = {p for p, children in referrers.items() if children}
    by_key = {t.key: t for t in schema.base_tables}
    for t in sorted(clustered):
        if t in referenced or t in constrained or t in found:
            continue
        table = by_key[t]
        targets = {f.referred_key for f in table.foreign_keys if f.referred_key != t}
        structural = {x for x, d in g[t].items() if d.get("fk", 0) > 0 or d.get("implied_fk", 0) > 0}
        homes = {set_aside_home.get(x) for x in targets | structural}
        if targets and len(homes) == 1 and None not in homes:
            home = homes.pop()
            where[t] = home
            notes[t] = TableNote(role="satellite", reason=f"its keys lead only to {home} tables "
                                                          f"({_ties(g, t, set_aside_home)}) and no table refers to it")

    # tables with no edge left: tied only to set-aside tables, else named like a service, else unassigned
    for t in isolated:
        pull = _pull(g, t, set_aside_home)
        if pull:
            home = next(iter(pull))
            where[t] = home
            notes[t] = TableNote(role="isolated", reason=f"tied only to {home} tables ({_ties(g, t, set_aside_home)})")
            continue
        by_service: dict[str, list[str]] = defaultdict(list)
        for x, s in clustered.items():
            by_service[s].append(x)
        home_by_name = _name_home(t, by_service)
        if home_by_name:
            where[t] = home_by_name[0]
            notes[t] = TableNote(role="isolated", reason=f"no keys, joins or transactions tie it to any table; "
                                                         f"named like {home_by_name[0]} (shares the word "
                                                         f"{home_by_name[1]!r})")
        else:
            unassigned[t] = ("no foreign keys (declared or implied), no shared statements or transactions, "
                             "and no name shared with a single service")

    members: dict[str, set[str]] = defaultdict(set)
    for x, y in where.items():
        members[y].add(x)
    for t, s in where.items():
        if t in notes:
            continue
        ties = _ties(g, t, members[s] - {t})
        c = round(conf[t], 3) if t in conf else None
        if t in constraints.pins:
            notes[t] = TableNote(confidence=c, role="pinned",
                                 reason=f"pinned to {s} by the architect" + (f"; ties: {ties}" if ties else ""))
            continue
        notes[t] = TableNote(confidence=c, role="domain", reason=f"ties: {ties}" if ties else
                             "no direct ties inside; placed by its neighbours or the constraints")
        if c is not None and c < ambiguity:
            pull = _pull(g, t, where)
            notes[t].pull = {k: round(v, 3) for k, v in list(pull.items())[:4]}

    svc_tables: dict[str, list[str]] = defaultdict(list)
    for t, s in where.items():
        svc_tables[s].append(t)
    pinned_names = set(constraints.pins.values())
    out_services = {}
    for s in sorted(svc_tables, key=lambda s: (-len(svc_tables[s]), s)):
        kind = kinds.get(s) or ("pinned" if s in pinned_names and s not in names else "domain")
        out_services[s] = Service(tables=sorted(svc_tables[s]), kind=kind, replicated=sorted(replicated.get(s, [])))
    ambiguous = sorted(t for t, n in notes.items()
                       if n.confidence is not None and n.confidence < ambiguity and n.role in ("domain", "hub"))
    bar.update()
    bar.close()
    parameters: dict[str, Any] = {"resolution": resolution, **chosen, "services": services, "seed": seed,
                                  "stability_runs": stability, "reference": reference, "weights": w.as_dict(),
                                  "workload": workload is not None}
    if constraints.pins:
        parameters["pins"] = dict(sorted(constraints.pins.items()))
    return Decomposition(services=out_services, tables=dict(sorted(notes.items())), unassigned=unassigned,
                         excluded=constraints.excluded, ambiguous=ambiguous, method=method, parameters=parameters)
