"""Sagas for transactions that wrote several services at once: steps, compensations, a sequence diagram.

Each participant's writes become one local transaction. Steps follow Richardson's structure: the
initiator and the participants whose writes can fail for business reasons (updates and deletes:
reserving stock, capturing a payment) are *compensatable*; the last of those is the *pivot*; the
participants that only record what happened (inserts only) and the initiator's confirmation are
*retriable*, run after the pivot and retried until they succeed. When a step after the first can
fail, the initiator's new rows start in a PENDING state (a semantic lock) so nobody acts on them
before the saga completes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from workbench.design.model import Dependency, Saga, SagaStep
from workbench.design.outbox import entity
from workbench.names import one_line

VERB = {"insert": "insert", "update": "update", "delete": "delete", "merge": "upsert"}


def _action(tables: Sequence[str], kinds: Mapping[str, Sequence[str]]) -> str:
    by_kind: dict[str, list[str]] = {}
    for t in tables:
        for k in kinds.get(t) or ["update"]:
            by_kind.setdefault(VERB.get(k, k), []).append(t)
    return "; ".join(f"{k} {', '.join(ts)}" for k, ts in sorted(by_kind.items()))


def _compensation(tables: Sequence[str], kinds: Mapping[str, Sequence[str]]) -> str:
    parts = []
    for t in tables:
        ks = set(kinds.get(t) or ["update"])
        if "insert" in ks:
            parts.append(f"cancel the {t} rows it inserted")
        if ks & {"update", "merge"}:
            parts.append(f"restore {t} from the before-values it kept")
        if "delete" in ks:
            parts.append(f"re-insert the {t} rows it deleted")
    return "; ".join(parts)


def _verb(tables: Sequence[str], kinds: Mapping[str, Sequence[str]]) -> str:
    ks = {k for t in tables for k in (kinds.get(t) or ["update"])}
    return "Created" if ks == {"insert"} else ("Deleted" if ks == {"delete"} else "Updated")


def _in_place(tables: Sequence[str], kinds: Mapping[str, Sequence[str]]) -> bool:
    return any(set(kinds.get(t) or ["update"]) - {"insert"} for t in tables)


def build_saga(dep: Dependency) -> Saga:
    """The saga for a ``write_transaction`` dependency whose mechanism is a saga (either style).

    Reads the dependency's facts: ``initiator``, ``saga_participants``, ``event_consumers``,
    ``written`` (service -> tables) and ``write_kinds`` (table -> statement kinds).
    """
    facts = dep.write_facts
    initiator: str = facts["initiator"]
    written: Mapping[str, list[str]] = facts["written"]
    kinds: Mapping[str, list[str]] = facts.get("write_kinds", {})
    roots: Mapping[str, str] = facts.get("roots", {})
    saga = list(facts.get("saga_participants") or [])
    consumers = list(facts.get("event_consumers") or [])
    style = "orchestration" if dep.mechanism == "saga_orchestration" else "choreography"

    def tables_of(service: str) -> list[str]:  # the aggregate root first
        root = roots.get(service, written[service][0])
        return [root, *(t for t in written[service] if t != root)]

    mine = tables_of(initiator)
    root = mine[0]
    risky = [s for s in saga if _in_place(written[s], kinds)]
    pending = root if risky and "insert" in (kinds.get(root) or []) else None
    steps = [SagaStep(1, initiator, _action(mine, kinds) + (f" ({root} PENDING)" if pending else ""), mine,
                      "compensatable" if risky else "pivot", _compensation(mine, kinds) if risky else "",
                      f"{entity(root)}{_verb([root], kinds)}")]
    ordered = [s for s in saga if s not in risky] + risky  # the steps that can fail last, the pivot among them
    for s in ordered:
        # with nothing that can fail after it, the initiator's step is the pivot and the rest just follow
        kind = ("pivot" if s == ordered[-1] else "compensatable") if risky else "retriable"
        theirs = tables_of(s)
        steps.append(SagaStep(len(steps) + 1, s, _action(theirs, kinds), theirs, kind,
                              _compensation(theirs, kinds) if kind == "compensatable" else "",
                              f"{entity(theirs[0])}{_verb(theirs[:1], kinds)}"))
    if pending:
        steps.append(SagaStep(len(steps) + 1, initiator, f"confirm {pending} (PENDING -> final state)", [pending],
                              "retriable", "", f"{entity(pending)}Confirmed"))
    for s in consumers:
        theirs = tables_of(s)
        steps.append(SagaStep(len(steps) + 1, s, _action(theirs, kinds), theirs, "retriable", "",
                              f"{entity(theirs[0])}Recorded"))
    result = Saga(name=f"{entity(root)}Saga", dependency=dep.id, initiator=initiator, style=style,
                  participants=[initiator, *ordered, *consumers], steps=steps, count=dep.calls, pending_state=pending)
    result.mermaid = mermaid(result)
    return result


def failure_event(event: str) -> str:
    """The event a step publishes when it fails.

    >>> failure_event("StockUpdated"), failure_event("OrderCreated")
    ('StockUpdateFailed', 'OrderCreateFailed')
    """
    return re.sub(r"(Create|Update|Delete)d$", r"\1Failed", event) if re.search(r"(Create|Update|Delete)d$", event) \
        else event + "Failed"


def _pid(name: str) -> str:
    return re.sub(r"\W", "_", name) or "_"


def mermaid(saga: Saga) -> str:
    """The saga as a Mermaid sequence diagram (happy path, then the compensations on failure).

    >>> s = Saga("OrderSaga", "write:x", "ordering", "choreography", ["ordering", "stock"], steps=[
    ...     SagaStep(1, "ordering", "insert orders (orders PENDING)", ["orders"], "compensatable",
    ...              "cancel the orders rows it inserted", "OrderCreated"),
    ...     SagaStep(2, "stock", "update stock", ["stock"], "pivot", "", "StockUpdated")])
    >>> print(mermaid(s))  # doctest: +NORMALIZE_WHITESPACE
    sequenceDiagram
        participant ordering as ordering
        participant stock as stock
        ordering->>ordering: 1. insert orders (orders PENDING)
        ordering-)stock: OrderCreated
        stock->>stock: 2. update stock
        stock-)ordering: StockUpdated
        opt step 2 fails
            stock-)ordering: StockUpdateFailed
            ordering->>ordering: cancel the orders rows it inserted
        end
    """
    lines = ["sequenceDiagram"]
    orchestrated = saga.style == "orchestration"
    hub = "orchestrator"
    if orchestrated:
        lines.append(f"    participant {hub} as {one_line(saga.initiator)} saga orchestrator")
    for p in dict.fromkeys(saga.participants):
        lines.append(f"    participant {_pid(p)} as {one_line(p)}")
    for i, step in enumerate(saga.steps):
        me = _pid(step.service)
        if orchestrated:
            lines.append(f"    {hub}->>{me}: {step.order}. {one_line(step.action)}")
            lines.append(f"    {me}-->>{hub}: {one_line(step.event)}")
            continue
        lines.append(f"    {me}->>{me}: {step.order}. {one_line(step.action)}")
        after = saga.steps[i + 1] if i + 1 < len(saga.steps) else None
        if after is not None and after.service != step.service:
            lines.append(f"    {me}-){_pid(after.service)}: {one_line(step.event)}")
        elif after is None and step.kind == "pivot" and step.service != saga.initiator:
            lines.append(f"    {me}-){_pid(saga.initiator)}: {one_line(step.event)}")
    fallible = [s for s in saga.steps if s.kind == "pivot" and s.order > 1] + \
        [s for s in saga.steps if s.kind == "compensatable" and s.order > 1]
    undo = [s for s in saga.steps if s.compensation]
    for failing in sorted(fallible, key=lambda s: s.order):
        before = [s for s in undo if s.order < failing.order]
        if not before:
            continue
        lines.append(f"    opt step {failing.order} fails")
        src = _pid(failing.service)
        failed = failure_event(failing.event)
        if orchestrated:
            lines.append(f"        {src}-->>{hub}: {one_line(failed)}")
        for s in reversed(before):
            if orchestrated:
                lines.append(f"        {hub}->>{_pid(s.service)}: {one_line(s.compensation)}")
            else:
                if _pid(s.service) != src:
                    lines.append(f"        {src}-){_pid(s.service)}: {one_line(failed)}")
                lines.append(f"        {_pid(s.service)}->>{_pid(s.service)}: {one_line(s.compensation)}")
                src = _pid(s.service)
        lines.append("    end")
    return "\n".join(lines)
