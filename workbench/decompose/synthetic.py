"""Synthetic schemas with planted domains: an honest yardstick for the clustering.

A real legacy schema's "right" decomposition is a matter of opinion; a planted one is known. The
generator reproduces what makes real schemas hard, each with a knob: foreign keys across domains
(mostly to other domains' central tables, which become hubs), keys never declared (only the
``<table>_id`` column betrays them), names that share no word with their domain's name (only words of its
vocabulary, which overlaps other domains'), small lookup tables
referenced from everywhere, polymorphic cross-cutting tables (audit trail, notes), tables with no
keys at all, and a workload whose transactions mostly, but not always, stay in one domain.

>>> p = planted(n_tables=60, n_domains=4, seed=1)
>>> len(p.schema.tables) == len(p.truth) == 60
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from workbench.schema import Column, ForeignKey, Schema, Table
from workbench.workload.model import StatementTemplate, Transaction, Workload

DOMAIN_WORDS = [
    "billing", "catalog", "shipping", "inventory", "customer", "payment", "marketing", "support", "staff",
    "payroll", "ledger", "procurement", "warehouse", "pricing", "review", "loyalty", "fleet", "asset",
    "contract", "project", "timesheet", "recruiting", "claim", "policy", "survey", "event", "course",
    "booking", "vendor", "tax", "clinic", "lab", "pharmacy", "library", "auction", "subscription",
    "campaign", "forum", "ticketing", "maintenance", "energy", "farm", "school", "hotel", "travel",
    "insurance", "lending", "trading", "media", "music", "game", "sport", "weather", "legal", "realty",
    "transit", "parking", "donation", "membership", "security",
]
NOUNS = [
    "item", "line", "header", "detail", "entry", "record", "account", "batch", "rule", "plan", "schedule",
    "state", "kind", "group", "member", "setting", "history", "request", "approval", "document", "attachment",
    "rate", "period", "slot", "tier", "zone", "unit", "level", "stage", "step", "task", "target", "budget",
    "limit", "quota", "score", "tag", "label", "option", "feature", "template", "version", "snapshot", "report",
    "metric", "alert", "channel", "message", "contact", "phone", "email", "profile", "role", "permission",
    "session", "device", "location", "route", "stop", "vehicle", "driver", "shift", "team", "skill", "grade",
    "course", "lesson", "exam", "answer", "question", "comment", "rating", "vote", "offer", "bid", "lot",
    "order", "invoice", "receipt", "refund", "credit", "debit", "balance", "statement", "fee", "discount",
    "coupon", "voucher", "bundle", "package", "parcel", "shipment", "carrier", "container", "pallet", "bin",
    "shelf", "aisle", "dock", "gate", "door", "room", "floor", "building", "site", "region", "area", "sector",
    "segment", "cohort", "list", "queue", "job", "run", "result", "sample", "specimen", "reading", "sensor",
    "meter", "contractor", "partner", "agent", "broker", "client", "patient", "doctor", "nurse", "visit",
]
REFERENCE_NOUNS = ["currency", "country", "language", "unit_of_measure", "status_code", "priority", "timezone",
                   "payment_term", "holiday", "color", "size_code", "channel_type", "reason_code", "industry",
                   "title", "gender", "tax_class", "region_code", "weekday", "severity"]
ATTRIBUTES = [("name", "VARCHAR(80)"), ("status", "VARCHAR(20)"), ("amount", "NUMERIC(12, 2)"),
              ("created_at", "TIMESTAMP"), ("updated_at", "TIMESTAMP"), ("description", "TEXT"),
              ("code", "VARCHAR(20)"), ("quantity", "INTEGER"), ("notes", "TEXT"), ("is_active", "BOOLEAN"),
              ("starts_on", "DATE"), ("ends_on", "DATE"), ("priority", "INTEGER"), ("sort_order", "INTEGER")]


@dataclass
class Planted:
    """A synthetic schema, its workload, and the planted answer (table -> domain)."""

    schema: Schema
    workload: Workload
    truth: dict[str, str] = field(default_factory=dict)


def _domain_names(n: int) -> list[str]:
    words = list(DOMAIN_WORDS)
    return [words[i] if i < len(words) else f"{words[i % len(words)]}{i // len(words) + 1}" for i in range(n)]


def planted(n_tables: int = 200, n_domains: int = 8, seed: int = 0, *, cross_fk: float = 0.15,
            undeclared_fk: float = 0.3, prefixed: float = 0.35, reference_share: float = 0.03,
            orphan_share: float = 0.01, cross_tx: float = 0.2, transactions_per_table: float = 2.0) -> Planted:
    """A schema of ``n_tables`` tables in ``n_domains`` planted domains, plus a workload.

    Parameters
    ----------
    cross_fk : probability that a table also references a table of another domain.
    undeclared_fk : share of references kept only as a ``<parent>_id`` column, never declared.
    prefixed : share of table names starting with their domain's word (the rest say nothing).
    reference_share : share of small lookup tables referenced from many domains.
    orphan_share : share of tables with no reference at all (named after their domain).
    cross_tx : share of transactions that also write tables of one or two neighbouring domains.
    """
    rng = random.Random(seed)
    domains = _domain_names(n_domains)
    n_ref = max(1, round(reference_share * n_tables)) if reference_share > 0 else 0
    n_platform = 2 if n_tables >= 40 else 0
    n_core = n_tables - n_ref - n_platform
    if n_core < 2 * n_domains:
        raise ValueError(f"{n_tables} tables are too few for {n_domains} domains")
    share = [rng.lognormvariate(0, 0.4) for _ in domains]
    sizes = [max(2, int(n_core * s / sum(share))) for s in share]
    for i in range(n_core - sum(sizes)):
        sizes[i % n_domains] += 1
    while sum(sizes) > n_core:
        sizes[sizes.index(max(sizes))] -= 1

    used: set[str] = set()

    def fresh(name: str) -> str:
        base, i = name, 2
        while name in used:
            name, i = f"{base}_{i}", i + 1
        used.add(name)
        return name

    truth: dict[str, str] = {}
    members: dict[str, list[str]] = {d: [] for d in domains}
    vocabulary = {d: rng.sample(NOUNS, 12) for d in domains}  # a domain's own words, overlapping others
    parents: dict[str, list[str]] = {}
    orphans = set()
    for d, size in zip(domains, sizes, strict=True):
        for i in range(size):
            orphan = i > 2 and rng.random() < orphan_share
            if i == 0:
                name = fresh(d)
            elif orphan or rng.random() < prefixed:
                name = fresh(f"{d}_{rng.choice(vocabulary[d])}")
            else:
                name = fresh("_".join(rng.sample(vocabulary[d], 2)))
            truth[name] = d
            ps: set[str] = set()
            if orphan:
                orphans.add(name)
            elif i > 0:
                earlier = members[d]
                ps.add(earlier[0] if rng.random() < 0.4 else rng.choice(earlier))
                if i > 2 and rng.random() < 0.3:
                    ps.add(rng.choice(earlier))
            members[d].append(name)
            parents[name] = sorted(ps)
    roots = {d: m[0] for d, m in members.items()}
    for name, d in list(truth.items()):
        if name in orphans or rng.random() >= cross_fk:
            continue
        other = rng.choice([x for x in domains if x != d])
        target = roots[other] if rng.random() < 0.5 else rng.choice(members[other])
        parents[name] = sorted({*parents[name], target})

    refs: list[str] = []
    for i in range(n_ref):
        d = rng.choice(domains)  # the domain that uses it most; the lookup itself is shared reference data
        name = fresh(REFERENCE_NOUNS[i % len(REFERENCE_NOUNS)] + (f"_{i // len(REFERENCE_NOUNS) + 1}"
                                                                   if i >= len(REFERENCE_NOUNS) else ""))
        truth[name] = "reference"
        refs.append(name)
        users = rng.sample(members[d], min(len(members[d]), rng.randint(1, 3)))
        pool = [t for t in truth if t not in refs and t not in orphans and truth[t] != d]
        users += rng.sample(pool, min(len(pool), rng.randint(4, 12)))
        for u in users:
            parents[u] = sorted({*parents[u], name})
        parents[name] = []
    platform = []
    if n_platform:
        for name in (fresh("audit_trail"), fresh("notes")):
            truth[name] = "platform"
            parents[name] = []
            platform.append(name)

    tables = []
    undeclared: set[tuple[str, str]] = set()
    for name in sorted(truth):
        cols = [Column("id", "INTEGER", nullable=False)]
        fks = []
        for p in parents[name]:
            col = f"{p}_id"
            cols.append(Column(col, "INTEGER"))
            if rng.random() < undeclared_fk:
                undeclared.add((name, p))
            else:
                fks.append(ForeignKey([col], p, ["id"], name=f"fk_{name}_{p}"))
        if name in platform:
            stem = "entity" if name.startswith("audit") else "notable"
            cols += [Column(f"{stem}_type", "VARCHAR(40)"), Column(f"{stem}_id", "INTEGER"),
                     Column("changed_at", "TIMESTAMP"), Column("body", "TEXT")]
            rows = 500_000
        elif name in refs:
            cols += [Column("code", "VARCHAR(10)"), Column("label", "VARCHAR(60)")]
            rows = rng.randint(3, 250)
        else:
            cols += [Column(c, t) for c, t in rng.sample(ATTRIBUTES, rng.randint(2, 6))]
            rows = int(rng.lognormvariate(8, 2))
        tables.append(Table(name=name, columns=cols, primary_key=["id"], foreign_keys=fks, row_count=rows,
                            row_count_exact=True))
    schema = Schema(dialect="sqlite", database="synthetic", tables=tables)
    workload = _workload(rng, truth, members, parents, refs, platform, orphans, cross_tx, transactions_per_table)
    return Planted(schema, workload, truth)


def _workload(rng: random.Random, truth: dict[str, str], members: dict[str, list[str]],
              parents: dict[str, list[str]], refs: list[str], platform: list[str], orphans: set[str],
              cross_tx: float, per_table: float) -> Workload:
    """Statements and transactions of a monolith: most stay inside a domain, but a share of business
    operations (a checkout writing order, stock and payment) writes into neighbouring domains too."""
    children: dict[str, list[str]] = {t: [] for t in truth}
    neighbours: dict[str, set[str]] = {d: set() for d in members}
    for c, ps in parents.items():
        for p in ps:
            children[p].append(c)
            dc, dp = truth[c], truth[p]
            if dc != dp and dc in neighbours and dp in neighbours:
                neighbours[dc].add(dp)
                neighbours[dp].add(dc)
    templates: dict[str, StatementTemplate] = {}

    def template(kind: str, read: list[str], written: list[str], joins: list[tuple[str, str]], calls: int) -> None:
        text = f"{kind} {' '.join(sorted(set(read) | set(written)))} {' '.join(a + b for a, b in joins)}"
        if text in templates:
            return
        templates[text] = StatementTemplate(fingerprint=f"t{len(templates):06d}", text=text, kind=kind, calls=calls,
                                            tables_read=sorted(set(read)), tables_written=sorted(set(written)),
                                            joins=sorted({(a, b) if a < b else (b, a) for a, b in joins}))

    transactions: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = {}

    def tx(read: set[str], written: set[str], count: int) -> None:
        key = (tuple(sorted(read - written)), tuple(sorted(written)))
        transactions[key] = transactions.get(key, 0) + count

    core = sorted(t for t in truth if t not in refs and t not in platform)
    for t in core:
        calls = int(rng.lognormvariate(6, 1.5)) + 1
        template("select", [t], [], [], calls)
        template("update", [], [t], [], max(1, calls // 10))
        for p in parents[t]:
            if p in platform:
                continue
            template("select", [t, p], [], [(t, p)], max(1, int(calls * rng.random())))
    n_tx = int(per_table * len(core))
    for _ in range(n_tx):
        t = rng.choice(core)
        d = truth[t]
        written = {t}
        frontier = [t]
        for _ in range(rng.randint(0, 3)):
            here = rng.choice(frontier)
            near = [x for x in (*parents[here], *children[here]) if truth.get(x) == d and x not in refs]
            if near:
                nxt = rng.choice(near)
                written.add(nxt)
                frontier.append(nxt)
        read = {p for w in sorted(written) for p in parents[w] if rng.random() < 0.5}
        if rng.random() < cross_tx:
            near_domains = sorted(neighbours[d]) or [x for x in members if x != d]
            for other in rng.sample(near_domains, min(len(near_domains), rng.randint(1, 2))):
                first = rng.choice(members[other])
                written.add(first)
                more = [x for x in (*parents[first], *children[first]) if truth.get(x) == other]
                if more and rng.random() < 0.5:
                    written.add(rng.choice(more))
        if platform and rng.random() < 0.3:
            written.add(platform[0])
        if platform and rng.random() < 0.05:
            written.add(platform[1])
        tx(read, written, int(rng.lognormvariate(4, 1.5)) + 1)
    for r in refs:
        tx(set(), {r}, 1)
        template("select", [r], [], [], int(rng.lognormvariate(7, 1)) + 1)
    for p in platform:
        template("insert", [], [p], [], 10_000)
    return Workload(sources=["synthetic"], dialect="sqlite", statements=sum(t.calls for t in templates.values()),
                    templates=list(templates.values()),
                    transactions=[Transaction(list(r), list(w), c) for (r, w), c in sorted(transactions.items())])
