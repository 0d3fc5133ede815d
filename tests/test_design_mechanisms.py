"""Each decision rule fires on the smallest input that calls for it, and not on its opposite."""

from __future__ import annotations

import pytest

from workbench.decompose.model import Decomposition, Service
from workbench.design import design
from workbench.design.dependencies import catalog
from workbench.design.mechanisms import Rules, decide_foreign_key, decide_read, decide_write
from workbench.errors import ArtifactError, WorkbenchError
from workbench.schema import Column, ForeignKey, Index, Schema, Table
from workbench.workload.model import StatementTemplate, Transaction, Workload


def _t(name: str, *cols: str, pk: str | None = "id", fks: tuple[tuple[str, str], ...] = (), rows: int | None = 100_000,
       kind: str = "table", definition: str | None = None) -> Table:
    columns = [Column(c, "INTEGER" if c == "id" or c.endswith("_id") else "VARCHAR(40)") for c in ("id", *cols)
               if pk or c != "id"]
    return Table(name, columns=columns, primary_key=[pk] if pk else [], row_count=rows, kind=kind,
                 definition=definition,
                 foreign_keys=[ForeignKey([c], ref, ["id"], name=f"fk_{name}_{c}") for c, ref in fks])


def _schema(*tables: Table) -> Schema:
    return Schema(dialect="sqlite", database="sqlite:///legacy.db", tables=sorted(tables, key=lambda t: t.key))


def _dec(**services: list[str]) -> Decomposition:
    return Decomposition(services={n: Service(sorted(ts)) for n, ts in services.items()})


def _sel(fp: str, text: str, calls: int, read: list[str]) -> StatementTemplate:
    joins = [(a, b) for i, a in enumerate(sorted(read)) for b in sorted(read)[i + 1:]]
    return StatementTemplate(fp, text, "select", calls, tables_read=sorted(read), joins=joins)


def _wr(fp: str, kind: str, table: str, calls: int) -> StatementTemplate:
    return StatementTemplate(fp, f"{kind.upper()} {table}", kind, calls, tables_written=[table])


def _by_id(deps: list, prefix: str) -> dict:
    return {d.id: d for d in deps if d.id.startswith(prefix)}


SHOP = _schema(
    _t("customers", "name"), _t("orders", "customer_id", "status", fks=(("customer_id", "customers"),)),
    _t("countries", "name", rows=20), _t("addresses", "country_id", fks=(("country_id", "countries"),)))


# -- foreign keys ---------------------------------------------------------------------------------
def test_fk_defaults_to_reference_by_id_without_workload() -> None:
    deps = catalog(SHOP, _dec(crm=["customers", "countries", "addresses"], sales=["orders"]))
    assert [(d.id, d.mechanism) for d in deps] == [("fk:orders(customer_id)->customers", "reference_by_id")]
    assert deps[0].consumer == "sales" and deps[0].providers == ["crm"]


def test_fk_to_reference_service_is_replicated() -> None:
    d = Decomposition(services={"geo": Service(["countries"], kind="reference"),
                                "crm": Service(["addresses", "customers", "orders"])})
    (dep,) = catalog(SHOP, d)
    assert dep.id == "fk:addresses(country_id)->countries" and dep.mechanism == "replicated_reference_data"


def test_fk_to_small_rarely_written_table_is_replicated_only_with_evidence() -> None:
    d = _dec(geo=["countries"], crm=["addresses", "customers", "orders"])
    assert catalog(SHOP, d)[0].mechanism == "reference_by_id"  # no workload: no evidence it rarely changes
    busy = [_wr("w1", "insert", "addresses", 10_000), _wr("w2", "update", "countries", 1)]
    assert catalog(SHOP, d, Workload(templates=busy))[0].mechanism == "replicated_reference_data"
    churn = [_wr("w1", "insert", "addresses", 100), _wr("w2", "update", "countries", 100)]
    assert catalog(SHOP, d, Workload(templates=churn))[0].mechanism == "reference_by_id"


def test_fk_looked_up_on_a_hot_write_path_gets_a_command_side_replica() -> None:
    d = _dec(crm=["customers", "countries", "addresses"], sales=["orders"])
    templates = [_wr("w1", "insert", "orders", 500), _sel("r1", "SELECT name FROM customers WHERE id = ?", 500,
                                                          ["customers"])]
    hot = Workload(templates=templates, transactions=[Transaction(["customers"], ["orders"], 50),
                                                      Transaction([], ["addresses"], 450)])
    (dep,) = catalog(SHOP, d, hot)
    assert dep.mechanism == "command_side_replica" and dep.facts["lookups"] == 50
    cold = Workload(templates=templates, transactions=[Transaction(["customers"], ["orders"], 1),
                                                       Transaction([], ["addresses"], 999)])
    assert catalog(SHOP, d, cold)[0].mechanism == "reference_by_id"


