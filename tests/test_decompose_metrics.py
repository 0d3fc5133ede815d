"""Metrics against values worked out by hand (never by re-running the code under test)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from workbench.decompose import metrics as m
from workbench.errors import ArtifactError, NotFoundError
from workbench.schema import Column, ForeignKey, Schema, Table
from workbench.workload.model import StatementTemplate, Transaction, Workload


def _labels(*groups: str) -> dict[str, str]:
    """``_labels("ab", "c")`` -> {"a": "0", "b": "0", "c": "1"}."""
    return {t: str(i) for i, g in enumerate(groups) for t in g}


def test_ari_known_values() -> None:
    # Contingency of {ab|cd} vs {ab|c|d}: index = 1, rows = 2, cols = 1, C(4,2) = 6,
    # expected = 2*1/6 = 1/3, max = 1.5  ->  (1 - 1/3) / (1.5 - 1/3) = 4/7.
    assert m.ari(_labels("ab", "cd"), _labels("ab", "c", "d")) == pytest.approx(4 / 7)
    # {ab|cd} vs {ac|bd}: index 0, expected 2*2/6 = 2/3, max 2 -> -0.5.
    assert m.ari(_labels("ab", "cd"), _labels("ac", "bd")) == pytest.approx(-0.5)
    assert m.ari(_labels("abc", "de"), _labels("de", "abc")) == pytest.approx(1.0)  # names do not matter


def test_nmi_known_values() -> None:
    # B refines A: MI = H(A) = ln 2, H(B) = 1.5 ln 2 -> NMI = ln2 / (1.25 ln 2) = 0.8.
    assert m.nmi(_labels("ab", "cd"), _labels("ab", "c", "d")) == pytest.approx(0.8)
    assert m.nmi(_labels("ab", "cd"), _labels("ac", "bd")) == pytest.approx(0.0, abs=1e-12)
    assert m.nmi(_labels("abcd"), _labels("abcd")) == 1.0


def test_mojofm_hand_examples() -> None:
    # One move (c from the first cluster to the second) turns A into B; max mno(X, B) = n - g with
    # B's sizes [2, 3] giving g = 2, so 5 - 2 = 3 -> MoJoFM = (1 - 1/3) * 100.
    assert m.mojofm(_labels("abc", "de"), _labels("ab", "cde")) == pytest.approx(200 / 3)
    # A splits B's only cluster in two: one join. B = one cluster of 4: g = 1, max = 3 -> 66.67.
    assert m.mojofm(_labels("ab", "cd"), _labels("abcd")) == pytest.approx(200 / 3)
    # Everything in one cluster against truth {ab|cd}: two moves... mno = 2 (move c, d out), max = 4 - 2 = 2 -> 0.
    assert m.mojofm(_labels("abcd"), _labels("ab", "cd")) == pytest.approx(0.0)
    assert m.mojofm(_labels("ab", "cd"), _labels("cd", "ab")) == 100.0


def test_metrics_need_common_tables() -> None:
    with pytest.raises(ArtifactError, match="share no table"):
        m.ari({"a": "x"}, {"b": "y"})


def test_load_truth(tmp_path: Path) -> None:
    path = tmp_path / "domains.csv"
    path.write_text("table,domain\norders,ordering\ncustomers,crm\n")
    assert m.load_truth(path) == {"orders": "ordering", "customers": "crm"}
    bad = tmp_path / "bad.csv"
    bad.write_text("name,service\nx,y\n")
    with pytest.raises(ArtifactError, match="table,domain"):
        m.load_truth(bad)
    with pytest.raises(NotFoundError, match="nope.csv"):
        m.load_truth(tmp_path / "nope.csv")


def _schema() -> Schema:
    def t(name: str, *fks: str) -> Table:
        cols = [Column("id", "INTEGER"), *(Column(f"{p}_id", "INTEGER") for p in fks)]
        return Table(name, columns=cols, primary_key=["id"],
                     foreign_keys=[ForeignKey([f"{p}_id"], p, ["id"]) for p in fks])

    return Schema("sqlite", "x", tables=[t("customers"), t("orders", "customers"), t("order_lines", "orders"),
                                          t("payments", "orders"), t("parts", "parts")])


def test_cross_service_fks_counts_declared_keys_across_services() -> None:
    where = {"customers": "crm", "orders": "sales", "order_lines": "sales", "payments": "billing", "parts": "x"}
    counts = m.cross_service_fks(_schema(), where)
    # 3 keys between distinct tables (the self-reference is not a boundary): orders->customers and
    # payments->orders cross, order_lines->orders does not.
    assert counts["declared"] == 3 and counts["cross_declared"] == 2


def _workload() -> Workload:
    return Workload(
        templates=[
            StatementTemplate("1", "q1", "select", calls=30, tables_read=["orders", "customers"],
                              joins=[("customers", "orders")]),
            StatementTemplate("2", "q2", "select", calls=10, tables_read=["orders", "order_lines"],
                              joins=[("order_lines", "orders")]),
            StatementTemplate("3", "q3", "update", calls=60, tables_written=["orders"]),
        ],
        transactions=[
            Transaction(["customers"], ["orders", "order_lines"], count=6),  # reads another service
            Transaction([], ["orders", "payments"], count=3),               # writes two services
            Transaction([], ["customers"], count=1),
        ])


def test_workload_costs_by_hand() -> None:
    where = {"customers": "crm", "orders": "sales", "order_lines": "sales", "payments": "billing"}
    costs = m.workload_costs(_workload(), where)
    assert costs["transactions"] == 10
    assert costs["distributed_tx_share"] == pytest.approx(0.9)      # 6 + 3 of 10
    assert costs["distributed_write_share"] == pytest.approx(0.3)   # 3 of 10
    assert costs["distributed_read_share"] == pytest.approx(0.6)    # 6 of 10
    assert costs["cross_join_share"] == pytest.approx(0.75)         # 30 of 40 joining calls
    assert costs["cross_read_statement_share"] == pytest.approx(0.75)
    assert costs["cross_write_statement_share"] == 0.0


def test_transactional_purity_by_hand() -> None:
    where = {"customers": "crm", "orders": "sales", "order_lines": "sales", "payments": "billing"}
    # Homes: tx1 -> sales (2 written there), tx2 -> billing/sales tie broken by name -> billing,
    # tx3 -> crm. Touching tables: customers {sales: 6, crm: 1}, orders {sales: 6, billing: 3},
    # order_lines {sales: 6}, payments {billing: 3}. Entropies normalised by ln 3 (3 services).
    def h(*counts: float) -> float:
        total = sum(counts)
        return -sum(c / total * math.log(c / total) for c in counts) / math.log(3)

    expected = 1 - (h(6, 1) + h(6, 3) + 0 + 0) / 4
    assert m.transactional_purity(_workload(), where) == pytest.approx(expected)
    assert m.transactional_purity(_workload(), dict.fromkeys(where, "one")) == 1.0


def test_cohesion_coupling_by_hand() -> None:
    wl = Workload(transactions=[Transaction([], ["a", "b"]), Transaction(["c"], ["a"])])
    where = {"a": "s1", "b": "s1", "c": "s2", "d": "s2"}
    out = m.cohesion_coupling(wl, where)
    # cohesion s1: f1 touches 2/2, f2 touches 1/2 -> 0.75; s2: f2 touches 1/2 -> 0.5; mean 0.625.
    assert out["cohesion"] == pytest.approx(0.625)
    # coupling s1: tables of s2 seen from s1 = {c}: 1/2; s2: tables of s1 seen = {a}: 1/2; mean 0.5.
    assert out["coupling"] == pytest.approx(0.5)


def test_complexity_counts_other_mode_access() -> None:
    wl = Workload(transactions=[Transaction(["c"], ["a"]), Transaction(["a"], ["c"]), Transaction(["a"], ["b"])])
    where = {"a": "s1", "b": "s1", "c": "s2"}
    out = m.complexity(wl, where)
    # Distributed: f0 (a, c) and f1 (a, c); f2 stays in s1. f0 writes a, f1 reads a -> each counts 1.
    assert out == {"distributed_functionalities": 2, "complexity": 1.0}


def test_size_distribution_and_structural_modularity() -> None:
    sizes = m.size_distribution({"a": "x", "b": "x", "c": "x", "d": "y"})
    assert sizes["sizes"] == [3, 1] and sizes["ned"] == pytest.approx(1.0)  # 1 singleton + 3 > half of 4
    where = {"customers": "crm", "orders": "sales", "order_lines": "sales", "payments": "sales", "parts": "x"}
    sm = m.structural_modularity(_schema(), where)
    # edges inside sales: orders-order_lines, orders-payments (2 of 3^2); crm 0/1; x 0/1.
    # between crm-sales: 1 edge -> 1/(2*1*3); 3 services -> 3 pairs.
    assert sm == pytest.approx((2 / 9) / 3 - (1 / 6) / 3)
