"""Names of indexes and constraints that every target accepts: unique in their namespace, short enough.

MySQL and MariaDB scope index names per table, so a legacy MariaDB schema repeats
``idx_fk_address_id`` on every table with an ``address_id``; PostgreSQL and SQLite scope them
per schema (sharing it with the tables), and foreign key names are per database on MariaDB. Each
dialect also caps identifier length: PostgreSQL at 63 *bytes*, MySQL/MariaDB at 64 characters,
SQL Server at 128, Oracle at 128 (30 before 12.2). A design that copies names as they are fails
the moment two tables land in one service, and MariaDB's own ``<table>_ibfk_<n>`` for an unnamed
foreign key is too long for a long table name. :func:`unique_name` gives every such object a name
that fits, deterministically: the same calls in the same order give the same names.
"""

from __future__ import annotations

import hashlib

LIMITS: dict[str, tuple[int, str]] = {
    "postgresql": (63, "bytes"),
    "mysql": (64, "chars"),
    "mariadb": (64, "chars"),
    "mssql": (128, "chars"),
    "oracle": (128, "chars"),
    "sqlite": (128, "chars"),
}
"""Identifier length limit per dialect, and whether it counts bytes (UTF-8) or characters. SQLite has
none; 128 keeps its names portable. Give ``limit=30`` for Oracle before 12.2."""


def unique_name(wanted: str, dialect: str, taken: set[str], *, table: str | None = None,
                limit: int | None = None) -> str:
    """A name for an index or constraint: ``wanted`` when it fits and is free, else a close variant.

    The name is free when no name in ``taken`` equals it case-insensitively (MySQL compares index
    names that way; the rule is safe everywhere); it is added to ``taken``, so one set per target
    namespace (seeded with the namespace's table names where they share it) keeps every name unique.
    A taken name is first qualified by ``table`` (``staff_idx_fk_address_id``), then numbered; a
    name longer than the dialect's limit keeps its start and ends in a short digest of the whole,
    so two long names that differ only at the end stay different.

    Parameters
    ----------
    wanted : the name the source had, or one made up from the table and columns.
    dialect : target dialect (a key of :data:`LIMITS`; unknown ones get the strictest common limit, 63).
    taken : names already used in the target namespace; updated in place.
    table : the table the object belongs to, to qualify a name another table already uses.
    limit : overrides the dialect's limit (e.g. 30 for old Oracle releases).

    Examples
    --------
    >>> taken = {"customer", "staff"}
    >>> unique_name("idx_fk_address_id", "postgresql", taken, table="customer")
    'idx_fk_address_id'
    >>> unique_name("idx_fk_address_id", "postgresql", taken, table="staff")
    'staff_idx_fk_address_id'
    >>> unique_name("IDX_FK_ADDRESS_ID", "postgresql", taken, table="staff")
    'staff_IDX_FK_ADDRESS_ID_2'
    >>> unique_name("customer", "sqlite", taken)
    'customer_2'
    >>> long = unique_name("fk_" + "x" * 70, "mysql", set())
    >>> len(long), long[:8], long[-9:]
    (64, 'fk_xxxxx', '_43e7b48c')
    >>> name = unique_name("idx_" + "é" * 40, "postgresql", set())
    >>> len(name), len(name.encode())  # 63 bytes, not 63 characters
    (38, 63)
    >>> unique_name("fk_" + "x" * 70, "oracle", set(), limit=30)
    'fk_xxxxxxxxxxxxxxxxxx_43e7b48c'
    """
    size, unit = LIMITS.get(dialect.lower(), (63, "bytes"))
    size = limit or size
    used = {t.casefold() for t in taken}
    candidates = [wanted]
    if table and not wanted.casefold().startswith(table.casefold() + "_"):
        candidates.append(f"{table}_{wanted}")
    for candidate in candidates:
        name = _fit(candidate, size, unit)
        if name.casefold() not in used:
            taken.add(name)
            return name
    n = 2
    while True:
        name = _fit(candidates[-1], size, unit, suffix=f"_{n}")
        if name.casefold() not in used:
            taken.add(name)
            return name
        n += 1


def _length(text: str, unit: str) -> int:
    return len(text.encode("utf-8")) if unit == "bytes" else len(text)


def _fit(name: str, size: int, unit: str, suffix: str = "") -> str:
    """``name + suffix`` when it fits; else a prefix of ``name``, a digest of it, and ``suffix``."""
    if _length(name + suffix, unit) <= size:
        return name + suffix
    digest = "_" + hashlib.sha1(name.encode("utf-8"), usedforsecurity=False).hexdigest()[:8]
    head = name
    while head and _length(head + digest + suffix, unit) > size:
        head = head[:-1]
    return head.rstrip("_") + digest + suffix
