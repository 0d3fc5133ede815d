"""Foreign keys whose columns do not lead any index or the primary key."""

from __future__ import annotations

from workbench.assess.indexes import fk_is_indexed
from workbench.assess.lint.finding import Finding
from workbench.assess.lint.settings import LintSettings
from workbench.schema import Schema


def fk_without_index(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """A warning per unindexed FK: joins from the parent and cascading deletes scan the child.

    MariaDB/InnoDB indexes every FK itself, so this fires mostly on PostgreSQL and SQLite.
    """
    found = []
    for t in schema.base_tables:
        for fk in t.foreign_keys:
            if not fk_is_indexed(t, fk):
                cols = ", ".join(fk.columns)
                found.append(
                    Finding(
                        "fk_without_index",
                        "warning",
                        t.key,
                        list(fk.columns),
                        f"FK ({cols}) -> {fk.referred_key} has no supporting index: joins and deletes from "
                        f"{fk.referred_key} scan this table",
                    )
                )
    return found
