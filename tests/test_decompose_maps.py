"""The pictures: service map, dependency matrix, one service's neighbourhood, and their embedding.

Readability is checked on the figures' own numbers: label boxes never overlap, matrix labels keep
their spacing, every edge is a cell. Rendering in a browser is checked in test_explorer_browser.py
and by the report's --check.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import random

import numpy as np
import pytest

from workbench.decompose import decompose, maps
from workbench.decompose.model import Decomposition, Service
from workbench.decompose.synthetic import planted
from workbench.errors import NotFoundError
from workbench.reporting import interactive


@pytest.fixture(scope="module")
def case() -> tuple[Decomposition, object]:
    p = planted(n_tables=120, n_domains=8, seed=11)
    d = decompose(p.schema, p.workload, stability=0)
    return d, maps.graph_for(d, p.schema, p.workload)


def _boxes_overlap(x: list[float], y: list[float], w: list[float], h: list[float]) -> int:
    px, py, bw, bh = map(np.asarray, (x, y, w, h))
    ox = (bw[:, None] + bw[None, :]) / 2 - np.abs(px[:, None] - px[None, :])
    oy = (bh[:, None] + bh[None, :]) / 2 - np.abs(py[:, None] - py[None, :])
    hit = (ox > 1e-6) & (oy > 1e-6)
    np.fill_diagonal(hit, False)
    return int(hit.sum() // 2)


def test_spread_separates_crowded_boxes_near_their_wishes() -> None:
    rng = random.Random(3)
    n = 60
    w = [rng.uniform(40, 200) for _ in range(n)]
    h = [rng.uniform(14, 40) for _ in range(n)]
    x = [470 + rng.gauss(0, 40) for _ in range(n)]
    y = [350 + rng.gauss(0, 40) for _ in range(n)]
    assert _boxes_overlap(x, y, w, h) > 100
    xs, ys, ok = maps.spread(x, y, w, h, 940, 1000)
    assert ok and _boxes_overlap(xs, ys, w, h) == 0
    assert all(b / 2 <= v <= 940 - b / 2 for v, b in zip(xs, w, strict=True))
    assert maps.spread(x, y, w, h, 940, 1000) == (xs, ys, ok)
    assert not maps.spread(x, y, w, h, 300, 100)[2]  # no room: said so, for the caller to grow the canvas


def _nodes(fig: object) -> dict[str, tuple[float, float, float]]:
    """Service label -> (x, y, marker size) from the map's node traces."""
    out = {}
    for trace in fig.data:  # type: ignore[attr-defined]
        if trace.mode == "markers+text":
            for text, x, y, size in zip(trace.text, trace.x, trace.y, trace.marker.size, strict=True):
                out[text] = (x, y, size)
    return out


def test_service_map_shows_every_service_with_a_label_clear_of_the_others(case: tuple) -> None:
    d, g = case
    plot = maps.service_map(d, g)
    nodes = _nodes(plot.figure)
    assert set(nodes) == {f"{n} ({len(s.tables)})" for n, s in d.services.items()}
    by_size = sorted(nodes.values(), key=lambda v: v[2])
    assert by_size[0][2] < by_size[-1][2]
    labels = list(nodes)
    w = [max(maps.CHAR_PX * len(t) + 8, nodes[t][2]) for t in labels]
    h = [max(maps.LABEL_PX + 8, nodes[t][2]) for t in labels]
    assert _boxes_overlap([nodes[t][0] for t in labels], [nodes[t][1] for t in labels], w, h) == 0
    hover = next(t for t in plot.figure.data if t.name == "ties")
    where = d.assignment()
    crossing = {frozenset((where[a], where[b])) for a, b in g.edges if a in where and b in where
                and where[a] != where[b]}
    assert len(hover.hovertext) == len(crossing) > 0
    assert plot.spec() == maps.service_map(d, g).spec()  # same input, same figure


def test_service_map_redrawn_after_a_move_keeps_its_places(case: tuple) -> None:
    d, g = case
    first = maps.service_map(d, g)
    moved = d.move(d.services[next(iter(d.services))].tables[0], next(reversed(d.services)))
    again = maps.service_map(moved, g, anchor=first.anchor)
    before, after = first.anchor[0], again.anchor[0]
    shifts = [np.hypot(before[n][0] - after[n][0], before[n][1] - after[n][1]) for n in before if n in after]
    assert np.median(shifts) < 5


def test_service_map_colours_by_mechanism_and_context(case: tuple) -> None:
    from workbench.design import design as make_design
    from workbench.design.plots import COLORS

    d, g = case
    p = planted(n_tables=120, n_domains=8, seed=11)
    result = make_design(p.schema, d)  # (the planted workload has no SQL text for read models)
    plot = maps.service_map(d, g, design=result)
    lines = [t for t in plot.figure.data if t.mode == "lines"]
    used = {t.line.color for t in lines}
    mechanisms = {dep.mechanism for dep in result.dependencies}
    assert used & {COLORS[m] for m in mechanisms if m in COLORS}
    assert {t.name for t in lines if t.showlegend} >= {m.replace("_", " ") for m in mechanisms
                                                      if COLORS.get(m) in used}

    two_level = dataclasses.replace(d, services={n: dataclasses.replace(s, context="left" if i % 2 else "right")
                                                 for i, (n, s) in enumerate(d.services.items())})
    names = {t.name for t in maps.service_map(two_level, g).figure.data if t.mode == "markers+text"}
    assert names == {"context: left", "context: right"}
    flat = dataclasses.replace(d, services={n: dataclasses.replace(s, context=None) for n, s in d.services.items()})
    names = {t.name for t in maps.service_map(flat, g).figure.data if t.mode == "markers+text"}
    assert names == {f"kind: {s.kind}" for s in d.services.values()}


