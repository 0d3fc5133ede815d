"""Table names as statements spell them -> table keys of the schema; the rest is reported.

The rules follow the databases: an unqualified name means the default schema; a qualification
naming the default schema (``public.orders``, ``shop.orders`` for MySQL database ``shop``) is
the same table; a quoted PostgreSQL name must match exactly; an unquoted one is folded as the
database folds it (PostgreSQL: lower case) and, failing that, may differ in case when exactly
one table matches (a schema read from another backend may spell it differently). Nothing else is
tried: a name that does not resolve is returned as unknown for the report, never guessed
(``order`` is not ``orders``).
"""

from __future__ import annotations

from collections import defaultdict

from workbench.schema import Schema, table_key
from workbench.workload.extract import TableRef

CASE_SENSITIVE_QUOTED = {"postgres", "oracle", "snowflake"}
"""Dialects where a quoted identifier is matched exactly (MySQL backticks do not change case rules)."""

FOLD = {"postgres": str.lower, "oracle": str.upper, "snowflake": str.upper}
"""How a dialect folds unquoted identifiers before looking them up."""


class Resolver:
    """Maps :class:`TableRef` to schema table keys, caching every answer.

    Without a schema every name resolves to itself (``schema.name`` or ``name``).

    >>> from workbench.schema import Table
    >>> s = Schema(dialect="postgresql", database="x", default_schema="public",
    ...            tables=[Table("orders"), Table("Items"), Table("ledger", schema="acct")])
    >>> r = Resolver(s, "postgres")
    >>> [r.resolve(TableRef(n, sch, quoted=q)) for n, sch, q in
    ...  [("ORDERS", None, False), ("orders", "public", False), ("items", None, True), ("LEDGER", "acct", False)]]
    ['orders', 'orders', None, 'acct.ledger']
    """

    def __init__(self, schema: Schema | None, dialect: str | None = None) -> None:
        self.schema = schema
        self.exact_quoted = dialect in CASE_SENSITIVE_QUOTED
        self._fold = FOLD.get(dialect or "")
        self._default = (schema.default_schema or "") if schema else ""
        self._exact: dict[tuple[str | None, str], str] = {}
        self._folded: dict[tuple[str | None, str], list[str]] = defaultdict(list)
        self._schemas_folded: dict[str, set[str]] = defaultdict(set)
        self._schemas: set[str] = set()
        for table in schema.tables if schema else []:
            self._exact[(table.schema, table.name)] = table.key
            self._folded[(table.schema.casefold() if table.schema else None, table.name.casefold())].append(table.key)
            if table.schema:
                self._schemas.add(table.schema)
                self._schemas_folded[table.schema.casefold()].add(table.schema)
        self._cache: dict[TableRef, str | None] = {}

    def resolve(self, ref: TableRef) -> str | None:
        """The table key ``ref`` names, or None when the schema has no such table."""
        if ref in self._cache:
            return self._cache[ref]
        key = self._resolve(ref) if self.schema is not None else table_key(ref.schema, ref.name)
        self._cache[ref] = key
        return key

    def _schema_of(self, ref: TableRef) -> tuple[bool, str | None]:
        """(found, schema as the model spells it: None for the default schema)."""
        if ref.schema is None:
            return True, None
        exact = ref.schema_quoted and self.exact_quoted
        if ref.schema == self._default or (not exact and ref.schema.casefold() == self._default.casefold()):
            return True, None
        if ref.schema in self._schemas:
            return True, ref.schema
        if not exact:
            names = self._schemas_folded.get(ref.schema.casefold(), set())
            if len(names) == 1:
                return True, next(iter(names))
        return False, None

    def _resolve(self, ref: TableRef) -> str | None:
        found, schema = self._schema_of(ref)
        if not found:
            return None
        if not ref.quoted and self._fold is not None:
            key = self._exact.get((schema, self._fold(ref.name)))
            if key is not None:
                return key
        key = self._exact.get((schema, ref.name))
        if key is not None:
            return key
        if ref.quoted and self.exact_quoted:
            return None
        candidates = self._folded.get((schema.casefold() if schema else None, ref.name.casefold()), [])
        return candidates[0] if len(candidates) == 1 else None
