"""The plan: waves from the service graph, effort and risk per service, prerequisites per wave."""

from __future__ import annotations

from workbench.design.model import LEGACY, Design
from workbench.plan.effort import EffortWeights, efforts
from workbench.plan.model import Plan, Prerequisite, Wave
from workbench.plan.risk import RiskSettings, register
from workbench.plan.waves import merge_groups, order_waves, service_graph


def _prerequisites(design: Design, wave: list[str], done: set[str]) -> list[Prerequisite]:
    """What must exist when ``wave`` moves, given the services already ``done`` (extracted)."""
    out: list[Prerequisite] = []
    moving = set(wave)

    def source(service: str) -> str:
        return service if service in done or service in moving else "legacy"

    for d in design.dependencies:
        if d.kind == "write_transaction" and d.mechanism == "domain_events":
            by = source(d.consumer)
            via = "its outbox" if by != "legacy" else "CDC on the legacy tables"
            for p in (p for p in d.providers if p in moving):
                out.append(Prerequisite("publish_events", p, by, f"{d.consumer}'s events of "
                                        f"{', '.join(d.tables.get(d.consumer, []))} through {via}, which {p} records",
                                        d.id))
            if d.consumer in moving:
                for p in (p for p in d.providers if p in done):
                    out.append(Prerequisite("switch_source", p, d.consumer, f"{p} takes {d.consumer}'s events from its "
                                            "outbox instead of legacy CDC", d.id))
            continue
        if d.consumer in moving:
            for p in d.providers:
                by = source(p)
                tables = ", ".join(d.tables.get(p, []))
                via = "its outbox" if by != "legacy" else f"CDC on the legacy tables ({tables})"
                if d.mechanism == "reference_by_id":
                    out.append(Prerequisite("publish_events", d.consumer, by,
                                            f"lifecycle events of {tables} through {via}", d.id))
                elif d.mechanism in ("replicated_reference_data", "command_side_replica"):
                    out.append(Prerequisite("seed_replica", d.consumer, d.consumer,
                                            f"copy {tables} into {d.consumer}, then apply its events from {via}", d.id))
                elif d.mechanism == "cqrs_projection":
                    out.append(Prerequisite("build_projection", d.consumer, d.consumer,
                                            f"fill the read model from the legacy database, then apply the events of "
                                            f"{tables} from {via}", d.id))
                elif d.mechanism == "api_composition":
                    api = "a query API" if by != "legacy" else "a read API (or a view) over the legacy tables"
                    out.append(Prerequisite("expose_api", d.consumer, by, f"{api} for {tables}", d.id))
            if d.mechanism.startswith("saga_"):
                legacy = [p for p in d.providers if source(p) == "legacy"]
                extra = f"; {', '.join(legacy)} take part from the monolith through an adapter" if legacy else ""
                out.append(
                    Prerequisite(
                        "implement_saga",
                        d.consumer,
                        d.consumer,
                        f"{d.mechanism.removeprefix('saga_')} over {', '.join(d.services)}{extra}",
                        d.id,
                    )
                )
            elif d.mechanism == "local_copy":
                out.append(
                    Prerequisite(
                        "local_copy",
                        d.consumer,
                        d.consumer,
                        d.reason.split(":", 1)[0]
                        + f": create {d.consumer}'s own copy, seeded with the legacy rows at its cut-over",
                        d.id,
                    )
                )
            elif d.mechanism == "merge_services":
                out.append(
                    Prerequisite(
                        "decide_merge",
                        d.consumer,
                        d.consumer,
                        f"merge {d.consumer} with {', '.join(d.providers)} or redraw the boundary",
                        d.id,
                    )
                )
        elif any(p in moving for p in d.providers) and d.consumer in done:
            for p in (p for p in d.providers if p in moving):
                if d.mechanism in ("reference_by_id", "replicated_reference_data", "command_side_replica",
                                   "cqrs_projection"):
                    out.append(Prerequisite("switch_source", d.consumer, p,
                                            f"{d.consumer} takes {', '.join(d.tables.get(p, []))} events from {p}'s "
                                            "outbox instead of legacy CDC", d.id))
                elif d.mechanism == "api_composition":
                    out.append(Prerequisite("expose_api", d.consumer, p,
                                            f"{p} serves the query API {d.consumer} used against the legacy", d.id))
        if d.kind == "foreign_key" and d.fk_facts.get("declared", True) and LEGACY not in d.services and (
                d.consumer in moving or any(p in moving for p in d.providers)) and not (set(d.services) <= done):
            facts = d.fk_facts
            table = d.tables.get(d.consumer, ["?"])[0]
            referred = d.tables.get(d.providers[0], ["?"])[0]
            name = f" {facts['name']}" if facts.get("name") else ""
            out.append(Prerequisite("drop_constraint", d.consumer, "legacy",
                                    f"drop the foreign key{name} {table}({', '.join(facts.get('columns', []))}) -> "
                                    f"{referred} in the legacy database before the move", d.id))
    unique = {(p.kind, p.service, p.by, p.detail, p.dependency): p for p in out}
    order = ["decide_merge", "drop_constraint", "publish_events", "expose_api", "seed_replica", "build_projection",
             "implement_saga", "local_copy", "switch_source"]
    return sorted(unique.values(), key=lambda p: (order.index(p.kind), p.service, p.dependency, p.by))


def _steps(design: Design, wave: list[str]) -> list[str]:
    tables = sum(len(design.service(s).owned) for s in wave)
    rows = sum(design.service(s).rows or 0 for s in wave)
    names = ", ".join(design.service(s).namespace for s in wave)
    return [f"create the schemas ({names}) from the DDL",
            f"bulk copy {tables} tables ({rows:,} rows) from the legacy database",
            "catch up continuously (CDC on the legacy tables) while the monolith still writes them",
            "verify: row counts, checksums per key range, foreign keys inside each new schema",
            "switch reads to the new schemas; then switch writes (one writer at a time)",
            "retire the legacy tables (revoke, then drop after a grace period)"]


def plan(design: Design, *, max_per_wave: int | None = None, weights: EffortWeights | None = None,
         risk: RiskSettings | None = None) -> Plan:
    """Waves, effort, risks and prerequisites for ``design``.

    Parameters
    ----------
    max_per_wave : at most this many services (or merge groups) per wave (None: as many as are free).
    weights, risk : effort weights and risk thresholds (documented defaults).
    """
    weights = weights or EffortWeights()
    effort = efforts(design, weights)
    points = {e.service: e.points for e in effort}
    graph = service_graph(design, weights.mechanisms)
    waves = []
    done: set[str] = set()
    for number, (services, why) in enumerate(order_waves(graph, merge_groups(design), points, max_per_wave), 1):
        waves.append(Wave(number, services, round(sum(points[s] for s in services), 2), why,
                          _prerequisites(design, services, done), _steps(design, services)))
        done |= set(services)
    settings = {"max_per_wave": max_per_wave, "effort": weights.as_dict(), "risk": (risk or RiskSettings()).as_dict()}
    return Plan(source=design.source, waves=waves, efforts=effort, risks=register(design, risk), settings=settings)
