"""Pictures of a decomposition that stay readable at 800 tables: service map, dependency matrix, one
service's neighbourhood.

A table-by-table drawing is unreadable beyond a few dozen tables, so the overview draws services
(:func:`service_map`) and the detail draws tables in a dependency structure matrix
(:func:`dependency_matrix`): rows and columns are tables ordered by service, each service a block on
the diagonal, every cell one edge of the table graph coloured by its strongest signal; what lies
off the blocks crosses a boundary. :func:`neighbourhood` draws one service's tables and their
neighbours in other services, on demand.

Figures are plotly, wrapped in :class:`workbench.reporting.interactive.Plot` (hover for names and
evidence, zoom, pan). Layouts come from networkx (seeded), then labels are pushed apart until no
two overlap (:func:`spread`): every name stays legible at the figure's size. Same input, same figure.
"""

from __future__ import annotations

import html
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from workbench.decompose import signals as sig
from workbench.decompose.graph import Weights, build_graph, describe_edge
from workbench.decompose.model import Decomposition
from workbench.reporting.interactive import Plot
from workbench.schema import Schema
from workbench.workload.model import Workload

SIGNAL_COLOURS: dict[str, str] = {"fk": "#1f5fa8", "implied_fk": "#6fa0d8", "join": "#2e8b57", "cowrite": "#c0392b",
                                  "coaccess": "#e08a1e", "name": "#8e6bb0", "schema": "#7f7f7f"}
SIGNAL_LABELS: dict[str, str] = {"fk": "foreign key", "implied_fk": "implied key", "join": "joined",
                                 "cowrite": "co-written", "coaccess": "same transactions", "name": "similar names",
                                 "schema": "same schema"}
KIND_COLOURS: dict[str, str] = {"domain": "#9cc3e6", "reference": "#a8dcc6", "platform": "#f6c48f",
                                "pinned": "#d2b4e3"}
PALETTE = ("#9cc3e6", "#f6c48f", "#a8dcc6", "#f2a7a7", "#d2b4e3", "#c9d98c", "#f3d27a", "#b9c4d0", "#e6b8d4",
           "#8fd0d8", "#d7c2a6", "#bfe3a5")
"""Pale fills behind dark labels, distinguishable in print."""

NO_DESIGN = "#b4bcc6"
FONT = "DejaVu Sans, Arial, sans-serif"
LABEL_PX = 12
CHAR_PX = 7.6
"""Label font size and a generous average character width at that size (DejaVu Sans is wide)."""


# --------------------------------------------------------------------------------- helpers


def graph_for(decomposition: Decomposition, schema: Schema, workload: Workload | None = None) -> nx.Graph:
    """The table graph with the weights the decomposition was made with, its excluded tables left out."""
    stored = decomposition.parameters.get("weights")
    weights = Weights.from_mapping(dict(stored)) if isinstance(stored, dict) else Weights()
    return build_graph(schema, workload, weights, exclude=decomposition.excluded)


def dominant(data: Mapping[str, Any], weights: Mapping[str, float] | None = None) -> str:
    """The signal contributing most to an edge's weight (ties: the order of ``signals.SIGNALS``).

    >>> dominant({"fk": 1.0, "name": 0.2, "cowrite": 0.0})
    'fk'
    """
    w = dict(weights or Weights().as_dict())
    best = max(sig.SIGNALS, key=lambda s: (float(data.get(s, 0.0) or 0.0) * w.get(s, 1.0), -sig.SIGNALS.index(s)))
    return best


_OFFSETS: np.ndarray | None = None