def test_undeclared_reference_is_a_dependency_too() -> None:
    schema = _schema(_t("customers", "name"), _t("orders", "customer_id"))  # no FK declared
    (dep,) = catalog(schema, _dec(crm=["customers"], sales=["orders"]))
    assert dep.id == "fk:orders(customer_id)->customers" and dep.facts["declared"] is False
    result = design(schema, _dec(crm=["customers"], sales=["orders"]))
    assert [r.columns for r in result.service("sales").references] == [["customer_id"]]


def test_fk_rule_thresholds_are_parameters() -> None:
    facts = {"referred_rows": 500, "referred_write_share": 0.0, "lookup_share": None}
    assert decide_foreign_key(facts)[0] == "replicated_reference_data"
    assert decide_foreign_key(facts, Rules(reference_max_rows=100))[0] == "reference_by_id"


# -- reads ----------------------------------------------------------------------------------------
READ = _schema(
    _t("customers", "name", "city"),
    _t("orders", "customer_id", "status", fks=(("customer_id", "customers"),)),
    _t("status_codes", "label", rows=10),
)


def _read_workload(text: str, calls: int, read: list[str], other_calls: int = 10_000) -> Workload:
    return Workload(dialect="sqlite", templates=[_sel("q", text, calls, read),
                                                 _sel("other", "SELECT name FROM customers WHERE id = ?", other_calls,
                                                      ["customers"])])


def test_read_key_lookup_is_composed() -> None:
    w = _read_workload("SELECT o.status, c.name FROM orders o JOIN customers c ON c.id = o.customer_id "
                       "WHERE o.id = ?", 10, ["customers", "orders"])
    reads = [d for d in catalog(READ, _dec(crm=["customers"], sales=["orders", "status_codes"]), w)
             if d.kind == "read_join"]
    assert [(d.id, d.mechanism, d.consumer) for d in reads] == [("read:orders+customers", "api_composition", "sales")]
    assert reads[0].facts["key_lookup"] is True and reads[0].calls == 10


@pytest.mark.parametrize(
    ("text", "calls", "reason"),
    [
        ("SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.city = ?", 10, "filters"),
        (
            "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = ? "
            "ORDER BY c.name LIMIT ?",
            10,
            "sorts",
        ),
        (
            "SELECT c.city, COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.city",
            10,
            "aggregates",
        ),
        ("SELECT o.status, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = ?", 5_000, "hot"),
    ],
)
def test_read_needing_a_read_model(text: str, calls: int, reason: str) -> None:
    w = _read_workload(text, calls, ["customers", "orders"])
    (dep,) = [d for d in catalog(READ, _dec(crm=["customers"], sales=["orders", "status_codes"]), w)
              if d.kind == "read_join"]
    assert dep.mechanism == "cqrs_projection"
    assert reason in dep.reason


def test_read_joining_only_reference_data_uses_the_replica() -> None:
    w = _read_workload("SELECT o.id, s.label FROM orders o JOIN status_codes s ON s.id = o.status WHERE s.label = ?",
                       5_000, ["orders", "status_codes"])
    d = Decomposition(services={"ref": Service(["status_codes"], kind="reference"),
                                "sales": Service(["customers", "orders"])})
    (dep,) = [x for x in catalog(READ, d, w) if x.kind == "read_join"]
    assert dep.mechanism == "replicated_reference_data"


def test_read_within_one_service_is_no_dependency() -> None:
    w = _read_workload("SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id", 10,
                       ["customers", "orders"])
    assert catalog(READ, _dec(all=["customers", "orders", "status_codes"]), w) == []


def test_read_rule_provider_count_threshold() -> None:
    facts = {"providers": 3, "key_lookup": True, "call_share": 0.0}
    assert decide_read(facts)[0] == "cqrs_projection"
    assert decide_read(facts, Rules(max_composition_providers=3))[0] == "api_composition"


def test_view_over_two_services_is_a_dependency() -> None:
    view = _t(
        "v_orders",
        "name",
        pk=None,
        rows=None,
        kind="view",
        definition="CREATE VIEW v_orders AS SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id",
    )
    schema = _schema(*READ.tables, view)
    deps = catalog(schema, _dec(crm=["customers"], sales=["orders", "status_codes"]))
    views = [d for d in deps if d.kind == "view"]
    assert [(d.id, d.consumer, d.providers) for d in views] == [("view:v_orders", "sales", ["crm"])]
    assert catalog(schema, _dec(all=["customers", "orders", "status_codes"])) == []


# -- writes ---------------------------------------------------------------------------------------
WRITE = _schema(_t("orders", "status"), _t("stock", "qty"), _t("payments", "amount"), _t("shipments", "carrier"),
                _t("audit_log", "what"), _t("sequences", "next", pk=None))


def _write_workload(shapes: list[tuple[list[str], int]], kinds: dict[str, tuple[str, ...]]) -> Workload:
    templates = [_wr(f"w{t}{k}", k, t, 1) for t, ks in sorted(kinds.items()) for k in ks]
    return Workload(templates=templates, transactions=[Transaction([], sorted(w), n) for w, n in shapes])


