"""Columns that name another table's key, with a compatible type, and no declared FK."""

from __future__ import annotations

from workbench.assess.implied import implied_references
from workbench.assess.lint.finding import Finding
from workbench.assess.lint.settings import LintSettings
from workbench.schema import Schema


def implied_foreign_keys(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """A warning: a dependency kept by the application only, invisible to the FK graph.

    See :mod:`workbench.assess.implied` for how names are matched.
    """
    return [
        Finding(
            "implied_foreign_keys",
            "warning",
            ref.table,
            [ref.column],
            f"{ref.column} looks like a reference to {ref.referred_table}.{ref.referred_column} (name and type match) "
            "but no FK is declared: a hidden dependency",
        )
        for ref in implied_references(schema)
    ]
