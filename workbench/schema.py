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
class Computed:
    """A generated column's expression (as the source database prints it) and whether it is stored."""

    expression: str
    stored: bool = True


@dataclass
class Column:
    """A column.

    Attributes
    ----------
    name : the column's name, exactly as the database spells it.
    type : the type as SQLAlchemy renders it for the source dialect (``VARCHAR(40)``, ``NUMERIC(12, 2)``).
    nullable : whether NULL is allowed.
    default : the server default as SQL text, or None (an ``ON UPDATE`` clause included, as MariaDB has it).
    comment : the column comment, where the database keeps one.
    computed : the expression of a generated column (its values are computed, never written).
    identity : how the database numbers the column: ``always`` or ``by default`` (an identity column),
        ``auto_increment`` (MySQL/MariaDB); None otherwise. A sequence default (``nextval(...)``) stays
        in ``default``.
    """

    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    comment: str | None = None
    computed: Computed | None = None
    identity: str | None = None


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
    """An index; ``columns`` holds expression text for expression indexes.

    ``method`` names an access method other than the default B-tree: PostgreSQL's ``gist``,
    ``gin``, ``brin``, ``hash``...; MySQL's ``FULLTEXT`` or ``SPATIAL``.
    """

    name: str | None
    columns: list[str]
    unique: bool = False
    method: str | None = None


@dataclass
class UniqueConstraint:
    """A declared unique constraint."""

    name: str | None
    columns: list[str]


@dataclass
class Partition:
    """One partition of a partitioned table: storage, not a table of its own.

    ``bound`` is the partition's rule as the database prints it (``FOR VALUES FROM (...) TO (...)``,
    ``VALUES LESS THAN (2022)``); ``rows`` the catalog's estimate (None: unknown).
    """

    name: str
    schema: str | None = None
    bound: str = ""
    rows: int | None = None


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
    materialized : a materialized view (``kind`` is ``"view"``): it stores rows until refreshed.
    populated : for a materialized view, whether it holds rows (one created ``WITH NO DATA`` cannot be read).
    partitioning : how a partitioned table splits its rows (``RANGE (payment_date)``); None when it is not.
    partitions : its partitions, in the database's order; their rows are the table's rows.
    inherited_by : keys of tables inheriting from this one (PostgreSQL ``INHERITS``): tables of their own,
        whose rows a plain ``SELECT`` on this one would include.
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
    materialized: bool = False
    populated: bool | None = None
    partitioning: str | None = None
    partitions: list[Partition] = field(default_factory=list)
    inherited_by: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """``schema.name``, or ``name`` in the default schema: the table's id in every artifact."""
        return table_key(self.schema, self.name)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class UserType:
    """A type the database defines: an enum (its ``values``) or a domain (a ``base`` type with rules).

    ``checks`` holds a domain's CHECK constraints as ``(name, condition)`` text pairs; ``default`` and
    ``not_null`` its own default and NOT NULL.
    """

    name: str
    schema: str | None = None
    kind: Literal["enum", "domain"] = "enum"
    values: list[str] = field(default_factory=list)
    base: str | None = None
    default: str | None = None
    not_null: bool = False
    checks: list[list[str]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return table_key(self.schema, self.name)


@dataclass
class Routine:
    """A stored function or procedure: business logic living in the database.

    Attributes
    ----------
    kind : ``function`` or ``procedure``.
    arguments : the argument list as the database prints it (``p_id integer``).
    returns : a function's result type (``trigger`` for a trigger function).
    language : ``plpgsql``, ``sql``, ...
    definition : the complete ``CREATE`` statement as the database gives it.
    tables : keys of the tables its body names (read or written), sorted.
    """

    name: str
    schema: str | None = None
    kind: Literal["function", "procedure"] = "function"
    arguments: str = ""
    returns: str | None = None
    language: str = "sql"
    definition: str = ""
    tables: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return table_key(self.schema, self.name)


@dataclass
class Trigger:
    """A trigger: logic the database runs on its own when rows of ``table`` change.

    Attributes
    ----------
    table : key of the table it fires on.
    timing : ``BEFORE``, ``AFTER`` or ``INSTEAD OF``.
    events : ``INSERT``, ``UPDATE``, ``DELETE``, ``TRUNCATE``.
    function : key of the routine it executes (PostgreSQL), None where the body is inline.
    definition : the complete ``CREATE TRIGGER`` statement as the database gives it.
    tables : keys of the tables it touches: its own, those its body (or function) names, sorted.
    """

    name: str
    table: str
    timing: str = "AFTER"
    events: list[str] = field(default_factory=list)
    function: str | None = None
    definition: str = ""
    tables: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.table}.{self.name}"


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
    types : enums and domains the database defines (PostgreSQL; MySQL's ENUM/SET are column types).
    routines : stored functions and procedures.
    triggers : triggers on the tables.
    """

    FORMAT: ClassVar[serde.Format] = serde.Format("schema")

    dialect: str
    database: str
    default_schema: str | None = None
    schemas: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    types: list[UserType] = field(default_factory=list)
    routines: list[Routine] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)

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