def _offsets(step: float = 4.0, radius: float = 900.0) -> np.ndarray:
    """Grid offsets within ``radius``, nearest first (ties in a fixed order): where to try a box."""
    global _OFFSETS
    if _OFFSETS is None:
        r = int(radius // step)
        gx, gy = np.meshgrid(np.arange(-r, r + 1) * step, np.arange(-r, r + 1) * step)
        pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
        pts = pts[np.hypot(pts[:, 0], pts[:, 1]) <= radius]
        _OFFSETS = pts[np.lexsort((pts[:, 0], pts[:, 1], np.hypot(pts[:, 0], pts[:, 1])))]
    return _OFFSETS


def spread(x: Sequence[float], y: Sequence[float], w: Sequence[float], h: Sequence[float], width: float,
           height: float, gap: float = 3.0) -> tuple[list[float], list[float], bool]:
    """Place boxes (wished centres ``x``, ``y``, sizes ``w`` x ``h``) so that none overlap, inside the canvas.

    Biggest box first, each goes to the free spot nearest its wish (searched outwards on a 4-pixel
    grid): deterministic, and a box moves only as far as it must. Returns the centres and whether
    every box found room (if not, the caller gives it a larger canvas).

    >>> xs, ys, ok = spread([50, 52], [50, 50], [40, 40], [10, 10], 200, 100)
    >>> ok and (abs(xs[1] - xs[0]) >= 40 or abs(ys[1] - ys[0]) >= 10)
    True
    """
    n = len(x)
    bw, bh = np.asarray(w, dtype=float), np.asarray(h, dtype=float)
    wish = np.stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)], axis=1)
    out = wish.copy()
    order = sorted(range(n), key=lambda i: (-(bw[i] * bh[i]), i))
    placed: list[int] = []
    offsets = _offsets()
    ok = True
    for i in order:
        pw, ph, pc = bw[placed], bh[placed], out[placed]
        found = None
        for lo in range(0, len(offsets), 4096):  # nearest spots first: most boxes fit in the first chunk
            cand = wish[i] + offsets[lo:lo + 4096]
            cand = cand[(cand[:, 0] >= bw[i] / 2) & (cand[:, 0] <= width - bw[i] / 2)
                        & (cand[:, 1] >= bh[i] / 2) & (cand[:, 1] <= height - bh[i] / 2)]
            if not len(cand):
                continue
            if not placed:
                found = cand[0]
                break
            clash = ((np.abs(cand[:, None, 0] - pc[None, :, 0]) < (pw[None, :] + bw[i]) / 2 + gap)
                     & (np.abs(cand[:, None, 1] - pc[None, :, 1]) < (ph[None, :] + bh[i]) / 2 + gap)).any(axis=1)
            free = np.flatnonzero(~clash)
            if len(free):
                found = cand[free[0]]
                break
        if found is None:
            ok = False
            found = np.clip(wish[i], [bw[i] / 2, bh[i] / 2], [max(bw[i] / 2, width - bw[i] / 2),
                                                              max(bh[i] / 2, height - bh[i] / 2)])
        out[i] = found
        placed.append(i)
    return out[:, 0].tolist(), out[:, 1].tolist(), ok


def _even(values: Sequence[float], blend: float = 0.55) -> list[float]:
    """Coordinates in [0, 1]: a blend of their min-max scaling and their rank, so a dense core around a
    hub opens up while the layout keeps its shape.

    >>> _even([0.0, 0.1, 10.0], blend=1.0)
    [0.0, 0.5, 1.0]
    """
    n = len(values)
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    ranks = {i: r for r, i in enumerate(sorted(range(n), key=lambda i: (values[i], i)))}
    return [(1 - blend) * (v - low) / span + blend * (ranks[i] / (n - 1) if n > 1 else 0.5)
            for i, v in enumerate(values)]


Anchor = tuple[dict[str, tuple[float, float]], float]
"""Positions (and canvas height) of an earlier drawing, to draw the next one in the same places."""


