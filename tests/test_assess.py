"""Profile, FK graph, graph statistics, narrative, plots and the stage helper, on hand-built schemas."""

from __future__ import annotations

import contextlib
import io
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from workbench import serde
from workbench.assess import plots
from workbench.assess.graph import fk_graph, graph_stats
from workbench.assess.lint import Finding, lint
from workbench.assess.narrative import narrative
from workbench.assess.profile import profile_tables, summary
from workbench.assess.stage import RULES, assess_schema, findings_by_rule, save
from workbench.schema import Column, ForeignKey, Index, Schema, Table


def t(
    name: str,
    *cols: str,
    fks: tuple[tuple[str, str], ...] = (),
    pk: bool = True,
    rows: int | None = None,
    idx: tuple[str, ...] = (),
) -> Table:
    """A table with an ``id`` key (unless ``pk=False``), INT columns, FKs as (column, target) to ``target.id``."""
    names = list(cols) + [c for c, _ in fks if c not in cols]
    return Table(
        name,
        columns=[Column("id", "INTEGER", False)] + [Column(c, "INTEGER") for c in names],
        primary_key=["id"] if pk else [],
        foreign_keys=[ForeignKey([c], target, ["id"]) for c, target in fks],
        indexes=[Index(f"ix_{name}_{c}", [c]) for c in idx],
        row_count=rows,
    )


def s(*tables: Table) -> Schema:
    return Schema("sqlite", "sqlite://", tables=sorted(tables, key=lambda x: x.key))


SHOP = s(
    t("customers", rows=500),
    t("orders", fks=(("customer_id", "customers"), ("invoice_id", "invoices")), rows=5000, idx=("customer_id",)),
    t("invoices", fks=(("order_id", "orders"),), rows=4000),
    t("categories", fks=(("parent_id", "categories"),), rows=20),
    t("audit", "what", pk=False, rows=None),
    Table("v_orders", kind="view", columns=[Column("id", "INTEGER")]),
)


def test_profile_tables_one_row_per_base_table_biggest_first() -> None:
    frame = profile_tables(SHOP)
    assert list(frame["table"]) == ["orders", "invoices", "customers", "categories", "audit"]
    row = frame.set_index("table")
    assert row.loc["orders", "fks_out"] == 2 and row.loc["orders", "fk_index_coverage"] == 0.5
    assert row.loc["customers", "fks_in"] == 1 and row.loc["customers", "referrers"] == 1
    assert row.loc["categories", "fks_in"] == 1 and row.loc["categories", "referrers"] == 0  # itself only
    assert pd.isna(row.loc["customers", "fk_index_coverage"])
    assert not row.loc["audit", "has_pk"] and row.loc["audit", "pk_columns"] == ""
    assert pd.isna(row.loc["audit", "rows"])
    assert row.loc["orders", "indexes"] == 1 and row.loc["orders", "columns"] == 3


def test_fk_graph_nodes_edges_and_external_targets() -> None:
    twice = t("transfers", fks=(("from_id", "accounts"), ("to_id", "accounts"), ("ledger_id", "ledgers")))
    graph = fk_graph(s(t("accounts"), twice))
    assert set(graph.nodes) == {"accounts", "transfers", "ledgers"}
    edge = graph.edges["transfers", "accounts"]
    assert edge["weight"] == 2 and [fk["columns"] for fk in edge["foreign_keys"]] == [["from_id"], ["to_id"]]
    assert graph.nodes["ledgers"]["external"] and not graph.nodes["accounts"]["external"]


def test_fk_graph_implied_edges_are_flagged() -> None:
    schema = s(t("customers"), t("orders", "customer_id"))
    assert fk_graph(schema).number_of_edges() == 0
    graph = fk_graph(schema, implied=True)
    assert graph.edges["orders", "customers"]["implied"] is True


def test_graph_stats_on_a_known_shape() -> None:
    stats = graph_stats(SHOP)
    assert stats.tables == 5
    assert stats.foreign_keys == 4 and stats.edges == 3
    assert stats.cycles == [["invoices", "orders"]]
    assert stats.self_references == ["categories"]
    assert stats.isolated == ["audit", "categories"]
    assert stats.components == [["customers", "invoices", "orders"]]
    assert stats.max_in_degree == 1 and stats.max_out_degree == 2
    assert stats.mean_degree == pytest.approx(2 * 3 / 5)


