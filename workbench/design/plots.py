"""Figures of the design: the service context map with mechanism labels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import networkx as nx
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from workbench.design.graph import context_graph
from workbench.design.mechanisms import STRENGTH
from workbench.design.model import Design

SHORT = {"reference_by_id": "id ref", "command_side_replica": "replica", "replicated_reference_data": "ref data",
         "api_composition": "API", "cqrs_projection": "CQRS", "saga_choreography": "saga",
         "saga_orchestration": "saga (orch.)", "domain_events": "events", "local_copy": "copy",
         "merge_services": "MERGE"}
"""Edge-label abbreviations of the mechanisms."""

COLORS = {"reference_by_id": "#9e9e9e", "replicated_reference_data": "#c7c7c7", "local_copy": "#c7c7c7",
          "domain_events": "#7fb3d5", "api_composition": "#5dade2", "command_side_replica": "#f5b041",
          "cqrs_projection": "#e67e22", "saga_choreography": "#c0392b", "saga_orchestration": "#922b21",
          "merge_services": "#000000"}
_STRENGTH: dict[str, int] = {str(m): s for m, s in STRENGTH.items()}
KIND_COLORS = {"domain": "#d6eaf8", "reference": "#e8f8f5", "platform": "#fdebd0", "pinned": "#f4ecf7"}


def edge_label(mechanisms: dict[str, int], top: int = 2) -> str:
    """The heaviest mechanisms of an edge, with counts.

    >>> edge_label({"reference_by_id": 3, "cqrs_projection": 1, "api_composition": 2})
    'CQRS, API x2 +3'
    """
    ordered = sorted(mechanisms, key=lambda m: (-_STRENGTH.get(m, 0), m))
    parts = [SHORT.get(m, m) + (f" x{mechanisms[m]}" if mechanisms[m] > 1 else "") for m in ordered[:top]]
    rest = sum(mechanisms[m] for m in ordered[top:])
    return ", ".join(parts) + (f" +{rest}" if rest else "")


def context_map(design: Design, seed: int = 0, size: tuple[float, float] = (12, 9)) -> Figure:
    """Services (sized by owned tables, coloured by kind) and their dependencies (arrow from the
    dependent service, coloured by its heaviest mechanism, labelled with the mechanisms used)."""
    g = context_graph(design)
    fig, ax = plt.subplots(figsize=size)
    ax.set_axis_off()
    if g.number_of_nodes() == 0:
        ax.text(0.5, 0.5, "no services", ha="center")
        return fig
    pos = nx.spring_layout(g.to_undirected(), seed=seed, k=2.5 / max(1, g.number_of_nodes()) ** 0.5, iterations=200)
    sizes = [900 + 250 * g.nodes[n]["tables"] for n in g]
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=sizes, edgecolors="#555555",
                           node_color=[KIND_COLORS.get(g.nodes[n]["kind"], "#eeeeee") for n in g])
    nx.draw_networkx_labels(g, pos, ax=ax, font_size=10,
                            labels={n: f"{n}\n{g.nodes[n]['tables']} tables" for n in g})
    heaviest = {e: max(g.edges[e]["mechanisms"], key=lambda m: STRENGTH.get(m, 0)) for e in g.edges}
    nx.draw_networkx_edges(g, pos, ax=ax, node_size=sizes, arrowsize=14, connectionstyle="arc3,rad=0.12",
                           edge_color=[COLORS.get(heaviest[e], "#999999") for e in g.edges],
                           width=[1 + min(4.0, g.edges[e]["count"] ** 0.5) for e in g.edges])
    nx.draw_networkx_edge_labels(g, pos, ax=ax, font_size=7, connectionstyle="arc3,rad=0.12",
                                 edge_labels={e: edge_label(dict(g.edges[e]["mechanisms"])) for e in g.edges})
    used = sorted({m for e in g.edges for m in g.edges[e]["mechanisms"]}, key=lambda m: STRENGTH.get(m, 0))
    ax.legend(handles=[Line2D([0], [0], color=COLORS.get(m, "#999999"), lw=3, label=f"{SHORT.get(m, m)}: {m}")
                       for m in used], loc="lower left", fontsize=8, frameon=False)
    ax.set_title("Service context map: arrows point from the dependent service to the one it depends on")
    fig.tight_layout()
    return fig
