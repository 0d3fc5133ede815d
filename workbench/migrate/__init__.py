"""Migrate: build each service's schema on a target, copy the legacy rows with proof nothing was lost,
and put every service's schema under version control.

- :func:`migrate` (``workbench migrate``): namespaces and tables from the design, rows streamed in
  key order and copied in checkpointed chunks (resumable, idempotent), read models and replicas
  filled, foreign keys checked, one Alembic environment per service stamped with its baseline;
- :func:`verify` (``workbench verify``): row counts, order-independent checksums per key range
  bisected down to the differing rows, foreign keys inside each service, references across
  services that point at nothing.
"""

from __future__ import annotations

from workbench.migrate.run import MigrationResult, migrate
from workbench.migrate.target import Target, with_prefix
from workbench.migrate.verify import VerifyReport, verify

__all__ = ["MigrationResult", "Target", "VerifyReport", "migrate", "verify", "with_prefix"]