def _layout(g: nx.Graph, w: list[float], h: list[float], width: float, seed: int, area: float = 2.6,
            anchor: Anchor | None = None) -> tuple[dict[Any, tuple[float, float]], float, Anchor]:
    """Node centres in pixels on a canvas ``width`` wide and tall enough for the boxes, no two
    overlapping: networkx's spring layout (seeded) of the connected nodes, evened out (:func:`_even`),
    then :func:`spread`; nodes without edges in rows underneath (a spring layout would fling them
    to the far corners). With an ``anchor`` (an earlier drawing), nodes wish to stay where they
    were (a new one: amid its neighbours), so a small edit moves the picture little."""
    nodes = list(g)
    if not nodes:
        return {}, 200.0, ({}, 200.0)
    box = {n: (w[i], h[i]) for i, n in enumerate(nodes)}
    linked = [n for n in nodes if g.degree(n) > 0]
    alone = [n for n in nodes if g.degree(n) == 0]
    total = sum(box[n][0] * box[n][1] for n in linked)
    height = float(min(3000.0, max(0.45 * width, area * total / width, max(h) * 2))) if linked else 0.0
    out: dict[Any, tuple[float, float]] = {}
    if linked and anchor is not None and any(n in anchor[0] for n in linked):
        known, height = anchor
        lw, lh = [box[n][0] for n in linked], [box[n][1] for n in linked]
        wish = []
        for n in linked:
            near = [known[m] for m in g[n] if m in known]
            wish.append(known.get(n) or (tuple(np.mean(near, axis=0)) if near else (width / 2, height / 2)))
        for _ in range(10):
            xs, ys, clear = spread([p[0] for p in wish], [p[1] for p in wish], lw, lh, width, height)
            if clear or height >= 3000:
                break
            height = min(3000.0, height * 1.15)
        out = {n: (xs[i], ys[i]) for i, n in enumerate(linked)}
    elif linked:
        sub = g.subgraph(linked)
        pos = nx.spring_layout(sub, seed=seed, weight="weight", iterations=200) if len(linked) > 1 \
            else {linked[0]: (0.0, 0.0)}
        xs0 = _even([float(pos[n][0]) for n in linked])
        ys0 = _even([float(pos[n][1]) for n in linked])
        lw, lh = [box[n][0] for n in linked], [box[n][1] for n in linked]
        for _ in range(10):
            xs = [max(lw) / 2 + v * (width - max(lw)) for v in xs0]
            ys = [max(lh) / 2 + v * (height - max(lh)) for v in ys0]
            xs, ys, clear = spread(xs, ys, lw, lh, width, height)
            if clear or height >= 3000:
                break
            height = min(3000.0, height * 1.15)
        out = {n: (xs[i], ys[i]) for i, n in enumerate(linked)}
    # the unlinked ones: rows under the rest, left to right in the given order
    x = 0.0
    row_top = -12.0 if linked else 0.0
    row_height = 0.0
    placed = []
    for n in alone:
        bw, bh = box[n]
        if x + bw > width and x > 0:
            row_top -= row_height + 6
            x, row_height = 0.0, 0.0
        placed.append((n, x + bw / 2, row_top - bh / 2))
        x += bw + 8
        row_height = max(row_height, bh)
    drop = -(row_top - row_height) if alone else 0.0
    kept: Anchor = (dict(out), height)
    out = {n: (px, py + drop) for n, (px, py) in out.items()}
    out.update({n: (px, py + drop) for n, px, py in placed})
    return out, height + drop, kept


class ServiceMap(Plot):
    """The service map, with where it put each service (``anchor``: to redraw it in the same places)."""

    def __init__(self, figure: Any, summary: str, anchor: Anchor) -> None:
        super().__init__(figure, "service-map", summary)
        self.anchor = anchor


def _esc(text: object) -> str:
    """Plotly renders text as a subset of HTML: names from a database are escaped."""
    return html.escape(str(text), quote=False)


def _fmt(n: float) -> str:
    """12,345 or 1.2M.

    >>> _fmt(1234), _fmt(2_500_000)
    ('1,234', '2.5M')
    """
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{int(n):,}"


def _services(decomposition: Decomposition) -> list[str]:
    return [n for n, s in decomposition.services.items() if s.tables]


SOLO = "(a context of its own)"
"""The colour group of services alone in their context: one neutral colour, not one colour each."""


def _groups(decomposition: Decomposition) -> tuple[dict[str, str], str]:
    """Service -> colour group: its bounded ``context`` when the decomposition names contexts (the
    two-level result; a service alone in its context goes to :data:`SOLO`), else its kind; and what
    the groups are ("context" or "kind")."""
    names = _services(decomposition)
    contexts = {n: getattr(decomposition.services[n], "context", None) for n in names}
    if any(contexts.values()):
        size = Counter(c for c in contexts.values() if c)
        return {n: str(c) if c and size[c] > 1 else SOLO for n, c in contexts.items()}, "context"
    return {n: decomposition.services[n].kind for n in names}, "kind"


def _colours(groups: Mapping[str, str], by: str) -> dict[str, str]:
    values = sorted(set(groups.values()) - {SOLO})
    if by == "kind":
        spare = iter(PALETTE[5:])
        return {v: KIND_COLOURS.get(v) or next(spare, "#cccccc") for v in values}
    return {**{v: PALETTE[i % len(PALETTE)] for i, v in enumerate(values)}, SOLO: "#e4e8ec"}


def _mechanisms(design: Any) -> dict[tuple[str, str], Counter[str]]:
    """Service pair (sorted) -> mechanisms of the design's dependencies between them."""
    from workbench.design.graph import context_graph

    out: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for a, b, data in context_graph(design).edges(data=True):
        out[sig.pair(a, b)].update(data.get("mechanisms") or {})
    return dict(out)


def _mechanism_style() -> tuple[dict[str, str], dict[str, int]]:
    from workbench.design.mechanisms import STRENGTH
    from workbench.design.plots import COLORS

    return {str(k): v for k, v in COLORS.items()}, {str(k): v for k, v in STRENGTH.items()}


