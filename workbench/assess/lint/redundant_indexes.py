"""Indexes whose columns lead another index (or the primary key) with no uniqueness of their own."""

from __future__ import annotations

from workbench.assess.indexes import access_paths
from workbench.assess.lint.finding import Finding
from workbench.assess.lint.settings import LintSettings
from workbench.schema import Schema


def redundant_indexes(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """Info: a redundant index costs every write (and the migration's bulk load) and serves no read.

    A unique index is redundant only next to a unique one on the very same columns; of two
    identical indexes, the second listed is reported.
    """
    found = []
    for t in schema.base_tables:
        paths = access_paths(t)
        for i, a in enumerate(paths):
            if a.origin == "primary_key":
                continue
            for j, b in enumerate(paths):
                if i == j or b.columns[: len(a.columns)] != a.columns:
                    continue
                same = len(b.columns) == len(a.columns)
                if (a.unique and not (b.unique and same)) or (same and a.unique == b.unique and j > i):
                    continue
                what = "duplicates" if same else "is a prefix of"
                found.append(
                    Finding(
                        "redundant_indexes",
                        "info",
                        t.key,
                        list(a.columns),
                        f"{a.label} {what} {b.label}: "
                        "it slows every write and can be dropped",
                    )
                )
                break
    return found
