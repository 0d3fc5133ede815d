"""Tables that glue everything together, found by general signals and treated explicitly.

Left alone, a few tables drag every domain into one blob: a ``currency`` lookup referenced from
everywhere, an audit trail written by every transaction, a ``customers`` table half the schema
points at. They are found from structure and usage, never from their names:

reference
    shared reference data: referenced by at least ``min_fan_in`` tables spread over three or more
    provisional communities (two when there are fewer than four), none holding two thirds of them
    (that would make it the community's own root entity); referencing at most one table itself;
    small (row count, where known; else few columns); and, with a workload, rarely written.
    Treatment: a reference-data service replicated read-only to its readers, or an owner chosen by
    its strongest ties (``reference="owner"``).
cross_cutting
    tables serving every domain the same way: a polymorphic association (``<x>_type`` beside an
    undeclared ``<x>_id``, or a ``table_name`` beside a record id) in a table with at most one
    real key (a table with keys to several tables is a domain's, whatever else it points at), or,
    with a workload, written together with many communities while no key ties it to any.
    Treatment: a platform service.
hub
    a central table with many neighbours spread over several communities (high participation
    coefficient). Treatment: kept with the service it is most tied to, the reason saying so.

The provisional communities come from one Louvain run on the graph without the polymorphic tables.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import networkx as nx

from workbench.decompose import signals as sig
from workbench.decompose.tokens import normal, tokens
from workbench.schema import Schema, Table
from workbench.workload.model import Workload

_RECORD_TYPE = ("type", "table", "model", "class", "kind", "entity", "object")
_TABLE_NAME_COLUMNS = ("tablename", "entityname", "objecttype", "entitytype", "modelname", "relation", "objectname")
_RECORD_ID_COLUMNS = ("recordid", "rowid", "objectid", "entityid", "pk", "itemid", "targetid", "refid", "recordkey")


LOOKUP_COLUMNS = 6
"""Without row counts, a table of at most this many columns can be reference data (code, name,
description, a flag or two); an entity the whole schema points at has many more."""

DOMINANT_SHARE = 2 / 3
"""A table more than this share of whose referrers sit in one provisional community is that
community's root entity, not shared reference data (the lookup itself still glues some of its
referrers together while the communities are found, hence not a plain majority)."""


@dataclass
class Role:
    """A table's role and the evidence for it, in words and numbers."""

    kind: str
    reason: str
    evidence: dict[str, float] = field(default_factory=dict)


def polymorphic_columns(table: Table) -> tuple[str, str] | None:
    """The (type column, id column) of a polymorphic association, if the table has one.

    >>> from workbench.schema import Column
    >>> polymorphic_columns(Table("notes", columns=[Column("id", "INT"), Column("notable_type", "VARCHAR(40)"),
    ...                                             Column("notable_id", "INT")]))
    ('notable_type', 'notable_id')
    """
    fk_cols = {c for fk in table.foreign_keys for c in fk.columns}
    own_key = set(table.primary_key)  # a type beside the table's own key is a discriminator, not a pointer
    by_norm = {normal(c.name): c.name for c in table.columns if c.name not in fk_cols and c.name not in own_key}
    for c in table.columns:
        words = tokens(c.name, drop_noise=False)
        if len(words) >= 2 and words[-1] in _RECORD_TYPE:
            prefix = "".join(words[:-1])
            for id_suffix in ("id", "key", "pk"):
                if prefix + id_suffix in by_norm and by_norm[prefix + id_suffix] != c.name:
                    text = "".join(ch for ch in c.type.upper() if ch.isalpha())
                    if any(k in text for k in ("CHAR", "TEXT", "STRING", "ENUM")) or not text:
                        return c.name, by_norm[prefix + id_suffix]
    names = [n for n in by_norm if n in _TABLE_NAME_COLUMNS]
    ids = [n for n in by_norm if n in _RECORD_ID_COLUMNS]
    if names and ids:
        return by_norm[names[0]], by_norm[ids[0]]
    return None


def participation(g: nx.Graph, node: str, community: dict[str, int], weight: str = "weight") -> tuple[float, int]:
    """Participation coefficient (1 - sum of squared shares of edge weight per community) and the
    number of distinct communities among the neighbours (Guimera & Amaral's hub classification)."""
    shares: dict[int, float] = defaultdict(float)
    for x, data in g[node].items():
        if x in community:
            shares[community[x]] += float(data.get(weight, 0.0) or 0.0)
    total = sum(shares.values())
    if total <= 0:
        return 0.0, 0
    return 1.0 - sum((v / total) ** 2 for v in shares.values()), sum(1 for v in shares.values() if v > 0)


def _write_stats(workload: Workload | None) -> tuple[dict[str, float], dict[str, float], float]:
    """Per table: count of transactions writing it, count touching it; and the total count."""
    written: dict[str, float] = defaultdict(float)
    touched: dict[str, float] = defaultdict(float)
    total = 0.0
    if workload is None:
        return written, touched, total
    for tx in workload.transactions:
        total += tx.count
        for t in set(tx.tables_written):
            written[t] += tx.count
        for t in set(tx.tables_read) | set(tx.tables_written):
            touched[t] += tx.count
    for tpl in workload.templates:  # statement counts when the log has no transactions
        if not workload.transactions:
            for t in tpl.tables_written:
                written[t] += tpl.calls
            for t in set(tpl.tables_read) | set(tpl.tables_written):
                touched[t] += tpl.calls
    if not workload.transactions:
        total = float(sum(t.calls for t in workload.templates))
    return written, touched, total


