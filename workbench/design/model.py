"""The design artifact (``design.json``): per-service schemas, the cross-boundary dependency catalog
and the consistency mechanisms' artifacts, as plain dataclasses that round-trip through JSON.

The design is self-contained: every target table is a :class:`workbench.schema.Table` (columns,
keys, indexes, internal foreign keys), so the DDL for any dialect and the plan are derived from
``design.json`` alone, without the legacy database or the earlier artifacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench import serde
from workbench.assess.lint.finding import Finding
from workbench.errors import NotFoundError
from workbench.schema import Table

LEGACY = "(legacy)"
"""Pseudo-service name for tables the decomposition placed nowhere (unassigned or excluded)."""

ROLES = ("owned", "copy", "replica", "command_replica", "projection_source", "projection", "outbox", "inbox")
"""Why a table is in a service's schema: its own data, its own copy of a formerly shared
cross-cutting table, a read-only copy fed by events (full for reference data, the few needed
columns for a command-side replica, the columns a read model joins from another service's table),
a CQRS read model, or the messaging tables every service gets."""


@dataclass
class TargetTable:
    """A table of a service's schema.

    Attributes
    ----------
    table : the table as it will be created; ``table.schema`` is None (the service's namespace is
        applied per dialect), ``foreign_keys`` holds only the FKs that stay inside the service.
    role : one of :data:`ROLES`.
    source : the legacy table key it comes from (owned, replicas) or the dependency id (projections).
    neutral_types : True when column types are neutral SQL (generated tables), False when they are
        the source dialect's spelling (copied from the legacy schema).
    identity : the column the database generates (an integer surrogate key), or None.
    notes : what changed on the way (dropped FKs, approximated types, defaults not carried over).
    """

    table: Table
    role: str = "owned"
    source: str | None = None
    neutral_types: bool = False
    identity: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Reference:
    """A cross-service foreign key, removed from the DDL and kept as a reference-by-id column.

    The columns stay (same names, same types) but nothing in the database checks them any more:
    the owning service keeps them valid through the mechanism of ``dependency``.
    """

    table: str
    columns: list[str]
    referred_service: str
    referred_table: str
    referred_columns: list[str]
    name: str | None = None
    dependency: str = ""
    note: str = ""


@dataclass
class ServiceDesign:
    """One service's target schema and the figures the plan needs.

    Attributes
    ----------
    namespace : its schema (PostgreSQL, SQL Server, Oracle), database (MySQL) or file stem (SQLite).
    kind : the decomposition's kind (``domain``, ``reference``, ``platform``, ``pinned``).
    tables : every table of its schema, owned ones first.
    references : cross-service FKs turned into reference-by-id columns.
    rows, size_bytes : summed over the owned tables (None where the source did not say).
    findings : lint findings on its owned tables.
    ambiguous : owned tables the decomposition was unsure about.
    write_transactions : transactions (summed counts) writing its owned tables (0 without a workload).
    calls : statement calls touching its owned tables (0 without a workload).
    """

    name: str
    namespace: str
    kind: str = "domain"
    tables: list[TargetTable] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    rows: int | None = None
    size_bytes: int | None = None
    findings: list[Finding] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    write_transactions: int = 0
    calls: int = 0

    @property
    def owned(self) -> list[str]:
        """Keys of the legacy tables this service owns."""
        return [t.source or t.table.name for t in self.tables if t.role == "owned"]

    def table(self, name: str) -> TargetTable:
        """The target table called ``name``; :class:`NotFoundError` naming it otherwise."""
        for t in self.tables:
            if t.table.name == name:
                return t
        raise NotFoundError(f"table {name!r} not found in service {self.name!r}")


@dataclass
class Dependency:
    """One dependency that crosses a service boundary, its evidence and the mechanism recommended.

    Attributes
    ----------
    id : stable id (``fk:``, ``read:``, ``view:``, ``write:`` + what it is about).
    kind : ``foreign_key``, ``read_join``, ``view`` or ``write_transaction``.
    consumer : the service that depends (holds the FK, runs the query, starts the transaction).
    providers : the other services involved, sorted.
    tables : service -> its tables involved, sorted.
    calls : how often it happens in the workload (query calls, transactions); 0 without a workload.
    rows : table -> row count (estimate where the source gave one).
    evidence : what shows it, one line each (the FK, the statement templates, the transaction shapes).
    facts : the figures the decision rule used, by name.
    mechanism : one of :data:`workbench.design.mechanisms.MECHANISMS`.
    reason : why, quoting the figures and the thresholds.
    """

    id: str
    kind: str
    consumer: str
    providers: list[str]
    tables: dict[str, list[str]] = field(default_factory=dict)
    calls: int = 0
    rows: dict[str, int | None] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    mechanism: str = ""
    reason: str = ""

    @property
    def services(self) -> list[str]:
        return [self.consumer, *self.providers]


@dataclass
class Event:
    """A domain event a service publishes through its outbox, and who needs it.

    ``aggregatetype`` and ``type`` are the values the outbox row carries (Debezium routes on the
    first); ``payload`` lists the columns the consumers need (the key first).
    """

    service: str
    type: str
    aggregatetype: str
    table: str
    action: str
    payload: list[str] = field(default_factory=list)
    consumers: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)


@dataclass
class ProjectionColumn:
    """A read-model column and the legacy column it copies."""

    name: str
    table: str
    column: str
    type: str


@dataclass
class JoinStep:
    """How a projection's source table joins the tables before it (for the initial fill).

    ``on`` holds pairs ``[alias.column, alias.column]`` (equality), or ``[alias.column, literal]``
    for a column compared with a constant (SQL literal text: ``'x'``, ``1``, ``TRUE``); ``extra``
    holds other join predicates as neutral SQL over the same aliases (transpiled per dialect).
    """

    table: str
    name: str
    schema: str | None
    alias: str
    outer: bool = False
    on: list[list[str]] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


@dataclass
class Projection:
    """A CQRS read model: a table in the consumer's schema, filled from the legacy database first
    and then kept current by the providers' events.

    Attributes
    ----------
    name : the read-model table's name in the consumer's schema.
    service : the consumer owning it.
    dependency : the dependency it resolves.
    driving : the table the queries start from (one row of the read model per row of it, or per
        combination of the ``key`` columns).
    joins : the join tree the initial fill uses (the first step is the driving table).
    columns : read-model columns; ``key`` names the ones forming its primary key (empty: none).
    fill_sql : the SELECT that fills it from the legacy database, in the legacy dialect.
    events : event types (``service:type``) that keep it current.
    rows_estimate : about how many rows it holds.
    notes : what the fill leaves out (request-time filters, unresolvable joins).
    view_sql : a view's read model only: the view's defining SELECT (legacy dialect), from which a
        consumer recomputes the read model over its local tables.
    """

    name: str
    service: str
    dependency: str
    driving: str
    joins: list[JoinStep] = field(default_factory=list)
    columns: list[ProjectionColumn] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    fill_sql: str = ""
    events: list[str] = field(default_factory=list)
    rows_estimate: int | None = None
    notes: list[str] = field(default_factory=list)
    view_sql: str = ""


@dataclass
class SagaStep:
    """One local transaction of a saga.

    ``kind`` follows Richardson's saga structure: ``compensatable`` steps can be undone,
    the ``pivot`` is the go/no-go step (after it the saga runs to completion), ``retriable``
    steps cannot fail for business reasons and are retried until they succeed.
    """

    order: int
    service: str
    action: str
    tables: list[str]
    kind: str
    compensation: str = ""
    event: str = ""


@dataclass
class Saga:
    """A distributed write replaced by local transactions chained by events.

    Attributes
    ----------
    style : ``choreography`` (participants react to each other's events) or ``orchestration``
        (one orchestrator in the initiator sends commands and awaits replies).
    pending_state : the initiator's table whose rows start PENDING until the saga completes (None
        when no step can fail after the first).
    mermaid : the sequence diagram as Mermaid text.
    """

    name: str
    dependency: str
    initiator: str
    style: str
    participants: list[str]
    steps: list[SagaStep] = field(default_factory=list)
    count: int = 0
    pending_state: str | None = None
    mermaid: str = ""


@dataclass
class Design:
    """The target design: the artifact ``design/design.json`` of the Design stage.

    Attributes
    ----------
    source : the legacy database (password masked).
    source_dialect : its SQLAlchemy backend name: the spelling of copied column types.
    services : service name -> its design, sorted by name.
    dependencies : the cross-boundary dependency catalog, sorted by kind and id.
    events, projections, sagas : the mechanisms' artifacts.
    unplaced : legacy tables no service owns (unassigned or excluded by the decomposition).
    rules : the decision thresholds used (see :class:`workbench.design.mechanisms.Rules`).
    statements, transactions : totals of the workload used (0 without one).
    notes : design-wide remarks (approximated types, skipped objects).
    """

    source: str
    source_dialect: str
    services: dict[str, ServiceDesign] = field(default_factory=dict)
    dependencies: list[Dependency] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    projections: list[Projection] = field(default_factory=list)
    sagas: list[Saga] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)
    rules: dict[str, Any] = field(default_factory=dict)
    statements: int = 0
    transactions: int = 0
    notes: list[str] = field(default_factory=list)

    def service(self, name: str) -> ServiceDesign:
        """The service called ``name``; :class:`NotFoundError` naming it otherwise."""
        try:
            return self.services[name]
        except KeyError:
            raise NotFoundError(f"service not found in the design: {name}") from None

    def owner(self) -> dict[str, str]:
        """Legacy table key -> the service owning it."""
        return {key: name for name, svc in self.services.items() for key in svc.owned}

    def dependency(self, dep_id: str) -> Dependency:
        """The dependency with id ``dep_id``; :class:`NotFoundError` naming it otherwise."""
        for d in self.dependencies:
            if d.id == dep_id:
                return d
        raise NotFoundError(f"dependency not found in the design: {dep_id}")


def load_design(path: str | Path) -> Design:
    """Read ``design.json`` (or a design folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "design.json"
    return serde.load(Design, path)
