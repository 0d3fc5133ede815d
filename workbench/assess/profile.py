"""Profile a schema: one row per table with size, keys and index coverage, and headline figures.

The figures an architect reads first, before any judgement: which tables are big, which lack a
key, which foreign keys have no index, how the FK graph hangs together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from workbench.assess.coltypes import parse_type
from workbench.assess.graph import GraphStats, communities, community_of, fk_graph, graph_stats, referrers
from workbench.assess.indexes import access_paths, fk_is_indexed
from workbench.schema import Schema

__all__ = ["Summary", "fk_graph", "graph_stats", "profile_tables", "summary", "GraphStats"]

PROFILE_COLUMNS = [
    "table", "rows", "rows_exact", "size_bytes", "columns", "lobs", "has_pk", "pk_columns", "fks_out", "fks_in",
    "referrers", "indexes", "fk_index_coverage", "community",
]  # fmt: skip


def profile_tables(schema: Schema) -> pd.DataFrame:
    """One row per base table, biggest first (rows, then bytes, then key).

    ``fk_index_coverage`` is the share of the table's outgoing FKs backed by an index (empty when
    it has none); ``referrers`` counts other tables referring to it; ``community`` is its
    greedy-modularity community in the FK graph (0 = the largest).
    """
    graph = fk_graph(schema)
    member = community_of(communities(graph))
    fks_in: dict[str, int] = {}
    for t in schema.base_tables:
        for fk in t.foreign_keys:
            fks_in[fk.referred_key] = fks_in.get(fk.referred_key, 0) + 1
    rows = []
    for t in schema.base_tables:
        indexed = [fk_is_indexed(t, fk) for fk in t.foreign_keys]
        rows.append(
            {
                "table": t.key,
                "rows": t.row_count,
                "rows_exact": t.row_count_exact,
                "size_bytes": t.size_bytes,
                "columns": len(t.columns),
                "lobs": sum(parse_type(c.type, schema.dialect).lob for c in t.columns),
                "has_pk": bool(t.primary_key),
                "pk_columns": ", ".join(t.primary_key),
                "fks_out": len(t.foreign_keys),
                "fks_in": fks_in.get(t.key, 0),
                "referrers": len(referrers(graph, t.key)),
                "indexes": sum(1 for p in access_paths(t) if p.origin != "primary_key"),
                "fk_index_coverage": sum(indexed) / len(indexed) if indexed else None,
                "community": member[t.key],
            }
        )
    frame = pd.DataFrame(rows, columns=PROFILE_COLUMNS)
    frame = frame.astype({"rows": "Int64", "size_bytes": "Int64", "fk_index_coverage": "Float64"})
    frame = frame.sort_values(["rows", "size_bytes", "table"], ascending=[False, False, True], na_position="last")
    return frame.reset_index(drop=True)


@dataclass
class Summary:
    """Headline figures of a schema, for the notebook's first table and the narrative.

    ``rows`` and ``size_bytes`` sum the tables where the database reported them;
    ``largest_tables`` lists up to five ``(key, rows)`` pairs.
    """

    tables: int
    views: int
    columns: int
    rows: int
    size_bytes: int
    tables_without_pk: int
    foreign_keys: int
    fks_without_index: int
    isolated_tables: int
    components: int
    largest_component: int
    communities: int
    cross_community_edges: int
    cycles: int
    self_references: int
    reference_tables: int
    largest_tables: list[tuple[str, int]] = field(default_factory=list)


def summary(schema: Schema, stats: GraphStats | None = None) -> Summary:
    """The headline figures; pass ``stats`` when already computed, to save a graph pass."""
    stats = stats or graph_stats(schema)
    tables = schema.base_tables
    counted = sorted(((t.key, t.row_count) for t in tables if t.row_count is not None), key=lambda kv: (-kv[1], kv[0]))
    return Summary(
        tables=len(tables),
        views=len(schema.views),
        columns=sum(len(t.columns) for t in tables),
        rows=sum(r for _, r in counted),
        size_bytes=sum(t.size_bytes or 0 for t in tables),
        tables_without_pk=sum(1 for t in tables if not t.primary_key),
        foreign_keys=sum(len(t.foreign_keys) for t in tables),
        fks_without_index=sum(1 for t in tables for fk in t.foreign_keys if not fk_is_indexed(t, fk)),
        isolated_tables=len(stats.isolated),
        components=len(stats.components),
        largest_component=len(stats.components[0]) if stats.components else 0,
        communities=len(stats.communities),
        cross_community_edges=stats.cross_community_edges,
        cycles=len(stats.cycles),
        self_references=len(stats.self_references),
        reference_tables=len(stats.reference_tables),
        largest_tables=counted[:5],
    )
