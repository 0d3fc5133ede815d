"""Effort per service from measurable drivers, with every weight visible.

Points are a relative measure for ordering and sizing, not days: a team calibrates them against
its first wave. Each driver's contribution is kept so a reader sees *why* a service is large.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field

from workbench.design.model import Design
from workbench.plan.model import Effort

MECHANISM_COST: dict[str, float] = {
    "replicated_reference_data": 0.5, "local_copy": 1.0, "reference_by_id": 1.0, "domain_events": 1.0,
    "api_composition": 2.0, "command_side_replica": 2.0, "cqrs_projection": 3.0, "saga_choreography": 4.0,
    "saga_orchestration": 5.0, "merge_services": 6.0,
}
"""Work one dependency of each mechanism costs its consumer (a provider pays ``provider_share`` of it)."""

SIZES: tuple[tuple[float, str], ...] = ((10.0, "S"), (25.0, "M"), (50.0, "L"), (math.inf, "XL"))
"""Upper bounds of the T-shirt sizes, in points."""


@dataclass(frozen=True)
class EffortWeights:
    """Points per unit of each driver.

    Attributes
    ----------
    table : per owned table (schema, copy job, verification).
    rows_decade : per decade of rows moved (log10 of the service's row count).
    mechanisms : per dependency, by mechanism (:data:`MECHANISM_COST`).
    provider_share : the share of a mechanism's cost its providers pay (publishing events, an API).
    distributed_writes : at 100% of the service's write transactions spanning services.
    lint_error, lint_warning : per lint finding on its tables.
    ambiguous : per table the decomposition was unsure about.
    """

    table: float = 1.0
    rows_decade: float = 1.0
    mechanisms: dict[str, float] = field(default_factory=lambda: dict(MECHANISM_COST))
    provider_share: float = 0.5
    distributed_writes: float = 10.0
    lint_error: float = 2.0
    lint_warning: float = 0.25
    ambiguous: float = 1.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def size(points: float) -> str:
    """
    >>> size(3), size(30), size(500)
    ('S', 'L', 'XL')
    """
    return next(label for bound, label in SIZES if points <= bound)


def efforts(design: Design, weights: EffortWeights | None = None) -> list[Effort]:
    """One :class:`Effort` per service of the design, sorted by service name."""
    w = weights or EffortWeights()
    out = []
    for name, svc in design.services.items():
        consumed: Counter[str] = Counter(d.mechanism for d in design.dependencies if d.consumer == name)
        provided: Counter[str] = Counter(d.mechanism for d in design.dependencies if name in d.providers)
        distributed = sum(d.calls for d in design.dependencies if d.kind == "write_transaction" and name in d.services
                          and d.mechanism not in ("domain_events", "local_copy"))
        share = min(1.0, distributed / svc.write_transactions) if svc.write_transactions else 0.0
        errors = sum(f.severity == "error" for f in svc.findings)
        warnings = sum(f.severity == "warning" for f in svc.findings)
        tables = len(svc.owned)
        rows = svc.rows or 0
        drivers = {"tables": tables, "rows": rows, "consumes": dict(sorted(consumed.items())),
                   "provides": dict(sorted(provided.items())), "distributed_writes": distributed,
                   "distributed_write_share": round(share, 4), "lint_errors": errors, "lint_warnings": warnings,
                   "ambiguous": len(svc.ambiguous)}
        contributions = {
            "tables": w.table * tables,
            "rows": w.rows_decade * math.log10(rows + 1),
            "consumed dependencies": sum(w.mechanisms.get(m, 1.0) * n for m, n in consumed.items()),
            "provided dependencies": w.provider_share * sum(w.mechanisms.get(m, 1.0) * n for m, n in provided.items()),
            "distributed writes": w.distributed_writes * share,
            "lint": w.lint_error * errors + w.lint_warning * warnings,
            "ambiguous tables": w.ambiguous * len(svc.ambiguous),
        }
        contributions = {k: round(v, 2) for k, v in contributions.items()}
        points = round(sum(contributions.values()), 2)
        out.append(Effort(name, drivers, contributions, points, size(points)))
    return out
