"""Tables (pandas) of a migration's and a verification's results, for the notebooks and reports."""

from __future__ import annotations

import pandas as pd

from workbench.migrate.run import MigrationResult
from workbench.migrate.verify import VerifyReport


def services_frame(result: MigrationResult) -> pd.DataFrame:
    """One row per service: where it lives, its tables and rows, what this run did."""
    rows = []
    for s in result.services:
        tables = [t for t in result.tables if t.service == s.service]
        rows.append({"service": s.service, "namespace": s.namespace, "status": s.status,
                     "tables": len(tables), "rows": sum(t.rows for t in tables),
                     "copied now": sum(t.copied for t in tables), "created now": s.created,
                     "steps now": ", ".join(s.steps), "message": s.message or ""})
    return pd.DataFrame(rows, columns=["service", "namespace", "status", "tables", "rows", "copied now",
                                       "created now", "steps now", "message"])


def tables_frame(result: MigrationResult) -> pd.DataFrame:
    """One row per filled table: its role, where its rows come from, how many, and this run's chunks."""
    return pd.DataFrame([{"service": t.service, "table": t.table, "role": t.role, "from": t.origin, "rows": t.rows,
                          "copied now": t.copied, "chunks now": t.chunks, "resumed": t.resumed, "status": t.status,
                          "message": t.message or ""} for t in result.tables],
                        columns=["service", "table", "role", "from", "rows", "copied now", "chunks now", "resumed",
                                 "status", "message"])


def checks_frame(report: VerifyReport) -> pd.DataFrame:
    """One row per compared table: counts on both sides, the verdict, how it was hashed."""
    return pd.DataFrame([{"service": t.service, "table": t.table, "role": t.role, "legacy rows": t.source_rows,
                          "target rows": t.target_rows, "status": t.status, "ranges compared": t.ranges,
                          "differing rows listed": len(t.differences), "hashed in": t.method, "note": t.note or ""}
                         for t in report.tables],
                        columns=["service", "table", "role", "legacy rows", "target rows", "status", "ranges compared",
                                 "differing rows listed", "hashed in", "note"])


def differences_frame(report: VerifyReport) -> pd.DataFrame:
    """Every row listed as different: its table, kind, key, and the columns that differ."""
    return pd.DataFrame([{"service": t.service, "table": t.table, "kind": d.kind,
                          "key": ", ".join(f"{k}={v}" for k, v in d.key.items()), "columns": ", ".join(d.columns)}
                         for t in report.tables for d in t.differences],
                        columns=["service", "table", "kind", "key", "columns"])


def references_frame(report: VerifyReport) -> pd.DataFrame:
    """References across services: rows pointing at nothing on the target, and in the legacy database."""
    return pd.DataFrame(
        [
            {
                "service": r.service,
                "table": r.table,
                "columns": ", ".join(r.columns),
                "refers to": f"{r.referred_service}.{r.referred_table}",
                "dangling": r.dangling,
                "legacy dangling": r.legacy_dangling,
                "new": r.new,
                "note": r.note or "",
            }
            for r in report.references
        ],
        columns=["service", "table", "columns", "refers to", "dangling", "legacy dangling", "new", "note"],
    )
