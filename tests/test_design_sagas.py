"""Sagas: steps in Richardson's order, compensations, PENDING states and a well-formed Mermaid diagram."""

from __future__ import annotations

import re

from workbench.design.model import Dependency
from workbench.design.sagas import build_saga


def _dep(mechanism: str, participants: list[str], consumers: tuple[str, ...] = ()) -> Dependency:
    written = {"sales": ["order_lines", "orders"], "stock": ["stock"], "pay": ["payments"], "ship": ["shipments"],
               "audit": ["audit_log"]}
    kinds = {"orders": ["insert", "update"], "order_lines": ["insert"], "stock": ["update"], "payments": ["insert"],
             "shipments": ["insert", "update"], "audit_log": ["insert"]}
    services = ["sales", *participants, *consumers]
    return Dependency(
        id="write:sales:" + "+".join(services[1:]), kind="write_transaction", consumer="sales", providers=services[1:],
        calls=42, mechanism=mechanism,
        facts={"initiator": "sales", "saga_participants": participants, "event_consumers": list(consumers),
               "written": {s: written[s] for s in services}, "write_kinds": kinds,
               "roots": {"sales": "orders", **{s: written[s][0] for s in services[1:]}}})


def _declared_and_used(mermaid: str) -> tuple[set[str], set[str]]:
    declared = set(re.findall(r"^\s*participant (\w+)", mermaid, re.M))
    used = {x for a, b in re.findall(r"^\s*(\w+)-[-)>]+(\w+):", mermaid, re.M) for x in (a, b)}
    return declared, used


def test_choreography_with_a_step_that_can_fail() -> None:
    saga = build_saga(_dep("saga_choreography", ["stock"], ("audit",)))
    assert saga.name == "OrderSaga" and saga.style == "choreography" and saga.count == 42
    assert [(s.service, s.kind) for s in saga.steps] == [("sales", "compensatable"), ("stock", "pivot"),
                                                         ("sales", "retriable"), ("audit", "retriable")]
    assert saga.pending_state == "orders" and "orders PENDING" in saga.steps[0].action
    assert saga.steps[0].tables[0] == "orders"  # the aggregate root leads
    assert "cancel the orders rows it inserted" in saga.steps[0].compensation
    assert saga.steps[1].compensation == "" and saga.steps[1].event == "StockUpdated"
    declared, used = _declared_and_used(saga.mermaid)
    assert saga.mermaid.startswith("sequenceDiagram\n") and used <= declared == {"sales", "stock", "audit"}
    assert "opt step 2 fails" in saga.mermaid and "StockUpdateFailed" in saga.mermaid


def test_insert_only_participant_needs_no_pending_state() -> None:
    saga = build_saga(_dep("saga_choreography", ["pay"]))
    assert saga.pending_state is None
    assert [(s.service, s.kind) for s in saga.steps] == [("sales", "pivot"), ("pay", "retriable")]
    assert "opt" not in saga.mermaid  # nothing before the pivot to undo


def test_orchestration_goes_through_the_orchestrator() -> None:
    saga = build_saga(_dep("saga_orchestration", ["pay", "ship", "stock"]))
    assert saga.style == "orchestration"
    kinds = [s.kind for s in saga.steps]
    assert kinds.count("pivot") == 1 and kinds[0] == "compensatable"
    pivot = kinds.index("pivot")
    assert all(k == "compensatable" for k in kinds[1:pivot]) and all(k == "retriable" for k in kinds[pivot + 1:])
    assert [s.service for s in saga.steps[1:pivot + 1]][-1] in ("ship", "stock")  # in-place writers go last
    declared, used = _declared_and_used(saga.mermaid)
    assert "orchestrator" in declared and used <= declared
    assert all(line.strip().startswith(("orchestrator", "participant", "sequenceDiagram", "opt", "end"))
               or "-->>orchestrator" in line for line in saga.mermaid.splitlines())
