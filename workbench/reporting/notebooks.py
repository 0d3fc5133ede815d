"""Executed stage notebooks: made reproducible and secret-free, exported as offline HTML pages.

papermill leaves run-dependent traces in what it writes (timings per cell, absolute paths, a
random id on the injected-parameters cell); :func:`clean` removes them so two renders of the
same input give the same bytes. :func:`export_html` drops the code and the CDN scripts of
nbconvert's lab template, so a page opens offline from a mail attachment.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import nbformat

from workbench.db import scrub

VOLATILE = ("start_time", "end_time", "duration")
"""papermill metadata keys that change on every run."""

INJECTED_ID = "injected-parameters"
"""Fixed id of papermill's injected cell (nbformat gives new cells a random one)."""

_ERROR_TAG = "papermill-error-cell-tag"

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

WIDGET_NOTE = ("Interactive explorer: open this notebook in JupyterLab and run it to move tables, merge and split "
               "services, and save the result.")
"""What a widget output becomes in a rendered notebook: a widget needs its kernel, and its state holds
random ids that would make two renders differ."""

_OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{{ super() }}{{ resources.wb_head_js }}{%- endblock html_head_js -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}
<style type="text/css">
nav.wb-nav { font-family: sans-serif; font-size: 14px; padding: 8px 0 12px; border-bottom: 1px solid #ddd; }
nav.wb-nav a { margin-right: 1.5em; }
div.wb-alert { font-family: sans-serif; margin: 12px 0; padding: 10px 14px; border-left: 6px solid #b3261e;
               background: #fdecea; color: #5f1410; }
div.wb-error { font-family: sans-serif; padding: 8px 12px; border-left: 4px solid #b3261e; background: #fdecea;
               color: #5f1410; white-space: pre-wrap; }
</style>
{% endblock extra_css %}
{%- block body_header -%}
{{ super() }}
{%- if resources.wb_nav %}
{{ resources.wb_nav }}
{%- endif %}
{%- if resources.wb_alert %}
{{ resources.wb_alert }}
{%- endif %}
{%- endblock body_header -%}
"""


def clean(nb: nbformat.NotebookNode, source_name: str) -> nbformat.NotebookNode:
    """Strip run-dependent metadata and scrub known secrets from every output, in place.

    Parameters
    ----------
    nb : an executed notebook.
    source_name : file name of the stage notebook (recorded instead of absolute paths).
    """
    meta = nb.metadata.get("papermill", {})
    for key in VOLATILE:
        meta.pop(key, None)
    nb.metadata.pop("widgets", None)  # live widget state: random model ids, useless without the kernel
    if "input_path" in meta:
        meta["input_path"] = f"notebooks/{source_name}"
    if "output_path" in meta:
        meta["output_path"] = source_name
    errors = 0
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if INJECTED_ID in tags:
            cell["id"] = INJECTED_ID
        elif _ERROR_TAG in tags:  # papermill's two markers around a failed cell
            errors += 1
            cell["id"] = f"papermill-error-{errors}"
        cell.metadata.pop("execution", None)
        for key in VOLATILE:
            cell.metadata.get("papermill", {}).pop(key, None)
        for output in cell.get("outputs", []):
            if WIDGET_MIME in output.get("data", {}):
                output["data"] = {"text/plain": WIDGET_NOTE}
                output["metadata"] = {}
            if "text" in output:
                output["text"] = scrub(output["text"])
            if "evalue" in output:
                output["evalue"] = scrub(output["evalue"])
            if "traceback" in output:
                output["traceback"] = [scrub(line) for line in output["traceback"]]
            for mime, value in output.get("data", {}).items():
                if isinstance(value, str) and (
                    mime.startswith("text/") or mime.endswith(("json", "javascript", "svg+xml"))
                ):
                    output["data"][mime] = scrub(value)
    return nb


def navigation(links: list[tuple[str, str]]) -> str:
    """The link bar on top of every stage page: ``(label, href)`` pairs, escaped.

    >>> navigation([("Report", "index.html")])
    '<nav class="wb-nav"><a href="index.html">Report</a></nav>'
    """
    items = "".join(f'<a href="{html.escape(href)}">{html.escape(label)}</a>' for label, href in links)
    return f'<nav class="wb-nav">{items}</nav>'


def readable_error(output: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """An error output as a reader sees it on a page: the error's name and message, no traceback.

    >>> out = readable_error(nbformat.v4.new_output("error", ename="TargetError", evalue="<x> exists",
    ...                                             traceback=["Traceback ..."]))
    >>> out.data["text/html"]
    '<div class="wb-error"><strong>This step failed.</strong> TargetError: &lt;x&gt; exists</div>'
    """
    message = scrub(str(output.get("evalue", ""))).strip()
    name = html.escape(str(output.get("ename", "Error")))
    text = html.escape(message[:2000] + ("..." if len(message) > 2000 else ""))
    body = f'<div class="wb-error"><strong>This step failed.</strong> {name}{": " + text if text else ""}</div>'
    return nbformat.v4.new_output("display_data", data={"text/html": body, "text/plain": f"{name}: {message}"})


def alert(text: str) -> str:
    """The banner on top of a failed stage's page.

    >>> alert("check failed: <rows>")
    '<div class="wb-alert"><strong>This stage failed.</strong> check failed: &lt;rows&gt;</div>'
    """
    return f'<div class="wb-alert"><strong>This stage failed.</strong> {html.escape(scrub(text))}</div>'


def export_html(nb: nbformat.NotebookNode, title: str, nav: str = "", failure: str | None = None) -> str:
    """The notebook as a standalone page: Markdown and outputs only, images inline, no CDN script.

    stderr output (library warnings, progress bars) is diagnostics for the architect, not report
    content: it stays in the executed notebook and is left out of the page. Math in Markdown stays
    as TeX source (MathJax would need the network). A failed stage's page opens with ``failure``
    in a banner, and a cell that raised shows its error's name and message, not the traceback
    (which stays in the executed notebook beside the page). Interactive plots (plotly) get their
    HTML form here, and the page one inline copy of plotly.js; widgets (live only with a kernel)
    are left out.
    """
    import copy

    import jinja2
    from nbconvert import HTMLExporter

    from workbench.reporting import interactive

    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    plots = interactive.outputs_to_html(nb)
    for cell in nb.cells:
        if "outputs" in cell:
            cell.outputs = [
                readable_error(o) if o.get("output_type") == "error" else o for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                and WIDGET_MIME not in o.get("data", {})
            ]

    exporter = HTMLExporter(
        template_name="lab", template_file="wb_offline.html.j2",
        extra_loaders=[jinja2.DictLoader({"wb_offline.html.j2": _OFFLINE_TEMPLATE})],
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
    )  # fmt: skip
    resources = {"metadata": {"name": title}, "wb_nav": nav, "wb_alert": alert(failure) if failure else "",
                 "wb_head_js": interactive.plotly_script() if plots else ""}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def declared_parameters(path: str | Path) -> dict[str, Any]:
    """Parameters the notebook's ``parameters`` cell declares, with their default source text.

    A notebook receives only the engagement's values it declares: papermill would inject any
    name (with a mere warning), which hides typos and clutters the injected cell.
    """
    import papermill

    return {name: info.get("default") for name, info in papermill.inspect_notebook(str(path)).items()}


def cell_error(nb: nbformat.NotebookNode) -> str | None:
    """``"cell N: Ename: message"`` for the first cell that raised, else None (first line of the message)."""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                message = scrub(str(output.get("evalue", ""))).strip().splitlines()
                label = cell.get("id") or str(index)
                return f"cell {index} ({label}): {output.get('ename', 'Error')}" + (
                    f": {message[0]}" if message else ""
                )
    return None
