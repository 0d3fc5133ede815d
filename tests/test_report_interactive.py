"""Interactive plots and widgets in the report: one inline plotly.js, fixed ids, no widget state, no CDN;
the title page's service map and matrix; the browser check counts a plot that does not draw."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import plotly.graph_objects as go
import pytest
from servers import missing

from workbench.reporting import interactive, title
from workbench.reporting.notebooks import WIDGET_MIME, WIDGET_NOTE, clean, export_html

WIDGET_OUTPUT = {"text/plain": "VBox(children=(...))",
                 WIDGET_MIME: {"model_id": "5f0c1c8e9d4a4f0e8c1b2a3d4e5f6a7b", "version_major": 2, "version_minor": 0}}


def _notebook(with_plot: bool = True) -> nbformat.NotebookNode:
    plot = interactive.Plot(go.Figure(go.Scatter(x=[1, 2], y=[3, 4], text=["</script><b>x"])), "demo", "a demo")
    widget = nbformat.v4.new_output("display_data", data=WIDGET_OUTPUT)
    cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("explorer", outputs=[widget])]
    if with_plot:
        cells.append(nbformat.v4.new_code_cell("plot", outputs=[
            nbformat.v4.new_output("display_data", data=plot._repr_mimebundle_())]))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}}}
    return nb


def test_clean_drops_widget_state_and_leaves_a_note() -> None:
    nb = clean(_notebook(), "02_decompose.ipynb")
    assert "widgets" not in nb.metadata
    assert nb.cells[1].outputs[0]["data"] == {"text/plain": WIDGET_NOTE}


def test_page_inlines_plotly_once_and_loads_nothing_from_elsewhere() -> None:
    nb = _notebook()
    page = export_html(nb, "Demo")
    assert page.count("plotly.js v") == 1 and page.count('id="wb-plot-2-0"') == 1
    assert re.search(r'<div class="wb-plot" data-wb-plotly="demo" id="wb-plot-2-0"', page)
    assert page.count(interactive.plotly_script()) == 1
    rest = page.replace(interactive.plotly_script(), "")  # (plotly.js itself names map tile servers)
    assert not re.search(r'<script[^>]+src=', rest) and "cdn.jsdelivr" not in rest and "unpkg" not in rest
    assert "</script><b>x" not in page
    assert export_html(nb, "Demo") == page  # fixed ids: the same notebook, the same page
    plain = export_html(_notebook(with_plot=False), "Demo")
    assert "plotly.js v" not in plain and "VBox" not in plain


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A report folder after the Decompose and Design stages of a planted schema."""
    from workbench import serde
    from workbench.decompose import decompose
    from workbench.decompose.model import save_decomposition
    from workbench.decompose.synthetic import planted
    from workbench.design import design, write_design

    p = planted(n_tables=40, n_domains=3, seed=6)
    d = decompose(p.schema, None, stability=0)
    serde.save(p.schema, tmp_path / "schema.json")
    save_decomposition(d, tmp_path / "decomposition.yaml")
    write_design(design(p.schema, d), tmp_path / "design")
    return tmp_path


def test_title_page_shows_the_service_map_and_matrix(folder: Path) -> None:
    plots = title.pictures(folder)
    assert plots.count(f"{interactive.ATTRIBUTE}=") == 2
    assert 'id="wb-title-service-map"' in plots and 'id="wb-title-dependency-matrix"' in plots
    assert "reference by id" in plots or "domain events" in plots  # coloured by the design's mechanisms
    assert title.pictures(folder) == plots
    page = title.page(title.TitleInfo("c", "e", "2026-01-01", "db"), [], [], [], [], plots)
    assert page.count("plotly.js v") == 1 and not re.search(r'<script[^>]+src=', page)
    assert page.index('id="figures"') < page.index('id="services-map"') < page.index('id="stages"')
    (folder / "decomposition.yaml").unlink()
    assert title.pictures(folder) == ""


# ---------------------------------------------------------------------------------- in a browser


def test_check_counts_a_plot_that_does_not_draw(tmp_path: Path) -> None:
    from workbench.reporting.browser import check_pages, find_chromium

    if find_chromium() is None:
        missing("chromium is not installed (make browser, or apt-get install chromium)")
    plot = interactive.Plot(go.Figure(go.Bar(x=["a", "b"], y=[1, 2])), "bars", "bars")
    good = tmp_path / "good.html"
    good.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'>{interactive.plotly_script()}</head>"
                    f"<body>{plot.html('wb-good')}</body></html>")
    bad = tmp_path / "bad.html"  # the plot's div without plotly.js: its script fails, nothing is drawn
    bad.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{plot.html('wb-bad')}</body></html>")
    found = check_pages([good, bad])
    assert found["good.html"] == []
    assert "plot wb-bad was not drawn" in found["bad.html"]
    assert any("Plotly is not defined" in e for e in found["bad.html"])
