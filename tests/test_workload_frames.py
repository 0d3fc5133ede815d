"""The pandas helpers, figures and the notebook step, on small hand-built workloads."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from workbench import serde
from workbench.errors import WorkbenchError
from workbench.schema import Schema, Table
from workbench.workload import frames, plots
from workbench.workload.model import ParseIssue, StatementTemplate, Transaction, Workload
from workbench.workload.stage import assess_workload, headline, sample_domains


def tpl(fp: str, calls: int, read: Sequence[str] = (), written: Sequence[str] = (),
        joins: Sequence[tuple[str, str]] = (), unknown: Sequence[str] = ()) -> StatementTemplate:
    return StatementTemplate(fp, f"-- {fp}", "select" if not written else "update", calls, 0.0, list(read),
                             list(written), list(joins), list(unknown))  # fmt: skip


@pytest.fixture
def workload() -> Workload:
    return Workload(
        statements=116,
        templates=[
            tpl("a", 100, read=["orders", "customers"], joins=[("customers", "orders")]),
            tpl("b", 10, written=["orders"], read=["stock"]),
            tpl("c", 5, written=["stock", "audit"], unknown=["tmp_x"]),
            tpl("d", 1, read=["orders", "stock"], joins=[("orders", "stock")], unknown=["tmp_x", "zz"]),
        ],
        transactions=[
            Transaction(["customers"], ["orders", "stock", "audit"], 7),
            Transaction(["orders"], [], 50),
            Transaction([], ["stock", "audit"], 3),
        ],
        issues=[ParseIssue("unparseable", 4, ["SELEKT ?"]), ParseIssue("binary", 9, [])],
    )


def test_table_access(workload: Workload) -> None:
    access = frames.table_access(workload).set_index("table")
    # orders: read by a (100) and d (1), written by b (10)
    assert access.loc["orders", ["reads", "writes", "total", "templates"]].tolist() == [101, 10, 111, 3]
    assert access.loc["stock", ["reads", "writes"]].tolist() == [11, 5]
    assert access.loc["audit", "read_share"] == 0.0
    assert list(access.index[:2]) == ["orders", "customers"]  # hottest first


def test_read_write_ratio(workload: Workload) -> None:
    ratio = frames.read_write_ratio(workload).set_index("table")
    assert ratio.loc["customers", "read_share"] == 1.0 and math.isnan(ratio.loc["customers", "reads_per_write"])
    assert ratio.loc["orders", "reads_per_write"] == pytest.approx(10.1)


def test_pairs(workload: Workload) -> None:
    joins = frames.join_pairs(workload)
    assert joins.values.tolist() == [["customers", "orders", 100, 1], ["orders", "stock", 1, 1]]
    cowrites = frames.co_write_pairs(workload)
    assert cowrites.values.tolist() == [["audit", "stock", 10], ["audit", "orders", 7], ["orders", "stock", 7]]


def test_co_access_matrix(workload: Workload) -> None:
    m = frames.co_access_matrix(workload)
    assert (m.values == m.values.T).all()
    assert m.loc["orders", "orders"] == 57 and m.loc["customers", "stock"] == 7 and m.loc["audit", "stock"] == 10
    only = frames.co_access_matrix(workload, tables=["audit", "orders"])
    assert only.shape == (2, 2) and only.loc["audit", "orders"] == 7
    no_tx = Workload(templates=workload.templates)  # aggregated source: statements stand in
    assert frames.co_access_matrix(no_tx).loc["customers", "orders"] == 100


def test_domains(workload: Workload) -> None:
    domains = {"orders": "sales", "customers": "crm", "stock": "inventory", "audit": "platform"}
    spans = frames.transaction_domains(workload, domains)
    assert spans["count"].tolist() == [50, 7, 3]
    multi = frames.multi_domain_transactions(workload, domains, writes_only=True)
    assert multi["count"].tolist() == [7, 3]
    assert multi.loc[0, "write_domains"] == "inventory, platform, sales"
    assert frames.multi_domain_transactions(workload, domains)["count"].tolist() == [7, 3]
    assert frames.transaction_domains(workload, {})["write_domains"].tolist()[1] == "?"


def test_unknown_and_issues(workload: Workload) -> None:
    assert frames.unknown_tables(workload).values.tolist() == [["tmp_x", 2, 6], ["zz", 1, 1]]
    assert frames.issues_frame(workload)["kind"].tolist() == ["binary", "unparseable"]
    assert frames.templates_frame(workload)["fingerprint"].tolist() == ["a", "b", "c", "d"]


def test_empty_workload_frames_and_figures() -> None:
    empty = Workload()
    for frame in (frames.table_access(empty), frames.join_pairs(empty), frames.co_write_pairs(empty),
                  frames.unknown_tables(empty), frames.issues_frame(empty), frames.templates_frame(empty)):  # fmt: skip
        assert frame.empty
    assert frames.co_access_matrix(empty).empty
    for fig in (plots.hottest_tables(empty), plots.read_write_mix(empty), plots.co_access_heatmap(empty),
                plots.domain_spans(empty, {})):  # fmt: skip
        FigureCanvasAgg(fig).print_png(io.BytesIO())


def test_figures_render(workload: Workload) -> None:
    domains = {"orders": "sales", "customers": "crm", "stock": "inventory", "audit": "platform"}
    for fig in (plots.hottest_tables(workload, top=2), plots.read_write_mix(workload),
                plots.co_access_heatmap(workload, top=3), plots.domain_spans(workload, domains)):  # fmt: skip
        buffer = io.BytesIO()
        FigureCanvasAgg(fig).print_png(buffer)
        assert buffer.getbuffer().nbytes > 1000
    assert len(plots.hottest_tables(workload, top=2).axes[0].patches) == 4  # 2 tables x (reads, writes)
    heat = plots.co_access_heatmap(workload, top=3).axes[0]
    assert [t.get_text() for t in heat.get_xticklabels()] == ["audit", "orders", "stock"]


def test_stage_for_the_sample_and_for_a_client(tmp_path: Path) -> None:
    from workbench.sample.tables import DOMAINS

    sample = Schema(dialect="sqlite", database="x", tables=[Table(n) for n in DOMAINS])
    assert sample_domains(sample) == DOMAINS
    w = assess_workload(sample, tmp_path, statements=1500, seed=3)
    assert serde.load(Workload, tmp_path / "workload.json") == w
    assert w.statements >= 1500 and w.transactions and "simulated" in w.sources[0]
    assert "write tables of more than one domain" in headline(w, DOMAINS)

    client = Schema(dialect="postgresql", database="x", tables=[Table("orders"), Table("stock")])
    assert sample_domains(client) is None
    assert assess_workload(client, tmp_path / "client").statements == 0
    log = tmp_path / "log.jsonl"
    log.write_text('{"sql": "UPDATE orders SET x = 1"}\n{"sql": "SELECT * FROM stock JOIN orders ON true"}\n')
    w = assess_workload(client, None, logs=[str(log)], log_format="jsonl")
    assert w.statements == 2 and headline(w).startswith("2 statements")
    with pytest.raises(WorkbenchError, match="format"):
        assess_workload(client, None, logs=[str(log)])
