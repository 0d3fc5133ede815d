"""The report's title page: who and what it is for, summary figures, and links to every stage.

Figures are read from the stage artifacts in the report folder (never from the notebooks), so
the page stays right when a stage is rerun alone after a hand edit. Charts are PNGs embedded as
data URIs, written without matplotlib's version stamp: the folder can be mailed, and two renders
of the same input give the same bytes. The service map and the dependency matrix are interactive
(plotly, with plotly.js inline in the page: no network needed), with fixed element ids.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

FILE = "index.html"


@dataclass(frozen=True)
class Figure:
    """One summary figure.

    Attributes
    ----------
    stage : the stage whose artifact it comes from (groups the cards).
    key : stable id (``data-figure`` attribute on the page).
    label : what it counts, as shown under the number.
    value : the number.
    approximate : shown with a ``~`` (e.g. rows from catalog estimates).
    """

    stage: str
    key: str
    label: str
    value: int | float
    approximate: bool = False

    @property
    def text(self) -> str:
        """The number as shown.

        >>> Figure("assess", "rows", "rows", 1234567, approximate=True).text
        '~1,234,567'
        """
        number = f"{self.value:,}" if isinstance(self.value, int) else f"{self.value:,.2f}"
        return ("~" if self.approximate else "") + number


@dataclass(frozen=True)
class Chart:
    """A small bar chart: ``key`` (``data-chart`` attribute), title, and the PNG as a data URI."""

    stage: str
    key: str
    title: str
    uri: str


@dataclass(frozen=True)
class StageRow:
    """A stage's line in the contents: links are None when the folder has no such file."""

    stage: str
    title: str
    html: str | None
    notebook: str | None
    status: str
    note: str | None = None


@dataclass(frozen=True)
class TitleInfo:
    """The page head: client, engagement, date (ISO), and the database URL already masked."""

    client: str
    engagement: str
    date: str
    database: str


# ------------------------------------------------------------------------------------- charts


