"""Tables with no index at all (no primary key, no unique key, no index)."""

from __future__ import annotations

from workbench.assess.indexes import access_paths
from workbench.assess.lint.finding import Finding
from workbench.assess.lint.settings import LintSettings
from workbench.schema import Schema


def no_index(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """A warning: every lookup, join or sync query on the table is a full scan."""
    found = []
    for t in schema.base_tables:
        if not access_paths(t):
            scans = f"{t.row_count:,} rows" if t.row_count is not None else "the whole table"
            found.append(
                Finding("no_index", "warning", t.key, [], f"no index at all: every lookup or join scans {scans}")
            )
    return found