# ----------------------------------------------------------------------------------- map


def service_map(decomposition: Decomposition, graph: nx.Graph, *, design: Any = None, seed: int = 0,
                width: int = 940, anchor: Anchor | None = None) -> ServiceMap:
    """Services as nodes (sized by tables, or by rows with the button), edges by the summed weight of
    the table edges between them; with a ``design``, edges coloured by the heaviest mechanism the
    design chose for the pair. Nodes are coloured by the service's context (when the decomposition
    names contexts) else by kind. Hover a node for its figures and ties, an edge for its evidence."""
    import plotly.graph_objects as go

    names = _services(decomposition)
    where = decomposition.assignment()
    tables = {n: len(decomposition.services[n].tables) for n in names}
    rows = {n: sum(int(graph.nodes[t].get("row_count") or 0) for t in decomposition.services[n].tables if t in graph)
            for n in names}
    pairs: dict[tuple[str, str], dict[str, float]] = {}
    for a, b, d in graph.edges(data=True):
        sa, sb = where.get(a), where.get(b)
        if sa is None or sb is None or sa == sb:
            continue
        e = pairs.setdefault(sig.pair(sa, sb), defaultdict(float))
        e["weight"] += float(d["weight"])
        e["edges"] += 1
        for s in sig.SIGNALS:
            e[s] += float(d.get(s, 0.0) or 0.0)
    mechanisms = _mechanisms(design) if design is not None else {}
    mech_colour, strength = _mechanism_style() if design is not None else ({}, {})
    for p in mechanisms:
        if p[0] in tables and p[1] in tables:
            pairs.setdefault(p, defaultdict(float))

    h: nx.Graph = nx.Graph()
    h.add_nodes_from(names)
    for (a, b), e in pairs.items():
        h.add_edge(a, b, weight=math.log1p(e["weight"]) + 0.1)
    most_tables = max(tables.values(), default=1) or 1
    most_rows = max(rows.values(), default=0)
    by_tables = {n: 14 + 40 * math.sqrt(tables[n] / most_tables) for n in names}
    by_rows = {n: 14 + 40 * math.sqrt(rows[n] / most_rows) if most_rows else by_tables[n] for n in names}
    labels = {n: f"{n} ({tables[n]})" for n in names}
    box_w = [max(CHAR_PX * len(labels[n]) + 8, by_tables[n], by_rows[n]) for n in names]
    box_h = [max(LABEL_PX + 8, by_tables[n], by_rows[n]) for n in names]
    pos, height, kept = _layout(h, box_w, box_h, width, seed, anchor=anchor)

    traces: list[Any] = []
    heaviest = max((e["weight"] for e in pairs.values()), default=1.0) or 1.0
    styled: dict[tuple[str, int], list[tuple[str, str]]] = defaultdict(list)
    legend_of: dict[str, str] = {}
    for (a, b), e in sorted(pairs.items()):
        found = mechanisms.get((a, b))
        if found:
            top = max(found, key=lambda k: (strength.get(k, -1), k))
            colour, legend = mech_colour.get(top, "#555555"), top.replace("_", " ")
        else:
            colour, legend = (NO_DESIGN, "no design dependency") if design is not None else ("#8a96a3", "")
        legend_of[colour] = legend
        styled[(colour, 1 + round(6 * math.sqrt(e["weight"] / heaviest)))].append((a, b))
    shown: set[str] = set()
    for (colour, px), group in sorted(styled.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for a, b in group:
            xs += [pos[a][0], pos[b][0], None]
            ys += [pos[a][1], pos[b][1], None]
        legend = legend_of[colour]
        dash = "dot" if colour == NO_DESIGN else "solid"  # ties the design needs nothing for: told apart from greys
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", line={"color": colour, "width": px, "dash": dash},
                                 opacity=0.6,
                                 hoverinfo="skip", name=legend or "cross-service ties", legendgroup=colour,
                                 showlegend=bool(legend) and legend not in shown))
        shown.add(legend)
    hover_x, hover_y, hover_text = [], [], []
    for (a, b), e in sorted(pairs.items()):
        hover_x.append((pos[a][0] + pos[b][0]) / 2)
        hover_y.append((pos[a][1] + pos[b][1]) / 2)
        evidence = ", ".join(f"{SIGNAL_LABELS[s]} {e[s]:.1f}" for s in sig.SIGNALS if e.get(s))
        text = f"<b>{_esc(a)} – {_esc(b)}</b><br>{int(e['edges'])} table edges, weight {e['weight']:.1f}"
        if evidence:
            text += f"<br>{evidence}"
        if mechanisms.get((a, b)):
            text += "<br>design: " + ", ".join(f"{k.replace('_', ' ')} ×{v}" for k, v in
                                               sorted(mechanisms[(a, b)].items(), key=lambda kv: (-kv[1], kv[0])))
        hover_text.append(text)
    traces.append(go.Scatter(x=hover_x, y=hover_y, mode="markers", marker={"size": 12, "opacity": 0},
                             hovertext=hover_text, hoverinfo="text", showlegend=False, name="ties"))

    groups, by = _groups(decomposition)
    colours = _colours(groups, by)
    ties: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for (a, b), e in pairs.items():
        ties[a].append((e["weight"], b))
        ties[b].append((e["weight"], a))
    node_traces = []
    sizes_tables, sizes_rows = [], []
    for number, value in enumerate(sorted(set(groups.values()), key=lambda v: (v == SOLO, v))):
        members = [n for n in names if groups[n] == value]
        texts = []
        for n in members:
            strongest = ", ".join(f"{_esc(o)} {w:.1f}" for w, o in sorted(ties[n], key=lambda t: (-t[0], t[1]))[:4])
            texts.append(f"<b>{_esc(n)}</b> ({_esc(decomposition.services[n].kind)})<br>{tables[n]} tables, "
                         f"{_fmt(rows[n])} rows"
                         + (f"<br>context: {_esc(decomposition.services[n].context or '-')}" if by == "context" else "")
                         + (f"<br>ties: {strongest}" if strongest else ""))
        sizes_tables.append([by_tables[n] for n in members])
        sizes_rows.append([by_rows[n] for n in members])
        node_traces.append(len(traces))
        traces.append(go.Scatter(
            x=[pos[n][0] for n in members], y=[pos[n][1] for n in members], mode="markers+text",
            marker={"size": sizes_tables[-1], "color": colours[value], "line": {"color": "#4a5866", "width": 1},
                    "opacity": 0.9},
            text=[_esc(labels[n]) for n in members], textposition="middle center",
            textfont={"size": LABEL_PX, "color": "#17212b", "family": FONT, "shadow": "0px 0px 3px #ffffff"},
            hovertext=texts, hoverinfo="text", name=_esc(value if value == SOLO else f"{by}: {value}"),
            legendgroup=f"node {number}"))

    title = f"<b>{len(names)} services, {len(where)} tables</b><br>nodes sized by tables, edges by cross-service weight"
    if design is not None:
        title += ", coloured by the design's mechanism"
    fig = go.Figure(traces)
    fig.update_layout(
        template="none", width=width + 40, height=int(height) + 190, font={"family": FONT, "size": LABEL_PX},
        title={"text": title, "x": 0.01, "y": 1 - 24 / (int(height) + 190), "yref": "container", "yanchor": "top",
               "font": {"size": 13}},
        margin={"l": 20, "r": 20, "t": 90, "b": 90},
        xaxis={"range": [0, width], "visible": False, "fixedrange": False},
        yaxis={"range": [0, height], "visible": False, "scaleanchor": "x"},
        hovermode="closest", dragmode="zoom", plot_bgcolor="#ffffff", paper_bgcolor="#ffffff",
        legend={"orientation": "h", "y": -0.02, "x": 0, "yanchor": "top", "font": {"size": 11}},
        updatemenus=[{"type": "buttons", "direction": "left", "x": 0.0, "xanchor": "left", "y": 1.0,
                      "yanchor": "bottom", "pad": {"t": 0, "b": 6}, "font": {"size": 11}, "showactive": True,
                      "buttons": [{"label": "size: tables", "method": "restyle",
                                   "args": [{"marker.size": sizes_tables}, node_traces]},
                                  {"label": "size: rows", "method": "restyle",
                                   "args": [{"marker.size": sizes_rows}, node_traces]}]}],
    )
    return ServiceMap(fig, f"Service map: {len(names)} services, {len(pairs)} cross-service links "
                           "(interactive in JupyterLab and in the HTML report)", kept)


