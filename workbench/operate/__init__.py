"""Operate: keep the per-service schemas honest after the migration.

- :func:`~workbench.operate.drift.drift` (``workbench drift``): live schemas against the design;
- :func:`~workbench.operate.advice.advise` (``workbench advise``): indexes to add or drop, from the
  schema and the workload;
- :func:`~workbench.operate.monitor.queries` (``workbench monitor``): the SQL operators should watch
  per service (growth, bloat or fragmentation, outbox backlog, event and replication lag).
"""

from __future__ import annotations

from workbench.operate.advice import Advice, advise
from workbench.operate.drift import Drift, DriftReport, drift
from workbench.operate.monitor import MonitorQuery, queries

__all__ = ["Advice", "Drift", "DriftReport", "MonitorQuery", "advise", "drift", "queries"]
