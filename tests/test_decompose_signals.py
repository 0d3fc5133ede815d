"""Each signal on small inputs whose expected values follow from the definitions."""

from __future__ import annotations

import pytest

from workbench.assess.implied import implied_references
from workbench.decompose import signals as sig
from workbench.decompose.graph import Weights, build_graph, describe_edge, edges_frame
from workbench.decompose.tokens import normal, singular, tokens
from workbench.errors import WorkbenchError
from workbench.schema import Column, ForeignKey, Schema, Table
from workbench.workload.model import StatementTemplate, Transaction, Workload


def test_tokens() -> None:
    assert tokens("tblOrderItems") == ["order", "item"]
    assert tokens("SalesOrderHeader") == ["sale", "order", "header"]
    assert singular("categories") == "category" and singular("status") == "status"
    assert normal("customer_id") == normal("CustomerID")


def _schema() -> Schema:
    return Schema("sqlite", "x", tables=[
        Table("customers", columns=[Column("id", "INTEGER"), Column("name", "TEXT")], primary_key=["id"]),
        Table("orders", columns=[Column("id", "INTEGER"), Column("customer_id", "INTEGER")], primary_key=["id"],
              foreign_keys=[ForeignKey(["customer_id"], "customers", ["id"])]),
        Table("order_lines", columns=[Column("order_id", "INTEGER"), Column("line_no", "INTEGER")],
              primary_key=["order_id", "line_no"], foreign_keys=[ForeignKey(["order_id"], "orders", ["id"])]),
        # no declared key: customer_id only by name
        Table("web_sessions", columns=[Column("id", "INTEGER"), Column("customer_id", "INTEGER")], primary_key=["id"]),
        Table("categories", columns=[Column("id", "INTEGER"), Column("parent_id", "INTEGER")], primary_key=["id"],
              foreign_keys=[ForeignKey(["parent_id"], "categories", ["id"])]),
    ])


def test_fk_edges_strength_and_self_reference() -> None:
    edges = sig.fk_edges(_schema())
    assert edges[("customers", "orders")] == 1.0
    assert edges[("order_lines", "orders")] == 2.0  # identifying: the key is part of the child's PK
    assert all(a != b for a, b in edges)            # categories.parent_id is not an edge


def test_implied_fk_edges() -> None:
    implied = sig.implied_fk_edges(_schema())
    assert ("customers", "web_sessions") in implied
    assert ("customers", "orders") not in implied  # declared already


def test_implied_prefers_the_table_the_column_names() -> None:
    schema = Schema("sqlite", "x", tables=[
        Table("customers", columns=[Column("id", "INTEGER")], primary_key=["id"]),
        Table("rpt_customer_ltv", columns=[Column("customer_id", "INTEGER")], primary_key=["customer_id"]),
        Table("web_sessions", columns=[Column("id", "INTEGER"), Column("customer_id", "INTEGER")], primary_key=["id"]),
    ])
    refs = {(c, p) for c, p, _ in sig.implied_references(schema)}
    assert ("web_sessions", "customers") in refs
    assert ("web_sessions", "rpt_customer_ltv") not in refs
    lint = {(r.table, r.referred_table) for r in implied_references(schema)}
    assert refs == lint  # the decomposition and the lint report see the same implied keys


def test_join_affinity_follows_the_reference_formula() -> None:
    wl = Workload(templates=[
        StatementTemplate("1", "q1", "select", calls=10, tables_read=["a", "b"], joins=[("a", "b")]),
        StatementTemplate("2", "q2", "select", calls=30, tables_read=["a"]),
        StatementTemplate("3", "q3", "select", calls=60, tables_read=["b"]),
    ])
    # static: joins 1 / (sql(a) 2 + sql(b) 2 - 1) = 1/3; dynamic: 10 / (40 + 70 - 10) = 0.1.
    assert sig.join_affinity(wl)[("a", "b")] == pytest.approx(0.5 * (1 / 3) + 0.5 * 0.1)