def test_hubs_ranked_by_referrers_with_their_communities() -> None:
    tables = [t("big"), t("small")]
    tables += [t(f"a{i}", fks=(("big_id", "big"),)) for i in range(4)]
    tables += [t(f"b{i}", fks=(("big_id", "big"), ("small_id", "small"))) for i in range(2)]
    stats = graph_stats(s(*tables))
    assert [(h.table, h.referrers) for h in stats.hubs] == [("big", 6), ("small", 2)]
    assert all(1 <= h.communities <= h.referrers for h in stats.hubs)


def test_cycle_search_is_bounded() -> None:
    n = 7  # a complete digraph on 7 tables has thousands of cycles
    tables = [t(f"t{i}", fks=tuple((f"t{j}_id", f"t{j}") for j in range(n) if j != i)) for i in range(n)]
    stats = graph_stats(s(*tables), max_cycles=50)
    assert len(stats.cycles) == 50 and stats.cycles_truncated
    assert all(c[0] == min(c) for c in stats.cycles)


def test_summary_figures() -> None:
    figures = summary(SHOP)
    assert (figures.tables, figures.views, figures.tables_without_pk) == (5, 1, 1)
    assert figures.rows == 500 + 5000 + 4000 + 20
    assert figures.foreign_keys == 4 and figures.fks_without_index == 3
    assert figures.cycles == 1 and figures.self_references == 1
    assert figures.largest_tables[0] == ("orders", 5000)


def test_narrative_sentences_follow_the_data() -> None:
    clean = s(t("customers", rows=10), t("orders", fks=(("customer_id", "customers"),), idx=("customer_id",), rows=99))
    text_shop, text_clean = narrative(SHOP), narrative(clean)
    assert text_shop != text_clean
    assert "invoices -> orders -> invoices" in text_shop and "No FK cycle" not in text_shop
    assert "No FK cycle" in text_clean and "cycle (e.g." not in text_clean
    assert "no primary key (audit)" in text_shop and "All 2 tables have a primary key" in text_clean
    assert "9,520 rows" in text_shop and "109 rows" in text_clean
    for text in (text_shop, text_clean):
        assert text.count("**For**") == 1 and text.count("**Against**") == 1 and "On these figures" in text


def test_narrative_changes_with_findings_alone() -> None:
    with_poly = narrative(
        SHOP, findings=[Finding("polymorphic_associations", "warning", "notes", ["entity_type", "entity_id"], "x")]
    )
    assert "notes.entity_type" in with_poly and "notes.entity_type" not in narrative(SHOP)


def _synthetic(n_tables: int = 75, seed: int = 3) -> Schema:
    """Domains of related tables, a few shared parents, some unrelated tables: a mid-size legacy schema."""
    rnd = random.Random(seed)
    tables: list[Table] = []
    heads: list[str] = []
    while len(tables) < n_tables - 8:
        d = len(heads)
        size = rnd.randint(4, 10)
        names = [f"dom{d}_table{i}" for i in range(size)]
        heads.append(names[0])
        for i, name in enumerate(names):
            fks = [(f"p{j}_id", names[j]) for j in rnd.sample(range(i), min(i, rnd.randint(1, 2)))] if i else []
            if heads[:-1] and rnd.random() < 0.3:
                fks.append(("shared_id", rnd.choice(heads[:-1])))
            tables.append(t(name, fks=tuple(fks), rows=int(10 ** rnd.uniform(0, 6))))
    tables += [t(f"loose_table{i}", rows=rnd.randint(0, 100)) for i in range(n_tables - len(tables))]
    return s(*tables)


def _png(fig) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=30)
    return buf.getvalue()


def test_fk_graph_figure_is_legible_at_75_tables() -> None:
    schema = _synthetic()
    fig = plots.fk_graph_figure(schema)
    fig.set_dpi(50)  # overlaps do not depend on resolution; fewer pixels, faster test
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    labels = [x for x in fig.axes[0].texts if x.get_text() in {tb.key for tb in schema.tables}]
    assert len(labels) == 75
    boxes = [x.get_window_extent(renderer) for x in labels]
    overlapping = {i for i in range(len(boxes)) for j in range(len(boxes)) if i != j and boxes[i].overlaps(boxes[j])}
    assert len(overlapping) <= 0.1 * len(labels), f"{len(overlapping)} of {len(labels)} labels overlap"
    inside = fig.bbox
    assert all(inside.contains(b.x0, b.y0) and inside.contains(b.x1, b.y1) for b in boxes)


