"""Polymorphic associations: a ``<x>_type`` column saying which table ``<x>_id`` points into."""

from __future__ import annotations

from workbench.assess.lint.finding import Finding
from workbench.assess.lint.settings import DEFAULT, LintSettings
from workbench.assess.naming import snake
from workbench.schema import Schema


def polymorphic_associations(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """A warning: the reference spans several tables (and so, often, several services), no FK can
    enforce it, and no single owner exists for it.

    An ``<x>_id`` already covered by a declared FK is a plain reference qualified by a type, not a
    polymorphic one, and is skipped.
    """
    settings = settings or DEFAULT
    found = []
    for t in schema.base_tables:
        declared = {c for fk in t.foreign_keys for c in fk.columns}
        by_snake = {snake(c.name): c.name for c in t.columns}
        for name, original in sorted(by_snake.items()):
            stem, _, suffix = name.rpartition("_")
            if not stem or suffix not in settings.discriminator_suffixes:
                continue
            target = by_snake.get(f"{stem}_id")
            if target is None or target in declared:
                continue
            found.append(
                Finding(
                    "polymorphic_associations",
                    "warning",
                    t.key,
                    [original, target],
                    f"{original} + {target} form a polymorphic association: rows point into several tables, "
                    "which no FK enforces and no single service owns",
                )
            )
    return found
