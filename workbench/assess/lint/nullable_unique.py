"""Nullable columns inside a unique key."""

from __future__ import annotations

from workbench.assess.indexes import access_paths
from workbench.assess.lint.finding import Finding
from workbench.assess.lint.settings import LintSettings
from workbench.schema import Schema


def nullable_unique(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """Info: most databases let several rows share NULL there, so the key does not identify rows
    and cannot serve as the business key a new service references."""
    found = []
    for t in schema.base_tables:
        seen: set[tuple[str, ...]] = set()
        for path in access_paths(t):
            if not path.unique or path.origin == "primary_key" or path.columns in seen:
                continue
            seen.add(path.columns)
            nullable = [c for c in path.columns if (col := t.column(c)) is not None and col.nullable]
            if nullable:
                found.append(
                    Finding(
                        "nullable_unique",
                        "info",
                        t.key,
                        nullable,
                        f"{path.label} allows NULL in {', '.join(nullable)}: "
                        "a weak business key",
                    )
                )
    return found
