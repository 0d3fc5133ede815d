"""The Operate stage as the notebook runs it: drift, index advice and monitoring SQL per service.

The event flow per service (outbox backlog, consumer lag, dead letters, events/s) comes from
:mod:`workbench.events.status`. Inputs come from the report folder: the design (``out_dir/design/``), the workload
(``out_dir/workload.json``, optional) and the migrated target (by default the Migrate stage's
SQLite files under ``out_dir/migration/target/``). When the design is missing the Design stage
runs now; when the default target lacks a service, that service is migrated now, so the stage
runs on its own. Results are written as ``drift.json``, ``advice.json`` and
``monitoring/<dialect>.sql`` in ``out_dir``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench import serde
from workbench.design.model import Design
from workbench.errors import MigrationError
from workbench.events.status import ServiceStatus, collect, frame
from workbench.migrate import migrate
from workbench.migrate.stage import default_target, find_design, fresh_default_target, seen_from
from workbench.migrate.target import Target
from workbench.operate.advice import Advice, advise
from workbench.operate.drift import DriftReport, drift
from workbench.operate.monitor import DIALECTS, MonitorQuery, queries, script
from workbench.workload.model import Workload


@dataclass
class StageResult:
    """What the notebook shows."""

    design: Design
    origin: dict[str, str]
    target: str
    drift: DriftReport
    advice: list[Advice]
    monitoring: dict[str, list[MonitorQuery]] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    events: list[ServiceStatus] = field(default_factory=list)


def _ensure_migrated(db_url: str, out: Path, d: Design, services: list[str]) -> str:
    target = fresh_default_target(out, d)
    where = Target.parse(str(target))
    missing = [s for s in services if not where.path(d, s).exists()]
    if not missing:
        return "the Migrate stage's target"
    try:
        migrate(db_url, str(target), d, services=missing, alembic=False, progress=False)
    except MigrationError:
        pass  # drift shows what is there; the Migrate stage says why a table stopped
    return f"migrated now into {target.name}/ (services missing: {', '.join(missing)})"


def run(db_url: str, out_dir: str | Path, *, target: str | None = None, design_dir: str | Path | None = None,
        workload_path: str | Path | None = None, dialect: str = "postgresql", min_calls: int = 10,
        services: Iterable[str] | None = None, broker_url: str | None = None, **design_options: Any) -> StageResult:
    """Drift of the target against the design, index advice for ``dialect``, the monitoring SQL, and
    the event flow per service (``broker_url``: the broker's figures too)."""
    out = Path(out_dir)
    d, _, design_origin = find_design(db_url, out, design_dir, **design_options)
    names = sorted(services) if services else sorted(d.services)
    origin = {"design": design_origin}
    if target:
        where = target
        origin["target"] = "given"
    else:
        where = str(default_target(out))
        origin["target"] = _ensure_migrated(db_url, out, d, names)
    path = Path(workload_path) if workload_path else out / "workload.json"
    workload = serde.load(Workload, path) if path.exists() else None
    origin["workload"] = path.name if workload is not None else "none: advice from the schema alone"
    report = drift(where, d, services=names)
    found = advise(d, workload, dialect=dialect, services=names, min_calls=min_calls)
    monitoring = {name: queries(d, name, services=names) for name in DIALECTS}
    serde.save(DriftReport(seen_from(report.target, out), report.drifts, report.missing), out / "drift.json")
    serde.save(found, out / "advice.json")
    for name, items in monitoring.items():
        serde.write_text(out / "monitoring" / f"{name}.sql", script(items, name))
    checks = {
        "every service of the design is on the target": not report.missing,
        "no drift between the live schemas and the design": not report.drifts,
        "every advice carries its DDL": all(a.sql for a in found),
        "monitoring SQL for every service (PostgreSQL and MariaDB)":
            all({q.service for q in items} == set(names) for items in monitoring.values()),
    }
    events = collect(d, where, broker_url, names)
    return StageResult(d, origin, Target.parse(where).display, report, found, monitoring, checks, events)


def drift_frame(report: DriftReport) -> pd.DataFrame:
    rows = [{"service": s, "kind": "missing_service", "table": "", "name": "", "detail": "not on the target"}
            for s in report.missing]
    rows += [{"service": x.service, "kind": x.kind, "table": x.table, "name": x.name or "", "detail": x.detail}
             for x in report.drifts]
    return pd.DataFrame(rows, columns=["service", "kind", "table", "name", "detail"])


def advice_frame(found: list[Advice]) -> pd.DataFrame:
    return pd.DataFrame([{"service": a.service, "kind": a.kind, "table": a.table, "columns": ", ".join(a.columns),
                          "calls": a.calls, "reason": a.reason, "sql": a.sql} for a in found],
                        columns=["service", "kind", "table", "columns", "calls", "reason", "sql"])


def monitoring_frame(items: list[MonitorQuery]) -> pd.DataFrame:
    return pd.DataFrame([{"service": q.service, "query": q.name, "watch": q.purpose} for q in items],
                        columns=["service", "query", "watch"])


def events_frame(statuses: list[ServiceStatus]) -> pd.DataFrame:
    """Per service: outbox backlog, events/s published and applied, consumer lag, dead letters."""
    return frame(statuses)
