"""The cross-boundary dependency catalog: every dependency a decomposition cuts, with its evidence.

Four kinds, each measured from the schema and (when there is one) the workload:

- ``foreign_key``: a declared FK from one service's table to another's (or to a table no service
  owns): row counts, how often the referencing table is written while the referred one is read;
- ``read_join``: statements reading tables of several services, grouped by the tables read: call
  counts, row estimates, and how they filter, sort, page and aggregate (:mod:`.queries`);
- ``view``: a view over tables of several services (it can live in no single schema);
- ``write_transaction``: transaction shapes writing tables of several services, grouped by the
  services written: counts, the participants, and how each participant writes.

:func:`catalog` attaches the mechanism chosen by :mod:`workbench.design.mechanisms`.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from workbench.decompose.model import Decomposition
from workbench.design.mechanisms import Rules, decide_foreign_key, decide_read, decide_write
from workbench.design.model import (
    LEGACY,
    Dependency,
    DependencyKind,
    ForeignKeyFacts,
    ReadFacts,
    ServiceKind,
    WriteFacts,
    service_kind,
)
from workbench.design.queries import QueryShape, Resolver, analyze_query
from workbench.schema import Schema
from workbench.workload.model import StatementTemplate, Transaction, Workload

WRITE_KINDS = ("insert", "update", "delete", "merge")


@dataclass
class Usage:
    """Workload figures per table (all zero without a workload; ``present`` says which).

    Attributes
    ----------
    write_kinds : table -> the statement kinds that write it (``insert``, ``update``, ...).
    write_calls, read_calls : table -> calls of the templates writing / reading it.
    total_write_calls, total_read_calls : over all templates.
    write_transactions, transactions : summed transaction counts (writing ones / all).
    """

    present: bool = False
    write_kinds: dict[str, set[str]] = field(default_factory=dict)
    write_calls: Counter[str] = field(default_factory=Counter)
    read_calls: Counter[str] = field(default_factory=Counter)
    total_write_calls: int = 0
    total_read_calls: int = 0
    write_transactions: int = 0
    transactions: int = 0

    @classmethod
    def of(cls, workload: Workload | None) -> Usage:
        u = cls()
        if workload is None:
            return u
        u.present = True
        kinds: dict[str, set[str]] = defaultdict(set)
        for t in workload.templates:
            if t.tables_written:
                u.total_write_calls += t.calls
            if t.tables_read:
                u.total_read_calls += t.calls
            for name in t.tables_written:
                kinds[name].add(t.kind if t.kind in WRITE_KINDS else "update")
                u.write_calls[name] += t.calls
            for name in t.tables_read:
                u.read_calls[name] += t.calls
        u.write_kinds = dict(kinds)
        for x in workload.transactions:
            u.transactions += x.count
            if x.tables_written:
                u.write_transactions += x.count
        return u

    def append_only(self, table: str) -> bool:
        """Whether the workload only ever inserts into ``table`` (a log, a history, a ledger)."""
        kinds = self.write_kinds.get(table)
        return kinds is not None and bool(kinds) and kinds <= {"insert"}

    def actions(self, table: str) -> list[str]:
        """Lifecycle actions seen on ``table`` (created/updated/deleted), all three without a workload."""
        if not self.present:
            return ["created", "updated", "deleted"]
        names = {"insert": "created", "update": "updated", "delete": "deleted", "merge": "updated"}
        return sorted(
            {names[k] for k in self.write_kinds.get(table, set())}, key=["created", "updated", "deleted"].index
        )


def _share(num: float, den: float) -> float | None:
    return round(num / den, 6) if den else None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Boundaries:
    """Which service owns what: tables, views (by the table they start from) and reference data."""

    def __init__(self, schema: Schema, decomposition: Decomposition) -> None:
        self.schema = schema
        self.decomposition = decomposition
        self.resolver = Resolver(schema)
        self.owner: dict[str, str] = decomposition.assignment()
        self.rows: dict[str, int | None] = {t.key: t.row_count for t in schema.tables}
        self.view_shapes: dict[str, QueryShape] = {}
        for v in schema.views:
            shape = analyze_query(v.definition, schema, schema.dialect, self.resolver) if v.definition else None
            if shape is not None and shape.tables:
                self.view_shapes[v.key] = shape
        for key, shape in self.view_shapes.items():
            if shape.driving in self.owner:
                self.owner.setdefault(key, self.owner[shape.driving])
        from workbench.assess.implied import implied_references

        self.implied = [r for r in implied_references(schema) if r.table in self.rows and r.referred_table in self.rows]
        self.reference: set[str] = set()
        for svc in decomposition.services.values():
            self.reference.update(svc.replicated)
            if svc.kind == "reference":
                self.reference.update(svc.tables)

    def service(self, table: str) -> str:
        return self.owner.get(table, LEGACY)

    def kind(self, service: str) -> ServiceKind | Literal["legacy"]:
        svc = self.decomposition.services.get(service)
        return service_kind(svc.kind, service) if svc is not None else "legacy"

    def by_service(self, tables: Iterable[str]) -> dict[str, list[str]]:
        out: dict[str, set[str]] = defaultdict(set)
        for t in tables:
            out[self.service(t)].add(t)
        return {s: sorted(ts) for s, ts in sorted(out.items())}


def foreign_keys(b: Boundaries, usage: Usage, workload: Workload | None) -> list[Dependency]:
    """One dependency per reference between tables of different services: declared FKs, and the
    undeclared ones whose name and type give them away (:mod:`workbench.assess.implied`)."""
    lookups: Counter[tuple[str, str]] = Counter()
    joins: Counter[tuple[str, str]] = Counter()
    if workload is not None:
        for x in workload.transactions:
            for w in x.tables_written:
                for r in x.tables_read:
                    lookups[(w, r)] += x.count
        for t in workload.templates:
            for a, c in t.joins:
                joins[(a, c)] += t.calls
                joins[(c, a)] += t.calls
    references = [(t.key, list(fk.columns), fk.referred_key, list(fk.referred_columns), fk.name, True)
                  for t in b.schema.base_tables for fk in t.foreign_keys]
    declared = {(r[0], tuple(r[1])) for r in references}
    references += [(r.table, [r.column], r.referred_table, [r.referred_column], None, False)
                   for r in b.implied if (r.table, (r.column,)) not in declared]
    out = []
    for key, columns, referred, referred_columns, name, is_declared in references:
        consumer = b.service(key)
        provider = b.service(referred)
        if provider == consumer:
            continue
        n = lookups[(key, referred)]
        facts: ForeignKeyFacts = {
            "declared": is_declared,
            "columns": columns,
            "referred_columns": referred_columns,
            "name": name,
            "referencing_rows": b.rows.get(key),
            "referred_rows": b.rows.get(referred),
            "referred_is_reference": referred in b.reference,
            "referred_write_share": _share(usage.write_calls[referred], usage.total_write_calls)
            if usage.present
            else None,
            "lookups": n,
            "lookup_share": _share(n, usage.write_transactions) if usage.present else None,
            "join_calls": joins[(key, referred)],
        }
        evidence = [(f"FOREIGN KEY {key}({', '.join(columns)}) REFERENCES {referred}"
                     f"({', '.join(referred_columns)})" + (f" [{name}]" if name else "")) if is_declared else
                    f"undeclared: {key}.{columns[0]} looks like a reference to {referred}.{referred_columns[0]} "
                    "(name and type match, no FK)"]
        if n:
            evidence.append(f"{n:,} transactions write {key} and read {referred}")
        if joins[(key, referred)]:
            evidence.append(f"{joins[(key, referred)]:,} query calls join {key} with {referred}")
        out.append(Dependency(
            id=f"fk:{key}({','.join(columns)})->{referred}", kind="foreign_key", consumer=consumer,
            providers=[provider], tables={consumer: [key], provider: [referred]}, calls=n,
            rows={key: b.rows.get(key), referred: b.rows.get(referred)}, evidence=evidence, facts=facts))
    return out


def _read_facts(b: Boundaries, consumer: str, tables: list[str], shapes: list[QueryShape], calls: int,
                usage: Usage, templates: list[str]) -> ReadFacts:
    providers = b.by_service(t for t in tables if b.service(t) != consumer)
    provider_tables = {t for ts in providers.values() for t in ts}
    known = [rows for t in tables if (rows := b.rows.get(t)) is not None]
    return {
        "providers": len(providers),
        "provider_tables": sorted(provider_tables),
        "reference_only": bool(provider_tables) and provider_tables <= b.reference,
        "call_share": _share(calls, usage.total_read_calls) if usage.present else None,
        "cross_filter": any(t in provider_tables for s in shapes for t in s.filters),
        "cross_sort": any(t in provider_tables for s in shapes for t in s.ordering),
        "aggregated": any(s.aggregated for s in shapes),
        "paged": bool(shapes) and all(s.paged for s in shapes),
        "key_lookup": bool(shapes) and all(s.key_lookup for s in shapes),
        "filtered": bool(shapes) and all(s.filters for s in shapes),
        "rows_estimate": max(known) if known else None,
        "templates": templates,
    }


def _read_id(driving: str, tables: list[str]) -> str:
    others = [t for t in tables if t != driving]
    if len(others) <= 3:
        return "read:" + "+".join([driving, *others])
    digest = hashlib.sha1("+".join(tables).encode(), usedforsecurity=False).hexdigest()[:6]
    return f"read:{driving}+{len(others)}-tables-{digest}"


def reads(b: Boundaries, usage: Usage, workload: Workload | None, shapes: Mapping[str, QueryShape]) -> list[Dependency]:
    """Statements reading tables of several services, one dependency per consumer and set of tables read."""
    if workload is None:
        return []
    groups: dict[tuple[str, tuple[str, ...]], list[StatementTemplate]] = defaultdict(list)
    drivers: dict[tuple[str, tuple[str, ...]], str] = {}
    for t in workload.templates:
        if not t.tables_read:
            continue
        shape = shapes.get(t.fingerprint)
        driving = shape.driving if shape is not None and shape.driving in t.tables_read else t.tables_read[0]
        consumer = b.service(t.tables_written[0]) if t.tables_written else b.service(driving)
        involved = {b.service(x) for x in t.tables_read} | {consumer}
        if len(involved) < 2:
            continue
        key = (consumer, tuple(sorted(t.tables_read)))
        groups[key].append(t)
        drivers.setdefault(key, driving)
    out = []
    for (consumer, tables), templates in sorted(groups.items()):
        templates = sorted(templates, key=lambda x: (-x.calls, x.fingerprint))
        calls = sum(x.calls for x in templates)
        found = [shapes[x.fingerprint] for x in templates if x.fingerprint in shapes]
        facts = _read_facts(b, consumer, list(tables), found, calls, usage, [x.fingerprint for x in templates])
        facts["writes"] = sorted({w for x in templates for w in x.tables_written})
        providers = sorted({b.service(x) for x in tables} - {consumer})
        evidence = [f"{x.calls:,} calls: {_short(x.text)}" for x in templates[:5]]
        if len(templates) > 5:
            evidence.append(f"... and {len(templates) - 5} more statements")
        out.append(Dependency(
            id=_read_id(drivers[(consumer, tables)], list(tables)), kind="read_join", consumer=consumer,
            providers=providers, tables=b.by_service(tables), calls=calls, rows={t: b.rows.get(t) for t in tables},
            evidence=evidence, facts=facts))
    return out


def views(b: Boundaries, usage: Usage, workload: Workload | None, shapes: Mapping[str, QueryShape]) -> list[Dependency]:
    """Views over tables of several services: each must become a read model or a composition."""
    out = []
    for key, shape in sorted(b.view_shapes.items()):
        services = {b.service(t) for t in shape.tables}
        if len(services) < 2 or shape.driving is None:
            continue
        consumer = b.service(shape.driving)
        readers = [t for t in (workload.templates if workload else []) if key in t.tables_read]
        calls = sum(t.calls for t in readers)
        found = [shapes[t.fingerprint] for t in readers if t.fingerprint in shapes]
        facts = _read_facts(b, consumer, shape.tables, [shape], calls, usage, [t.fingerprint for t in readers])
        facts["paged"] = bool(found) and all(s.paged for s in found)
        facts["filtered"] = bool(found) and all(s.filters for s in found)
        facts["key_lookup"] = False
        evidence = [f"view {key} over {', '.join(shape.tables)}"]
        evidence += [f"{t.calls:,} calls: {_short(t.text)}" for t in sorted(readers, key=lambda x: -x.calls)[:5]]
        out.append(Dependency(
            id=f"view:{key}", kind="view", consumer=consumer, providers=sorted(services - {consumer}),
            tables=b.by_service(shape.tables), calls=calls, rows={t: b.rows.get(t) for t in shape.tables},
            evidence=evidence, facts=facts))
    return out


def _initiator(written: Mapping[str, list[str]], read: Mapping[str, list[str]], side: set[str],
               activity: Mapping[str, int]) -> str:
    """The service that starts the transaction: not a side effect (cross-cutting or append-only) when
    another is written, then most tables written, then most read, then the most often written
    overall (the busier service drives), then by name."""
    return sorted(written, key=lambda s: (s in side, -len(written[s]), -len(read.get(s, [])), -activity.get(s, 0),
                                          s))[0]


def _root(tables: list[str], b: Boundaries) -> str:
    """The aggregate root among tables written together: the one the others reference most
    (``orders`` for ``orders`` + ``order_lines``), then the largest, then by name."""
    wanted = set(tables)
    refs: Counter[str] = Counter()
    for key in tables:
        t = b.resolver.tables.get(key)
        for fk in (t.foreign_keys if t is not None else []):
            if fk.referred_key in wanted and fk.referred_key != key:
                refs[fk.referred_key] += 1
    return sorted(tables, key=lambda t: (-refs[t], -(b.rows.get(t) or 0), t))[0]


def writes(b: Boundaries, usage: Usage, workload: Workload | None) -> list[Dependency]:
    """Transaction shapes writing several services, one dependency per initiator and set of services written."""
    if workload is None:
        return []
    written_by: Counter[str] = Counter()
    together: Counter[tuple[str, str]] = Counter()
    groups: dict[tuple[str, tuple[str, ...]], list[Transaction]] = defaultdict(list)
    for x in workload.transactions:
        services: Sequence[str] = sorted({b.service(t) for t in x.tables_written})
        for s in services:
            written_by[s] += x.count
        for i, s in enumerate(services):
            for o in services[i + 1:]:
                together[(s, o)] += x.count
                together[(o, s)] += x.count
    for x in workload.transactions:
        services = sorted({b.service(t) for t in x.tables_written})
        if len(services) < 2:
            continue
        w = b.by_service(x.tables_written)
        side = {s for s, ts in w.items() if b.kind(s) == "platform" or all(usage.append_only(t) for t in ts)}
        initiator = _initiator(w, b.by_service(x.tables_read), side, written_by)
        groups[(initiator, tuple(services))].append(x)
    out = []
    for (initiator, services), shapes in sorted(groups.items()):
        shapes = sorted(shapes, key=lambda x: (-x.count, x.tables_written, x.tables_read))
        count = sum(x.count for x in shapes)
        written = b.by_service({t for x in shapes for t in x.tables_written})
        read = b.by_service({t for x in shapes for t in x.tables_read})
        saga: list[str] = []
        consumers: list[str] = []
        copies: list[str] = []
        copied: list[str] = []
        for s in services:
            if s == initiator:
                continue
            if all(usage.append_only(t) for t in written[s]):
                consumers.append(s)
            elif b.kind(s) == "platform":
                copies.append(s)
                copied.extend(t for t in written[s] if not usage.append_only(t))
            else:
                saga.append(s)
        roots = {s: _root(ts, b) for s, ts in written.items()}
        jaccard: dict[str, float] = {}
        for s in saga:
            both = together[(initiator, s)]
            either = written_by[initiator] + written_by[s] - both
            jaccard[s] = round(both / either, 4) if either else 0.0
        facts: WriteFacts = {
            "initiator": initiator,
            "saga_participants": saga,
            "event_consumers": consumers,
            "local_copies": copies,
            "local_copy_tables": sorted(copied),
            "count": count,
            "share": _share(count, usage.write_transactions),
            "jaccard": jaccard,
            "written": written,
            "read": read,
            "roots": roots,
            "write_kinds": {t: sorted(usage.write_kinds.get(t, set())) for ts in written.values() for t in ts},
        }
        evidence = [f"{x.count:,} transactions write {', '.join(x.tables_written)}"
                    + (f"; read {', '.join(x.tables_read)}" if x.tables_read else "") for x in shapes[:5]]
        if len(shapes) > 5:
            evidence.append(f"... and {len(shapes) - 5} more transaction shapes")
        tables = sorted({t for ts in written.values() for t in ts})
        out.append(Dependency(
            id=f"write:{initiator}:" + "+".join(s for s in services if s != initiator), kind="write_transaction",
            consumer=initiator, providers=[s for s in services if s != initiator], tables=written, calls=count,
            rows={t: b.rows.get(t) for t in tables}, evidence=evidence, facts=facts))
    return out


def catalog(schema: Schema, decomposition: Decomposition, workload: Workload | None = None,
            rules: Rules | None = None, shapes: Mapping[str, QueryShape] | None = None) -> list[Dependency]:
    """Every cross-boundary dependency with its mechanism and reason, sorted by kind then id.

    Parameters
    ----------
    shapes : template fingerprint -> :class:`QueryShape`, when already computed (else parsed here).
    """
    rules = rules or Rules()
    b = Boundaries(schema, decomposition)
    usage = Usage.of(workload)
    if shapes is None and workload is not None:
        from workbench.design.queries import shapes as parse_all

        shapes = parse_all(((t.fingerprint, t.text) for t in workload.templates if t.tables_read), schema,
                           workload.dialect or schema.dialect)
    shapes = shapes or {}
    deps = [*foreign_keys(b, usage, workload), *reads(b, usage, workload, shapes), *views(b, usage, workload, shapes),
            *writes(b, usage, workload)]
    for d in deps:
        if d.kind == "foreign_key":
            d.mechanism, d.reason = decide_foreign_key(d.fk_facts, rules)
        elif d.kind == "write_transaction":
            d.mechanism, d.reason = decide_write(d.write_facts, rules)
        else:
            d.mechanism, d.reason = decide_read(d.read_facts, rules)
        if d.mechanism == "merge_services":
            facts = d.write_facts
            facts["merge_with"] = sorted(s for s, j in facts["jaccard"].items() if j >= rules.merge_share)
    order: list[DependencyKind] = ["foreign_key", "read_join", "view", "write_transaction"]
    return sorted(deps, key=lambda d: (order.index(d.kind), d.id))
