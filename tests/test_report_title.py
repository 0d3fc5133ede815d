"""The title page: summary figures read from the stage artifacts, charts embedded, deterministic, escaped."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from workbench import serde
from workbench.assess.lint.finding import Finding
from workbench.decompose.model import Decomposition, Service, save_decomposition
from workbench.design import design, load_design, write_design
from workbench.errors import ArtifactError
from workbench.plan import plan, write_plan
from workbench.reporting import title
from workbench.schema import Column, ForeignKey, Schema, Table
from workbench.workload.model import StatementTemplate, Transaction, Workload

INFO = title.TitleInfo("ACME <Corp>", "Split & conquer", "2026-01-15", "postgresql://app:***@db/erp")


def _schema() -> Schema:
    ident = Column("id", "INTEGER", False)
    return Schema(dialect="postgresql", database="postgresql://app:***@db/erp", tables=[
        Table("customers", columns=[ident, Column("name", "TEXT")], primary_key=["id"], row_count=1200,
              row_count_exact=True),
        Table("orders", columns=[ident, Column("customer_id", "INTEGER")], primary_key=["id"], row_count=54000,
              row_count_exact=True, foreign_keys=[ForeignKey(["customer_id"], "customers", ["id"])]),
        Table("order_lines", columns=[ident, Column("order_id", "INTEGER"), Column("qty", "INTEGER")],
              primary_key=["id"], row_count=210000, row_count_exact=True,
              foreign_keys=[ForeignKey(["order_id"], "orders", ["id"])]),
        Table("big_orders", kind="view", columns=[ident]),
    ])  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A report folder holding every artifact family, built through the library's own writers."""
    schema = _schema()
    serde.save(schema, tmp_path / "schema.json")
    serde.save([Finding("fk_without_index", "warning", "orders", ["customer_id"]),
                Finding("fk_without_index", "warning", "order_lines", ["order_id"]),
                Finding("no_index", "error", "customers")], tmp_path / "lint.json")  # fmt: skip
    serde.save(Workload(statements=5000, templates=[StatementTemplate("f1", "SELECT 1", "select", calls=5000)],
                        transactions=[Transaction(["orders"], ["order_lines"], count=700)]), tmp_path / "workload.json")
    decomposition = Decomposition(services={"crm": Service(["customers"]), "sales": Service(["orders", "order_lines"])})
    save_decomposition(decomposition, tmp_path / "decomposition.yaml")
    result = design(schema, decomposition)
    write_design(result, tmp_path / "design")
    write_plan(plan(result), tmp_path / "plan.json")
    return tmp_path


def _figures(out: Path) -> dict[str, str]:
    figures, _ = title.summary(out)
    return {f.key: f.text for f in figures}


def test_figures_come_from_the_artifacts(folder: Path) -> None:
    figures = _figures(folder)
    assert figures["tables"] == "3" and figures["views"] == "1" and figures["columns"] == "7"
    assert figures["foreign_keys"] == "2" and figures["rows"] == "265,200"
    assert figures["lint_findings"] == "3" and figures["lint_error"] == "1" and figures["lint_warning"] == "2"
    assert figures["statements"] == "5,000" and figures["transactions"] == "700"
    assert figures["services"] == "2"
    assert figures["dependencies"] == str(len(load_design(folder / "design").dependencies)) != "0"
    assert int(figures["waves"]) == len(serde.load(dict, folder / "plan.json")["waves"]) >= 1


def test_estimated_rows_are_marked(folder: Path) -> None:
    schema = _schema()
    schema.tables[0].row_count_exact = False
    serde.save(schema, folder / "schema.json")
    assert _figures(folder)["rows"] == "~265,200"


def test_page_embeds_deterministic_charts_and_escapes_text(folder: Path) -> None:
    figures, charts = title.summary(folder)
    assert [c.key for c in charts] == ["largest_tables", "lint_rules", "service_sizes", "mechanisms"]
    for chart in charts:
        png = base64.b64decode(chart.uri.removeprefix("data:image/png;base64,"))
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"Software" not in png and b"Matplotlib" not in png
    assert [c.uri for c in title.summary(folder)[1]] == [c.uri for c in charts]
    page = title.page(INFO, [title.StageRow("assess", "Assess", "01_assess.html", "01_assess.ipynb", "ok")], figures,
                      charts, ["schema.json"])  # fmt: skip
    assert "ACME &lt;Corp&gt;" in page and "<Corp>" not in page and "Split &amp; conquer" in page
    assert re.search(r'data-figure="tables"><div class="value">3</div>', page)
    assert page.count('<img src="data:image/png;base64,') == 4
    assert not re.search(r'(src|href)="(https?:)?//', page) and "<script" not in page
    assert '<a href="01_assess.html">Assess</a>' in page


def test_only_present_artifacts_count(tmp_path: Path) -> None:
    assert title.summary(tmp_path) == ([], [])
    assert "No stage artifacts in this folder yet." in title.page(INFO, [], [], [], [])
    serde.save(_schema(), tmp_path / "schema.json")
    assert set(_figures(tmp_path)) == {"tables", "views", "columns", "foreign_keys", "rows"}


def test_malformed_artifact_is_named(folder: Path) -> None:
    (folder / "decomposition.yaml").write_text("services: [not, a, mapping]\n")
    with pytest.raises(ArtifactError, match="decomposition.yaml"):
        title.summary(folder)


def test_write_puts_the_page_in_the_folder(folder: Path) -> None:
    path = title.write(folder, INFO, [], ["schema.json"])
    assert path == folder / "index.html"
    assert '<time datetime="2026-01-15">' in path.read_text()