def test_names_are_escaped_in_every_picture(case: tuple) -> None:
    d, g = case
    nasty = "<img src=x onerror=alert(1)>&co"
    first = next(iter(d.services))
    # service names are refused such names on load and rename, but a table's name comes from the
    # database as it is, and a decomposition held in memory is not checked: escape anyway
    d2 = dataclasses.replace(d, services={(nasty if n == first else n): s for n, s in d.services.items()})
    text = json.dumps(maps.service_map(d2, g).spec())
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;&amp;co" in text
    text = json.dumps(maps.dependency_matrix(d2, g).spec())
    assert "<img" not in text
    page = interactive.html(maps.neighbourhood(d2, g, nasty).spec(), "x", "k")
    assert "<img" not in page and "</script><" not in page.split("<script", 1)[1][:-9]


def test_matrix_has_a_cell_per_edge_blocks_per_service_and_spaced_names(case: tuple) -> None:
    d, g = case
    plot = maps.dependency_matrix(d, g)
    heat = plot.figure.data[0]
    order = list(heat.x)
    z = np.asarray(heat.z)
    assert sorted(order) == sorted(g) and z.shape == (len(order), len(order))
    assert (z == z.T).all() and (np.diag(z) == 0).all()
    assert int((z > 0).sum()) == 2 * g.number_of_edges()
    where = d.assignment()
    services = [where.get(t, "(in no service)") for t in order]
    runs = [s for i, s in enumerate(services) if i == 0 or services[i - 1] != s]
    assert len(runs) == len(set(services))  # each service one contiguous block
    rects = [s for s in plot.figure.layout.shapes if s.type == "rect"]
    assert len(rects) == len(runs)
    notes = plot.figure.layout.annotations
    assert [a.text.rsplit(" (", 1)[0] for a in notes] == runs
    pitch = (maps.LABEL_PX + 3) * len(order) / (plot.figure.layout.height - plot.figure.layout.margin.t
                                                  - plot.figure.layout.margin.b)
    ys = [a.y for a in notes]
    assert all(b - a >= pitch * 0.99 for a, b in zip(ys, ys[1:], strict=False))
    hover = next(t for t in plot.figure.data if t.name == "edges")
    assert len(hover.hovertext) == 2 * g.number_of_edges()
    assert plot.spec() == maps.dependency_matrix(d, g).spec()


def test_matrix_stays_compact_at_800_tables() -> None:
    p = planted(n_tables=820, n_domains=40, seed=2)
    d = Decomposition(services={})
    for table, domain in sorted(p.truth.items()):
        d.services.setdefault(domain, Service()).tables.append(table)
    g = maps.graph_for(d, p.schema)
    spec = maps.dependency_matrix(d, g).spec()
    z = spec["data"][0]["z"]
    assert z["dtype"] == "u1" and len(base64.b64decode(z["bdata"])) == 820 * 820  # one byte a cell
    assert len(json.dumps(spec)) < 3_000_000
    assert len(spec["layout"]["annotations"]) == len([s for s in d.services.values() if s.tables]) + \
        (1 if set(g) - set(d.assignment()) else 0)


def test_neighbourhood_holds_the_service_and_its_strongest_neighbours(case: tuple) -> None:
    d, g = case
    name = maps.busiest_service(d, g)
    assert name in d.services
    plot = maps.neighbourhood(d, g, name, max_tables=40)
    shown = [t for trace in plot.figure.data if trace.mode == "markers+text" for t in trace.text]
    members = set(d.services[name].tables)
    assert members <= set(shown) and len(shown) <= max(40, len(members))
    assert all(any(g.has_edge(t, m) for m in members) for t in set(shown) - members)
    with pytest.raises(NotFoundError, match="service not found"):
        maps.neighbourhood(d, g, "no such service")


def test_plot_displays_as_plotly_json_and_exports_with_fixed_ids(case: tuple) -> None:
    import nbformat

    d, g = case
    plot = maps.service_map(d, g)
    bundle = plot._repr_mimebundle_()
    assert set(bundle) == {interactive.MIME, "text/plain"}
    assert bundle[interactive.MIME]["layout"]["meta"] == {"key": "service-map"}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("display_data", data=bundle)])])
    assert interactive.outputs_to_html(nb)
    html = nb.cells[0].outputs[0]["data"]["text/html"]
    assert 'id="wb-plot-0-0"' in html and f'{interactive.ATTRIBUTE}="service-map"' in html
    assert "Plotly.newPlot(" in html and "http" not in html.replace("http://www.w3.org", "")


def test_pictures_do_not_depend_on_the_hash_seed() -> None:
    """The title page is drawn in the CLI's own process, whatever its PYTHONHASHSEED: a child process
    with another seed draws the same pictures as this one."""
    import hashlib
    import os
    import subprocess
    import sys

    script = (
        "import hashlib, json\n"
        "from workbench.decompose import decompose, maps\n"
        "from workbench.decompose.synthetic import planted\n"
        "p = planted(n_tables=50, n_domains=4, seed=4)\n"
        "d = decompose(p.schema, p.workload, stability=0)\n"
        "g = maps.graph_for(d, p.schema, p.workload)\n"
        "specs = [maps.service_map(d, g).spec(), maps.dependency_matrix(d, g).spec(),\n"
        "         maps.neighbourhood(d, g, maps.busiest_service(d, g)).spec()]\n"
        "print(hashlib.sha256(json.dumps(specs, sort_keys=True).encode()).hexdigest())\n"
    )
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    child = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed},
                           capture_output=True, text=True, check=True).stdout.strip()
    here: dict[str, object] = {}
    exec(script.replace("print(", "digest = ("), here)  # noqa: S102 - the same script in this process
    assert child == here["digest"] and len(child) == len(hashlib.sha256().hexdigest())
