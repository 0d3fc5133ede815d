"""The options model, the two levels (contexts and services), exact service counts and the name evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench import serde
from workbench.decompose import decompose, load_decomposition, save_decomposition
from workbench.decompose import signals as sig
from workbench.decompose.options import DecomposeOptions
from workbench.decompose.synthetic import planted
from workbench.decompose.vocabulary import Vocabulary
from workbench.engagement import Engagement
from workbench.errors import WorkbenchError
from workbench.schema import Column, ForeignKey, Schema, Table


def _modules(prefix: str = "app_") -> Schema:
    """Four modules named by a leading word behind a product prefix, linked by a few keys, and two
    tables with neither keys nor a shared word."""
    tables = []
    for module in ("loan", "client", "office", "ledger"):
        root = f"{prefix}{module}"
        tables.append(Table(root, columns=[Column("id", "INTEGER")], primary_key=["id"]))
        for part in ("charge", "note", "history", "document"):
            tables.append(Table(f"{root}_{part}", columns=[Column("id", "INTEGER"), Column(f"{module}_id", "INTEGER")],
                                primary_key=["id"], foreign_keys=[ForeignKey([f"{module}_id"], root, ["id"])]))
    tables[0].columns.append(Column("client_id", "INTEGER"))
    tables[0].foreign_keys.append(ForeignKey(["client_id"], f"{prefix}client", ["id"]))
    tables.append(Table("zz_import", columns=[Column("x", "TEXT")]))
    tables.append(Table("qq_scratch", columns=[Column("y", "TEXT")]))
    return Schema("sqlite", "modules", tables=tables)


def test_options_model_checks_and_round_trips() -> None:
    o = DecomposeOptions.from_mapping({"services": 4, "pins": {"a": "b"}, "seed": None})
    assert o.given() == {"services": 4, "pins": {"a": "b"}} and o.seed == 0
    for bad, message in (({"services": 0}, "services"), ({"services": "many"}, "services"),
                         ({"resolution": -1}, "resolution"), ({"method": "magic"}, "method"),
                         ({"weights": {"fk": -1}}, "fk"), ({"reference": "x"}, "reference"),
                         ({"colour": 1}, "colour")):
        with pytest.raises(WorkbenchError, match=message):
            DecomposeOptions.from_mapping(bad)
    # the engagement file holds the same model, a null meaning "the default"
    e = serde.from_dict(Engagement, {"database": {"url": "sqlite:///x"},
                                     "decomposition": {"services": 5, "seed": None, "method": None}})
    assert e.decomposition == DecomposeOptions(services=5)
    assert serde.from_dict(Engagement, serde.to_dict(e)).decomposition == e.decomposition


def test_vocabulary_drops_a_prefix_every_table_shares_but_not_a_module_root() -> None:
    v = Vocabulary.of(_modules())
    assert v.ubiquitous == frozenset({"app"})
    assert v.words("app_loan_charge") == ("loan", "charge")
    # "loan" starts most names here, yet a table is called just that: a module, not a prefix
    loans = Vocabulary.of_names(["loan", *(f"loan_{p}" for p in "abcdefgh"), "client", "client_a"])
    assert not loans.ubiquitous


def test_leading_words_and_composition_by_name() -> None:
    schema = _modules()
    sims = sig.name_similarity(schema)
    assert sims[("app_loan_charge", "app_loan_note")] == pytest.approx(1 / 4)
    assert ("app_client_note", "app_loan_note") not in sims
    edges = sig.fk_edges(schema)
    assert edges[("app_loan", "app_loan_charge")] == 2.0   # the child's name extends its parent's
    assert edges[("app_client", "app_loan")] == 1.0        # a reference between two modules


def test_contexts_nest_services_and_are_written(tmp_path: Path) -> None:
    d = decompose(_modules(), stability=0)
    assert {frozenset(s.tables) for s in d.services.values() if s.kind == "domain"} >= {
        frozenset({f"app_{m}", *(f"app_{m}_{p}" for p in ("charge", "note", "history", "document"))})
        for m in ("office", "ledger")}
    assert all(s.context for s in d.services.values())
    assert len(set(d.context_assignment().values())) <= len(d.services)
    for name, s in d.services.items():  # a context is named after one of its services
        assert s.context in d.services and d.services[s.context].context == s.context or s.context == name
    back = load_decomposition(save_decomposition(d, tmp_path / "d.yaml"))
    assert back.context_assignment() == d.context_assignment()
    assert d.parameters["contexts"] == len(set(d.context_assignment().values()))


@pytest.mark.parametrize("k", [1, 2, 3, 6, 9])
def test_services_k_gives_exactly_k(k: int) -> None:
    d = decompose(_modules(), stability=0, services=k, roles=False)
    assert sum(1 for s in d.services.values() if s.kind == "domain") == k
    assert not d.unassigned  # every table counted in one of the k


def test_services_k_on_a_planted_schema_and_the_shared_services_said() -> None:
    p = planted(n_tables=120, n_domains=6, seed=3)
    d = decompose(p.schema, stability=0, services=6)
    assert sum(1 for s in d.services.values() if s.kind in ("domain", "pinned")) == 6
    if any(s.kind in ("reference", "platform") for s in d.services.values()):
        assert "6 clustered services as asked" in d.parameters["services_note"]


def test_too_many_services_is_a_one_line_error() -> None:
    with pytest.raises(WorkbenchError, match="cannot make 99 services out of 22 tables"):
        decompose(_modules(), services=99)