# -------------------------------------------------------------------------------- matrix


def _order(graph: nx.Graph, tables: list[str]) -> list[str]:
    """Tables of one service in reverse Cuthill-McKee order (ties gather near the diagonal), each
    connected part from its least connected table, neighbours by degree then name: the same order
    whatever Python's hash seed (networkx's version breaks ties in set order)."""
    sub = graph.subgraph([t for t in tables if t in graph])
    degree = {t: sub.degree(t) for t in sub}
    seen: set[str] = set()
    ordered: list[str] = []
    for start in sorted(sub, key=lambda t: (degree[t], t)):
        if start in seen:
            continue
        part = [start]
        seen.add(start)
        for node in part:  # breadth first; ``part`` grows as we go
            for near in sorted((n for n in sub[node] if n not in seen), key=lambda n: (degree[n], n)):
                seen.add(near)
                part.append(near)
        ordered += part[::-1]
    return ordered + sorted(t for t in tables if t not in graph)


def _labels_apart(centres: list[float], pitch: float, low: float, high: float) -> list[float]:
    """Label positions near ``centres`` (sorted ascending) at least ``pitch`` apart, within [low, high].

    >>> _labels_apart([0.0, 0.1, 5.0], 1.0, 0.0, 10.0)
    [0.0, 1.0, 5.0]
    """
    out: list[float] = []
    for c in centres:
        out.append(max(c, low, out[-1] + pitch if out else low))
    if out and out[-1] > high:
        out[-1] = high
        for i in range(len(out) - 2, -1, -1):
            out[i] = min(out[i], out[i + 1] - pitch)
    return out


