"""From an accepted decomposition to the target design: per-service schemas, the dependency catalog,
and every mechanism's artifacts (references, replicas, read models, sagas, events, outboxes)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any

from tqdm import tqdm

from workbench.decompose.model import Decomposition, validate
from workbench.design.dependencies import Boundaries, Usage, catalog
from workbench.design.mechanisms import Rules
from workbench.design.model import LEGACY, Dependency, Design, Projection, Reference, Saga, ServiceDesign, TargetTable
from workbench.design.outbox import (
    INBOX,
    OUTBOX,
    SEQUENCE,
    VERSIONS,
    EventCatalog,
    inbox_table,
    outbox_table,
    versions_table,
)
from workbench.design.projections import from_read, from_view, identifier
from workbench.design.queries import QueryShape
from workbench.design.queries import shapes as parse_shapes
from workbench.design.sagas import build_saga, failure_event
from workbench.design.schemas import server_default
from workbench.design.sqltypes import is_integer, to_sqlalchemy
from workbench.errors import ArtifactError
from workbench.schema import Schema, Table
from workbench.workload.model import Workload

ALL_ACTIONS = ["created", "updated", "deleted"]
REPLICAS = ("replica", "command_replica", "projection_source")
"""Roles of read-only copies fed by events, the strongest first (one copy per table and consumer)."""


def namespace(service: str, prefix: str = "", taken: Iterable[str] = ()) -> str:
    """The service's schema/database/file name: a plain lower-case identifier, unique among ``taken``.

    >>> namespace("Order Management", "wb_"), namespace("public", taken=["public"])
    ('wb_order_management', 'public_svc')
    """
    name = re.sub(r"[^a-z0-9_]+", "_", service.lower()).strip("_") or "service"
    if name[0].isdigit():
        name = "s_" + name
    name = identifier(re.sub(r"[^a-z0-9_]+", "_", prefix.lower()) + name, 60)
    used = {t.lower() for t in taken}
    base, n = name, 1
    if name in used:
        name = f"{base}_svc"
    while name in used:
        n += 1
        name = f"{base}_svc{n}"
    return name


def _identity(t: Table, dialect: str, implied: set[tuple[str, str]] = frozenset()) -> str | None:  # type: ignore[assignment]
    """A single integer primary key that is no reference (declared or implied): the database generated it."""
    if len(t.primary_key) != 1:
        return None
    col = t.column(t.primary_key[0])
    if col is None or not is_integer(col.type, dialect):
        return None
    if any(col.name in fk.columns for fk in t.foreign_keys) or (t.key, col.name) in implied:
        return None
    return col.name


def _type_notes(t: Table, dialect: str | None) -> list[str]:
    notes = []
    for c in t.columns:
        mapped = to_sqlalchemy(c.type, dialect)
        if mapped.note:
            notes.append(f"column {c.name}: {mapped.note}")
        if c.default is not None:
            _, note = server_default(c.default, dialect)
            if note:
                notes.append(f"column {c.name}: {note}")
    return notes


def _free(name: str, used: set[str], qualifier: str) -> str:
    if name.lower() not in used:
        return name
    candidate = identifier(f"{qualifier}_{name}")
    n = 1
    while candidate.lower() in used:
        n += 1
        candidate = identifier(f"{qualifier}_{name}_{n}")
    return candidate


class _Builder:
    """Accumulates one design; each ``add_*`` method turns one kind of mechanism into artifacts."""

    def __init__(self, schema: Schema, decomposition: Decomposition, workload: Workload | None, rules: Rules,
                 prefix: str, polling: bool) -> None:
        self.schema = schema
        self.b = Boundaries(schema, decomposition)
        self.usage = Usage.of(workload)
        self.workload = workload
        self.rules = rules
        self.prefix = prefix
        self.polling = polling
        self.events = EventCatalog()
        self.services: dict[str, ServiceDesign] = {}
        self.projections: list[Projection] = []
        self.sagas: list[Saga] = []
        self.notes: list[str] = []
        self.tables = {t.key: t for t in schema.tables}
        self.shapes: dict[str, QueryShape] = {}
        self.implied = {(r.table, r.column) for r in self.b.implied}

    # -- services and their own tables ---------------------------------------------------------
    def add_services(self, decomposition: Decomposition, findings: list[Any]) -> None:
        taken = set(self.schema.schemas) | {self.schema.default_schema or ""}
        owner = decomposition.assignment()
        target: dict[str, str] = {}  # legacy key -> table name in its service (renamed only on a clash)
        for name in sorted(decomposition.services):
            used: set[str] = set()
            for key in sorted(decomposition.services[name].tables):
                target[key] = _free(self.tables[key].name, used, self.tables[key].schema or "t")
                used.add(target[key].lower())
        for name in sorted(decomposition.services):
            svc = decomposition.services[name]
            ns = namespace(name, self.prefix, taken)
            taken.add(ns)
            design = ServiceDesign(name=name, namespace=ns, kind=svc.kind)
            for key in sorted(svc.tables):
                source = self.tables[key]
                t = copy.deepcopy(source)
                t.schema, t.name = None, target[key]
                t.foreign_keys = [fk for fk in t.foreign_keys if owner.get(fk.referred_key) == name]
                for fk in t.foreign_keys:
                    fk.referred_schema, fk.referred_table = None, target[fk.referred_key]
                notes = [f"foreign key ({', '.join(fk.columns)}) -> {fk.referred_key} dropped: kept as reference by id"
                         for fk in source.foreign_keys if owner.get(fk.referred_key) != name]
                names = {c.name for c in t.columns}
                notes += [f"expression index {ix.name or ''}({', '.join(ix.columns)}) not carried over: recreate it "
                          "by hand if still needed" for ix in t.indexes if any(c not in names for c in ix.columns)]
                t.indexes = [ix for ix in t.indexes if ix.columns and all(c in names for c in ix.columns)]
                notes += _type_notes(t, self.schema.dialect)
                design.tables.append(TargetTable(t, "owned", key, notes=notes,
                                                 identity=_identity(source, self.schema.dialect, self.implied)))
            rows = [self.tables[k].row_count for k in svc.tables if self.tables[k].row_count is not None]
            sizes = [self.tables[k].size_bytes for k in svc.tables if self.tables[k].size_bytes is not None]
            design.rows = sum(rows) if rows else None  # type: ignore[arg-type]
            design.size_bytes = sum(sizes) if sizes else None  # type: ignore[arg-type]
            owned = set(svc.tables)
            design.findings = [f for f in findings if f.table in owned]
            design.ambiguous = sorted(owned & set(decomposition.ambiguous))
            if self.workload is not None:
                design.write_transactions = sum(x.count for x in self.workload.transactions
                                                if owned & set(x.tables_written))
                design.calls = sum(t.calls for t in self.workload.templates
                                   if owned & (set(t.tables_read) | set(t.tables_written)))
            self.services[name] = design

    def _used(self, service: str) -> set[str]:
        return {t.table.name.lower() for t in self.services[service].tables}

    def _pk(self, key: str) -> list[str]:
        t = self.tables[key]
        return list(t.primary_key) or [c.name for c in t.columns[:1]]

    # -- copies of other services' tables --------------------------------------------------------
    def add_replica(self, consumer: str, key: str, columns: list[str] | None, dep: Dependency, role: str) -> None:
        """A read-only copy of ``key`` in ``consumer`` (all columns, or the listed ones plus the key)."""
        svc = self.services.get(consumer)
        if svc is None:
            return
        source = self.tables[key]
        existing = next((t for t in svc.tables if t.source == key and t.role in REPLICAS), None)
        wanted = [c.name for c in source.columns] if columns is None else \
            [c.name for c in source.columns if c.name in set(columns) | set(source.primary_key)]
        if existing is not None:
            have = {c.name for c in existing.table.columns}
            if REPLICAS.index(role) < REPLICAS.index(existing.role):
                existing.role = role  # a full replica, or a command-side one, also serves a read model
            keep = have | set(wanted)
            existing.table.columns = [copy.deepcopy(c) for c in source.columns if c.name in keep]
            existing.notes.append(f"also needed by {dep.id}")
            return
        t = Table(_free(source.name, self._used(consumer), self.b.service(key)),
                  columns=[copy.deepcopy(c) for c in source.columns if c.name in wanted],
                  primary_key=list(source.primary_key),
                  comment=f"read-only copy of {self.b.service(key)}.{key}, kept current by its events")
        for c in t.columns:
            c.default = None
        svc.tables.append(TargetTable(t, role, key, notes=[f"for {dep.id}", *_type_notes(t, self.schema.dialect)]))
        for action in ALL_ACTIONS:
            self.events.add(self.b.service(key), key, action, self._pk(key) + [c.name for c in t.columns], consumer,
                            dep.id)

    def add_local_copy(self, consumer: str, key: str, dep: Dependency) -> None:
        """The consumer's own, writable copy of a cross-cutting table (same columns; the migration seeds
        it with the legacy rows, so counters continue where the monolith left them)."""
        svc = self.services.get(consumer)
        if svc is None or any(t.source == key and t.role == "copy" for t in svc.tables):
            return
        source = self.tables[key]
        t = copy.deepcopy(source)
        t.schema, t.foreign_keys = None, []
        t.name = _free(source.name, self._used(consumer), "local")
        t.comment = f"this service's own {source.name} (was shared: {key})"
        svc.tables.append(TargetTable(t, "copy", key, identity=_identity(source, self.schema.dialect, self.implied),
                                      notes=[f"for {dep.id}", *_type_notes(t, self.schema.dialect)]))

    # -- mechanisms ------------------------------------------------------------------------------------
    def add_foreign_key(self, dep: Dependency) -> None:
        key = dep.tables[dep.consumer][0]
        referred_key = dep.tables[dep.providers[0]][0]
        columns, referred_columns = dep.facts["columns"], dep.facts["referred_columns"]
        provider = dep.providers[0]
        if dep.consumer in self.services:
            target_name = next(t.table.name for t in self.services[dep.consumer].tables if t.source == key)
            how = "" if dep.facts.get("declared", True) else "undeclared in the legacy schema; "
            self.services[dep.consumer].references.append(Reference(
                target_name, list(columns), provider, referred_key, list(referred_columns), dep.facts.get("name"),
                dep.id, f"{dep.mechanism}: {how}{dep.reason}"))
        if dep.mechanism == "replicated_reference_data":
            self.add_replica(dep.consumer, referred_key, None, dep, "replica")
        elif dep.mechanism == "command_side_replica":
            mine = set(self.services[dep.consumer].owned) if dep.consumer in self.services else set()
            used: set[str] = set(referred_columns)
            for shape in self.shapes.values():  # what the consumer's own statements read of it
                if referred_key in shape.tables and mine & set(shape.tables):
                    used.update(shape.columns.get(referred_key, []))
            self.add_replica(dep.consumer, referred_key, sorted(used), dep, "command_replica")
        elif provider in self.services:
            for action in ("created", "deleted"):
                self.events.add(provider, referred_key, action, list(referred_columns), dep.consumer, dep.id)

    def add_read(self, dep: Dependency) -> None:
        if dep.mechanism == "replicated_reference_data":
            for provider in dep.providers:
                for key in dep.tables[provider]:
                    if key in self.tables and self.tables[key].kind == "table":
                        self.add_replica(dep.consumer, key, None, dep, "replica")
            return
        if dep.mechanism != "cqrs_projection" or dep.consumer not in self.services:
            return
        svc = self.services[dep.consumer]
        built: list[tuple[Projection, Table, dict[str, list[str]]]] = []
        if dep.kind == "view":
            view = self.tables[dep.id.removeprefix("view:")]
            shape = self.b.view_shapes[view.key]
            name = _free(identifier(f"rm_{view.name}"), self._used(dep.consumer), "rm")
            projection, table = from_view(name, dep.consumer, dep.id, view, shape, self.schema)
            built.append((projection, table, {k: shape.columns.get(k, []) for k in shape.tables}))
        else:
            found = [self.shapes[f] for f in dep.facts.get("templates", []) if f in self.shapes]
            tables = sorted({t for ts in dep.tables.values() for t in ts})
            driving = dep.id.removeprefix("read:").split("+", 1)[0]
            used = self._used(dep.consumer)

            def free(wanted: str) -> str:
                got = _free(wanted, used, "rm")
                used.add(got.lower())
                return got

            base = identifier(f"rm_{self.tables[driving].name if driving in self.tables else driving}")
            for projection, table in from_read(base, dep.consumer, dep.id, tables, found, self.schema,
                                               own=dep.tables.get(dep.consumer, []), free=free):
                sources: dict[str, list[str]] = {}
                for c in projection.columns:
                    sources.setdefault(c.table, []).append(c.column)
                built.append((projection, table, sources))
        for projection, table, sources in built:
            for key, cols in sorted(sources.items()):
                provider = self.b.service(key)
                if provider not in self.services or self.tables[key].kind != "table":
                    continue
                payload = self._pk(key) + [c for c in cols if c not in self._pk(key)]
                own = provider == dep.consumer
                if not own:  # the read model is recomputed from local rows: keep the provider's columns it joins
                    self.add_replica(dep.consumer, key, payload, dep, "projection_source")
                for action in ALL_ACTIONS:
                    projection.events.append(f"{provider}:" + self.events.add(provider, key, action, payload,
                                                                               dep.consumer, dep.id, own=own))
            projection.events = sorted(set(projection.events))
            self.projections.append(projection)
            svc.tables.append(TargetTable(table, "projection", dep.id, neutral_types=dep.kind == "view",
                                          identity=None if projection.key else table.primary_key[0],
                                          notes=list(projection.notes)))

    def add_write(self, dep: Dependency) -> None:
        facts = dep.facts
        initiator = facts["initiator"]
        for key in facts.get("local_copy_tables", []):
            self.add_local_copy(initiator, key, dep)
        if dep.mechanism.startswith("saga_"):
            saga = build_saga(dep)
            self.sagas.append(saga)
            for i, step in enumerate(saga.steps):
                nxt = saga.steps[i + 1].service if i + 1 < len(saga.steps) else saga.initiator
                to = saga.initiator if saga.style == "orchestration" else nxt
                table = step.tables[0]
                verb = "created" if step.event.endswith("Created") else "deleted" if step.event.endswith("Deleted") \
                    else "updated"
                if step.service in self.services:
                    self.events.add(step.service, table, verb, self._pk(table), to, dep.id, type=step.event)
                    if step.kind in ("pivot", "compensatable") and step.order > 1:
                        self.events.add(step.service, table, "failed", self._pk(table), saga.initiator, dep.id,
                                        type=failure_event(step.event))
        elif dep.mechanism == "domain_events" and initiator in self.services:
            table = facts.get("roots", {}).get(initiator) or facts["written"][initiator][0]
            for consumer in facts.get("event_consumers", []):
                for action in self.usage.actions(table) or ["created"]:
                    self.events.add(initiator, table, action, self._pk(table), consumer, dep.id)

    def add_messaging(self) -> None:
        for svc in self.services.values():
            used = self._used(svc.name)
            out = outbox_table(_free(OUTBOX, used, "wb"), self.polling)
            svc.tables.append(TargetTable(out, "outbox", None, neutral_types=True, identity=SEQUENCE))
            inbox = inbox_table(_free(INBOX, used | {out.name.lower()}, "wb"))
            svc.tables.append(TargetTable(inbox, "inbox", None, neutral_types=True))
            versions = versions_table(_free(VERSIONS, used | {out.name.lower(), inbox.name.lower()}, "wb"))
            svc.tables.append(TargetTable(versions, "inbox", None, neutral_types=True))

    def run(self, decomposition: Decomposition, findings: list[Any], shapes: Mapping[str, QueryShape]) -> Design:
        self.shapes = dict(shapes)
        deps = catalog(self.schema, decomposition, self.workload, self.rules, shapes)
        self.add_services(decomposition, findings)
        for dep in tqdm(deps, desc="design", unit=" dependency", disable=None, leave=False):
            if dep.kind == "foreign_key":
                self.add_foreign_key(dep)
            elif dep.kind in ("read_join", "view"):
                self.add_read(dep)
            else:
                self.add_write(dep)
        self.add_messaging()
        for svc in self.services.values():
            order = {
                "owned": 0,
                "copy": 1,
                "replica": 2,
                "command_replica": 3,
                "projection_source": 3,
                "projection": 4,
                "outbox": 5,
                "inbox": 6,
            }
            svc.tables.sort(key=lambda t: (order.get(t.role, 9), t.table.name))
            svc.references.sort(key=lambda r: (r.table, r.columns))
        approximated = sum(1 for svc in self.services.values() for t in svc.tables for n in t.notes
                           if n.startswith("column ") and ("kept as" in n or "not carried over" in n))
        if approximated:
            self.notes.append(f"{approximated} column type(s) or default(s) could not be carried over exactly: "
                              "see the tables' notes")
        placed = set(decomposition.assignment())
        unplaced = sorted(t.key for t in self.schema.base_tables if t.key not in placed)
        for key, shape in sorted(self.b.view_shapes.items()):
            services = {self.b.service(t) for t in shape.tables}
            if len(services) == 1 and LEGACY not in services:
                self.notes.append(f"view {key} reads only {services.pop()}'s tables: recreate it in that schema "
                                  "from its definition (views are not part of the generated DDL)")
        return Design(source=self.schema.database, source_dialect=self.schema.dialect,
                      services=dict(sorted(self.services.items())), dependencies=deps, events=self.events.events(),
                      projections=sorted(self.projections, key=lambda p: (p.service, p.name)),
                      sagas=sorted(self.sagas, key=lambda s: s.dependency), unplaced=unplaced,
                      rules=self.rules.as_dict(), statements=self.workload.statements if self.workload else 0,
                      transactions=self.usage.transactions, notes=self.notes)


def design(schema: Schema, decomposition: Decomposition, workload: Workload | None = None, *,
           rules: Rules | Mapping[str, Any] | None = None, prefix: str = "", findings: list[Any] | None = None,
           polling: bool = False) -> Design:
    """The target design for ``decomposition`` of ``schema``, with the workload's evidence when given.

    Parameters
    ----------
    rules : decision thresholds (:class:`~workbench.design.mechanisms.Rules` or overrides by name).
    prefix : prepended to every service's namespace (schema, database or file name).
    findings : lint findings to attribute to services (default: :func:`workbench.assess.lint.lint`).
    polling : add Eventuate's ``published`` flag to the outboxes (for a polling relay instead of CDC).

    Raises
    ------
    ArtifactError
        When the decomposition names a table the schema lacks, or places a table twice.
    """
    validate(decomposition)
    keys = {t.key for t in schema.tables}
    unknown = sorted(t for t in decomposition.assignment() if t not in keys)
    if unknown:
        raise ArtifactError(f"the decomposition names tables the schema does not have: {', '.join(unknown[:10])}"
                            + (" ..." if len(unknown) > 10 else ""))
    kinds = {t.key: t.kind for t in schema.tables}
    views = sorted(t for t in decomposition.assignment() if kinds.get(t) == "view")
    if views:
        decomposition = copy.deepcopy(decomposition)
        for svc in decomposition.services.values():
            svc.tables = [t for t in svc.tables if t not in views]
    if findings is None:
        from workbench.assess.lint import lint

        findings = lint(schema)
    r = rules if isinstance(rules, Rules) else Rules.from_mapping(rules)
    parsed = parse_shapes(((t.fingerprint, t.text) for t in workload.templates if t.tables_read), schema,
                          workload.dialect or schema.dialect) if workload is not None else {}
    builder = _Builder(schema, decomposition, workload, r, prefix, polling)
    result = builder.run(decomposition, findings, parsed)
    if views:
        result.notes.append(f"views listed as service tables are not copied (views are not part of the DDL): "
                            f"{', '.join(views)}")
    return result
