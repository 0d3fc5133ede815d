"""The foreign-key graph and what its shape says about a split: hubs, components, communities, cycles.

Nodes are table keys, an edge runs from the referring table to the referred one. Communities
(greedy modularity on the undirected graph) stand for the schema's "neighbourhoods": the
candidate services a person would draw by eye, used to tell a local parent from a hub that the
whole database leans on.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import networkx as nx

from workbench.assess.implied import implied_references
from workbench.schema import Schema


def fk_graph(schema: Schema, implied: bool = False) -> nx.DiGraph:
    """A directed graph of the base tables with one edge per referring/referred pair.

    Node attributes: ``rows``, ``size_bytes``, ``columns``, ``has_pk``, ``external`` (a table
    outside the introspected schemas that an FK points to). Edge attributes: ``foreign_keys`` (one
    dict of ``columns``/``referred_columns``/``name`` per declared FK), ``weight`` (their number)
    and ``implied`` (True for edges only naming conventions suggest, added when ``implied``).
    """
    graph: nx.DiGraph[str] = nx.DiGraph()
    tables = sorted(schema.base_tables, key=lambda t: t.key)
    for t in tables:
        graph.add_node(
            t.key,
            rows=t.row_count,
            size_bytes=t.size_bytes,
            columns=len(t.columns),
            has_pk=bool(t.primary_key),
            external=False,
        )
    for t in tables:
        for fk in sorted(t.foreign_keys, key=lambda f: (f.referred_key, f.columns)):
            target = fk.referred_key
            if target not in graph:
                graph.add_node(target, rows=None, size_bytes=None, columns=0, has_pk=True, external=True)
            if not graph.has_edge(t.key, target):
                graph.add_edge(t.key, target, foreign_keys=[], weight=0, implied=False)
            data = graph.edges[t.key, target]
            data["foreign_keys"].append(
                {"columns": list(fk.columns), "referred_columns": list(fk.referred_columns), "name": fk.name}
            )
            data["weight"] += 1
    if implied:
        for ref in implied_references(schema):
            if not graph.has_edge(ref.table, ref.referred_table):
                graph.add_edge(ref.table, ref.referred_table, foreign_keys=[], weight=1, implied=True)
            elif graph.edges[ref.table, ref.referred_table]["implied"]:
                graph.edges[ref.table, ref.referred_table]["weight"] += 1
    return graph


def _without_self_loops(graph: nx.DiGraph) -> nx.DiGraph:
    g = graph.copy()
    g.remove_edges_from(list(nx.selfloop_edges(g)))
    return g


def communities(graph: nx.DiGraph) -> list[list[str]]:
    """Greedy-modularity communities of the undirected graph, largest first, each sorted.

    Deterministic: nodes enter in sorted order and ties are broken by the first key.
    """
    undirected: nx.Graph[str] = nx.Graph()
    undirected.add_nodes_from(sorted(graph.nodes))
    for a, b, data in sorted(graph.edges(data=True)):
        if a != b:
            w = data.get("weight", 1) + (undirected.edges[a, b]["weight"] if undirected.has_edge(a, b) else 0)
            undirected.add_edge(a, b, weight=w)
    if undirected.number_of_edges() == 0:
        groups = [[n] for n in undirected.nodes]
    else:
        groups = [sorted(c) for c in nx.community.greedy_modularity_communities(undirected, weight="weight")]
    return sorted(groups, key=lambda c: (-len(c), c[0]))


def community_of(groups: list[list[str]]) -> dict[str, int]:
    """Table key -> index of its community in ``groups``."""
    return {key: i for i, group in enumerate(groups) for key in group}


def referrers(graph: nx.DiGraph, node: str) -> list[str]:
    """The other tables with an FK to ``node``, sorted."""
    return sorted(p for p in graph.predecessors(node) if p != node)


def reference_tables(graph: nx.DiGraph, max_columns: int = 8, max_rows: int = 1_000) -> set[str]:
    """Tables that look like reference (lookup) data.

    Referenced by another table, narrow (at most ``max_columns`` columns), small (at most
    ``max_rows`` rows, where the count is known: a never-analysed PostgreSQL table has none), and
    referring only to other reference data (``countries`` -> ``currencies``). Such tables are
    replicated to every service rather than owned by one: hubs of a different, harmless kind.
    """

    def small(node: str) -> bool:
        data = graph.nodes[node]
        rows, columns = data.get("rows"), data.get("columns", 0)
        if data.get("external") or not referrers(graph, node) or columns > max_columns:
            return False
        return rows is None or rows <= max_rows

    found = {n for n in graph.nodes if small(n)}
    changed = True
    while changed:  # drop tables that refer to non-reference tables, until nothing changes
        keep = {n for n in found if all(s == n or s in found for s in graph.successors(n))}
        changed, found = keep != found, keep
    return found


def find_cycles(graph: nx.DiGraph, max_length: int = 8, max_cycles: int = 100) -> tuple[list[list[str]], bool]:
    """FK cycles through two or more tables (self-references excluded), and whether the list was cut.

    ``simple_cycles`` can explode on dense schemas, hence the length bound and the cap. Each cycle
    starts at its smallest key; the list is sorted.
    """
    g = _without_self_loops(graph)
    found = list(itertools.islice(nx.simple_cycles(g, length_bound=max_length), max_cycles + 1))
    truncated = len(found) > max_cycles
    canon = []
    for cycle in found[:max_cycles]:
        i = cycle.index(min(cycle))
        canon.append(cycle[i:] + cycle[:i])
    return sorted(canon, key=lambda c: (len(c), c)), truncated


@dataclass
class Hub:
    """A referenced table: how many tables and how many communities lean on it."""

    table: str
    referrers: int
    communities: int
    reference: bool


@dataclass
class GraphStats:
    """The FK graph's shape, as the lint rules, plots and narrative use it.

    Attributes
    ----------
    tables, foreign_keys : base tables, and their declared FKs (self-references included).
    edges : distinct referring/referred pairs, self-references excluded.
    mean_degree, max_in_degree, max_out_degree : over distinct neighbour tables.
    hubs : tables referenced by two or more others, most referenced first.
    components : weakly connected groups of two or more tables, largest first.
    isolated : tables with no FK in or out.
    communities : greedy-modularity communities, largest first.
    reference_edges : edges into reference tables (replicated, so never a cut).
    cross_community_edges : other edges between communities: the references a split along them would cut.
    cycles : FK cycles through several tables; ``cycles_truncated`` when the bound cut the list.
    self_references : tables with an FK to themselves (hierarchies).
    reference_tables : tables that look like lookup data.
    """

    tables: int
    foreign_keys: int
    edges: int
    mean_degree: float
    max_in_degree: int
    max_out_degree: int
    hubs: list[Hub] = field(default_factory=list)
    components: list[list[str]] = field(default_factory=list)
    isolated: list[str] = field(default_factory=list)
    communities: list[list[str]] = field(default_factory=list)
    reference_edges: int = 0
    cross_community_edges: int = 0
    cycles: list[list[str]] = field(default_factory=list)
    cycles_truncated: bool = False
    self_references: list[str] = field(default_factory=list)
    reference_tables: list[str] = field(default_factory=list)


def graph_stats(schema: Schema, max_cycle_length: int = 8, max_cycles: int = 100) -> GraphStats:
    """Degree statistics, hubs, components, communities and cycles of the declared FK graph."""
    graph = fk_graph(schema)
    plain = _without_self_loops(graph)
    groups = communities(graph)
    member = community_of(groups)
    reference = reference_tables(graph)
    hubs = []
    for node in sorted(graph.nodes):
        refs = referrers(graph, node)
        if len(refs) >= 2:
            hubs.append(Hub(node, len(refs), len({member[r] for r in refs}), node in reference))
    hubs.sort(key=lambda h: (-h.referrers, -h.communities, h.table))
    components = sorted(
        (sorted(c) for c in nx.weakly_connected_components(plain) if len(c) > 1), key=lambda c: (-len(c), c[0])
    )
    cycles, truncated = find_cycles(graph, max_cycle_length, max_cycles)
    n = graph.number_of_nodes()
    return GraphStats(
        tables=sum(1 for _, external in graph.nodes(data="external") if not external),
        foreign_keys=sum(d["weight"] for _, _, d in graph.edges(data=True)),
        edges=plain.number_of_edges(),
        mean_degree=round(2 * plain.number_of_edges() / n, 3) if n else 0.0,
        max_in_degree=max((d for _, d in plain.in_degree()), default=0),
        max_out_degree=max((d for _, d in plain.out_degree()), default=0),
        hubs=hubs,
        components=components,
        isolated=sorted(node for node in plain.nodes if plain.degree(node) == 0),
        communities=groups,
        reference_edges=sum(1 for _, b in plain.edges if b in reference),
        cross_community_edges=sum(1 for a, b in plain.edges if member[a] != member[b] and b not in reference),
        cycles=cycles,
        cycles_truncated=truncated,
        self_references=sorted(a for a, b in nx.selfloop_edges(graph)),
        reference_tables=sorted(reference),
    )
