"""The design artifact (``design.json``): per-service schemas, the cross-boundary dependency catalog
and the consistency mechanisms' artifacts, as plain dataclasses that round-trip through JSON.

The design is self-contained: every target table is a :class:`workbench.schema.Table` (columns,
keys, indexes, internal foreign keys), so the DDL for any dialect and the plan are derived from
``design.json`` alone, without the legacy database or the earlier artifacts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, TypedDict, cast, get_args

from workbench import serde
from workbench.assess.lint.finding import Finding
from workbench.errors import ArtifactError, NotFoundError
from workbench.names import check_service_name
from workbench.schema import Table, UserType

LEGACY = "(legacy)"
"""Pseudo-service name for tables the decomposition placed nowhere (unassigned or excluded)."""

TableRole = Literal["owned", "copy", "replica", "command_replica", "projection_source", "projection", "outbox", "inbox"]
"""Why a table is in a service's schema: its own data, its own copy of a formerly shared
cross-cutting table, a read-only copy fed by events (full for reference data, the few needed
columns for a command-side replica, the columns a read model joins from another service's table),
a CQRS read model, or the messaging tables every service gets."""

ROLES: tuple[TableRole, ...] = get_args(TableRole)

ServiceKind = Literal["domain", "reference", "platform", "pinned"]
"""What the decomposition made a service: clustered domain tables, the reference-data service, the
platform service of cross-cutting tables, or a service only the architect's pins created."""

SERVICE_KINDS: tuple[ServiceKind, ...] = get_args(ServiceKind)

DependencyKind = Literal["foreign_key", "read_join", "view", "write_transaction"]
"""What crosses the boundary: a (declared or implied) reference, statements joining tables of
several services, a view over them, or transactions writing several services."""

Mechanism = Literal[
    "reference_by_id", "command_side_replica", "replicated_reference_data", "api_composition", "cqrs_projection",
    "saga_choreography", "saga_orchestration", "domain_events", "local_copy", "merge_services",
]
"""The consistency mechanisms (described in :data:`workbench.design.mechanisms.MECHANISMS`)."""


def service_kind(kind: str, service: str) -> ServiceKind:
    """A decomposition's service kind as the design knows it; :class:`ArtifactError` naming it otherwise."""
    if kind not in SERVICE_KINDS:
        raise ArtifactError(f"service {service!r} has an unknown kind {kind!r} (known: {', '.join(SERVICE_KINDS)})")
    return kind


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
    inexact_types : columns whose type the targets can only approximate (the notes say how).
    dropped_defaults : columns whose default is not carried over (not a constant).
    """

    table: Table
    role: TableRole = "owned"
    source: str | None = None
    neutral_types: bool = False
    identity: str | None = None
    notes: list[str] = field(default_factory=list)
    inexact_types: list[str] = field(default_factory=list)
    dropped_defaults: list[str] = field(default_factory=list)


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
    kind: ServiceKind = "domain"
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


class ForeignKeyFacts(TypedDict):
    """The figures of a ``foreign_key`` dependency (:func:`workbench.design.mechanisms.decide_foreign_key`).

    declared : False for a reference found by name and type only (no constraint in the legacy schema).
    columns, referred_columns, name : the reference (``name``: the constraint's, None when undeclared).
    referencing_rows, referred_rows : row counts (None where the source did not say).
    referred_is_reference : the decomposition made the referred table reference data.
    referred_write_share : share of all write calls writing the referred table (None without a workload).
    lookups : transactions writing the referencing table that read the referred one.
    lookup_share : their share of all write transactions (None without a workload).
    join_calls : query calls joining the two tables.
    """

    declared: bool
    columns: list[str]
    referred_columns: list[str]
    name: str | None
    referencing_rows: int | None
    referred_rows: int | None
    referred_is_reference: bool
    referred_write_share: float | None
    lookups: int
    lookup_share: float | None
    join_calls: int


class _ReadFacts(TypedDict):
    providers: int
    provider_tables: list[str]
    reference_only: bool
    call_share: float | None
    cross_filter: bool
    cross_sort: bool
    aggregated: bool
    paged: bool
    key_lookup: bool
    filtered: bool
    rows_estimate: int | None
    templates: list[str]


# (optional keys through total=False: NotRequired inside postponed annotations is lost on Python 3.11)
class ReadFacts(_ReadFacts, total=False):
    """The figures of a ``read_join`` or ``view`` dependency (:func:`workbench.design.mechanisms.decide_read`).

    providers : how many provider services it reads; provider_tables : their tables read.
    reference_only : every provider table is reference data.
    call_share : share of all read calls (None without a workload).
    cross_filter, cross_sort : it filters / sorts or groups on provider columns.
    aggregated, paged, key_lookup, filtered : how every statement reads (a view: its readers).
    rows_estimate : the largest table's row count (None where unknown).
    templates : fingerprints of the statements behind it.
    writes : (``read_join`` only) tables those statements write.
    """

    writes: list[str]


class _WriteFacts(TypedDict):
    initiator: str
    saga_participants: list[str]
    event_consumers: list[str]
    local_copies: list[str]
    local_copy_tables: list[str]
    count: int
    share: float | None
    jaccard: dict[str, float]
    written: dict[str, list[str]]
    read: dict[str, list[str]]
    roots: dict[str, str]
    write_kinds: dict[str, list[str]]


class WriteFacts(_WriteFacts, total=False):
    """The figures of a ``write_transaction`` dependency (:func:`workbench.design.mechanisms.decide_write`).

    initiator : the service starting the transactions.
    saga_participants : other services writing in place; event_consumers : those that only append.
    local_copies, local_copy_tables : cross-cutting services (and their tables) written in place.
    count, share : the transactions (summed counts) and their share of all write transactions.
    jaccard : participant -> share of the transactions writing the initiator or it that write both.
    written, read : service -> its tables written / read by these transactions.
    roots : service -> the aggregate root among its tables written.
    write_kinds : table -> statement kinds writing it (``insert``, ``update``, ...).
    merge_with : (``merge_services`` only) the participants to merge with.
    """

    merge_with: list[str]


Facts = ForeignKeyFacts | ReadFacts | WriteFacts

FACTS: dict[DependencyKind, type[ForeignKeyFacts] | type[ReadFacts] | type[WriteFacts]] = {
    "foreign_key": ForeignKeyFacts, "read_join": ReadFacts, "view": ReadFacts, "write_transaction": WriteFacts,
}
"""The facts each kind of dependency carries."""


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
    facts : the figures the decision rule used, by name: the :data:`FACTS` of its kind (read them
        through :attr:`fk_facts`, :attr:`read_facts` or :attr:`write_facts`).
    mechanism : one of :data:`workbench.design.mechanisms.MECHANISMS` ("" until decided).
    reason : why, quoting the figures and the thresholds.
    """

    id: str
    kind: DependencyKind
    consumer: str
    providers: list[str]
    tables: dict[str, list[str]] = field(default_factory=dict)
    calls: int = 0
    rows: dict[str, int | None] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    facts: Facts = field(default_factory=lambda: cast(Facts, {}))
    mechanism: Literal[Mechanism, ""] = ""
    reason: str = ""

    @property
    def services(self) -> list[str]:
        return [self.consumer, *self.providers]

    def _facts(self, *kinds: DependencyKind) -> Facts:
        if self.kind not in kinds:
            raise TypeError(f"dependency {self.id} is a {self.kind}, not a {' or '.join(kinds)}")
        return self.facts

    @property
    def fk_facts(self) -> ForeignKeyFacts:
        """The facts of a ``foreign_key`` dependency (TypeError for another kind: a bug, not bad input)."""
        return cast(ForeignKeyFacts, self._facts("foreign_key"))

    @property
    def read_facts(self) -> ReadFacts:
        """The facts of a ``read_join`` or ``view`` dependency."""
        return cast(ReadFacts, self._facts("read_join", "view"))

    @property
    def write_facts(self) -> WriteFacts:
        """The facts of a ``write_transaction`` dependency."""
        return cast(WriteFacts, self._facts("write_transaction"))


def _structure_dependency(data: Any, _: type) -> Dependency:
    """A dependency with its facts checked against its kind's :data:`FACTS`."""
    dependency = _plain_dependency(data, Dependency)
    dependency.facts = serde.structure(dependency.facts, FACTS[dependency.kind])
    return dependency


_plain_dependency = serde.register_structure(Dependency, _structure_dependency, passthrough=["facts"])


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
    source_query : for a read model of a materialized view that holds no rows in the legacy database
        (created ``WITH NO DATA``, which a read-only session cannot refresh): the view's own query, which
        the fill reads instead, in the legacy dialect; None otherwise.
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
    source_query: str | None = None
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
class LogicItem:
    """Business logic the legacy database runs itself (a trigger, a stored routine, a materialized view),
    assigned to the service(s) whose tables it touches, and what to do with it.

    Attributes
    ----------
    kind : ``trigger``, ``function``, ``procedure`` or ``materialized view``.
    name : its key in the legacy schema (a trigger: ``table.trigger``).
    tables : the legacy tables it touches (a materialized view: reads).
    services : the services owning those tables, sorted (``(legacy)`` for tables no service owns).
    action : the work to do, one sentence.
    recreate_in : services whose schema gets it from ``workbench migrate`` when the target has the
        source's dialect (it touches only that service's tables, or none at all).
    definition : its ``CREATE`` statement as the legacy database gives it.
    function : for a trigger, the routine it runs (its key), where it runs one.
    arguments : for a routine, its argument list (to name it in ``ALTER FUNCTION``).
    table : for a trigger, the legacy table it fires on.
    """

    kind: str
    name: str
    tables: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    action: str = ""
    recreate_in: list[str] = field(default_factory=list)
    definition: str = ""
    function: str | None = None
    arguments: str = ""
    table: str | None = None


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
    types : the legacy enums and domains the services' columns use (created in each service's schema
        when the target has the source's dialect; mapped to their base or a string elsewhere).
    logic : the legacy triggers, routines and materialized views, each assigned and with its work to do.
    """

    FORMAT: ClassVar[serde.Format] = serde.Format("design")

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
    types: list[UserType] = field(default_factory=list)
    logic: list[LogicItem] = field(default_factory=list)

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


def check_namespace(namespace: str, where: str) -> str:
    """A namespace is a schema, database and file name: letters, digits and ``_`` only (no path, no quote)."""
    if not isinstance(namespace, str) or not re.fullmatch(r"\w+", namespace) or len(namespace.encode()) > 63:
        raise ArtifactError(f"{where}: namespace {namespace!r} is not allowed: letters, digits and _ only, "
                            "at most 63 bytes")
    return namespace


def load_design(path: str | Path) -> Design:
    """Read ``design.json`` (or a design folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "design.json"
    design = serde.load(Design, path)
    for name, svc in design.services.items():
        check_service_name(name, str(path))
        check_service_name(svc.name, str(path))
        check_namespace(svc.namespace, str(path))
    return design