KINDS = {"orders": ("insert", "update"), "stock": ("update",), "payments": ("insert", "update"),
         "shipments": ("update",), "audit_log": ("insert",), "sequences": ("update",)}
"""How the workload writes each table: only the audit log is append-only."""


def _writes(d: Decomposition, shapes: list[tuple[list[str], int]]) -> list:
    return [x for x in catalog(WRITE, d, _write_workload(shapes, KINDS)) if x.kind == "write_transaction"]


def test_two_services_written_now_and_then_get_a_choreographed_saga() -> None:
    d = _dec(sales=["orders"], stock=["stock"], pay=["payments"], ship=["shipments"], audit=["audit_log"],
             seq=["sequences"])
    (dep,) = _writes(d, [(["orders", "stock"], 10), (["orders"], 90), (["stock"], 90)])
    assert (dep.consumer, dep.providers, dep.mechanism) == ("sales", ["stock"], "saga_choreography")
    # Jaccard: 10 transactions write both, 100 write orders, 100 write stock
    assert dep.calls == 10 and dep.facts["jaccard"] == {"stock": round(10 / (100 + 100 - 10), 4)}


def test_many_participants_get_an_orchestrated_saga() -> None:
    d = _dec(sales=["orders"], stock=["stock"], pay=["payments"], ship=["shipments"], audit=["audit_log"],
             seq=["sequences"])
    (dep,) = _writes(d, [(["orders", "payments", "shipments", "stock"], 10), (["orders"], 500)])
    assert dep.consumer == "sales"  # the busiest of the four, all written alike here, starts it
    assert dep.mechanism == "saga_orchestration" and sorted(dep.facts["saga_participants"]) == ["pay", "ship", "stock"]


def test_services_mostly_written_together_should_merge() -> None:
    d = _dec(sales=["orders"], stock=["stock"], pay=["payments"], ship=["shipments"], audit=["audit_log"],
             seq=["sequences"])
    (dep,) = _writes(d, [(["orders", "stock"], 90), (["orders"], 5), (["stock"], 5)])
    assert dep.mechanism == "merge_services" and dep.facts["jaccard"]["stock"] == 0.9
    assert dep.facts["merge_with"] == ["stock"]


def test_append_only_side_effects_are_events_not_saga_steps() -> None:
    d = _dec(sales=["orders"], stock=["stock"], pay=["payments"], ship=["shipments"], audit=["audit_log"],
             seq=["sequences"])
    (dep,) = _writes(d, [(["audit_log", "orders"], 50)])
    assert (dep.consumer, dep.mechanism) == ("sales", "domain_events")
    assert dep.facts["event_consumers"] == ["audit"]


def test_cross_cutting_table_written_in_place_becomes_a_local_copy() -> None:
    d = Decomposition(services={"sales": Service(["orders"]), "stock": Service(["stock"]),
                                "platform": Service(["audit_log", "sequences"], kind="platform"),
                                "other": Service(["payments", "shipments"])})
    (dep,) = _writes(d, [(["orders", "sequences"], 50)])
    assert (dep.consumer, dep.mechanism) == ("sales", "local_copy")
    assert "sequences" in dep.reason
    result = design(WRITE, d, _write_workload([(["orders", "sequences"], 50)], KINDS))
    assert [t.role for t in result.service("sales").tables if t.source == "sequences"] == ["copy"]


def test_write_rule_thresholds() -> None:
    facts = {"saga_participants": ["b", "c"], "jaccard": {"b": 0.4, "c": 0.1}}
    assert decide_write(facts)[0] == "saga_choreography"
    assert decide_write(facts, Rules(merge_share=0.3))[0] == "merge_services"
    assert decide_write(facts, Rules(choreography_max_steps=2))[0] == "saga_orchestration"


# -- inputs ---------------------------------------------------------------------------------------
def test_unknown_table_in_the_decomposition_is_named() -> None:
    with pytest.raises(ArtifactError, match="nosuch"):
        design(SHOP, _dec(a=["customers", "nosuch"]))


def test_unknown_rule_is_named() -> None:
    with pytest.raises(WorkbenchError, match="hot_reads"):
        design(SHOP, _dec(a=["customers"]), rules={"hot_reads": 1})


def test_every_cross_service_fk_is_in_the_catalog_and_no_internal_one() -> None:
    schema = _schema(_t("a", "b_id", "c_id", fks=(("b_id", "b"), ("c_id", "c"))), _t("b", "c_id", fks=(("c_id", "c"),)),
                     _t("c", "x"), Table("d", columns=[Column("id", "INTEGER")], primary_key=["id"],
                                         indexes=[Index("ix", ["id"])]))
    d = _dec(one=["a", "b"], two=["c", "d"])
    assert sorted(x.id for x in catalog(schema, d)) == ["fk:a(c_id)->c", "fk:b(c_id)->c"]
    result = design(schema, d)
    owned = {t.table.name: t for t in result.service("one").tables if t.role == "owned"}
    assert [fk.referred_table for fk in owned["a"].table.foreign_keys] == ["b"]
    assert owned["b"].table.foreign_keys == []
