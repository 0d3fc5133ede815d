"""The design as pandas tables: what the notebook shows and the CSV/Markdown files hold."""

from __future__ import annotations

import pandas as pd

from workbench.design.mechanisms import STRENGTH
from workbench.design.model import Design, Saga
from workbench.names import md_text


def _rows(d: dict[str, int | None]) -> int | None:
    known = [v for v in d.values() if v is not None]
    return max(known) if known else None


def dependencies_frame(design: Design) -> pd.DataFrame:
    """One row per cross-boundary dependency: who, what, how often, the mechanism and why."""
    rows = [{
        "id": d.id, "kind": d.kind, "consumer": d.consumer, "providers": ", ".join(d.providers),
        "tables": "; ".join(f"{s}: {', '.join(ts)}" for s, ts in d.tables.items()), "calls": d.calls,
        "max_rows": _rows(d.rows), "mechanism": d.mechanism, "reason": d.reason, "evidence": " | ".join(d.evidence),
    } for d in design.dependencies]
    columns = ["id", "kind", "consumer", "providers", "tables", "calls", "max_rows", "mechanism", "reason", "evidence"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["max_rows"] = frame["max_rows"].astype("Int64")
    return frame


def mechanism_summary(design: Design) -> pd.DataFrame:
    """Dependencies per kind and mechanism (lightest coupling first)."""
    frame = dependencies_frame(design)
    if frame.empty:
        return pd.DataFrame(columns=["mechanism"])
    table = pd.crosstab(frame["mechanism"], frame["kind"])
    table = table.loc[sorted(table.index, key=lambda m: STRENGTH.get(m, 99))]
    table["total"] = table.sum(axis=1)
    return table.reset_index().rename_axis(None, axis=1)


def services_frame(design: Design) -> pd.DataFrame:
    """One row per service: namespace, tables by role, rows, references, findings."""
    rows = []
    for s in design.services.values():
        roles = [t.role for t in s.tables]
        rows.append({
            "service": s.name, "namespace": s.namespace, "kind": s.kind, "owned": roles.count("owned"),
            "copies": roles.count("copy"), "replicas": roles.count("replica") + roles.count("command_replica")
            + roles.count("projection_source"),
            "read_models": roles.count("projection"), "rows": s.rows, "references": len(s.references),
            "lint_errors": sum(f.severity == "error" for f in s.findings),
            "lint_warnings": sum(f.severity == "warning" for f in s.findings), "ambiguous": len(s.ambiguous),
        })
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["rows"] = frame["rows"].astype("Int64")
    return frame


def tables_frame(design: Design) -> pd.DataFrame:
    """Every target table of every service, with its role, origin and notes."""
    rows = [{"service": s.name, "namespace": s.namespace, "table": t.table.name, "role": t.role,
             "source": t.source or "", "columns": len(t.table.columns), "primary_key": ", ".join(t.table.primary_key),
             "internal_fks": len(t.table.foreign_keys), "notes": " | ".join(t.notes)}
            for s in design.services.values() for t in s.tables]
    return pd.DataFrame(rows)


def references_frame(design: Design) -> pd.DataFrame:
    """The reference-by-id columns that replace cross-service foreign keys."""
    rows = [{"service": s.name, "table": r.table, "columns": ", ".join(r.columns), "refers_to":
             f"{r.referred_service}.{r.referred_table}({', '.join(r.referred_columns)})", "dependency": r.dependency,
             "mechanism": r.note.split(":", 1)[0]}
            for s in design.services.values() for r in s.references]
    return pd.DataFrame(rows, columns=["service", "table", "columns", "refers_to", "dependency", "mechanism"])


def events_frame(design: Design) -> pd.DataFrame:
    """The events catalog: publisher, type, aggregate, payload, consumers."""
    rows = [{"publisher": e.service, "type": e.type, "aggregatetype": e.aggregatetype, "action": e.action,
             "payload": ", ".join(e.payload), "consumers": ", ".join(e.consumers),
             "dependencies": len(e.dependencies)} for e in design.events]
    return pd.DataFrame(rows, columns=["publisher", "type", "aggregatetype", "action", "payload", "consumers",
                                       "dependencies"])


def projections_frame(design: Design) -> pd.DataFrame:
    """The CQRS read models: where they live, what they join, their key and size."""
    rows = [{"service": p.service, "read_model": p.name, "dependency": p.dependency, "driving": p.driving,
             "tables": ", ".join(dict.fromkeys(j.table for j in p.joins)), "columns": len(p.columns),
             "key": ", ".join(p.key) or "(surrogate)", "rows_estimate": p.rows_estimate, "events": len(p.events),
             "notes": " | ".join(p.notes)} for p in design.projections]
    frame = pd.DataFrame(rows, columns=["service", "read_model", "dependency", "driving", "tables", "columns", "key",
                                        "rows_estimate", "events", "notes"])
    frame["rows_estimate"] = frame["rows_estimate"].astype("Int64")
    return frame


def logic_frame(design: Design) -> pd.DataFrame:
    """The work list of the legacy database's own logic: per trigger, routine and materialized view, the
    services whose tables it touches, whether the migration recreates it (same dialect), and what to do."""
    rows = [{"kind": i.kind, "name": i.name, "tables": ", ".join(i.tables), "services": ", ".join(i.services),
             "recreated in": ", ".join(i.recreate_in), "to do": i.action} for i in design.logic]
    return pd.DataFrame(rows, columns=["kind", "name", "tables", "services", "recreated in", "to do"])


def saga_frame(saga: Saga) -> pd.DataFrame:
    """A saga's steps as a readable table: who does what, what undoes it, what it announces."""
    return pd.DataFrame([{"step": s.order, "service": s.service, "kind": s.kind, "action": s.action,
                          "compensation": s.compensation or "-", "event": s.event} for s in saga.steps],
                        columns=["step", "service", "kind", "action", "compensation", "event"])


def sagas_frame(design: Design) -> pd.DataFrame:
    """One row per saga."""
    rows = [{"saga": s.name, "dependency": s.dependency, "initiator": s.initiator, "style": s.style,
             "participants": ", ".join(s.participants), "steps": len(s.steps), "transactions": s.count,
             "pending_state": s.pending_state or "-"} for s in design.sagas]
    return pd.DataFrame(rows, columns=["saga", "dependency", "initiator", "style", "participants", "steps",
                                       "transactions", "pending_state"])


def markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (pandas' own ``to_markdown`` needs the optional tabulate).

    >>> print(markdown(pd.DataFrame({"a": [1], "b": ["x|<b>"]})))
    | a | b |
    |---|---|
    | 1 | x\\|\\<b> |
    """
    def cell(value: object) -> str:
        missing = value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value))
        return "" if missing else md_text(value)

    header = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])
