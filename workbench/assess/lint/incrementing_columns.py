"""Columns numbered in sequence (``phone1``, ``phone2``): a repeating group."""

from __future__ import annotations

from collections import defaultdict

from workbench.assess.lint.finding import Finding
from workbench.assess.lint.settings import LintSettings
from workbench.assess.naming import snake, split_number
from workbench.schema import Schema


def incrementing_columns(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """Info: the group caps how many values an entity can have; a child table is the usual fix,
    best made while the data moves anyway."""
    found = []
    for t in schema.base_tables:
        groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for c in t.columns:
            parts = split_number(c.name)
            if parts:
                groups[snake(parts[0])].append((parts[1], c.name))
        for stem, members in sorted(groups.items()):
            if len({n for n, _ in members}) >= 2:
                names = [name for _, name in sorted(members)]
                found.append(
                    Finding(
                        "incrementing_columns",
                        "info",
                        t.key,
                        names,
                        f"{', '.join(names)}: a repeating group of {stem}, better a child table",
                    )
                )
    return found
