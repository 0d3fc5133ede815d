"""Figures of the Assess stage: table sizes, the FK graph, hub ranking.

Functions return :class:`matplotlib.figure.Figure` objects built without pyplot, so a notebook
shows each once (as the cell's value) and nothing depends on pyplot's global state. Layouts are
deterministic: fixed seeds, nodes in sorted order.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from workbench.assess.graph import GraphStats, communities, fk_graph, graph_stats, reference_tables
from workbench.schema import Schema

SEED = 20260101
MAX_ARROWS = 400
"""Above this many edges the FK graph is drawn with plain lines, without arrowheads."""
MAX_LABELS = 300
"""Above this many tables only hubs and each community's most connected table are labelled."""
_CROSS = "#d62728"
_LOCAL = "#4d4d4d"
_REFERENCE = "#c8c8c8"
_LONER = "#9e9e9e"


def size_distribution(schema: Schema, top: int = 25) -> Figure:
    """Row counts on a log scale: a histogram of all tables, and the ``top`` largest by name.

    The few large tables decide how a data migration is run (bulk copy plus catch-up); the
    histogram shows how many there are.
    """
    counted = sorted(
        ((t.row_count, t.key) for t in schema.base_tables if t.row_count is not None), key=lambda rk: (-rk[0], rk[1])
    )
    fig = Figure(figsize=(12, max(4.0, 0.22 * min(top, len(counted)) + 1.5)), layout="constrained")
    hist_ax, bar_ax = fig.subplots(1, 2, width_ratios=[1, 1.3])
    if not counted:
        for ax in (hist_ax, bar_ax):
            ax.text(0.5, 0.5, "row counts unknown", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        return fig
    rows = np.array([r for r, _ in counted], dtype=float)
    upper = math.ceil(math.log10(rows.max() + 1))
    bins = np.logspace(0, max(upper, 1), 2 * max(upper, 1) + 1)
    hist_ax.hist(np.maximum(rows, 1), bins=bins, color="#1f77b4", edgecolor="white")
    hist_ax.set_xscale("log")
    hist_ax.set_xlabel("rows (log scale; empty tables counted as 1)")
    hist_ax.set_ylabel("tables")
    hist_ax.set_title(f"Row counts of {len(counted)} tables")
    shown = counted[:top][::-1]
    bar_ax.barh([k for _, k in shown], [max(r, 1) for r, _ in shown], color="#1f77b4")
    bar_ax.set_xscale("log")
    bar_ax.set_xlim(left=0.8)
    bar_ax.tick_params(axis="y", labelsize=7)
    bar_ax.set_xlabel("rows (log scale)")
    bar_ax.set_title(f"The {len(shown)} largest tables")
    return fig


def _shelf_pack(sizes: list[float], gap: float = 0.6) -> list[tuple[float, float]]:
    """Centres for squares of the given sides, packed row by row (largest first) into a near-square."""
    width = max(max(sizes), math.sqrt(sum((s + gap) ** 2 for s in sizes)) * 1.15)
    centres, x, y, row_height = [], 0.0, 0.0, 0.0
    for side in sizes:
        if x > 0 and x + side > width:
            x, y, row_height = 0.0, y - row_height - gap, 0.0
        centres.append((x + side / 2, y - side / 2))
        x += side + gap
        row_height = max(row_height, side)
    return centres


def _community_layout(graph: nx.DiGraph, groups: list[list[str]]) -> dict[str, np.ndarray]:
    """Each community laid out on its own (seeded spring layout), packed on shelves, largest first.

    Tables related to nothing share one final block, on a grid: they need to be readable, not placed.
    """
    if graph.number_of_nodes() == 0:
        return {}
    loners = sorted(v for v in graph.nodes if not (set(graph.predecessors(v)) | set(graph.successors(v))) - {v})
    blocks = [g for g in groups if not (len(g) == 1 and g[0] in loners)]
    if loners:
        blocks.append(loners)
    sides = [1.6 * math.sqrt(len(b)) for b in blocks]
    pos: dict[str, np.ndarray] = {}
    for block, side, (cx, cy) in zip(blocks, sides, _shelf_pack(sides), strict=True):
        if block is loners and loners:
            ncols = math.ceil(math.sqrt(len(block)))
            step = side / max(ncols, 1)
            for i, node in enumerate(block):
                r, c = divmod(i, ncols)
                pos[node] = np.array([cx - side / 2 + step * (c + 0.5), cy + side / 2 - step * (r + 0.5)])
            continue
        members = set(block)
        # built by hand: a subgraph view iterates a set, in hash order, and the layout would vary
        sub: nx.Graph[str] = nx.Graph()
        sub.add_nodes_from(block)
        sub.add_edges_from(sorted((a, b) for a, b in graph.edges if a in members and b in members and a != b))
        if len(block) == 1:
            local = {block[0]: np.zeros(2)}
        elif len(block) >= 500:  # networkx's large-graph spring layout needs scipy, which we do not ship
            local = nx.circular_layout(sub, scale=side * 0.45)
        else:
            k = 2.0 / math.sqrt(len(block))
            start = nx.circular_layout(sub)  # spreads hubs apart better than random starts
            rounds = 200 if len(block) <= 100 else 60
            local = nx.spring_layout(
                sub, k=k, pos=start, iterations=rounds, seed=SEED, scale=side * 0.42, method="force"
            )
        for node, xy in local.items():
            pos[node] = np.asarray(xy) + np.array([cx, cy])
    return pos


def fk_graph_figure(schema: Schema, stats: GraphStats | None = None, hubs: int = 10) -> Figure:
    """The FK graph, one cluster per community, legible at 70+ tables.

    Node area grows with the log of the row count; the ``hubs`` most referenced tables are drawn
    large with bold labels; FKs into reference tables are light grey, FKs between communities red
    (those are the references a split along the communities would cut). Beyond
    :data:`MAX_ARROWS` edges, lines replace arrows, and beyond :data:`MAX_LABELS` tables only the
    landmarks are named: at that size the picture shows shape, the tables are in the profile.
    """
    graph = fk_graph(schema)
    stats = stats or graph_stats(schema)
    groups = communities(graph)
    member = {n: i for i, g in enumerate(groups) for n in g}
    pos = _community_layout(graph, groups)
    n = graph.number_of_nodes()
    side = min(26.0, max(8.0, 1.6 * math.sqrt(max(n, 1))))
    fig = Figure(figsize=(side, side * 0.8), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    if n == 0:
        ax.text(0.5, 0.5, "no tables", ha="center", va="center", transform=ax.transAxes)
        return fig
    top_hubs = {h.table for h in stats.hubs[:hubs]}
    reference = reference_tables(graph)
    palette = _palette(len(groups))
    font = 7 if n <= 40 else 6 if n <= 120 else 5
    arrows = graph.number_of_edges() <= MAX_ARROWS

    for kind, colour, width, alpha in (
        ("reference", _REFERENCE, 0.6, 0.5),
        ("local", _LOCAL, 0.8, 0.6),
        ("cross", _CROSS, 1.0, 0.55),
    ):
        edges = []
        for a, b in sorted(graph.edges):
            if a == b:
                continue
            edge_kind = "reference" if b in reference else "cross" if member[a] != member[b] else "local"
            if edge_kind == kind:
                edges.append((a, b))
        if edges and arrows:
            nx.draw_networkx_edges(
                graph, pos, edgelist=edges, ax=ax, edge_color=colour, width=width, alpha=alpha,
                arrows=True, arrowsize=6, node_size=60, connectionstyle="arc3,rad=0.08",
            )  # fmt: skip
        elif edges:  # one LineCollection: thousands of arrow patches take minutes to lay out
            nx.draw_networkx_edges(
                graph, pos, edgelist=edges, ax=ax, edge_color=colour, width=width * 0.7, alpha=alpha, arrows=False
            )
    nodes = sorted(graph.nodes)
    sizes = [30 + 25 * math.log10((graph.nodes[v].get("rows") or 0) + 1) + (120 if v in top_hubs else 0) for v in nodes]
    colours = [palette[member[v] % len(palette)] if len(groups[member[v]]) > 1 else _LONER for v in nodes]
    edgecolours = ["black" if v in top_hubs else "white" for v in nodes]
    nx.draw_networkx_nodes(
        graph, pos, nodelist=nodes, node_size=sizes, node_color=colours, edgecolors=edgecolours, linewidths=0.8, ax=ax
    )
    labelled = (
        set(nodes)
        if n <= MAX_LABELS
        else top_hubs | {max(g, key=lambda v: (graph.degree(v), v)) for g in groups if len(g) > 1}
    )
    for v in sorted(labelled):
        x, y = pos[v]
        hub = v in top_hubs
        ax.annotate(
            v, (x, y), xytext=(0, -7 if not hub else -11), textcoords="offset points", ha="center", va="top",
            fontsize=font + (1 if hub else 0), fontweight="bold" if hub else "normal",
        )  # fmt: skip
    legend = [
        Line2D([], [], color=_LOCAL, label="FK inside a community"),
        Line2D([], [], color=_CROSS, label="FK between communities"),
        Line2D([], [], color=_REFERENCE, label="FK to reference data"),
        Line2D(
            [],
            [],
            marker="o",
            color="white",
            markeredgecolor="black",
            markerfacecolor="#999999",
            markersize=9,
            label="hub",
        ),
    ]
    ax.legend(handles=legend, loc="upper right", fontsize=8, frameon=False)
    loners = sum(
        1 for g in groups if len(g) == 1 and not (set(graph.predecessors(g[0])) | set(graph.successors(g[0]))) - {g[0]}
    )
    ax.set_title(
        f"FK graph: {n} tables, {stats.edges} referring pairs, {len(groups) - loners} communities"
        f" and {loners} unrelated tables (bottom block)",
        fontsize=11,
    )
    return fig


def _palette(count: int) -> list[tuple[float, float, float, float]]:
    """Distinct colours: tab10 first, then the lighter half of tab20 (neighbouring tab20 hues look alike)."""
    from matplotlib import colormaps

    colours = [colormaps["tab10"](i) for i in range(10)] + [colormaps["tab20"](2 * i + 1) for i in range(10)]
    return [colours[i % len(colours)] for i in range(max(count, 1))]


def hub_ranking(stats: GraphStats, top: int = 20) -> Figure:
    """Bar chart of the most referenced tables, coloured by how many communities refer to them.

    A table referenced from many communities is a hub to split around; one referenced many times
    from one community is just a parent inside a future service.
    """
    hubs = stats.hubs[:top][::-1]
    fig = Figure(figsize=(9, max(3.0, 0.3 * len(hubs) + 1.2)), layout="constrained")
    ax = fig.subplots()
    if not hubs:
        ax.text(
            0.5, 0.5, "no table is referenced by two or more others", ha="center", va="center", transform=ax.transAxes
        )
        ax.set_axis_off()
        return fig
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    most = max(h.communities for h in hubs)
    colours = [cmap(0.15 + 0.75 * (h.communities - 1) / max(most - 1, 1)) for h in hubs]
    bars = ax.barh([h.table for h in hubs], [h.referrers for h in hubs], color=colours)
    for bar, hub in zip(bars, hubs, strict=True):
        if hub.reference:
            bar.set_hatch("//")
        ax.annotate(
            f"{hub.communities} communit{'y' if hub.communities == 1 else 'ies'}",
            (bar.get_width(), bar.get_y() + bar.get_height() / 2), xytext=(3, 0), textcoords="offset points",
            va="center", fontsize=7,
        )  # fmt: skip
    ax.set_xlabel("referring tables")
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlim(0, max(h.referrers for h in hubs) * 1.25)
    ax.set_title("Most referenced tables, by declared FKs (hatched: looks like reference data)")
    return fig
