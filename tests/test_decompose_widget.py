"""The explorer's widgets without a browser: each button drives the Explorer and redraws what changed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.decompose import decompose
from workbench.decompose.explore import Explorer
from workbench.decompose.model import load_decomposition
from workbench.decompose.synthetic import planted
from workbench.decompose.widget import NEW, ExplorerWidget, explore
from workbench.reporting.interactive import MIME

pytest.importorskip("ipywidgets")


@pytest.fixture
def ui(tmp_path: Path) -> ExplorerWidget:
    p = planted(n_tables=50, n_domains=4, seed=9)
    d = decompose(p.schema, p.workload, stability=0)
    return ExplorerWidget(Explorer(d, p.schema, p.workload, p.truth), tmp_path / "decomposition.yaml")


def _now(ui: ExplorerWidget) -> dict[str, str]:
    return dict(re.findall(r'data-metric="([^"]+)">.*?<td class="num now">([^<]*)</td>', ui.metrics.value))


def test_move_updates_state_metrics_cards_and_map(ui: ExplorerWidget) -> None:
    x = ui.explorer
    table = x.tables_of(x.services()[0])[0]
    target = x.services()[1]
    before = _now(ui)
    assert {"services", "modularity", "cross_service_fks", "truth.ari", "workload.distributed_tx_share"} <= set(before)
    first_map = ui.map_view.outputs
    assert first_map and MIME in first_map[0]["data"]

    ui.table.value = table
    ui.target.value = target
    ui.move_button.click()
    assert x.service_of(table) == target
    assert "error" not in ui.status.value and f"move {table} to {target}" in ui.status.value
    after = _now(ui)
    assert after != before and after["services"] == before["services"]
    assert f"in <b>{target}</b>" in ui.table_card.value and "pinned" in ui.table_card.value
    assert ui.map_view.outputs and ui.map_view.outputs != first_map
    assert f"<li>move {table} to {target}</li>" in ui.log.value

    ui.undo_button.click()
    assert x.service_of(table) != target and _now(ui) == before and "undone" in ui.status.value


def test_new_service_group_move_merge_and_split(ui: ExplorerWidget) -> None:
    x = ui.explorer
    source = x.services()[0]
    ui.service.value = source
    chosen = tuple(x.tables_of(source)[:2])
    ui.members.value = chosen
    ui.target.value = NEW
    ui.new_name.value = "carved_out"
    ui.group_button.click()
    assert x.tables_of("carved_out") == sorted(chosen) and "carved_out" in ui.target.options

    ui.service.value = "carved_out"
    ui.target.value = source
    ui.merge_button.click()
    assert "carved_out" not in x.services() and "carved_out" not in ui.service.options

    ui.service.value = source
    ui.members.value = ()
    ui.new_name.value = ""
    ui.split_button.click()
    assert f"{source}_2" in x.services() and "split" in ui.status.value

    ui.new_name.value = "renamed"
    ui.rename_button.click()
    assert "renamed" in x.services() and source not in x.services() and ui.service.value == "renamed"


def test_refusals_show_in_the_status_line_and_change_nothing(ui: ExplorerWidget) -> None:
    x = ui.explorer
    before = x.assignment()
    ui.target.value = NEW
    ui.new_name.value = ""
    ui.move_button.click()
    assert "error" in ui.status.value and "new service" in ui.status.value
    ui.members.value = ()
    ui.group_button.click()
    assert "select tables" in ui.status.value
    ui.undo_button.click()
    assert "nothing to undo" in ui.status.value
    assert x.assignment() == before


def test_save_writes_the_edited_decomposition(ui: ExplorerWidget, tmp_path: Path) -> None:
    x = ui.explorer
    table = x.tables()[0]
    ui.table.value = table
    ui.target.value = NEW
    ui.new_name.value = "by hand"  # a service name becomes a schema name: refused at once, nothing moved
    ui.move_button.click()
    assert "not allowed" in ui.status.value and x.service_of(table) != "by hand"
    ui.new_name.value = "by_hand"
    ui.move_button.click()
    ui.save_button.click()
    assert "saved" in ui.status.value
    saved = load_decomposition(tmp_path / "decomposition.yaml")
    assert saved.service_of(table) == "by_hand" and saved.assignment() == x.assignment()
    ui.path.value = str(tmp_path / "missing" / "deeper" / "other.yaml")
    ui.save_button.click()
    assert (tmp_path / "missing" / "deeper" / "other.yaml").exists()


def test_the_other_pictures_are_drawn_when_their_tab_opens(ui: ExplorerWidget) -> None:
    assert not ui.matrix_view.outputs and not ui.graph_view.outputs
    ui.views.selected_index = 1
    assert MIME in ui.matrix_view.outputs[0]["data"]
    ui.views.selected_index = 2
    spec = ui.graph_view.outputs[0]["data"][MIME]
    assert ui.service.value in spec["layout"]["title"]["text"]
    ui.service.value = ui.explorer.services()[1]
    assert ui.explorer.services()[1] in ui.graph_view.outputs[0]["data"][MIME]["layout"]["title"]["text"]


def test_explore_takes_a_stage_folder(tmp_path: Path) -> None:
    from workbench import serde
    from workbench.decompose.model import save_decomposition

    p = planted(n_tables=30, n_domains=3, seed=4)
    d = decompose(p.schema, None, stability=0)
    serde.save(p.schema, tmp_path / "schema.json")
    save_decomposition(d, tmp_path / "decomposition.yaml")
    ui = explore(tmp_path)
    assert ui.path.value == str(tmp_path / "decomposition.yaml")
    assert ui.explorer.assignment() == d.assignment() and "truth.ari" not in _now(ui)
    assert "application/vnd.jupyter.widget-view+json" in ui._repr_mimebundle_()
