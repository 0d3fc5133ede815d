"""Pictures of a decomposition: the table graph coloured by service, and the sweep trade-off.

Figures are returned, never shown or saved here, so notebooks and reports decide what to do
with them. Layouts are seeded: the same decomposition draws the same picture.
"""

from __future__ import annotations

import networkx as nx
import pandas as pd
from matplotlib.figure import Figure

from workbench.decompose.explain import service_graph
from workbench.decompose.model import Decomposition


def _palette(n: int) -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(i % 20) for i in range(n)]


def draw_graph(g: nx.Graph, decomposition: Decomposition, *, max_nodes: int = 400, seed: int = 0,
               labels: bool | None = None) -> Figure:
    """Tables coloured by service, edge width by weight; above ``max_nodes`` tables, services
    are drawn instead (node size by table count, edge width by summed cross weight)."""
    fig = Figure(figsize=(11, 8))
    ax = fig.add_subplot()
    ax.set_axis_off()
    services = list(decomposition.services)
    colour = dict(zip(services, _palette(len(services)), strict=True))
    if g.number_of_nodes() > max_nodes:
        h = service_graph(g, decomposition)
        pos = nx.spring_layout(h, seed=seed, weight="weight")
        sizes = [60 + 12 * h.nodes[n]["tables"] for n in h]
        heaviest = max((w for *_, w in h.edges(data="weight", default=1.0)), default=1.0) or 1.0
        widths = [0.3 + 3 * w / heaviest for *_, w in h.edges(data="weight", default=1.0)]
        nx.draw_networkx_edges(h, pos, ax=ax, width=widths, alpha=0.4)
        nx.draw_networkx_nodes(h, pos, ax=ax, node_size=sizes, node_color=[colour[n] for n in h])
        nx.draw_networkx_labels(h, pos, ax=ax, font_size=7)
        ax.set_title(f"{len(services)} services ({g.number_of_nodes()} tables; edges: cross-service weight)")
        return fig
    where = decomposition.assignment()
    pos = nx.spring_layout(g, seed=seed, weight="weight", k=1.5 / max(1, g.number_of_nodes()) ** 0.5)
    heaviest = max((w for *_, w in g.edges(data="weight", default=1.0)), default=1.0) or 1.0
    nx.draw_networkx_edges(g, pos, ax=ax, width=[0.2 + 2.5 * w / heaviest for *_, w in g.edges(data="weight",
                                                                                               default=1.0)],
                           alpha=0.35)
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=70,
                           node_color=[colour.get(where.get(n, ""), (0.7, 0.7, 0.7, 1.0)) for n in g])
    if labels if labels is not None else g.number_of_nodes() <= 120:
        nx.draw_networkx_labels(g, pos, ax=ax, font_size=6)
    for name in services:
        ax.scatter([], [], color=colour[name], label=f"{name} ({len(decomposition.services[name].tables)})")
    ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=2 if len(services) > 12 else 1)
    ax.set_title(f"{g.number_of_nodes()} tables in {len(services)} services")
    return fig


def sweep_plot(frame: pd.DataFrame) -> Figure:
    """Costs (shares of cross-service weight, distributed transactions, cross joins) and the
    stability of each point against the number of services; the recommended point marked."""
    fig = Figure(figsize=(9, 5))
    ax = fig.add_subplot()
    data = frame.sort_values("services", kind="stable")
    x = data["services"]
    labels = {"cross_weight_share": "cross-service edge weight", "distributed_tx_share": "distributed transactions",
              "distributed_write_share": "distributed writes (sagas)", "cross_join_share": "cross-service joins"}
    for column, label in labels.items():
        if column in data and data[column].notna().any():
            ax.plot(x, data[column], marker="o", label=label)
    ax.set_xlabel("number of services")
    ax.set_ylabel("share (lower is better)")
    ax.set_ylim(bottom=0)
    right = ax.twinx()
    right.plot(x, data["stability"], color="black", linestyle="--", marker="s", label="stability across seeds")
    right.set_ylabel("stability: agreement of runs with other seeds (higher is better)")
    right.set_ylim(top=1.05)
    best = data[data["recommended"]] if "recommended" in data else data.iloc[:0]
    if len(best):
        right.scatter(best["services"], best["stability"], s=220, facecolors="none", edgecolors="red", linewidths=2,
                      label="recommended", zorder=5)
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="center right", fontsize=8)
    ax.set_title("Granularity trade-off")
    return fig