def test_cowrite_and_coaccess_are_jaccard_over_transactions() -> None:
    wl = Workload(transactions=[
        Transaction([], ["a", "b"], count=3),
        Transaction([], ["a"], count=1),
        Transaction(["b"], ["c"], count=6),
    ])
    # co-write a,b: static 1/2 (shapes writing a or b: 2), dynamic 3/4.
    assert sig.cowrite_affinity(wl)[("a", "b")] == pytest.approx(0.5 * 0.5 + 0.5 * 0.75)
    assert ("b", "c") not in sig.cowrite_affinity(wl)
    # co-access b,c: static 1/2, dynamic 6/9.
    assert sig.coaccess_affinity(wl)[("b", "c")] == pytest.approx(0.5 * 0.5 + 0.5 * 6 / 9)


def test_name_similarity_prefers_the_shared_leading_word() -> None:
    names = ["orders", "order_lines", "order_notes", "audit_log", "search_log", "customers", "customer_groups",
             "products", "product_images", "warehouses"]
    schema = Schema("sqlite", "x", tables=[Table(n, columns=[Column("id", "INTEGER")], primary_key=["id"])
                                           for n in names])
    sims = sig.name_similarity(schema)
    assert sims.get(("order_lines", "orders"), 0) > sims.get(("audit_log", "search_log"), 0)
    assert ("customer_groups", "customers") in sims
    assert ("customers", "warehouses") not in sims


def test_build_graph_keeps_signals_apart_and_combines_them() -> None:
    wl = Workload(transactions=[Transaction([], ["customers", "orders"], count=2)])
    w = Weights(fk=1.0, cowrite=2.0, coaccess=0.0, name=0.0, join=0.0, implied_fk=0.5)
    g = build_graph(_schema(), wl, w)
    edge = g.edges["customers", "orders"]
    assert edge["fk"] == 1.0 and edge["cowrite"] == pytest.approx(1.0)
    assert edge["weight"] == pytest.approx(1.0 * 1.0 + 2.0 * 1.0)
    assert g.edges["customers", "web_sessions"]["weight"] == pytest.approx(0.5)
    assert "foreign key" in describe_edge(edge)
    frame = edges_frame(g)
    assert list(frame.iloc[0][["a", "b"]]) == ["customers", "orders"]  # heaviest first
    assert "categories" in g and g.degree("categories") == 0


def test_weights_reject_unknown_or_negative() -> None:
    with pytest.raises(WorkbenchError, match="unknown weight 'fkk'"):
        Weights.from_mapping({"fkk": 1})
    with pytest.raises(WorkbenchError, match="non-negative"):
        Weights.from_mapping({"fk": -1})
    assert Weights.from_mapping({"name": 2}).name == 2.0


def test_bookkeeping_keys_count_little() -> None:
    users = Table("users", columns=[Column("id", "INTEGER")], primary_key=["id"])
    notes = Table("invoices", columns=[Column("id", "INTEGER"), Column("created_by", "INTEGER"),
                                       Column("owner_id", "INTEGER")], primary_key=["id"],
                  foreign_keys=[ForeignKey(["created_by"], "users", ["id"])])
    assert sig.fk_edges(Schema("sqlite", "x", tables=[users, notes]))[("invoices", "users")] == sig.BOOKKEEPING_STRENGTH
    assert sig.bookkeeping("write_uid") and not sig.bookkeeping("owner_id")


def test_schema_edges_tie_tables_to_their_schema_centre() -> None:
    def t(schema: str, name: str, *fks: str) -> Table:
        cols = [Column("id", "INTEGER"), *(Column(f"{p}_id", "INTEGER") for p in fks)]
        return Table(name, schema=schema, columns=cols,
                     primary_key=["id"], foreign_keys=[ForeignKey([f"{p}_id"], p, ["id"], referred_schema=schema)
                                                       for p in fks])

    tables = [t("sales", "orders"), t("sales", "lines", "orders"), t("sales", "quotes", "orders"),
              t("hr", "staff"), t("hr", "teams", "staff"), t("hr", "leave", "staff")]
    edges = sig.schema_edges(Schema("postgresql", "x", tables=tables), per_table=1)
    assert edges == {("sales.lines", "sales.orders"): 1.0, ("sales.orders", "sales.quotes"): 1.0,
                     ("hr.staff", "hr.teams"): 1.0, ("hr.leave", "hr.staff"): 1.0}
    assert sig.schema_edges(Schema("sqlite", "x", tables=[t("public", "a"), t("public", "b")])) == {}
