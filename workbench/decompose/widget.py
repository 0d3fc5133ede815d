"""The explorer in JupyterLab: ipywidgets over :class:`workbench.decompose.explore.Explorer`.

Thin by design: every button calls one :class:`Explorer` method and redraws what changed; the
logic (moves, metrics, insight, saving) is the library's and is tested without a browser. Every
control carries a CSS class ``wb-...`` so a browser test can find it.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.decompose.explore import Explorer, Step
from workbench.errors import WorkbenchError

NEW = "(a new service)"
"""The target choice that creates a service named in the text box."""

_CSS = """<style>
.wb-explorer table.wb-grid { border-collapse: collapse; font-size: 12px; }
.wb-explorer table.wb-grid th, .wb-explorer table.wb-grid td { padding: 2px 8px; text-align: left;
  border-bottom: 1px solid #e3e8ee; vertical-align: top; }
.wb-explorer td.num { text-align: right; font-variant-numeric: tabular-nums; }
.wb-explorer .better { color: #2f7d3b; font-weight: bold; } .wb-explorer .worse { color: #b3261e; font-weight: bold; }
.wb-explorer .bar { display: inline-block; height: 10px; background: #3b6ea5; vertical-align: middle; }
.wb-explorer .own { background: #2f7d3b; }
.wb-explorer .error { color: #b3261e; } .wb-explorer .ok { color: #2f7d3b; }
.wb-explorer h4 { margin: 6px 0 4px; font-size: 13px; }
</style>"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else _e(value)


def metrics_html(explorer: Explorer) -> str:
    """The metrics table: start, before the last step, now, and the last step's change (green when better)."""
    rows = []
    for r in explorer.changes():
        change = r["change"]
        cls = ""
        if change and r["better"]:
            cls = "better" if change * r["better"] > 0 else "worse"
        sign = "+" if isinstance(change, int | float) and change > 0 else ""
        rows.append(f'<tr data-metric="{_e(r["metric"])}"><td>{_e(r["label"])}</td>'
                    f'<td class="num">{_num(r["start"])}</td><td class="num">{_num(r["before"])}</td>'
                    f'<td class="num now">{_num(r["now"])}</td>'
                    f'<td class="num change {cls}">{sign}{_num(change) if change else ""}</td></tr>')
    return ('<table class="wb-grid wb-metric-table"><thead><tr><th>metric</th><th>at start</th>'
            '<th>before last step</th><th>now</th><th>change</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def table_html(explorer: Explorer, table: str, ties: int = 12) -> str:
    """A table's card: service, role, confidence, reason, its pull towards each service, its evidence."""
    t = explorer.table(table)
    top = max(t.pull.values(), default=0.0) or 1.0
    pull = "".join(
        f'<tr><td>{_e(s)}</td><td><span class="bar{" own" if s == t.service else ""}" '
        f'style="width:{max(2, int(160 * v / top))}px"></span></td><td class="num">{v:.2f}</td></tr>'
        for s, v in list(t.pull.items())[:8])
    evidence = "".join(
        f"<tr><td>{_e(tie.table)}</td><td>{_e(tie.service or '-')}</td><td class=\"num\">{tie.weight:.2f}</td>"
        f"<td>{_e(tie.evidence)}</td><td>{'<br>'.join(_e(k) for k in tie.keys)}</td></tr>" for tie in t.ties[:ties])
    more = f"<p>... and {len(t.ties) - ties} weaker ties</p>" if len(t.ties) > ties else ""
    confidence = f"{t.confidence:.2f}" if t.confidence is not None else "-"
    return (f'<h4>{_e(t.table)}</h4><p>in <b>{_e(t.service or "no service")}</b>'
            f'{f" (was {_e(t.original)})" if t.original != t.service else ""}; role {_e(t.role)}; '
            f'confidence {confidence}; {_num(t.rows or 0)} rows<br><i>{_e(t.reason or "")}</i></p>'
            f'<table class="wb-grid"><thead><tr><th>pull towards</th><th></th><th>weight</th></tr></thead>'
            f'<tbody>{pull}</tbody></table>'
            f'<table class="wb-grid"><thead><tr><th>tied to</th><th>its service</th><th>weight</th><th>evidence</th>'
            f'<th>keys</th></tr></thead><tbody>{evidence}</tbody></table>{more}')


def service_html(explorer: Explorer, name: str, members: int = 10) -> str:
    """A service's card: size, ties to other services, and its tables least at home."""
    s = explorer.service(name)
    ties = ", ".join(f"{_e(o)} {v:.1f}" for o, v in list(s.ties.items())[:6]) or "none"
    fits = "".join(f"<tr><td>{_e(f.table)}</td><td class=\"num\">{f.inside:.2f}</td><td>{_e(f.best_other or '-')}</td>"
                   f"<td class=\"num\">{f.outside:.2f}</td></tr>" for f in s.members[:members])
    context = f"; context {_e(s.context)}" if s.context else ""
    return (f'<h4>{_e(s.name)}</h4><p>{_e(s.kind)}{context}; {len(s.tables)} tables, {_num(s.rows)} rows; '
            f"weight inside {s.internal_weight:.1f}<br>ties to: {ties}</p>"
            f'<table class="wb-grid"><thead><tr><th>least at home</th><th>pull inside</th><th>strongest outside</th>'
            f"<th>its pull</th></tr></thead><tbody>{fits}</tbody></table>")


class ExplorerWidget:
    """The explorer's controls, cards, metrics and pictures; display it as a notebook cell's result.

    Parameters
    ----------
    explorer : the state to edit.
    save_to : where Save writes (default ``decomposition.yaml``); editable in the widget.
    design : a design whose mechanisms colour the service map (optional).
    """

    def __init__(self, explorer: Explorer, save_to: str | Path | None = None, design: Any = None) -> None:
        import ipywidgets as w

        self.explorer = explorer
        self.design = design
        x = explorer
        layout = w.Layout(width="auto")
        self.service = w.Dropdown(options=x.services(), description="service", layout=w.Layout(width="340px"))
        self.table = w.Dropdown(options=x.tables(), description="table", layout=w.Layout(width="420px"))
        self.members = w.SelectMultiple(options=x.tables_of(self.service.value or ""), rows=8,
                                        description="its tables", layout=w.Layout(width="340px"))
        self.target = w.Dropdown(options=[*x.services(), NEW], description="to", layout=w.Layout(width="340px"))
        self.new_name = w.Text(placeholder="name of a new service", description="new name",
                               layout=w.Layout(width="340px"))
        fit = w.Layout(width="auto")
        self.move_button = w.Button(description="Move table", button_style="primary", tooltip="move the chosen table",
                                    layout=fit)
        self.group_button = w.Button(description="Move selected", tooltip="move the tables selected in the list",
                                     layout=fit)
        self.merge_button = w.Button(description="Merge service into target", layout=fit,
                                     tooltip="move every table of the chosen service into the target")
        self.split_button = w.Button(description="Split service", layout=fit,
                                     tooltip="selected tables (or an automatic bisection) become a new service")
        self.rename_button = w.Button(description="Rename service", layout=fit,
                                      tooltip="give the chosen service the name typed in 'new name'")
        self.undo_button = w.Button(description="Undo", icon="undo")
        self.redo_button = w.Button(description="Redo", icon="repeat")
        self.path = w.Text(value=str(save_to or "decomposition.yaml"), description="save to",
                           layout=w.Layout(width="520px"))
        self.save_button = w.Button(description="Save", button_style="success", icon="save")
        self.status = w.HTML()
        self.metrics = w.HTML()
        self.table_card = w.HTML()
        self.service_card = w.HTML()
        self.log = w.HTML()
        self.map_view, self.matrix_view, self.graph_view = w.Output(), w.Output(), w.Output()
        self.views = w.Tab(children=[self.map_view, self.matrix_view, self.graph_view])
        for i, title in enumerate(["Service map", "Dependency matrix", "Service & neighbours"]):
            self.views.set_title(i, title)
        self._stale = {0: True, 1: True, 2: True}
        self._anchor: Any = None
        self._select: str | None = None
        for widget, name in [(self.service, "service"), (self.table, "table"), (self.members, "members"),
                             (self.target, "target"), (self.new_name, "new-name"), (self.move_button, "move"),
                             (self.group_button, "move-group"), (self.merge_button, "merge"),
                             (self.split_button, "split"), (self.rename_button, "rename"),
                             (self.undo_button, "undo"), (self.redo_button, "redo"),
                             (self.path, "path"), (self.save_button, "save"), (self.status, "status"),
                             (self.metrics, "metrics"), (self.table_card, "table-card"),
                             (self.service_card, "service-card"), (self.views, "views"), (self.log, "log")]:
            widget.add_class(f"wb-{name}")
        self.move_button.on_click(self._handler(self._move))
        self.group_button.on_click(self._handler(self._move_group))
        self.merge_button.on_click(self._handler(self._merge))
        self.split_button.on_click(self._handler(self._split))
        self.rename_button.on_click(self._handler(self._rename))
        self.undo_button.on_click(self._handler(lambda: f"undone: {self.explorer.undo().label}"))
        self.redo_button.on_click(self._handler(lambda: f"redone: {self.explorer.redo().label}"))
        self.save_button.on_click(self._handler(self._save, changes=False))
        self.service.observe(lambda _: self._on_service(), names="value")
        self.table.observe(lambda _: self._on_table(), names="value")
        self.views.observe(lambda _: self._render_view(), names="selected_index")

        actions = w.VBox([
            w.HBox([self.table, self.move_button]),
            w.HBox([self.target, self.new_name]),
            w.HBox([self.service, self.group_button, self.merge_button, self.split_button, self.rename_button]),
            self.members,
            w.HBox([self.undo_button, self.redo_button, self.path, self.save_button]),
            self.status,
        ])
        cards = w.HBox([w.VBox([self.table_card], layout=w.Layout(width="58%")),
                        w.VBox([self.service_card], layout=w.Layout(width="42%"))])
        self.box = w.VBox([w.HTML(_CSS), actions, w.HTML("<h4>Metrics</h4>"), self.metrics, cards, self.log,
                           self.views], layout=layout)
        self.box.add_class("wb-explorer")
        self._refresh(changes=True)
        self._on_table()
        self._on_service()

    # ------------------------------------------------------------------------------ display

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------------------------ actions

    def _target(self) -> str:
        if self.target.value == NEW:
            name = self.new_name.value.strip()
            if not name:
                raise WorkbenchError("type the new service's name in 'new name'")
            return name
        return str(self.target.value)

    def _move(self) -> Step:
        return self.explorer.move(str(self.table.value), self._target())

    def _move_group(self) -> Step:
        if not self.members.value:
            raise WorkbenchError("select tables in the service's list first")
        return self.explorer.move(list(self.members.value), self._target())

    def _merge(self) -> Step:
        return self.explorer.merge(str(self.service.value), self._target())

    def _split(self) -> Step:
        name = self.new_name.value.strip() or None
        return self.explorer.split(str(self.service.value), list(self.members.value) or None, name)

    def _rename(self) -> Step:
        name = self.new_name.value.strip()
        if not name:
            raise WorkbenchError("type the service's new name in 'new name'")
        step = self.explorer.rename(str(self.service.value), name)
        self._select = name  # the renamed service stays the chosen one
        return step

    def _save(self) -> str:
        path = self.explorer.save(self.path.value.strip() or "decomposition.yaml")
        return f"saved {len(self.explorer.services())} services to {path.name}"

    def _handler(self, action: Callable[[], Step | str], changes: bool = True) -> Callable[[Any], None]:
        """Run ``action``; show the metrics and the outcome first (what the architect waits for), then
        redraw the rest; the status ends with the time the whole update took."""
        def run(_button: Any) -> None:
            began = time.perf_counter()
            try:
                done = action()
            except WorkbenchError as exc:
                self.status.value = f'<span class="error">{_e(exc)}</span>'
                return
            text = f'<span class="ok">{_e(done if isinstance(done, str) else done.label)}</span>'
            if changes:
                self.metrics.value = metrics_html(self.explorer)
                self.status.value = text
                self._refresh(changes=True)
            seconds = time.perf_counter() - began
            self.status.value = f'{text} <span class="took">({seconds:.2f} s)</span>'
        return run

    # ------------------------------------------------------------------------------ refresh

    def _refresh(self, changes: bool) -> None:
        x = self.explorer
        self.metrics.value = metrics_html(x)
        services = x.services()
        wanted, self._select = self._select or self.service.value, None
        chosen_service = wanted if wanted in services else (services[0] if services else None)
        chosen_target = self.target.value if self.target.value in [*services, NEW] else NEW
        if tuple(self.service.options) != tuple(services):
            self.service.options = services
        self.service.value = chosen_service
        if tuple(self.target.options) != (*services, NEW):
            self.target.options = [*services, NEW]
        self.target.value = chosen_target
        steps = x.steps
        self.log.value = ("<h4>Steps</h4><ol>" + "".join(f"<li>{_e(s.label)}</li>" for s in steps) + "</ol>") \
            if steps else ""
        self._on_table()
        self._on_service()
        self._stale = dict.fromkeys(self._stale, True)
        self._render_view()

    def _on_table(self) -> None:
        if self.table.value:
            self.table_card.value = table_html(self.explorer, str(self.table.value))

    def _on_service(self) -> None:
        name = self.service.value
        if name:
            self.members.options = self.explorer.tables_of(str(name))
            self.service_card.value = service_html(self.explorer, str(name))
            self._stale[2] = True
            if self.views.selected_index == 2:
                self._render_view()

    def _render_view(self) -> None:
        """Draw the visible picture if the state changed since it was drawn (the others wait)."""
        from workbench.decompose import maps
        from workbench.reporting.interactive import Plot

        index = self.views.selected_index or 0
        if not self._stale.get(index):
            return
        d = self.explorer.to_decomposition()
        view = (self.map_view, self.matrix_view, self.graph_view)[index]
        plot: Plot
        if index == 0:
            service_map = maps.service_map(d, self.explorer.graph, design=self.design, anchor=self._anchor)
            self._anchor, plot = service_map.anchor, service_map
        elif index == 1:
            plot = maps.dependency_matrix(d, self.explorer.graph)
        else:
            plot = maps.neighbourhood(d, self.explorer.graph, str(self.service.value))
        view.outputs = ()
        view.append_display_data(plot)
        self._stale[index] = False


def explore(source: Any, *, schema: Any = None, workload: Any = None, truth: Any = None, graph: Any = None,
            save_to: str | Path | None = None, design: Any = None) -> ExplorerWidget:
    """The explorer for a notebook cell, on the Decompose stage's result (``stage.run``), on a
    stage folder (path), or on a :class:`Decomposition` with its ``schema`` (and ``workload``, ``truth``).

    Save writes to ``save_to``: by default the stage's ``decomposition.yaml`` (result or folder),
    else ``decomposition.yaml`` in the working directory.
    """
    from workbench.decompose.model import Decomposition

    if isinstance(source, str | Path):
        folder = Path(source)
        explorer = Explorer.from_folder(folder, truth=truth)
        return ExplorerWidget(explorer, save_to or folder / "decomposition.yaml", design)
    if isinstance(source, Decomposition):
        if schema is None:
            raise WorkbenchError("explore(decomposition) needs the schema it decomposes: explore(d, schema=...)")
        return ExplorerWidget(Explorer(source, schema, workload, truth, graph=graph), save_to, design)
    inputs = source.inputs  # the Decompose stage's StageResult
    explorer = Explorer(source.decomposition, inputs.schema, inputs.workload, inputs.truth, graph=source.graph)
    return ExplorerWidget(explorer, save_to or source.paths["decomposition.yaml"], design)


__all__ = ["NEW", "ExplorerWidget", "explore", "metrics_html", "service_html", "table_html"]
