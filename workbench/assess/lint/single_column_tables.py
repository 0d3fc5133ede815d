"""Tables with a single column."""

from __future__ import annotations

from workbench.assess.lint.finding import Finding
from workbench.assess.lint.settings import LintSettings
from workbench.schema import Schema


def single_column_tables(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """Info: a bare set of values (a lookup list or a leftover): decide whether to replicate or drop it."""
    return [
        Finding(
            "single_column_tables",
            "info",
            t.key,
            [t.columns[0].name],
            f"only one column ({t.columns[0].name}): a bare value list; replicate it as reference data or retire it",
        )
        for t in schema.base_tables
        if len(t.columns) == 1
    ]
