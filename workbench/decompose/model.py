"""The decomposition artifact: services and their tables, meant to be read and edited by a person.

``decomposition.yaml`` holds a top-level ``services:`` mapping, each service to its ``tables:``
list. That mapping alone is the decomposition: everything else (per-table confidence and reason,
ambiguous tables, the parameters that produced it) explains it and may go stale after a hand edit
without harm, because :func:`load_decomposition` and the metrics only read ``services``.

A minimal hand-written file is enough::

    services:
      ordering:
        tables: [orders, order_items]
      catalog:
        tables: [products]
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from workbench import serde
from workbench.errors import ArtifactError, NotFoundError
from workbench.names import check_service_name

ROLES = ("domain", "reference", "cross_cutting", "hub", "satellite", "isolated", "pinned")
"""Why a table is where it is: clustered with its domain, or placed by an explicit treatment."""


@dataclass
class Service:
    """A candidate service.

    Attributes
    ----------
    tables : the tables the service owns (its schema's tables), sorted.
    kind : ``domain`` for a clustered service, ``platform`` for cross-cutting tables, ``pinned``
        for a service only the architect's pins created.
    replicated : reference tables this service owns and other services keep a read-only copy of.
    context : the bounded context the service belongs to (named after its largest service), the
        coarser level of the decomposition; None when not grouped (e.g. a hand-written file).
    """

    tables: list[str] = field(default_factory=list)
    kind: str = "domain"
    replicated: list[str] = field(default_factory=list)
    context: str | None = None


@dataclass
class TableNote:
    """Why a table sits in its service.

    Attributes
    ----------
    confidence : share of stability runs in which the table landed with this service (1.0: always).
    role : one of :data:`ROLES`.
    reason : a sentence naming the strongest ties (top edges) or the treatment applied.
    pull : for ambiguous tables, the summed edge weight towards each service it is torn between.
    """

    confidence: float | None = None
    role: str = "domain"
    reason: str | None = None
    pull: dict[str, float] = field(default_factory=dict)


@dataclass
class Decomposition:
    """Candidate services for a schema: the artifact ``decomposition.yaml`` of the Decompose stage.

    Attributes
    ----------
    services : service name -> :class:`Service`; the only part needed to read the file back.
    tables : table -> :class:`TableNote` (confidence, role, reason).
    unassigned : table -> why no service could claim it (no edges, no workload, no name match).
    excluded : tables the architect excluded.
    ambiguous : tables whose confidence is below the threshold, sorted.
    method, parameters : how it was produced (informative only).
    """

    FORMAT: ClassVar[serde.Format] = serde.Format("decomposition")

    services: dict[str, Service] = field(default_factory=dict)
    tables: dict[str, TableNote] = field(default_factory=dict)
    unassigned: dict[str, str] = field(default_factory=dict)
    excluded: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    method: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    def assignment(self) -> dict[str, str]:
        """table -> service name, for every table placed in a service.

        >>> d = Decomposition(services={"a": Service(["t1", "t2"]), "b": Service(["t3"])})
        >>> d.assignment()
        {'t1': 'a', 't2': 'a', 't3': 'b'}
        """
        return {t: name for name, svc in self.services.items() for t in svc.tables}

    def context_assignment(self) -> dict[str, str]:
        """table -> bounded context (the service's own name where it has none): the coarser level.

        >>> d = Decomposition(services={"a": Service(["t1"], context="a"), "b": Service(["t2"], context="a"),
        ...                             "c": Service(["t3"])})
        >>> d.context_assignment()
        {'t1': 'a', 't2': 'a', 't3': 'c'}
        """
        return {t: svc.context or name for name, svc in self.services.items() for t in svc.tables}

    def service_of(self, table: str) -> str:
        """The service owning ``table``; :class:`NotFoundError` naming it otherwise."""
        for name, svc in self.services.items():
            if table in svc.tables:
                return name
        raise NotFoundError(f"table {table!r} is in no service of this decomposition")

    def move(self, table: str, service: str) -> Decomposition:
        """A copy with ``table`` moved into ``service`` (created if new): the what-if of the notebook.

        >>> d = Decomposition(services={"a": Service(["t1", "t2"]), "b": Service(["t3"])})
        >>> d.move("t2", "b").assignment()
        {'t1': 'a', 't2': 'b', 't3': 'b'}
        """
        services = {n: Service(sorted(t for t in s.tables if t != table), s.kind, list(s.replicated), s.context)
                    for n, s in self.services.items()}
        if table not in self.assignment() and table not in self.unassigned:
            raise NotFoundError(f"table {table!r} is in no service of this decomposition")
        services.setdefault(service, Service())
        services[service].tables = sorted([*services[service].tables, table])
        services = {n: s for n, s in services.items() if s.tables}
        unassigned = {t: why for t, why in self.unassigned.items() if t != table}
        notes = dict(self.tables)
        notes[table] = TableNote(confidence=None, role="pinned", reason=f"moved to {service} by hand")
        return Decomposition(services, notes, unassigned, list(self.excluded),
                             [t for t in self.ambiguous if t != table], self.method, dict(self.parameters))

    def rename(self, old: str, new: str) -> Decomposition:
        """A copy with service ``old`` called ``new`` (names are the architect's to choose)."""
        if old not in self.services:
            raise NotFoundError(f"service not found: {old}")
        check_service_name(new, "rename")
        if new in self.services and new != old:
            raise ArtifactError(f"cannot rename {old!r} to {new!r}: a service of that name exists")
        services = {(new if n == old else n): replace(s, context=new if s.context == old else s.context)
                    for n, s in self.services.items()}
        notes = {t: TableNote(n.confidence, n.role, n.reason, {(new if k == old else k): v for k, v in n.pull.items()})
                 for t, n in self.tables.items()}
        return Decomposition(services, notes, dict(self.unassigned), list(self.excluded), list(self.ambiguous),
                             self.method, dict(self.parameters))


def validate(decomposition: Decomposition, source: str = "decomposition") -> Decomposition:
    """Reject a decomposition that places one table in two services (a hand edit gone wrong)."""
    seen: dict[str, str] = {}
    for name, svc in decomposition.services.items():
        if not isinstance(svc.tables, list):
            raise ArtifactError(f"{source}: service {name!r} has no tables list")
        for t in svc.tables:
            if t in seen and seen[t] != name:
                raise ArtifactError(f"{source}: table {t!r} is in two services, {seen[t]!r} and {name!r}")
            seen[t] = name
    return decomposition


def check_names(decomposition: Decomposition, source: str = "decomposition") -> Decomposition:
    """Reject a service named what no schema may be called (see :func:`workbench.names.check_service_name`):
    checked where a decomposition is read, written, or designed from, since its names become schema
    names, folders and text in generated code; an in-memory one scored as a comparison is not."""
    for name in decomposition.services:
        check_service_name(name, source)
    return decomposition


def load_decomposition(path: str | Path) -> Decomposition:
    """Read ``decomposition.yaml`` (or .json), including a hand-edited one with only ``services``
    (a file without a ``format`` key is read as version 1, see :mod:`workbench.serde`)."""
    path = Path(path)
    data = serde.read_data(path)
    if isinstance(data, dict):
        serde.check_format(Decomposition.FORMAT, data.get(serde.FORMAT_KEY), str(path))
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise ArtifactError(f"{path}: expected a top-level 'services:' mapping of service name to tables")
    for name, svc in data["services"].items():
        if isinstance(svc, list):  # shorthand ``name: [t1, t2]`` is accepted too
            data["services"][name] = {"tables": svc}
        elif not isinstance(svc, dict) or not isinstance(svc.get("tables"), list):
            raise ArtifactError(f"{path}: service {name!r} needs a 'tables:' list")
    data["services"] = {str(k): v for k, v in data["services"].items()}
    return check_names(validate(serde.from_dict(Decomposition, data, str(path)), str(path)), str(path))


def to_data(decomposition: Decomposition) -> dict[str, Any]:
    """Plain data for YAML/JSON, services first and empty details left out so the file reads well."""
    data = serde.to_dict(check_names(validate(decomposition)))
    for svc in data["services"].values():
        for key in ("replicated", "context"):
            if not svc.get(key):
                svc.pop(key, None)
    for note in data["tables"].values():
        for key in ("pull", "confidence", "reason"):
            if note.get(key) in ({}, None):
                note.pop(key, None)
    return data


def save_decomposition(decomposition: Decomposition, path: str | Path) -> Path:
    """Write the decomposition (services first, its ``format`` last), YAML or JSON by the path's
    extension as every artifact (:func:`workbench.serde.save`)."""
    data = to_data(decomposition)
    data[serde.FORMAT_KEY] = str(Decomposition.FORMAT)
    return serde.save(data, path)
