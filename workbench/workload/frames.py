"""The workload as pandas tables: what the notebook shows and the decomposition weighs.

Counts are dynamic (statement calls, transaction counts), because a table read a million times
matters more than one read by many rarely run statements; the static number of templates is
kept beside them where it helps to read the dynamic one. Every frame is sorted, so the same
workload always prints the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import combinations

import pandas as pd

from workbench.workload.model import Workload


def templates_frame(workload: Workload) -> pd.DataFrame:
    """One row per statement template, hottest first."""
    rows = [
        {
            "fingerprint": t.fingerprint,
            "kind": t.kind,
            "calls": t.calls,
            "total_time_ms": t.total_time_ms,
            "tables_read": len(t.tables_read),
            "tables_written": len(t.tables_written),
            "joins": len(t.joins),
            "text": t.text,
        }
        for t in workload.templates
    ]
    columns = ["fingerprint", "kind", "calls", "total_time_ms", "tables_read", "tables_written", "joins", "text"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["calls", "fingerprint"], ascending=[False, True], ignore_index=True)


def table_access(workload: Workload) -> pd.DataFrame:
    """Per table: calls of statements reading it, writing it, their sum, and the templates involved.

    Columns: ``table, reads, writes, total, read_share, templates``; hottest first.
    """
    reads: Counter[str] = Counter()
    writes: Counter[str] = Counter()
    templates: Counter[str] = Counter()
    for t in workload.templates:
        for table in t.tables_read:
            reads[table] += t.calls
        for table in t.tables_written:
            writes[table] += t.calls
        for table in set(t.tables_read) | set(t.tables_written):
            templates[table] += 1
    tables = sorted(templates)
    frame = pd.DataFrame(
        {
            "table": tables,
            "reads": [reads[x] for x in tables],
            "writes": [writes[x] for x in tables],
            "templates": [templates[x] for x in tables],
        },
        columns=["table", "reads", "writes", "templates"],
    ).astype({"reads": "int64", "writes": "int64", "templates": "int64"})
    frame["total"] = frame["reads"] + frame["writes"]
    frame["read_share"] = (frame["reads"] / frame["total"]).where(frame["total"] > 0)
    frame = frame[["table", "reads", "writes", "total", "read_share", "templates"]]
    return frame.sort_values(["total", "table"], ascending=[False, True], ignore_index=True)


def read_write_ratio(workload: Workload) -> pd.DataFrame:
    """Per table: reads, writes, the read share and reads per write (NaN for a table never written)."""
    frame = table_access(workload)[["table", "reads", "writes", "read_share"]].copy()
    frame["reads_per_write"] = (frame["reads"] / frame["writes"]).where(frame["writes"] > 0)
    return frame.sort_values(["read_share", "table"], ascending=[False, True], ignore_index=True, na_position="last")


def _pairs_frame(
    counts: Mapping[tuple[str, str], int], static: Mapping[tuple[str, str], int] | None, name: str
) -> pd.DataFrame:
    rows = [{"table_a": a, "table_b": b, name: n, **({"templates": static[(a, b)]} if static else {})}
            for (a, b), n in counts.items()]  # fmt: skip
    columns = ["table_a", "table_b", name] + (["templates"] if static is not None else [])
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values([name, "table_a", "table_b"], ascending=[False, True, True], ignore_index=True)


def join_pairs(workload: Workload) -> pd.DataFrame:
    """Table pairs joined in one query block: ``calls`` (dynamic) and ``templates`` (static)."""
    calls: Counter[tuple[str, str]] = Counter()
    templates: Counter[tuple[str, str]] = Counter()
    for t in workload.templates:
        for a, b in t.joins:
            calls[(a, b)] += t.calls
            templates[(a, b)] += 1
    return _pairs_frame(calls, templates, "calls")


def _pairs(tables: Iterable[str]) -> Iterable[tuple[str, str]]:
    return combinations(sorted(set(tables)), 2)


def co_write_pairs(workload: Workload) -> pd.DataFrame:
    """Table pairs written in the same transaction, weighted by how often that transaction ran.

    A pair here that ends up split between two services needs a saga (or says: merge them).
    """
    counts: Counter[tuple[str, str]] = Counter()
    for tx in workload.transactions:
        for pair in _pairs(tx.tables_written):
            counts[pair] += tx.count
    return _pairs_frame(counts, None, "transactions")


def co_access_matrix(workload: Workload, tables: Iterable[str] | None = None) -> pd.DataFrame:
    """Symmetric table x table counts of transactions touching both (diagonal: touching the table).

    Without transactions (aggregated sources) statements stand in: a template touching both
    tables counts its calls.
    """
    units: list[tuple[set[str], int]]
    if workload.transactions:
        units = [(set(tx.tables_read) | set(tx.tables_written), tx.count) for tx in workload.transactions]
    else:
        units = [(set(t.tables_read) | set(t.tables_written), t.calls) for t in workload.templates]
    names = sorted(set(tables) if tables is not None else set().union(*(u for u, _ in units)))
    index = {n: i for i, n in enumerate(names)}
    matrix = [[0] * len(names) for _ in names]
    for touched, n in units:
        present = sorted(index[x] for x in touched if x in index)
        for i in present:
            matrix[i][i] += n
        for i, j in combinations(present, 2):
            matrix[i][j] += n
            matrix[j][i] += n
    return pd.DataFrame(matrix, index=pd.Index(names, name="table"), columns=pd.Index(names, name="table"))


def transaction_domains(workload: Workload, domains: Mapping[str, str]) -> pd.DataFrame:
    """Each transaction shape with the domains it reads and writes (tables without a domain: ``?``).

    Columns: ``count, domains, domains_written, read_domains, write_domains, tables_read,
    tables_written``; ``domains`` counts the distinct domains touched. Sorted by count.
    """
    rows = []
    for tx in workload.transactions:
        read_d = sorted({domains.get(t, "?") for t in tx.tables_read})
        write_d = sorted({domains.get(t, "?") for t in tx.tables_written})
        rows.append({
            "count": tx.count,
            "domains": len(set(read_d) | set(write_d)),
            "domains_written": len(write_d),
            "read_domains": ", ".join(read_d),
            "write_domains": ", ".join(write_d),
            "tables_read": ", ".join(tx.tables_read),
            "tables_written": ", ".join(tx.tables_written),
        })  # fmt: skip
    columns = ["count", "domains", "domains_written", "read_domains", "write_domains", "tables_read", "tables_written"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["count", "write_domains", "read_domains", "tables_written", "tables_read"],
                             ascending=[False, True, True, True, True], ignore_index=True)  # fmt: skip


def multi_domain_transactions(
    workload: Workload, domains: Mapping[str, str], writes_only: bool = False
) -> pd.DataFrame:
    """Transactions touching (or, with ``writes_only``, writing) tables of more than one domain."""
    frame = transaction_domains(workload, domains)
    mask = frame["domains_written"] > 1 if writes_only else frame["domains"] > 1
    return frame[mask].reset_index(drop=True)


def unknown_tables(workload: Workload) -> pd.DataFrame:
    """Names statements use that the schema lacks: ``name, templates, calls``, most called first."""
    templates: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    for t in workload.templates:
        for name in t.unknown_tables:
            templates[name] += 1
            calls[name] += t.calls
    frame = pd.DataFrame(
        [{"name": n, "templates": templates[n], "calls": calls[n]} for n in templates],
        columns=["name", "templates", "calls"],
    )
    return frame.sort_values(["calls", "name"], ascending=[False, True], ignore_index=True)


def issues_frame(workload: Workload) -> pd.DataFrame:
    """What could not be used: ``kind, count, sample`` (the first sample)."""
    frame = pd.DataFrame(
        [{"kind": i.kind, "count": i.count, "sample": i.samples[0] if i.samples else ""} for i in workload.issues],
        columns=["kind", "count", "sample"],
    )
    return frame.sort_values(["count", "kind"], ascending=[False, True], ignore_index=True)
