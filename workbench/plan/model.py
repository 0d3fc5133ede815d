"""The migration plan artifact (``plan.json``): waves, effort and risk per service, prerequisites."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from workbench import serde


@dataclass
class Effort:
    """How much work a service's extraction is, from measurable drivers.

    Attributes
    ----------
    drivers : the measured figures (tables, rows, dependencies by mechanism, distributed write
        share, lint findings, ambiguous tables).
    contributions : driver -> points it adds (the weights of :class:`~workbench.plan.effort.EffortWeights`).
    points : their sum; ``size`` the T-shirt size it falls in.
    """

    service: str
    drivers: dict[str, Any] = field(default_factory=dict)
    contributions: dict[str, float] = field(default_factory=dict)
    points: float = 0.0
    size: str = "S"


@dataclass
class Risk:
    """One line of the risk register: likelihood and impact on a 1-3 scale, score = their product."""

    id: str
    service: str
    category: str
    description: str
    likelihood: int
    impact: int
    score: int
    mitigation: str
    evidence: list[str] = field(default_factory=list)


@dataclass
class Prerequisite:
    """Something that must be in place before (or while) a wave's services move.

    ``kind``: ``publish_events``, ``seed_replica``, ``build_projection``, ``expose_api``,
    ``implement_saga``, ``local_copy``, ``decide_merge``, ``drop_constraint`` or ``switch_source``.
    ``by``: who does it: a service, or ``legacy`` (the monolith, e.g. CDC on its tables).
    """

    kind: str
    service: str
    by: str
    detail: str
    dependency: str = ""


@dataclass
class Wave:
    """Services extracted together.

    Attributes
    ----------
    rationale : why now (nothing left depends on them, or the cycle broken here).
    steps : the strangler-fig steps for the wave's data, in order.
    """

    number: int
    services: list[str]
    points: float = 0.0
    rationale: str = ""
    prerequisites: list[Prerequisite] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """The artifact ``plan.json`` of the Plan stage."""

    FORMAT: ClassVar[serde.Format] = serde.Format("plan")

    source: str
    waves: list[Wave] = field(default_factory=list)
    efforts: list[Effort] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def wave_of(self) -> dict[str, int]:
        """service -> its wave number."""
        return {s: w.number for w in self.waves for s in w.services}


def load_plan(path: str | Path) -> Plan:
    """Read ``plan.json``."""
    return serde.load(Plan, path)