def dependency_matrix(decomposition: Decomposition, graph: nx.Graph, *, levels: int = 6) -> Plot:
    """The dependency structure matrix: tables ordered by service (each service a block on the
    diagonal, its name on the left), a cell per edge of the table graph, coloured by the signal
    contributing most to it and darker with its weight. Cells off the blocks cross a boundary.
    Hover a cell for the two tables, their services and the evidence; drag to zoom (table names
    show on the top axis when zoomed in)."""
    import plotly.graph_objects as go

    weights = graph.graph.get("weights") or Weights().as_dict()
    names = _services(decomposition)
    where = decomposition.assignment()
    blocks: list[tuple[str, list[str]]] = [(n, _order(graph, [t for t in decomposition.services[n].tables
                                                              if t in graph])) for n in names]
    rest = [t for t in graph if t not in where]
    if rest:
        blocks.append(("(in no service)", _order(graph, sorted(rest))))
    blocks = [(n, ts) for n, ts in blocks if ts]
    order = [t for _, ts in blocks for t in ts]
    index = {t: i for i, t in enumerate(order)}
    n = len(order)
    z = np.zeros((n, n), dtype=np.uint8)
    heaviest = max((float(d["weight"]) for *_, d in graph.edges(data=True)), default=1.0) or 1.0
    used: set[str] = set()
    hx: list[str] = []
    hy: list[str] = []
    ht: list[str] = []
    for a, b, d in graph.edges(data=True):
        if a not in index or b not in index or a == b:
            continue
        strongest = dominant(d, weights)
        used.add(strongest)
        level = min(levels - 1, int(levels * math.log1p(float(d["weight"])) / math.log1p(heaviest)))
        code = 1 + sig.SIGNALS.index(strongest) * levels + level
        i, j = index[a], index[b]
        z[i, j] = z[j, i] = code
        text = (f"<b>{_esc(a)}</b> ({_esc(where.get(a, 'no service'))})<br><b>{_esc(b)}</b> "
                f"({_esc(where.get(b, 'no service'))})<br>weight {float(d['weight']):.2f}: {_esc(describe_edge(d))}")
        hx += [b, a]
        hy += [a, b]
        ht += [text, text]
    top = len(sig.SIGNALS) * levels
    scale: list[list[Any]] = []
    for code in range(top + 1):
        if code == 0:
            colour = "#ffffff"
        else:
            s, level = divmod(code - 1, levels)
            colour = _tint(SIGNAL_COLOURS[sig.SIGNALS[s]], 0.35 + 0.65 * (level + 1) / levels)
        scale += [[code / (top + 1), colour], [(code + 1) / (top + 1), colour]]

    n_blocks = len(blocks)
    side = int(min(2400, max(700, 15 * n_blocks + 60, 1.6 * n)))
    label_texts = [f"{name} ({len(ts)})" for name, ts in blocks]
    left = int(min(420, max(CHAR_PX * len(t) for t in label_texts) + 48)) if blocks else 60
    longest_table = max((len(t) for t in order), default=4)
    top_margin = int(min(230, 5.6 * longest_table + 24))

    traces: list[Any] = [go.Heatmap(z=z, x=order, y=order, zmin=-0.5, zmax=top + 0.5, colorscale=scale,
                                    showscale=False, hoverinfo="skip", xgap=0, ygap=0, name="matrix")]
    traces.append(go.Scatter(x=hx, y=hy, mode="markers", marker={"size": 7, "opacity": 0, "symbol": "square"},
                             hovertext=ht, hoverinfo="text", showlegend=False, name="edges"))
    for signal in sig.SIGNALS:
        if signal in used:
            traces.append(go.Scatter(x=[None], y=[None], mode="markers", name=SIGNAL_LABELS[signal],
                                     marker={"size": 11, "symbol": "square", "color": SIGNAL_COLOURS[signal]}))

    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    start = 0
    centres = []
    for _name, ts in blocks:
        end = start + len(ts)
        shapes.append({"type": "rect", "xref": "x", "yref": "y", "x0": start - 0.5, "x1": end - 0.5,
                       "y0": start - 0.5, "y1": end - 0.5, "line": {"color": "#2c3e50", "width": 1},
                       "fillcolor": "rgba(0,0,0,0)", "layer": "above"})
        centres.append((start + end - 1) / 2)
        start = end
    pitch = (LABEL_PX + 3) * n / side if n else 1.0
    placed = _labels_apart(centres, pitch, -0.5 + pitch / 2, n - 0.5 - pitch / 2)
    for text, centre, y in zip(label_texts, centres, placed, strict=True):
        annotations.append({"xref": "paper", "yref": "y", "x": -0.045, "y": y, "xanchor": "right", "yanchor": "middle",
                            "text": _esc(text), "showarrow": False, "font": {"size": LABEL_PX, "color": "#17212b"}})
        shapes.append({"type": "line", "xref": "paper", "yref": "y", "x0": -0.04, "x1": -0.004, "y0": y, "y1": centre,
                       "line": {"color": "#8a96a3", "width": 1}})

    fig = go.Figure(traces)
    fig.update_layout(
        template="none", width=side + left + 30, height=side + top_margin + 90, font={"family": FONT, "size": 11},
        margin={"l": left, "r": 30, "t": top_margin, "b": 90}, plot_bgcolor="#ffffff", paper_bgcolor="#ffffff",
        xaxis={"side": "top", "tickangle": -90, "tickfont": {"size": 9}, "showgrid": False, "categoryorder": "array",
               "categoryarray": order, "constrain": "domain", "automargin": False},
        yaxis={"autorange": "reversed", "showticklabels": False, "ticks": "", "showgrid": False,
               "categoryorder": "array", "categoryarray": order, "scaleanchor": "x", "constrain": "domain"},
        shapes=shapes, annotations=annotations, hovermode="closest", dragmode="zoom",
        legend={"orientation": "h", "x": 0, "y": -0.01, "yanchor": "top", "title": {"text": "strongest signal: "}},
    )
    return Plot(fig, "dependency-matrix", f"Dependency structure matrix: {n} tables in {n_blocks} blocks "
                                          "(interactive in JupyterLab and in the HTML report)")