def detect_roles(schema: Schema, g: nx.Graph, workload: Workload | None = None, *, seed: int = 0,
                 min_fan_in: int = 3, hub_participation: float = 0.6,
                 keep: set[str] | frozenset[str] = frozenset()) -> dict[str, Role]:
    """Reference, cross-cutting and hub tables of ``g`` (tables in ``keep``, e.g. pinned, are skipped)."""
    roles: dict[str, Role] = {}
    tables = {t.key: t for t in schema.base_tables if t.key in g}

    for key, t in sorted(tables.items()):
        poly = polymorphic_columns(t)
        fk_out = len({f.referred_key for f in t.foreign_keys if f.referred_key != key})
        if poly and key not in keep and fk_out <= 1:  # with real keys to several tables it is a domain's
            roles[key] = Role("cross_cutting", f"polymorphic association ({poly[0]}, {poly[1]}) can point at any "
                                               "table: a platform concern, not a domain's",
                              {"polymorphic": 1.0})

    referrers = {k: set(v) for k, v in g.graph["referrers"].items()} if "referrers" in g.graph \
        else sig.references(schema)
    written, touched, total = _write_stats(workload)
    counts = [t.row_count for t in tables.values() if t.row_count is not None]
    # a schema without data (DDL only, a fresh install) says nothing about sizes: every count is 0
    median_rows = statistics.median(counts) if counts and any(counts) else None

    def provisional_communities() -> dict[str, int]:
        core = g.subgraph([n for n in g if n not in roles and g.degree(n) > 0]).copy()
        found = nx.community.louvain_communities(core, weight="weight", seed=seed) if core.number_of_edges() else []
        return {n: i for i, c in enumerate(found) for n in c}

    def reference_data(community: dict[str, int]) -> dict[str, Role]:
        out = {}
        min_spread = 3 if len(set(community.values())) >= 4 else 2
        for key, t in sorted(tables.items()):
            if key in roles or key in keep:
                continue
            refs = {r for r in referrers.get(key, set()) if r in g and r != key}
            groups = Counter(community[r] for r in refs if r in community)
            fk_out = len({f.referred_key for f in t.foreign_keys if f.referred_key != key})
            if len(refs) < min_fan_in or len(groups) < min_spread or fk_out > 1:
                continue
            if max(groups.values()) > DOMINANT_SHARE * sum(groups.values()):
                continue  # most referrers in one group: that group's root entity, not shared data
            if t.row_count is not None and median_rows is not None:
                small = t.row_count <= min(1000, max(median_rows, 50))
            else:  # without row counts only a lookup's shape is left: a code, a name and little else
                small = len(t.columns) <= LOOKUP_COLUMNS
            rarely_written = True
            if workload is not None and total > 0:
                share = written.get(key, 0.0) / total
                rarely_written = share <= 0.01 and written.get(key, 0.0) <= 0.1 * max(touched.get(key, 0.0), 1.0) + 1
            if small and rarely_written:
                rows = f"{t.row_count:,} rows" if t.row_count is not None else f"{len(t.columns)} columns"
                out[key] = Role("reference", f"shared reference data: {rows}, referenced by {len(refs)} tables "
                                             f"across {len(groups)} groups, references {fk_out} table(s)"
                                + (", rarely written" if workload is not None else ""),
                                {"fan_in": float(len(refs)), "spread": float(len(groups))})
        return out

    # lookups glue communities together, hiding their own spread: find them, set them aside, look again
    community = provisional_communities()
    for _ in range(2):
        found = reference_data(community)
        if not found:
            break
        roles.update(found)
        community = provisional_communities()

    if workload is not None:
        for key in sorted(tables):
            if key in roles or key in keep:
                continue
            structural = sum(1 for x, d in g[key].items() if d.get("fk", 0) > 0 or d.get("implied_fk", 0) > 0)
            p, k = participation(g, key, community, weight="cowrite")
            if structural == 0 and k >= 3 and p >= 0.3:
                roles[key] = Role("cross_cutting", f"written together with {k} unrelated groups of tables and tied to "
                                                   "none by a key: a platform concern", {"participation": round(p, 3)})

    degrees = [d for _, d in g.degree() if d > 0]
    typical = statistics.mean(degrees) if degrees else 0
    for key in sorted(tables):
        if key in roles or key in keep or g.degree(key) < max(4, 2 * typical):
            continue
        p, k = participation(g, key, community)
        if p >= hub_participation and k >= 3:
            roles[key] = Role("hub", f"hub: {g.degree(key)} neighbours in {k} groups (participation {p:.2f})",
                              {"participation": round(p, 3), "degree": float(g.degree(key))})
    return roles
