"""Foreign keys nobody declared: columns whose name and type point at another table's key.

Legacy schemas often keep referential integrity in the application; ``orders.customer_id``
without a constraint is still a dependency a decomposition must see. A column is taken as a
reference when

1. its name equals another table's single-column key that names its table (``customer_id`` when
   ``customers`` is keyed by ``customer_id``; ``supplier_id`` for ``tblSupplier.SupplierID``);
2. else its name is ``<table>_<key>`` for a table keyed by ``<key>`` (``customer_id`` ->
   ``customers.id``; ``billing_address_id`` -> ``addresses.id``, leading role words dropped);
   failing that, with leading words of the table's name dropped (``session_id`` -> ``web_sessions.id``);
3. else its name equals the key of exactly one other table (``customer_id`` -> ``customer_scores``);

and its type can hold the key's values. Names are compared in snake_case with simple plurals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from workbench.assess.coltypes import ColumnType, compatible, parse_type
from workbench.assess.naming import name_forms, snake
from workbench.schema import Schema, Table

GENERIC_KEY_NAMES = frozenset({"id", "code", "key", "uuid", "guid", "name", "no", "number", "num", "pk"})
"""Key column names that say nothing about their table: never matched on the name alone."""


@dataclass(frozen=True, order=True)
class ImpliedReference:
    """``table.column`` looks like a reference to ``referred_table.referred_column``."""

    table: str
    column: str
    referred_table: str
    referred_column: str


def _single_key(table: Table) -> str | None:
    return table.primary_key[0] if len(table.primary_key) == 1 else None


def _key_type(schema: Schema, table: Table, column: str) -> ColumnType | None:
    col = table.column(column)
    return parse_type(col.type, schema.dialect) if col else None


def implied_references(schema: Schema) -> list[ImpliedReference]:
    """Every undeclared reference the naming conventions reveal, sorted."""
    tables = sorted(schema.base_tables, key=lambda t: t.key)
    indexes = _Indexes(defaultdict(list), defaultdict(list), defaultdict(list))
    for t in tables:
        key = _single_key(t)
        if key is None:
            continue
        words = snake(t.name).split("_")
        for form in name_forms(t.name):
            indexes.by_form[form].append(t)
        for start in range(1, len(words)):  # web_sessions also answers to "session"
            for form in name_forms("_".join(words[start:])):
                indexes.by_suffix[form].append(t)
        if snake(key) not in GENERIC_KEY_NAMES:
            indexes.by_key_name[snake(key)].append(t)

    found: list[ImpliedReference] = []
    for t in tables:
        declared = {c for fk in t.foreign_keys for c in fk.columns}
        for col in t.columns:
            if col.name in declared:
                continue
            target = _match(t, snake(col.name), indexes)
            if target is None:
                continue
            key = _single_key(target)
            key_type = _key_type(schema, target, key) if key else None
            if key and key_type and compatible(parse_type(col.type, schema.dialect), key_type):
                found.append(ImpliedReference(t.key, col.name, target.key, key))
    return sorted(found)


@dataclass
class _Indexes:
    by_form: dict[str, list[Table]]  # every singular/plural form of a table's name
    by_suffix: dict[str, list[Table]]  # the same for the name without its leading words
    by_key_name: dict[str, list[Table]]  # descriptive single-column key names (customer_id)


def _prefer(candidates: list[Table], near: Table) -> Table | None:
    """One target among same-named tables: the one in the referring table's schema, if unique."""
    candidates = list({c.key: c for c in candidates}.values())
    same = [c for c in candidates if c.schema == near.schema]
    pool = same or candidates
    return pool[0] if len(pool) == 1 else None


def _names_table(stem: str, table: Table) -> bool:
    """Whether a key stem names ``table``, allowing prefixes: ``supplier`` names ``tblSupplier``."""
    words = snake(table.name).split("_")
    return any(stem in name_forms("_".join(words[i:])) for i in range(len(words)))


def _by_stem(table: Table, words: list[str], index: dict[str, list[Table]]) -> Table | None:
    """``<role words>_<table>_<key>``: the shortest key first, then the longest table name."""
    for split in range(len(words) - 1, 0, -1):
        key = "_".join(words[split:])
        for start in range(split):
            part = "_".join(words[start:split])
            forms = sorted(name_forms(part) | {part})
            target = _prefer([t for f in forms for t in index.get(f, []) if snake(t.primary_key[0]) == key], table)
            if target is not None:
                return target
    return None


def _match(table: Table, column: str, indexes: _Indexes) -> Table | None:
    owners = indexes.by_key_name.get(column, [])
    stem = column.rpartition("_")[0]
    # 1. the column is the key of the table it names (customers keyed by customer_id)
    named = [o for o in owners if stem and _names_table(stem, o)]
    if named:
        target = _prefer(named, table)
        return None if target is table else target
    # 2. <table>_<key> with the table's full name, then with its name less leading words
    words = column.split("_")
    target = _by_stem(table, words, indexes.by_form) or _by_stem(table, words, indexes.by_suffix)
    if target is not None:
        return target
    # 3. the key of a table not named after it (a 1:1 extension, a report table), if only one has it
    target = _prefer(owners, table) if owners else None
    return None if target is table else target