_DIGEST = """
import hashlib, sys
sys.path.insert(0, {tests!r})
from test_assess import _synthetic
from workbench.assess.graph import communities, fk_graph, graph_stats
from workbench.assess.lint import lint
from workbench.assess.narrative import narrative
from workbench.assess.plots import _community_layout
schema = _synthetic(40, seed=9)
graph = fk_graph(schema)
pos = sorted((k, [round(float(x), 6) for x in v]) for k, v in _community_layout(graph, communities(graph)).items())
print(hashlib.sha256(repr((pos, graph_stats(schema), lint(schema), narrative(schema))).encode()).hexdigest())
"""


def test_layout_stats_lint_and_prose_do_not_depend_on_hash_seed() -> None:
    """Kernels start without PYTHONHASHSEED: set iteration order must never reach an output."""
    code = _DIGEST.format(tests=str(Path(__file__).parent))
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"  # surely not this process's seed
    child = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONHASHSEED": seed},
        capture_output=True,
        text=True,
        check=True,
    )
    here = io.StringIO()
    with contextlib.redirect_stdout(here):
        exec(compile(code, "<digest>", "exec"), {})
    assert child.stdout == here.getvalue()


def test_graph_figure_is_deterministic() -> None:
    schema = _synthetic(30, seed=5)
    stats = graph_stats(schema)
    assert _png(plots.fk_graph_figure(schema, stats)) == _png(plots.fk_graph_figure(schema, stats))


def test_plots_say_when_there_is_nothing_to_draw() -> None:
    empty = s(t("only"))
    figures = {
        "row counts unknown": plots.size_distribution(empty),
        "no table is referenced": plots.hub_ranking(graph_stats(empty)),
    }
    for text, fig in figures.items():
        assert any(text in x.get_text() for ax in fig.axes for x in ax.texts)
    assert plots.fk_graph_figure(empty).axes[0].texts[0].get_text() == "only"


def test_hub_ranking_bars_follow_the_ranking() -> None:
    stats = graph_stats(_synthetic(40, seed=9))
    ax = plots.hub_ranking(stats, top=5).axes[0]
    widths = [bar.get_width() for bar in ax.patches][::-1]
    assert widths == [h.referrers for h in stats.hubs[:5]]
    size_ax = plots.size_distribution(_synthetic(40, seed=9), top=7).axes[1]
    assert size_ax.get_xscale() == "log" and len(size_ax.patches) == 7


def test_stage_artifacts_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = assess_schema(SHOP)
    paths = save(result, tmp_path)
    assert [p.name for p in paths] == ["schema.json", "profile.csv", "lint.json"]
    assert serde.load(Schema, tmp_path / "schema.json") == SHOP
    assert pd.read_csv(tmp_path / "profile.csv")["table"].tolist() == result.profile["table"].tolist()
    assert [Finding(**f) for f in serde.load(list, tmp_path / "lint.json")] == lint(SHOP)
    by_rule = findings_by_rule(result.findings)
    assert by_rule["rule"].tolist() == list(RULES)
    assert by_rule["total"].sum() == len(result.findings)
    assert math.isclose(by_rule.set_index("rule").loc["fk_cycles", "warning"], 1)


def test_reference_tables_small_narrow_and_pointing_only_at_reference_data() -> None:
    from workbench.assess.graph import reference_tables

    wide = Table("warehouses", columns=[Column(f"c{i}", "INT") for i in range(12)], primary_key=["c0"], row_count=6)
    tables = [
        t("currencies", rows=16),
        t("countries", fks=(("currency_id", "currencies"),), rows=24),
        t("stores", fks=(("country_id", "countries"), ("manager_id", "staff")), rows=12),
        t("staff", rows=200_000),
        wide,
        t(
            "orders",
            fks=(
                ("store_id", "stores"),
                ("staff_id", "staff"),
                ("warehouse_id", "warehouses"),
                ("currency_id", "currencies"),
            ),
        ),
        t("unused_codes", rows=3),
        t("units"),  # row count unknown: judged on its width
        t("items", fks=(("unit_id", "units"),), rows=5000),
    ]
    assert reference_tables(fk_graph(s(*tables))) == {"currencies", "countries", "units"}
