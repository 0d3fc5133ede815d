"""Tables without a primary key: rows cannot be addressed one by one."""

from __future__ import annotations

from workbench.assess.lint.finding import Finding
from workbench.assess.lint.settings import LintSettings
from workbench.schema import Schema


def no_primary_key(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """An error: moving such a table needs row identity (CDC, dual writes, checksums by key range)."""
    return [
        Finding(
            "no_primary_key",
            "error",
            t.key,
            [],
            "no primary key: rows have no identity, so CDC, dual writes and per-key verification of a move cannot work",
        )
        for t in schema.base_tables
        if not t.primary_key
    ]