def _tint(colour: str, strength: float) -> str:
    """``colour`` mixed with white: 0 white, 1 the colour itself.

    >>> _tint("#000000", 0.5)
    '#808080'
    """
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    mix = [round(255 - (255 - c) * strength) for c in (r, g, b)]
    return "#" + "".join(f"{c:02x}" for c in mix)


# ------------------------------------------------------------------------- neighbourhood


def neighbourhood(decomposition: Decomposition, graph: nx.Graph, service: str, *, max_tables: int = 90,
                  seed: int = 0, width: int = 940) -> Plot:
    """One service's tables and their neighbours in other services (the strongest, up to
    ``max_tables`` in all): tables coloured by service, edges by their strongest signal, labels
    never overlapping. Hover a table for its service and rows, an edge for its evidence."""
    import plotly.graph_objects as go

    from workbench.errors import NotFoundError

    if service not in decomposition.services:
        raise NotFoundError(f"service not found: {service}")
    weights = graph.graph.get("weights") or Weights().as_dict()
    where = decomposition.assignment()
    members = [t for t in decomposition.services[service].tables if t in graph]
    pull: dict[str, float] = defaultdict(float)
    for t in members:
        for x, d in graph[t].items():
            if where.get(x) != service:
                pull[x] += float(d["weight"])
    room = max(0, max_tables - len(members))
    outside = [x for x, _ in sorted(pull.items(), key=lambda kv: (-kv[1], kv[0]))[:room]]
    nodes = members + outside
    sub = graph.subgraph(nodes)
    h: nx.Graph = nx.Graph()
    h.add_nodes_from(nodes)
    h.add_edges_from((a, b, {"weight": float(d["weight"])}) for a, b, d in sub.edges(data=True))
    size = {t: 12.0 if t in members else 9.0 for t in nodes}
    box_w = [max(6.4 * len(t) + 6, size[t]) for t in nodes]
    box_h = [size[t] + 15 for t in nodes]
    pos, height, _ = _layout(h, box_w, box_h, width, seed)

    traces: list[Any] = []
    by_signal: dict[str, list[tuple[str, str, dict[str, Any]]]] = defaultdict(list)
    for a, b, d in sub.edges(data=True):
        by_signal[dominant(d, weights)].append((a, b, d))
    hx: list[float] = []
    hy: list[float] = []
    ht: list[str] = []
    for s in sig.SIGNALS:
        if s not in by_signal:
            continue
        xs: list[float | None] = []
        ys: list[float | None] = []
        for a, b, d in sorted(by_signal[s], key=lambda e: (e[0], e[1])):
            xs += [pos[a][0], pos[b][0], None]
            ys += [pos[a][1] - size[a] / 2 - 2, pos[b][1] - size[b] / 2 - 2, None]
            hx.append((pos[a][0] + pos[b][0]) / 2)
            hy.append((pos[a][1] + pos[b][1]) / 2 - 8)
            ht.append(f"<b>{_esc(a)} – {_esc(b)}</b><br>weight {float(d['weight']):.2f}: {_esc(describe_edge(d))}")
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", line={"color": SIGNAL_COLOURS[s], "width": 1.5},
                                 opacity=0.55, hoverinfo="skip", name=SIGNAL_LABELS[s]))
    traces.append(go.Scatter(x=hx, y=hy, mode="markers", marker={"size": 10, "opacity": 0}, hovertext=ht,
                             hoverinfo="text", showlegend=False, name="edges"))
    services = [service] + sorted({where.get(t, "(in no service)") for t in outside} - {service})
    colours = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(services)}
    colours[service] = "#1f5fa8"
    for s in services:
        group = [t for t in nodes if where.get(t, "(in no service)") == s]
        traces.append(go.Scatter(
            x=[pos[t][0] for t in group], y=[pos[t][1] - size[t] / 2 - 2 for t in group], mode="markers+text",
            marker={"size": [size[t] for t in group], "color": colours[s], "line": {"color": "#4a5866", "width": 1}},
            text=[_esc(t) for t in group], textposition="top center",
            textfont={"size": 10, "color": "#17212b", "family": FONT, "shadow": "0px 0px 3px #ffffff"},
            hovertext=[f"<b>{_esc(t)}</b><br>service: {_esc(s)}<br>"
                       f"{_fmt(int(graph.nodes[t].get('row_count') or 0))} rows" for t in group],
            hoverinfo="text", name=("this service: " if s == service else "") + _esc(s)))
    fig = go.Figure(traces)
    fig.update_layout(
        template="none", width=width + 40, height=int(height) + 160, font={"family": FONT, "size": 11},
        title={"text": _esc(f"{service}: {len(members)} tables and their {len(outside)} strongest neighbours "
                            "in other services"), "x": 0.01, "font": {"size": 14}},
        margin={"l": 20, "r": 20, "t": 50, "b": 100},
        xaxis={"range": [0, width], "visible": False}, yaxis={"range": [0, height], "visible": False,
                                                               "scaleanchor": "x"},
        hovermode="closest", dragmode="zoom", plot_bgcolor="#ffffff", paper_bgcolor="#ffffff",
        legend={"orientation": "h", "x": 0, "y": -0.02, "yanchor": "top", "font": {"size": 11}},
    )
    return Plot(fig, "neighbourhood", f"{service}: {len(members)} tables, {len(outside)} neighbours")


def busiest_service(decomposition: Decomposition, graph: nx.Graph) -> str | None:
    """The service with the heaviest ties to other services (the first one worth a closer look)."""
    where = decomposition.assignment()
    out: defaultdict[str, float] = defaultdict(float)
    for a, b, d in graph.edges(data=True):
        sa, sb = where.get(a), where.get(b)
        if sa and sb and sa != sb:
            out[sa] += float(d["weight"])
            out[sb] += float(d["weight"])
    if not out:
        return next(iter(_services(decomposition)), None)
    return min(out, key=lambda s: (-out[s], s))


__all__ = ["SIGNAL_COLOURS", "ServiceMap", "busiest_service", "dependency_matrix", "dominant", "graph_for",
           "neighbourhood", "service_map", "spread"]
