"""Foreign keys from a table to itself: hierarchies and chains."""

from __future__ import annotations

from workbench.assess.lint.finding import Finding
from workbench.assess.lint.settings import LintSettings
from workbench.schema import Schema


def self_reference(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """Info: a tree moves as a whole and is read with recursive queries, which few APIs serve well."""
    found = []
    for t in schema.base_tables:
        for fk in t.foreign_keys:
            if fk.referred_key == t.key:
                cols = ", ".join(fk.columns)
                found.append(
                    Finding(
                        "self_reference",
                        "info",
                        t.key,
                        list(fk.columns),
                        f"self-referencing FK ({cols}): a hierarchy that moves as a whole and needs recursive reads",
                    )
                )
    return found
