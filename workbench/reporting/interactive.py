"""Interactive plots (plotly) that work in JupyterLab, in the exported report pages and offline.

A :class:`Plot` displays in JupyterLab through plotly's own renderer (the ``jupyterlab-plotly``
extension shipped inside the ``plotly`` wheel): the notebook stores only the figure's JSON. For
the report, :func:`html` turns that JSON into a ``<div>`` and a ``Plotly.newPlot`` call with an id
given by the caller (the exporter numbers them by cell and output, so two renders give the same
bytes), and :func:`plotly_script` is the one inline copy of plotly.js a page needs: no CDN, so a
page works offline and as a mail attachment.

Why plotly: its JupyterLab renderer comes with the Python package (no lab build, no second
extension package), a figure is plain JSON that the same code embeds in a notebook, an nbconvert
page and the title page, and hover, zoom and pan need nothing of ours.

>>> import plotly.graph_objects as go
>>> p = Plot(go.Figure(go.Scatter(x=[1], y=[2])), "demo", "a demo")
>>> sorted(p._repr_mimebundle_())
['application/vnd.plotly.v1+json', 'text/plain']
>>> 'id="wb-demo-1"' in html(p.spec(), "wb-demo-1", "demo")
True
"""

from __future__ import annotations

import html as htmlmod
import json
from functools import lru_cache
from typing import Any

MIME = "application/vnd.plotly.v1+json"
"""The MIME type of plotly's JupyterLab renderer."""

ATTRIBUTE = "data-wb-plotly"
"""Marks a plot's ``<div>`` in a page (its value: the plot's key); the browser check counts them."""

CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": False, "scrollZoom": False,
                          "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
"""Plot options: no plotly logo link (a page must not point outside), zoom by dragging a box."""


class Plot:
    """A plotly figure that displays interactively in JupyterLab and exports into report pages.

    Attributes
    ----------
    figure : the ``plotly.graph_objects.Figure``.
    key : a short stable name (``service-map``), used in the page's element ids.
    summary : one line shown where the plot cannot be (plain-text outputs, nbval).
    """

    def __init__(self, figure: Any, key: str, summary: str) -> None:
        self.figure = figure
        self.key = key
        self.summary = summary

    def spec(self) -> dict[str, Any]:
        """``{"data", "layout", "config"}`` as plain JSON data (numeric arrays as plotly's typed arrays)."""
        spec: dict[str, Any] = json.loads(self.figure.to_json(validate=False))
        spec["config"] = dict(CONFIG)
        spec.setdefault("layout", {})["meta"] = {"key": self.key}
        return spec

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {MIME: self.spec(), "text/plain": self.summary}

    def html(self, div_id: str) -> str:
        """The plot as a ``<div>`` and its script (needs :func:`plotly_script` earlier in the page)."""
        return html(self.spec(), div_id, self.key)


def _script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``</script>``, ``<!--`` or stray ampersands.

    >>> _script_json({"name": "</script><b>&"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def html(spec: dict[str, Any], div_id: str, key: str = "plot") -> str:
    """A plot's ``<div>`` (fixed size from its layout) and the script drawing it, from :meth:`Plot.spec`."""
    layout = spec.get("layout", {})
    size = "".join(f"{dim}:{int(layout[dim])}px;" for dim in ("width", "height")
                   if isinstance(layout.get(dim), int | float))
    config = spec.get("config", CONFIG)
    ident, key = htmlmod.escape(div_id, quote=True), htmlmod.escape(key, quote=True)
    data = _script_json(spec.get("data", []))
    return (f'<div class="wb-plot" id="{ident}" {ATTRIBUTE}="{key}" style="{size}"></div>\n'
            f'<script type="text/javascript">Plotly.newPlot({_script_json(div_id)}, {data}, '
            f"{_script_json(layout)}, {_script_json(config)});</script>")


@lru_cache(maxsize=1)
def plotly_script() -> str:
    """plotly.js inline in one ``<script>`` element (about 5 MB): the page needs nothing else."""
    from plotly.offline import get_plotlyjs

    return f'<script type="text/javascript">{get_plotlyjs()}</script>'


def outputs_to_html(nb: Any) -> bool:
    """Give every plotly output of an executed notebook an HTML form for nbconvert, in place.

    Ids are ``wb-plot-<cell>-<output>``: the same notebook gives the same page. Returns whether
    any plot was found (the page then needs :func:`plotly_script`).
    """
    found = False
    for c, cell in enumerate(nb.cells):
        for o, output in enumerate(cell.get("outputs", [])):
            data = output.get("data", {})
            if MIME in data and "text/html" not in data:
                meta = data[MIME].get("layout", {}).get("meta")
                key = str(meta.get("key", "plot")) if isinstance(meta, dict) else "plot"
                data["text/html"] = html(data[MIME], f"wb-plot-{c}-{o}", key)
                found = True
    return found


__all__ = ["ATTRIBUTE", "CONFIG", "MIME", "Plot", "html", "outputs_to_html", "plotly_script"]
