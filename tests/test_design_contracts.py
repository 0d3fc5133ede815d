"""The design's typed contracts: per-kind dependency facts, the Literal vocabularies, facts carried as fields."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import pytest

from workbench import serde
from workbench.decompose.model import Decomposition, Service
from workbench.design import design
from workbench.design.mechanisms import MECHANISMS, STRENGTH
from workbench.design.model import (
    FACTS,
    ROLES,
    SERVICE_KINDS,
    Dependency,
    DependencyKind,
    Design,
    Mechanism,
    load_design,
)
from workbench.errors import ArtifactError
from workbench.schema import Column, ForeignKey, Schema, Table
from workbench.workload.model import StatementTemplate, Transaction, Workload

SCHEMA = Schema(dialect="postgresql", database="postgresql://app:***@db/shop", tables=[
    Table("customers", columns=[Column("id", "INTEGER"), Column("search", "tsvector"),
                                Column("code", "VARCHAR(10)", default="nextval('code_seq'::regclass)")],
          primary_key=["id"], row_count=5_000),
    Table("orders", columns=[Column("id", "INTEGER"), Column("customer_id", "INTEGER"),
                             Column("status", "VARCHAR(10)", default="'new'::character varying")],
          primary_key=["id"], row_count=50_000, foreign_keys=[ForeignKey(["customer_id"], "customers", ["id"])]),
    Table("stock", columns=[Column("id", "INTEGER"), Column("qty", "INTEGER")], primary_key=["id"], row_count=900),
])
DECOMPOSITION = Decomposition(services={"crm": Service(["customers"]), "sales": Service(["orders"]),
                                        "inventory": Service(["stock"])})
WORKLOAD = Workload(templates=[
    StatementTemplate("r1", "SELECT o.id, c.id FROM orders o JOIN customers c ON c.id = o.customer_id "
                      "WHERE c.search = ?", "select", 900, tables_read=["customers", "orders"],
                      joins=[("customers", "orders")]),
    StatementTemplate("w1", "UPDATE stock SET qty = ?", "update", 100, tables_written=["stock"]),
    StatementTemplate("w2", "INSERT INTO orders VALUES (?)", "insert", 100, tables_written=["orders"]),
], transactions=[Transaction([], ["orders", "stock"], 100)])


@pytest.fixture(scope="module")
def shop() -> Design:
    return design(SCHEMA, DECOMPOSITION, WORKLOAD)


def test_every_mechanism_the_rules_know_is_in_the_literal_and_the_other_way_round() -> None:
    assert set(get_args(Mechanism)) == set(MECHANISMS) == set(STRENGTH)
    assert set(FACTS) == set(get_args(DependencyKind))
    assert ROLES == ("owned", "copy", "replica", "command_replica", "projection_source", "projection", "outbox",
                     "inbox")
    assert set(SERVICE_KINDS) == {"domain", "reference", "platform", "pinned"}


def test_each_kind_of_dependency_carries_exactly_its_own_facts(shop: Design) -> None:
    kinds = {d.kind for d in shop.dependencies}
    assert kinds == {"foreign_key", "read_join", "write_transaction"}
    for d in shop.dependencies:
        facts_type = FACTS[d.kind]
        assert facts_type.__required_keys__ <= set(d.facts) <= facts_type.__required_keys__ | \
            facts_type.__optional_keys__, d.id
    (fk,) = [d for d in shop.dependencies if d.kind == "foreign_key"]
    assert fk.fk_facts["columns"] == ["customer_id"] and fk.fk_facts["declared"] is True
    with pytest.raises(TypeError, match="is a foreign_key, not a write_transaction"):
        fk.write_facts  # noqa: B018 (the property raises)


def test_a_design_round_trips_with_its_typed_facts(shop: Design, tmp_path: Path) -> None:
    path = serde.save(shop, tmp_path / "design.json")
    again = load_design(path)
    assert again == shop
    assert serde.dumps(again) == serde.dumps(shop)


@pytest.mark.parametrize(("change", "message"), [
    (lambda dep: dep["facts"].pop("columns"), r"required field missing @ \$\.dependencies\[0\]\.columns"),
    (lambda dep: dep["facts"].update(lookups="many"), r"expected int @ \$\.dependencies\[0\]\.lookups"),
    (lambda dep: dep.update(mechanism="telepathy"), r"telepathy.*@ \$\.dependencies\[0\]\.mechanism"),
    (lambda dep: dep.update(kind="rumour"), r"rumour.*@ \$\.dependencies\[0\]\.kind"),
])
def test_facts_that_do_not_fit_their_kind_are_a_one_line_error(
        shop: Design, tmp_path: Path, change: Callable[[dict[str, Any]], object], message: str) -> None:
    data = json.loads(serde.dumps(shop))
    change(data["dependencies"][0])
    path = tmp_path / "design.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ArtifactError, match=message) as caught:
        load_design(path)
    assert "\n" not in str(caught.value)


def test_approximated_columns_are_counted_from_fields_not_from_the_notes_wording(shop: Design) -> None:
    customers = shop.service("crm").table("customers")
    orders = shop.service("sales").table("orders")
    assert customers.inexact_types == ["search"] and customers.dropped_defaults == ["code"]
    assert orders.inexact_types == [] and orders.dropped_defaults == []  # a constant default carries over
    count = sum(len(t.inexact_types) + len(t.dropped_defaults) for s in shop.services.values() for t in s.tables)
    assert count >= 2
    assert f"{count} column type(s), default(s) or generated column(s) are kept only on postgresql targets or " \
           "could not be carried over exactly: see the tables' notes" in shop.notes


def test_rewording_the_type_notes_leaves_the_count_alone(monkeypatch: pytest.MonkeyPatch, shop: Design) -> None:
    import workbench.design.pipeline as pipeline
    from workbench.design.sqltypes import Mapped

    real = pipeline.to_sqlalchemy

    def reworded(text: str, dialect: str | None = None, target: str | None = None) -> Mapped:
        m = real(text, dialect, target)
        return Mapped(m.type, m.exact, m.note and "approximated as something else")

    monkeypatch.setattr(pipeline, "to_sqlalchemy", reworded)
    again = design(SCHEMA, DECOMPOSITION, WORKLOAD)
    assert [n for n in again.notes if "could not be carried over exactly" in n] == \
        [n for n in shop.notes if "could not be carried over exactly" in n]


def test_an_unknown_service_kind_is_named_in_one_line() -> None:
    odd = Decomposition(services={"crm": Service(["customers"], kind="core"), "sales": Service(["orders", "stock"])})
    with pytest.raises(ArtifactError, match="service 'crm' has an unknown kind 'core' "
                                            r"\(known: domain, reference, platform, pinned\)"):
        design(SCHEMA, odd)


def test_a_dependency_defaults_to_undecided() -> None:
    d = Dependency("fk:x", "foreign_key", "a", ["b"])
    assert d.mechanism == "" and d.facts == {}


def test_a_design_json_written_before_versions_and_the_new_fields_still_loads(shop: Design, tmp_path: Path) -> None:
    data = json.loads(serde.dumps(shop))
    del data["format"]
    for svc in data["services"].values():
        for t in svc["tables"]:
            del t["inexact_types"], t["dropped_defaults"]
    path = tmp_path / "design.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    old = load_design(path)
    assert old.dependencies == shop.dependencies and old.projections == shop.projections
    assert [t.notes for s in old.services.values() for t in s.tables] == \
        [t.notes for s in shop.services.values() for t in s.tables]
