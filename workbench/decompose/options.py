"""The choices of the Decompose stage, one model for the CLI, the engagement file, the notebook and the library.

Every field has the default a user gets by saying nothing; :meth:`DecomposeOptions.given` lists the
ones that differ, which is what an engagement file or a notebook parameter needs to carry.

>>> o = DecomposeOptions.from_mapping({"services": 12, "pins": {"orders": "sales"}})
>>> o.given()
{'services': 12, 'pins': {'orders': 'sales'}}
>>> DecomposeOptions.from_mapping({"servces": 3})  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
workbench.errors.WorkbenchError: unknown decomposition option 'servces' (known: method, resolution, services,
weights, pins, together, apart, exclude, min_size, max_size, seed, stability, ambiguity, roles, reference)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

from workbench import serde
from workbench.errors import WorkbenchError

if TYPE_CHECKING:  # the options load with the engagement file: keep networkx and pandas out until used
    from workbench.decompose.constraints import Constraints
    from workbench.decompose.graph import Weights

Reference = Literal["service", "owner"]


@dataclass
class DecomposeOptions:
    """How to decompose (see ``workbench decompose --help``).

    Attributes
    ----------
    method : clustering method, a key of :data:`workbench.decompose.cluster.METHODS`; Leiden by
        default (Louvain's communities can be internally disconnected; Leiden's cannot).
    resolution : granularity (higher: more, smaller services); None: read from the schema.
    services : exactly this many clustered services (the reference-data and platform services,
        when there are such tables, come on top, and the result says so); overrides ``resolution``.
    weights : signal -> weight overrides, e.g. ``{"cowrite": 2.0}`` (see :class:`Weights`).
    pins : table -> service it must belong to.
    together, apart : groups of tables to keep in one service; pairs to keep in different ones.
    exclude : tables left out.
    min_size, max_size : bounds on a service's size, in tables.
    seed : seed of every random choice (the same seed gives the same file).
    stability : extra runs (other seeds, nudged granularity) measuring each table's confidence.
    ambiguity : confidence below which a table is listed as ambiguous.
    roles : find reference data, cross-cutting tables and hubs and treat them explicitly.
    reference : ``service``: shared reference data in one reference-data service replicated to its
        readers; ``owner``: each lookup owned by the service most tied to it.
    """

    method: str = "leiden"
    resolution: float | None = None
    services: int | None = None
    weights: dict[str, float] = field(default_factory=dict)
    pins: dict[str, str] = field(default_factory=dict)
    together: list[list[str]] = field(default_factory=list)
    apart: list[list[str]] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    min_size: int | None = None
    max_size: int | None = None
    seed: int = 0
    stability: int = 8
    ambiguity: float = 0.75
    roles: bool = True
    reference: Reference = "service"

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Values a user can get wrong, each named in a one-line error."""
        from workbench.decompose.cluster import METHODS
        from workbench.decompose.graph import Weights

        if self.method not in METHODS:
            raise WorkbenchError(f"unknown clustering method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.resolution is not None and not (isinstance(self.resolution, int | float)
                                                and self.resolution > 0 and math.isfinite(self.resolution)):
            raise WorkbenchError(f"resolution must be a positive number, got {self.resolution!r}")
        if self.services is not None and (not isinstance(self.services, int) or isinstance(self.services, bool)
                                          or self.services < 1):
            raise WorkbenchError(f"services must be a whole number of at least 1, got {self.services!r}")
        for name in ("seed", "stability"):
            if not isinstance(getattr(self, name), int) or isinstance(getattr(self, name), bool):
                raise WorkbenchError(f"{name} must be a whole number, got {getattr(self, name)!r}")
        if self.reference not in ("service", "owner"):
            raise WorkbenchError(f"reference must be 'service' or 'owner', got {self.reference!r}")
        if self.stability < 0:
            raise WorkbenchError(f"stability runs must be 0 or more, got {self.stability}")
        if not 0 <= self.ambiguity <= 1:
            raise WorkbenchError(f"ambiguity must be between 0 and 1, got {self.ambiguity}")
        for bound in ("min_size", "max_size"):
            value = getattr(self, bound)
            if value is not None and value < 1:
                raise WorkbenchError(f"{bound} must be at least 1, got {value}")
        Weights.from_mapping(dict(self.weights))  # names the unknown or negative weight

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> DecomposeOptions:
        """Options from plain data (an engagement section, a notebook parameter), unknown keys refused."""
        data = dict(data or {})
        known = [f.name for f in fields(cls)]
        unknown = [k for k in data if k not in known]
        if unknown:
            raise WorkbenchError(f"unknown decomposition option {unknown[0]!r} (known: {', '.join(known)})")
        try:  # null means "the default", as an engagement file writes an unset choice
            return cls(**{k: v for k, v in data.items() if v is not None})
        except TypeError as exc:
            raise WorkbenchError(f"bad decomposition options: {exc}") from None

    def given(self) -> dict[str, Any]:
        """The options that differ from the defaults, as plain data."""
        default = DecomposeOptions()
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}

    def constraints(self) -> Constraints:
        """The architect's constraints among these options."""
        from workbench.decompose.constraints import Constraints

        return Constraints(pins=dict(self.pins), together=[list(g) for g in self.together],
                           apart=[list(p) for p in self.apart], min_size=self.min_size, max_size=self.max_size,
                           excluded=sorted(set(self.exclude)))

    def weight_model(self) -> Weights:
        """The signal weights: defaults overridden by :attr:`weights`."""
        from workbench.decompose.graph import Weights

        return Weights.from_mapping(dict(self.weights))


serde.register_structure(DecomposeOptions, lambda data, _: DecomposeOptions.from_mapping(data))
