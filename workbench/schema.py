"""The schema model: what introspection finds, as plain dataclasses that round-trip through JSON.

Field meanings follow SQLAlchemy's reflection results (``ReflectedColumn``,
``ReflectedForeignKeyConstraint``, ...), flattened into one model per object so the artifact
``schema.json`` can be read and diffed by a person. Tables in the database's default schema have
``schema = None``: the same sample database loaded into SQLite, PostgreSQL or MariaDB then yields
the same table keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from workbench import serde


@dataclass
class Column:
    """A column.

    Attributes
    ----------
    name : the column's name, exactly as the database spells it.
    type : the type as SQLAlchemy renders it for the source dialect (``VARCHAR(40)``, ``NUMERIC(12, 2)``).
    nullable : whether NULL is allowed.
    default : the server default as SQL text, or None.
    comment : the column comment, where the database keeps one.
    """

    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    comment: str | None = None


@dataclass
class ForeignKey:
    """A declared foreign key (composite keys list several columns, in order).

    ``referred_schema`` is None for the default schema; ``referred_table`` may be the table itself
    (self-reference).
    """

    columns: list[str]
    referred_table: str
    referred_columns: list[str]
    referred_schema: str | None = None
    name: str | None = None
    on_delete: str | None = None
    on_update: str | None = None

    @property
    def referred_key(self) -> str:
        return table_key(self.referred_schema, self.referred_table)


@dataclass
class Index:
    """An index; ``columns`` holds expression text for expression indexes."""

    name: str | None
    columns: list[str]
    unique: bool = False


@dataclass
class UniqueConstraint:
    """A declared unique constraint."""

    name: str | None
    columns: list[str]


@dataclass
class Table:
    """A table or view with everything decomposition and design need to know about it.

    Attributes
    ----------
    row_count : exact on SQLite or when asked for; otherwise the catalog's estimate (None: unknown).
    row_count_exact : whether ``row_count`` was counted rather than estimated.
    size_bytes : storage size (data + indexes) where the database reports it.
    kind : ``"table"`` or ``"view"``.
    definition : a view's SQL, where the database gives it.
    """

    name: str
    schema: str | None = None
    kind: Literal["table", "view"] = "table"
    columns: list[Column] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    unique_constraints: list[UniqueConstraint] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    comment: str | None = None
    row_count: int | None = None
    row_count_exact: bool = False
    size_bytes: int | None = None
    definition: str | None = None

    @property
    def key(self) -> str:
        """``schema.name``, or ``name`` in the default schema: the table's id in every artifact."""
        return table_key(self.schema, self.name)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class Schema:
    """A database's structure: the artifact ``schema.json`` of the Assess stage.

    Attributes
    ----------
    dialect : SQLAlchemy backend name of the source (``sqlite``, ``postgresql``, ``mysql``).
    database : the database's URL with the password masked (never the password itself).
    default_schema : the name of the schema whose tables carry ``schema = None``.
    schemas : the schemas introspected.
    tables : tables and views, sorted by key.
    """

    FORMAT: ClassVar[serde.Format] = serde.Format("schema")

    dialect: str
    database: str
    default_schema: str | None = None
    schemas: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    def table(self, key: str) -> Table:
        """The table with this key; :class:`~workbench.errors.NotFoundError` naming it otherwise."""
        from workbench.errors import NotFoundError

        for t in self.tables:
            if t.key == key:
                return t
        raise NotFoundError(f"table not found: {key}")

    @property
    def base_tables(self) -> list[Table]:
        return [t for t in self.tables if t.kind == "table"]

    @property
    def views(self) -> list[Table]:
        return [t for t in self.tables if t.kind == "view"]


def table_key(schema: str | None, name: str) -> str:
    """
    >>> table_key(None, "orders"), table_key("sales", "orders")
    ('orders', 'sales.orders')
    """
    return f"{schema}.{name}" if schema else name
