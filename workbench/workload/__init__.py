"""Query and transaction logs -> the workload model (which tables are read, written, joined, and
written together, and how often). See :func:`ingest` and, for the sample database's workload,
:func:`workbench.workload.simlog.write_logs`."""

from __future__ import annotations

from workbench.workload.ingest import WorkloadBuilder, ingest
from workbench.workload.model import ParseIssue, StatementTemplate, Transaction, Workload
from workbench.workload.sources import FORMATS

__all__ = ["FORMATS", "ParseIssue", "StatementTemplate", "Transaction", "Workload", "WorkloadBuilder", "ingest"]
