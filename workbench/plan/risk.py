"""The risk register: what can go wrong per service, how likely, how bad, and what to do about it.

Every entry comes from a measured fact of the design (a saga, a merge recommendation, a hot read
model, tables without a key, the volume to move, tables the decomposition was unsure about), so
the register changes when the design does. Likelihood and impact use a 1-3 scale; the score is
their product, and the register is sorted by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from workbench.design.model import LEGACY, Design
from workbench.plan.model import Risk


@dataclass(frozen=True)
class RiskSettings:
    """Thresholds of the register.

    Attributes
    ----------
    large_rows : a service moving at least this many rows needs a planned catch-up window.
    hot_share : a dependency with at least this share of the workload's calls / write
        transactions is hot (its staleness or latency is visible to users).
    many_references : a service holding at least this many reference-by-id columns carries
        referential integrity in application code in earnest.
    """

    large_rows: int = 1_000_000
    hot_share: float = 0.02
    many_references: int = 10

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _share(design: Design, calls: int, kind: str) -> float:
    total = design.transactions if kind == "write_transaction" else design.statements
    return calls / total if total else 0.0


def register(design: Design, settings: RiskSettings | None = None) -> list[Risk]:
    """Every risk the design shows, most serious first (then by id)."""
    s = settings or RiskSettings()
    risks: list[Risk] = []

    def add(rid: str, service: str, category: str, description: str, likelihood: int, impact: int,
            mitigation: str, evidence: Iterable[str] = ()) -> None:
        risks.append(Risk(rid, service, category, description, likelihood, impact, likelihood * impact, mitigation,
                          list(evidence)))

    for d in design.dependencies:
        hot = _share(design, d.calls, d.kind) >= s.hot_share
        if d.mechanism == "merge_services":
            add(f"merge:{d.id}", d.consumer, "boundary",
                f"{d.consumer} and {', '.join(d.providers)} are written together too often to split ({d.reason})",
                3, 3, "merge the services before their wave, or redraw the boundary and re-run the design",
                d.evidence[:3])
        elif d.mechanism.startswith("saga_"):
            add(f"saga:{d.id}", d.consumer, "consistency",
                f"{d.calls:,} transactions become a saga over {', '.join(d.services)}: intermediate states are "
                "visible and failures need compensation", 3 if hot else 2, 3,
                "transactional outbox + idempotent consumers; PENDING states; test every compensation path; "
                "monitor stuck sagas", d.evidence[:3])
        elif d.mechanism == "cqrs_projection":
            add(f"stale:{d.id}", d.consumer, "staleness",
                f"read model for {d.id} lags its providers ({d.calls:,} calls read it)", 2 if hot else 1, 2,
                "show data as of the last event; read-your-writes for the writer; rebuild from the fill SQL "
                "when it drifts", d.evidence[:2])
        elif d.mechanism == "command_side_replica":
            add(f"replica:{d.id}", d.consumer, "staleness",
                f"writes in {d.consumer} validate against a replica of {', '.join(d.tables.get(d.providers[0], []))}"
                " that may lag", 2 if hot else 1, 2,
                "tolerate or re-check late (compensate on a failed re-check); alert on replication lag",
                d.evidence[:2])
        elif d.mechanism == "api_composition" and hot:
            add(f"latency:{d.id}", d.consumer, "availability",
                f"{d.calls:,} calls compose {', '.join(d.providers)}'s API: its latency and outages become "
                f"{d.consumer}'s", 2, 2, "timeouts, caching, a fallback; switch to a read model if it hurts",
                d.evidence[:2])
    for name, svc in design.services.items():
        errors = [f for f in svc.findings if f.severity == "error"]
        if errors:
            add(f"data:{name}:lint", name, "data",
                f"{len(errors)} lint error(s) on its tables (e.g. {errors[0].rule} on {errors[0].table}): copying, CDC "
                "and checksum verification need keys", 3, 2,
                "add the missing keys in the legacy database first, or copy those tables whole at cut-over",
                [f"{f.rule}: {f.table} - {f.message}" for f in errors[:5]])
        cycles = [f for f in svc.findings if f.rule == "fk_cycles"]
        if cycles:
            add(f"data:{name}:cycles", name, "data",
                f"foreign-key cycles among its tables ({', '.join(sorted({f.table for f in cycles}))}): the bulk copy "
                "must defer or add those constraints last", 2, 2,
                "load with constraints disabled or added after the copy (the DDL adds cycle FKs by ALTER TABLE)",
                [f.message for f in cycles[:3]])
        if svc.rows is not None and svc.rows >= s.large_rows:
            add(f"volume:{name}", name, "migration",
                f"{svc.rows:,} rows to move: the copy and catch-up take a planned window", 2, 2,
                "bulk copy then CDC catch-up; verify counts and checksums per key range before switching")
        if svc.ambiguous:
            add(f"boundary:{name}:ambiguous", name, "boundary",
                f"{len(svc.ambiguous)} table(s) the decomposition was unsure about: {', '.join(svc.ambiguous[:6])}",
                2, 2, "confirm their owner with the domain experts before the wave", svc.ambiguous[:6])
        if len(svc.references) >= s.many_references:
            add(f"integrity:{name}", name, "consistency",
                f"{len(svc.references)} foreign keys become references by id: integrity moves to application code",
                2, 1, "handle the owners' deleted events; run a periodic orphan check per reference",
                [f"{r.table}({', '.join(r.columns)}) -> {r.referred_service}.{r.referred_table}"
                 for r in svc.references[:5]])
    if design.unplaced:
        add("legacy:unplaced", LEGACY, "boundary",
            f"{len(design.unplaced)} table(s) no service owns stay in the monolith: {', '.join(design.unplaced[:6])}",
            3, 1, "give each an owner or plan its retirement", design.unplaced[:10])
    return sorted(risks, key=lambda r: (-r.score, r.id))
