"""The plan: strangler-fig waves, effort from measurable drivers, the risk register, prerequisites."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.assess.lint.finding import Finding
from workbench.design.model import Dependency, Design, ServiceDesign, TargetTable
from workbench.plan import EffortWeights, efforts, load_plan, plan, register, write_plan
from workbench.plan.waves import order_waves, service_graph
from workbench.schema import Table


def _svc(name: str, tables: int = 1, rows: int | None = 100, **kw: object) -> ServiceDesign:
    svc = ServiceDesign(name, f"ns_{name}", rows=rows, **kw)  # type: ignore[arg-type]
    svc.tables = [TargetTable(Table(f"{name}_t{i}"), "owned", f"{name}_t{i}") for i in range(tables)]
    return svc


def _dep(consumer: str, provider: str, mechanism: str = "reference_by_id", kind: str = "foreign_key",
         calls: int = 0, **facts: object) -> Dependency:
    return Dependency(f"{kind}:{consumer}->{provider}:{mechanism}", kind, consumer, [provider],
                      tables={consumer: [f"{consumer}_t0"], provider: [f"{provider}_t0"]}, calls=calls,
                      evidence=[f"FOREIGN KEY {consumer}_t0(x) REFERENCES {provider}_t0(id)"], mechanism=mechanism,
                      facts=dict(facts))


def _design(services: list[ServiceDesign], deps: list[Dependency], **kw: object) -> Design:
    return Design(source="sqlite:///x.db", source_dialect="sqlite", services={s.name: s for s in services},
                  dependencies=deps, rules={"merge_share": 0.5}, **kw)  # type: ignore[arg-type]


# -- waves --------------------------------------------------------------------------------------------
def test_what_nothing_depends_on_moves_first() -> None:
    d = _design([_svc("web"), _svc("orders"), _svc("customers"), _svc("reports")],
                [_dep("web", "orders"), _dep("orders", "customers"), _dep("reports", "customers")])
    p = plan(d)
    assert [w.services for w in p.waves] == [["reports", "web"], ["orders"], ["customers"]]
    assert all("no service still to move" in w.rationale for w in p.waves)
    assert p.wave_of() == {"reports": 1, "web": 1, "orders": 2, "customers": 3}


def test_a_cycle_is_broken_at_the_least_depended_on_service() -> None:
    d = _design([_svc("a"), _svc("b")],
                [_dep("a", "b", "cqrs_projection", "read_join"), _dep("b", "a", "reference_by_id")])
    waves = plan(d).waves
    # b leans on a lightly (a reference by id, cost 1); a leans on b heavily (a read model, cost 3):
    # the rest depends on a least, so a moves first and b keeps serving it from the monolith meanwhile
    assert [w.services for w in waves] == [["a"], ["b"]]
    assert "cycle" in waves[0].rationale


def test_services_to_merge_move_together_and_limits_apply() -> None:
    d = _design([_svc("a"), _svc("b"), _svc("c"), _svc("x"), _svc("y")],
                [Dependency("write:a:b", "write_transaction", "a", ["b"], mechanism="merge_services",
                            facts={"jaccard": {"b": 0.9}, "merge_with": ["b"]}), _dep("c", "a")])
    p = plan(d)
    assert [w.services for w in p.waves] == [["c", "x", "y"], ["a", "b"]]
    assert "merge" in p.waves[1].rationale
    assert [len(w.services) for w in plan(d, max_per_wave=1).waves] == [1, 1, 1, 2]


def test_event_consumers_depend_on_the_publisher() -> None:
    d = _design([_svc("sales"), _svc("audit")],
                [Dependency("write:sales:audit", "write_transaction", "sales", ["audit"], mechanism="domain_events")])
    g = service_graph(d)
    assert list(g.edges) == [("audit", "sales")] and g.edges["audit", "sales"]["weight"] == 1.0
    assert [w.services for w in plan(d).waves] == [["audit"], ["sales"]]


def test_order_waves_prefers_the_cheaper_free_unit() -> None:
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(["big", "small"])
    waves = order_waves(g, [{"big"}, {"small"}], points={"big": 50.0, "small": 5.0}, max_per_wave=1)
    assert [w for w, _ in waves] == [["small"], ["big"]]


# -- effort ---------------------------------------------------------------------------------------------
def test_effort_grows_with_each_driver() -> None:
    base = _design([_svc("s", tables=2, rows=999), _svc("p")], [])
    (e0, _) = sorted(efforts(base), key=lambda e: e.service != "s")
    assert e0.contributions["tables"] == 2 and e0.contributions["rows"] == 3.0  # log10(1000)
    assert e0.points == pytest.approx(sum(e0.contributions.values()))
    lint = [Finding("no_primary_key", "error", "s_t0"), Finding("fk_without_index", "warning", "s_t1")]
    richer = _design([_svc("s", tables=3, rows=999, findings=lint, ambiguous=["s_t1"]), _svc("p")],
                     [_dep("s", "p", "saga_orchestration", "write_transaction", calls=40)])
    richer.services["s"].write_transactions = 100
    (e1,) = [e for e in efforts(richer) if e.service == "s"]
    w = EffortWeights()
    assert e1.contributions["lint"] == w.lint_error + w.lint_warning
    assert e1.contributions["distributed writes"] == w.distributed_writes * 0.4
    assert e1.contributions["consumed dependencies"] == w.mechanisms["saga_orchestration"]
    assert e1.drivers["distributed_write_share"] == 0.4 and e1.points > e0.points
    (provider,) = [e for e in efforts(richer) if e.service == "p"]
    assert provider.contributions["provided dependencies"] == w.provider_share * w.mechanisms["saga_orchestration"]


def test_sizes_follow_points() -> None:
    small = _design([_svc("s", tables=1, rows=0)], [])
    big = _design([_svc("s", tables=80, rows=10**7)], [])
    assert efforts(small)[0].size == "S" and efforts(big)[0].size == "XL"


# -- risks ----------------------------------------------------------------------------------------------
def test_register_names_each_source_of_risk() -> None:
    svc = _svc("s", rows=5_000_000, findings=[Finding("no_primary_key", "error", "s_t0", message="no key"),
                                              Finding("fk_cycles", "warning", "s_t0", message="cycle")],
               ambiguous=["s_t0"])
    d = _design([svc, _svc("p")], [
        _dep("s", "p", "merge_services", "write_transaction", calls=10),
        _dep("s", "p", "saga_choreography", "write_transaction", calls=900),
        _dep("s", "p", "cqrs_projection", "read_join", calls=10),
        _dep("s", "p", "command_side_replica"),
        _dep("s", "p", "api_composition", "read_join", calls=500)], unplaced=["orphan"], statements=1000,
        transactions=1000)
    risks = register(d)
    categories = {r.id.split(":", 1)[0]: r for r in risks}
    assert set(categories) >= {"merge", "saga", "stale", "replica", "latency", "data", "volume", "boundary", "legacy"}
    assert categories["saga"].likelihood == 3  # 90% of the transactions: hot
    assert [r.score for r in risks] == sorted((r.score for r in risks), reverse=True)
    assert all(r.score == r.likelihood * r.impact for r in risks)
    quiet = register(_design([_svc("s")], [_dep("s", "p", "api_composition", "read_join", calls=1)], statements=1000))
    assert quiet == []  # a cold composition over a clean, small service is no risk worth listing


# -- prerequisites ---------------------------------------------------------------------------------------
def test_prerequisites_come_from_legacy_until_the_provider_moved() -> None:
    d = _design([_svc("web"), _svc("orders"), _svc("customers")],
                [_dep("web", "orders", "cqrs_projection", "read_join"), _dep("orders", "customers")])
    p = plan(d)
    first, second, third = p.waves
    (build,) = [x for x in first.prerequisites if x.kind == "build_projection"]
    assert build.service == "web" and "CDC on the legacy tables" in build.detail
    drops = [x for x in second.prerequisites if x.kind == "drop_constraint"]
    assert drops and drops[0].by == "legacy"
    (pub,) = [x for x in second.prerequisites if x.kind == "publish_events"]
    assert pub.by == "legacy"  # customers has not moved yet: its events come from CDC
    switches = [x for x in third.prerequisites if x.kind == "switch_source"]
    assert [(x.service, x.by) for x in switches] == [("orders", "customers")]


def test_plan_round_trips(tmp_path: Path) -> None:
    d = _design([_svc("a"), _svc("b")], [_dep("a", "b")])
    p = plan(d)
    paths = write_plan(p, tmp_path / "plan.json")
    assert load_plan(paths["plan"]) == p
    text = paths["summary"].read_text(encoding="utf-8")
    assert "## Risk register" in text and "### Wave 1: a" in text


def test_risk_per_service_summarises_the_register() -> None:
    from workbench.plan.frames import risk_by_service, waves_frame

    d = _design([_svc("s", rows=5_000_000), _svc("p")], [_dep("s", "p", "merge_services", "write_transaction")])
    p = plan(d)
    frame = risk_by_service(p).set_index("service")
    assert frame.loc["s", "top_score"] == 9 and frame.loc["s", "risks"] == 2  # the merge (9) and the volume (4)
    assert frame.loc["s", "total_score"] == 13
    waves = waves_frame(p).set_index("service")
    assert waves.loc["s", "top_risk"] == 9 and waves.loc["p", "top_risk"] == 0