def _compact(value: float, _pos: object = None) -> str:
    """Axis label of a count: 950, 12k, 1.25M.

    >>> _compact(950), _compact(12000), _compact(1_250_000)
    ('950', '12k', '1.25M')
    """
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def bar_chart(labels: Sequence[str], values: Sequence[float], color: str = "#3b6ea5") -> str:
    """A horizontal bar chart as a PNG data URI (first label on top), deterministic bytes."""
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    fig = MplFigure(figsize=(5.4, 0.5 + 0.26 * max(1, len(labels))), dpi=80)
    ax = fig.add_subplot()
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, values, color=color)
    ax.set_yticks(positions, [str(label) for label in labels], fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(_compact))
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _top(counts: Mapping[str, float], n: int) -> tuple[list[str], list[float]]:
    """The ``n`` largest entries, ties by name: stable order."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [k for k, _ in items], [v for _, v in items]


# ------------------------------------------------------------------------ figures per artifact


def _assess(out: Path) -> tuple[list[Figure], list[Chart]]:
    from workbench import serde
    from workbench.schema import Schema

    figures: list[Figure] = []
    charts: list[Chart] = []
    if (out / "schema.json").exists():
        schema = serde.load(Schema, out / "schema.json")
        tables = schema.base_tables
        counted = [t for t in tables if t.row_count is not None]
        figures += [
            Figure("assess", "tables", "tables", len(tables)),
            Figure("assess", "views", "views", len(schema.views)),
            Figure("assess", "columns", "columns", sum(len(t.columns) for t in tables)),
            Figure("assess", "foreign_keys", "foreign keys", sum(len(t.foreign_keys) for t in tables)),
        ]
        if counted:
            rows = sum(t.row_count or 0 for t in counted)
            figures.append(
                Figure("assess", "rows", "rows", rows, approximate=not all(t.row_count_exact for t in counted))
            )
            labels, values = _top({t.key: float(t.row_count or 0) for t in counted}, 10)
            charts.append(Chart("assess", "largest_tables", "Largest tables (rows)", bar_chart(labels, values)))
    if (out / "lint.json").exists():
        from workbench.assess.lint.finding import Finding

        findings = serde.load(list[Finding], out / "lint.json")
        by_severity = Counter(f.severity for f in findings)
        figures.append(Figure("assess", "lint_findings", "lint findings", len(findings)))
        figures += [
            Figure("assess", f"lint_{s}", f"lint {s}s", by_severity[s]) for s in ("error", "warning") if by_severity[s]
        ]
        if findings:
            labels, values = _top(dict(Counter(f.rule for f in findings)), 10)
            charts.append(Chart("assess", "lint_rules", "Lint findings per rule",
                                bar_chart(labels, values, color="#b5523b")))
    return figures, charts


def _workload(out: Path) -> tuple[list[Figure], list[Chart]]:
    if not (out / "workload.json").exists():
        return [], []
    from workbench import serde
    from workbench.workload.model import Workload

    workload = serde.load(Workload, out / "workload.json")
    if not workload.statements:
        return [], []
    return [
        Figure("workload", "statements", "statements", workload.statements),
        Figure("workload", "templates", "statement templates", len(workload.templates)),
        Figure("workload", "transactions", "transactions", sum(t.count for t in workload.transactions)),
    ], []


def _decompose(out: Path) -> tuple[list[Figure], list[Chart]]:
    if not (out / "decomposition.yaml").exists():
        return [], []
    from workbench.decompose.model import load_decomposition

    decomposition = load_decomposition(out / "decomposition.yaml")
    sizes = {name: float(len(s.tables)) for name, s in decomposition.services.items()}
    figures = [Figure("decompose", "services", "services", len(decomposition.services))]
    if decomposition.ambiguous:
        figures.append(Figure("decompose", "ambiguous", "ambiguous tables", len(decomposition.ambiguous)))
    if decomposition.unassigned:
        figures.append(Figure("decompose", "unassigned", "unassigned tables", len(decomposition.unassigned)))
    labels, values = _top(sizes, 16)
    charts = [Chart("decompose", "service_sizes", "Tables per service", bar_chart(labels, values, "#4a8c5c"))]
    return figures, charts if sizes else []


def _design(out: Path) -> tuple[list[Figure], list[Chart]]:
    if not (out / "design" / "design.json").exists():
        return [], []
    from workbench.design.model import load_design

    design = load_design(out / "design")
    figures = [
        Figure("design", "dependencies", "cross-boundary dependencies", len(design.dependencies)),
        Figure("design", "events", "events", len(design.events)),
        Figure("design", "read_models", "read models", len(design.projections)),
        Figure("design", "sagas", "sagas", len(design.sagas)),
    ]
    mechanisms = {str(m): n for m, n in Counter(d.mechanism or "undecided" for d in design.dependencies).items()}
    labels, values = _top(mechanisms, 10)
    charts = [Chart("design", "mechanisms", "Dependencies per mechanism",
                    bar_chart(labels, values, "#7a5195"))] if mechanisms else []
    return figures, charts


def _plan(out: Path) -> tuple[list[Figure], list[Chart]]:
    if not (out / "plan.json").exists():
        return [], []
    from workbench.plan.model import load_plan

    plan = load_plan(out / "plan.json")
    return [
        Figure("plan", "waves", "migration waves", len(plan.waves)),
        Figure("plan", "risks", "risks", len(plan.risks)),
    ], []


def _sync(out: Path) -> tuple[list[Figure], list[Chart]]:
    """The follow (``design/sync``): its state in the label, services, row changes applied, lag."""
    folder = out / "design" / "sync"
    if not folder.is_dir():
        return [], []
    from workbench.sync.frames import load_view

    view = load_view(folder)
    if not view.exists:
        return [], []
    figures = [Figure("sync", "sync_tables", f"tables captured ({view.state})",
                      len(view.capture.tables) if view.capture else 0)]
    if view.status is not None:
        figures += [
            Figure("sync", "sync_services", "services followed", len(view.status.services)),
            Figure("sync", "sync_events", "row changes applied", sum(x.events for x in view.status.services)),
            Figure("sync", "sync_lag", "lag at the last report (s)", float(view.status.lag_seconds or 0.0)),
        ]
    return figures, []


READERS: tuple[Callable[[Path], tuple[list[Figure], list[Chart]]], ...] = (
    _assess,
    _workload,
    _decompose,
    _design,
    _plan,
    _sync,
)
"""One reader per artifact family, in stage order; each returns nothing when its artifact is absent."""

GROUPS = {"assess": "Legacy database", "workload": "Workload", "decompose": "Services", "design": "Target design",
          "plan": "Migration plan", "sync": "Follow (change capture)"}


def summary(out: str | Path) -> tuple[list[Figure], list[Chart]]:
    """Summary figures and charts of whatever stage artifacts ``out`` holds.

    Raises
    ------
    ArtifactError
        When an artifact is malformed (e.g. a hand-edited ``decomposition.yaml``); names the file.
    """
    figures: list[Figure] = []
    charts: list[Chart] = []
    for reader in READERS:
        f, c = reader(Path(out))
        figures += f
        charts += c
    return figures, charts


def pictures(out: str | Path) -> str:
    """The service map (coloured by mechanism once ``design/`` exists) and the dependency matrix, as
    HTML for the page; empty without ``schema.json`` and ``decomposition.yaml``.

    Raises
    ------
    ArtifactError
        When an artifact is malformed; names the file.
    """
    out = Path(out)
    if not ((out / "schema.json").exists() and (out / "decomposition.yaml").exists()):
        return ""
    from workbench import serde
    from workbench.decompose import maps
    from workbench.decompose.model import load_decomposition
    from workbench.schema import Schema
    from workbench.workload.model import Workload

    schema = serde.load(Schema, out / "schema.json")
    workload = serde.load(Workload, out / "workload.json") if (out / "workload.json").exists() else None
    decomposition = load_decomposition(out / "decomposition.yaml")
    if not decomposition.services:
        return ""
    design = None
    if (out / "design" / "design.json").exists():
        from workbench.design.model import load_design

        design = load_design(out / "design")
    graph = maps.graph_for(decomposition, schema, workload)
    parts = []
    for plot, caption in ((maps.service_map(decomposition, graph, design=design), "Service map"),
                          (maps.dependency_matrix(decomposition, graph), "Dependency structure matrix")):
        parts.append(f'<figure class="plot" data-plot="{_e(plot.key)}"><figcaption>{_e(caption)}</figcaption>'
                     f"{plot.html(f'wb-title-{plot.key}')}</figure>")
    return "\n".join(parts)


# ----------------------------------------------------------------------------------------- page

_CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0; color: #1d2733; background: #ffffff; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; }
header.title h1 { font-size: 30px; margin: 0 0 4px; }
header.title p.engagement { font-size: 18px; margin: 0 0 14px; color: #44515f; }
header.title dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; font-size: 14px; }
header.title dt { color: #6a7785; }
header.title dd { margin: 0; }
h2 { font-size: 20px; margin: 30px 0 12px; border-bottom: 2px solid #e3e8ee; padding-bottom: 4px; }
h3 { font-size: 14px; margin: 14px 0 8px; color: #44515f; text-transform: uppercase; letter-spacing: 0.04em; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { background: #eef3f8; border-radius: 6px; padding: 10px 14px; min-width: 110px; }
.card .value { font-size: 26px; font-weight: bold; color: #1f4f7f; }
.card .label { font-size: 13px; color: #44515f; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; margin-top: 18px; }
figure.chart { margin: 0; }
figure.chart img { display: block; }
figure.chart figcaption, figure.plot figcaption {
  font-size: 13px; font-weight: bold; color: #44515f; margin-bottom: 4px; }
figure.plot { margin: 0 0 24px; overflow-x: auto; }
table.stages { border-collapse: collapse; width: 100%; font-size: 14px; }
table.stages th, table.stages td { text-align: left; padding: 6px 10px; \
border-bottom: 1px solid #e3e8ee; vertical-align: top; }
.status { font-weight: bold; }
.status-ok { color: #2f7d3b; } .status-failed { color: #b3261e; } .status-stale, .status-skipped { color: #9a6700; }
.status-not-rendered, .status-not-available { color: #6a7785; }
ul.files { columns: 3; font-size: 14px; }
footer { margin-top: 36px; font-size: 12px; color: #6a7785; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _figures_html(figures: list[Figure], charts: list[Chart]) -> str:
    if not figures:
        return '<p class="empty">No stage artifacts in this folder yet.</p>'
    parts = []
    for stage in dict.fromkeys(f.stage for f in figures):
        cards = "".join(
            f'<div class="card" data-figure="{_e(f.key)}"><div class="value">{_e(f.text)}</div>'
            f'<div class="label">{_e(f.label)}</div></div>'
            for f in figures if f.stage == stage
        )  # fmt: skip
        parts.append(f'<div class="group" data-stage="{_e(stage)}"><h3>{_e(GROUPS.get(stage, stage))}</h3>'
                     f'<div class="cards">{cards}</div></div>')
    if charts:
        parts.append('<div class="charts">' + "".join(
            f'<figure class="chart" data-chart="{_e(c.key)}"><figcaption>{_e(c.title)}</figcaption>'
            f'<img src="{c.uri}" alt="{_e(c.title)}"></figure>'
            for c in charts
        ) + "</div>")  # fmt: skip
    return "\n".join(parts)


def _stages_html(rows: list[StageRow]) -> str:
    lines = []
    for i, row in enumerate(rows, 1):
        title = f'<a href="{_e(row.html)}">{_e(row.title)}</a>' if row.html else _e(row.title)
        notebook = f'<a href="{_e(row.notebook)}">{_e(row.notebook)}</a>' if row.notebook else ""
        status = row.status.replace(" ", "-")
        note = f"<br><span class=\"note\">{_e(row.note)}</span>" if row.note else ""
        lines.append(f'<tr data-stage="{_e(row.stage)}"><td>{i}</td><td>{title}</td><td>{notebook}</td>'
                     f'<td><span class="status status-{_e(status)}">{_e(row.status)}</span>{note}</td></tr>')
    return ('<table class="stages"><thead><tr><th>#</th><th>Stage</th><th>Notebook</th><th>Status</th></tr></thead>'
            f"<tbody>{''.join(lines)}</tbody></table>")


def page(info: TitleInfo, rows: list[StageRow], figures: list[Figure], charts: list[Chart], files: list[str],
         plots: str = "") -> str:
    """The title page's HTML: self-contained (inline CSS, data-URI images; with ``plots``, from
    :func:`pictures`, plotly.js inline and nothing loaded from elsewhere)."""
    from workbench.reporting.interactive import plotly_script

    head_js = plotly_script() if plots else ""
    plot_section = (f'<section id="services-map" aria-label="Service map and dependency matrix">\n<h2>Services</h2>\n'
                    f"{plots}\n</section>\n") if plots else ""
    file_items = "".join(f'<li><a href="{_e(name)}">{_e(name)}</a></li>' for name in files)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(info.client)}: {_e(info.engagement)}</title>
<style>{_CSS}</style>
{head_js}
</head>
<body>
<main>
<header class="title">
<h1>{_e(info.client)}</h1>
<p class="engagement">{_e(info.engagement)}</p>
<dl>
<dt>Date</dt><dd><time datetime="{_e(info.date)}">{_e(info.date)}</time></dd>
<dt>Database</dt><dd><code>{_e(info.database)}</code></dd>
</dl>
</header>
<section id="figures" aria-label="Summary figures">
<h2>Summary</h2>
{_figures_html(figures, charts)}
</section>
{plot_section}<section id="stages">
<h2>Stages</h2>
{_stages_html(rows)}
</section>
<section id="files">
<h2>Files</h2>
<ul class="files">{file_items}</ul>
</section>
<footer>Rendered by the schema-per-service workbench. Pages without code; \
the executed notebooks sit beside them.</footer>
</main>
</body>
</html>
"""


def write(out: str | Path, info: TitleInfo, rows: list[StageRow], files: list[str]) -> Path:
    """Write ``out/index.html`` from the folder's artifacts; return its path."""
    from workbench import serde

    out = Path(out)
    figures, charts = summary(out)
    return serde.write_text(out / FILE, page(info, rows, figures, charts, files, pictures(out)))
