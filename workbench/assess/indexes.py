"""A table's access paths (primary key, unique constraints, indexes) and what they cover.

Databases differ in how they report the same structure: PostgreSQL and MariaDB may list the
index behind a unique constraint both as an index and as a constraint, SQLite hides it. Merging
them into one list of paths keeps the rules from counting one index twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.schema import ForeignKey, Table


@dataclass(frozen=True)
class AccessPath:
    """An ordered set of columns the database can seek on.

    ``origin`` is ``primary_key``, ``unique_constraint`` or ``index``; ``name`` is None for
    unnamed constraints (SQLite).
    """

    name: str | None
    columns: tuple[str, ...]
    unique: bool
    origin: str

    @property
    def label(self) -> str:
        """How a message names it: ``PRIMARY KEY``, ``index ix_a (a)``, ``unique key (a, b)``."""
        kind = {"primary_key": "PRIMARY KEY", "unique_constraint": "unique key", "index": "index"}[self.origin]
        if self.origin == "primary_key":
            return f"{kind} ({', '.join(self.columns)})"
        return f"{kind} {self.name + ' ' if self.name else ''}({', '.join(self.columns)})"


def access_paths(table: Table) -> list[AccessPath]:
    """The primary key first, then unique constraints, then indexes.

    An index with the name and columns of a unique constraint is that constraint's own index and
    is listed once; genuinely duplicated indexes (other names) stay, for ``redundant_indexes``.
    """
    paths: list[AccessPath] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()

    def add(name: str | None, columns: list[str], unique: bool, origin: str) -> None:
        key = (name or "", tuple(columns))
        if columns and (name is None or key not in seen):
            seen.add(key)
            paths.append(AccessPath(name, tuple(columns), unique, origin))

    if table.primary_key:
        add(None, table.primary_key, True, "primary_key")
    for uc in sorted(table.unique_constraints, key=lambda u: (u.name or "", u.columns)):
        add(uc.name, uc.columns, True, "unique_constraint")
    for ix in sorted(table.indexes, key=lambda i: (i.name or "", i.columns)):
        add(ix.name, ix.columns, ix.unique, "index")
    return paths


def covers(path: AccessPath, columns: list[str]) -> bool:
    """Whether ``columns`` (in any order) are the leading columns of ``path``.

    >>> covers(AccessPath("ix", ("a", "b", "c"), False, "index"), ["b", "a"])
    True
    >>> covers(AccessPath("ix", ("a", "b"), False, "index"), ["b"])
    False
    """
    return bool(columns) and set(path.columns[: len(columns)]) == set(columns)


def fk_is_indexed(table: Table, fk: ForeignKey) -> bool:
    """Whether some access path of ``table`` starts with the FK's columns (joins and cascades need one)."""
    return any(covers(p, fk.columns) for p in access_paths(table))
