"""Column types from ``schema.json`` text back to portable SQLAlchemy types, for any target dialect.

``schema.json`` keeps each type as the *source* dialect spells it (``NUMERIC(12, 2)``,
``TIMESTAMP WITHOUT TIME ZONE``, ``TINYINT(1)``, ``NVARCHAR(MAX)``). sqlglot parses those strings
for every source dialect into one vocabulary (:class:`sqlglot.exp.DataType`); this module maps
that vocabulary onto SQLAlchemy's *generic* types, which SQLAlchemy then compiles for each target
(``Numeric(12, 2)`` is ``NUMBER(12, 2)`` on Oracle, ``DateTime`` is ``DATETIME2``-free ``DATETIME``
on SQL Server, ...). A type neither knows (a PostgreSQL domain, ``tsvector``) becomes ``Text``,
which can hold any value's text, and is reported as approximate rather than guessed silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from sqlglot import exp
from sqlglot.errors import SqlglotError

from workbench.db import sqlglot_dialect

T = exp.DataType.Type

_SMALL = {T.TINYINT, T.UTINYINT, T.SMALLINT, T.YEAR}
_INTEGER = {T.INT, T.MEDIUMINT, T.USMALLINT, T.UMEDIUMINT}
_BIG = {T.BIGINT, T.UINT}  # an unsigned INT does not fit a signed INTEGER: widen it
_HUGE = {T.UBIGINT, T.INT128, T.UINT128, T.INT256, T.UINT256}
_DECIMAL = {T.DECIMAL, T.UDECIMAL, T.BIGDECIMAL, T.DECIMAL32, T.DECIMAL64, T.DECIMAL128, T.DECIMAL256, T.DECFLOAT}
_MONEY = {T.MONEY, T.SMALLMONEY}
_FLOAT = {T.FLOAT}
_DOUBLE = {T.DOUBLE, T.UDOUBLE}
_CHAR = {T.CHAR, T.NCHAR}
_VARCHAR = {T.VARCHAR, T.NVARCHAR, T.NAME}
_TEXT = {T.TEXT, T.LONGTEXT, T.MEDIUMTEXT, T.TINYTEXT}
_DATETIME = {T.DATETIME, T.DATETIME2, T.DATETIME64, T.SMALLDATETIME, T.TIMESTAMP, T.TIMESTAMPNTZ,
             T.TIMESTAMP_S, T.TIMESTAMP_MS, T.TIMESTAMP_NS}
_DATETIME_TZ = {T.TIMESTAMPTZ, T.TIMESTAMPLTZ}
_BINARY = {T.BINARY, T.VARBINARY, T.BLOB, T.LONGBLOB, T.MEDIUMBLOB, T.TINYBLOB, T.IMAGE}
_JSON = {T.JSON, T.JSONB}
_ADDRESS = {T.INET: 45, T.IPADDRESS: 45}


_FRACTION = {T.SMALLDATETIME: 0, T.TIMESTAMP_S: 0, T.TIMESTAMP_MS: 3}
"""Fractional-second digits that a datetime kind implies by itself."""
_DEFAULT_FRACTION = {"mysql": 0, "mariadb": 0}
"""Digits of a datetime declared without any, per source: MySQL keeps whole seconds; PostgreSQL and
Oracle microseconds, SQL Server's DATETIME2 100 ns (its old DATETIME about milliseconds), SQLite's
text whatever it holds. Targets keep at most microseconds."""


def _fraction(kind: exp.DType, digits: int | None, dialect: str | None) -> int:
    if kind in _FRACTION:
        return _FRACTION[kind]
    if digits is None:
        digits = 3 if kind == T.DATETIME and dialect == "mssql" else _DEFAULT_FRACTION.get(dialect or "", 6)
    return max(0, min(digits, 6))


def _datetime(timezone: bool, digits: int, target: str | None) -> sa.types.TypeEngine:
    """``DateTime`` that keeps ``digits`` fractional digits: SQLAlchemy's generic type compiles to
    whole seconds on MySQL (``DATETIME``) and Oracle (``DATE``), and to SQL Server's 3.33 ms
    ``DATETIME``. For a known ``target`` the concrete type, else the generic one with a variant each."""
    from sqlalchemy.dialects import mssql, mysql, oracle

    generic = sa.DateTime(timezone=timezone)
    if not digits:
        return generic
    variants: dict[str, sa.types.TypeEngine] = {
        "mysql": mysql.DATETIME(timezone=timezone, fsp=digits),
        "mssql": mssql.DATETIMEOFFSET(digits) if timezone else mssql.DATETIME2(digits),
        "oracle": oracle.TIMESTAMP(timezone=timezone)}
    return _concrete(generic, variants, target)


def _time(digits: int, target: str | None) -> sa.types.TypeEngine:
    """A time of day: Oracle has no TIME type, so there it is the interval since midnight
    (``INTERVAL DAY(0) TO SECOND``, the usual stand-in)."""
    from sqlalchemy.dialects import mssql, mysql, oracle

    variants: dict[str, sa.types.TypeEngine] = {"oracle": oracle.INTERVAL(day_precision=0, second_precision=digits)}
    if digits:
        variants.update({"mysql": mysql.TIME(fsp=digits), "mssql": mssql.TIME(digits)})
    return _concrete(sa.Time(), variants, target)


def _concrete(generic: sa.types.TypeEngine, variants: dict[str, sa.types.TypeEngine],
              target: str | None) -> sa.types.TypeEngine:
    if target is not None:
        return variants.get("mysql" if target == "mariadb" else target, generic)
    for name, variant in variants.items():
        generic = generic.with_variant(variant, *((name, "mariadb") if name == "mysql" else (name,)))
    return generic


@dataclass(frozen=True)
class Mapped:
    """A source type mapped to a generic SQLAlchemy type.

    Attributes
    ----------
    type : the generic type; SQLAlchemy compiles it for each target dialect.
    exact : False when the mapping loses something (range, precision, a type the target lacks).
    note : what was approximated, for the design's notes (None when exact).
    """

    type: sa.types.TypeEngine
    exact: bool = True
    note: str | None = None


def parse_type(text: str, dialect: str | None = None) -> exp.DataType | None:
    """The type text as sqlglot understands it in the source ``dialect`` (SQLAlchemy backend name).

    >>> parse_type("TIMESTAMP WITHOUT TIME ZONE", "postgresql").this.name
    'TIMESTAMP'
    >>> parse_type("not a type at all", "postgresql") is None
    True
    """
    if not text or not text.strip():
        return None
    try:
        return exp.DataType.build(text.strip(), dialect=sqlglot_dialect(dialect))
    except (SqlglotError, ValueError):
        return None


def _params(dt: exp.DataType) -> list[str]:
    return [p.name if isinstance(p, exp.DataTypeParam) else p.sql() for p in dt.expressions]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # MAX, CHAR-length qualifiers, ...


def _enum_length(dt: exp.DataType) -> int:
    values = [p.name for p in dt.expressions]
    if dt.this == T.SET:  # a SET holds any combination, comma-separated
        return max(1, sum(len(v) for v in values) + len(values) - 1)
    return max((len(v) for v in values), default=1)


@lru_cache(maxsize=4096)
def to_sqlalchemy(text: str, dialect: str | None = None, target: str | None = None) -> Mapped:
    """A generic SQLAlchemy type for a column type of ``schema.json``.

    Parameters
    ----------
    text : the type as the source database spells it.
    dialect : the source's SQLAlchemy backend name (``Schema.dialect``); None for neutral SQL.
    target : the dialect the type is for, when known: its own type where the generic one would lose
        precision (``DATETIME(6)`` on MySQL); None gives a type that compiles right for any target.

    Examples
    --------
    >>> to_sqlalchemy("NUMERIC(12, 2)", "sqlite").type
    Numeric(precision=12, scale=2)
    >>> to_sqlalchemy("TINYINT(1)", "mysql").type  # MySQL's spelling of BOOLEAN
    Boolean()
    >>> from sqlalchemy.dialects import mysql
    >>> str(to_sqlalchemy("TIMESTAMP", "postgresql").type.compile(dialect=mysql.dialect()))  # microseconds kept
    'DATETIME(6)'
    >>> m = to_sqlalchemy("tsvector", "postgresql")
    >>> m.type, m.exact
    (Text(), False)
    """
    dt = parse_type(text, dialect)
    if dt is None:
        if not text.strip():
            return Mapped(sa.Text(), False, "no declared type: kept as text")
        return Mapped(sa.Text(), False, f"unknown type {text.strip()!r}: kept as text")
    kind = dt.this
    params = _params(dt)
    first = _int(params[0]) if params else None
    second = _int(params[1]) if len(params) > 1 else None
    if kind == T.BOOLEAN or (kind in (T.TINYINT, T.BIT) and first == 1):
        return Mapped(sa.Boolean())
    if kind in _SMALL:
        return Mapped(sa.SmallInteger())
    if kind in _INTEGER:
        return Mapped(sa.Integer())
    if kind in _BIG:
        return Mapped(sa.BigInteger())
    if kind in _HUGE:
        return Mapped(sa.Numeric(39 if kind != T.UBIGINT else 20, 0), True)
    if kind in _DECIMAL:
        return Mapped(sa.Numeric(first, second) if first is not None else sa.Numeric())
    if kind in _MONEY:
        return Mapped(sa.Numeric(19, 4))
    if kind in _FLOAT:
        return Mapped(sa.Double() if first is not None and first > 24 else sa.Float())
    if kind in _DOUBLE:
        return Mapped(sa.Double())
    if kind in _CHAR:
        return Mapped(sa.CHAR(first or 1))
    if kind in _VARCHAR:
        return Mapped(sa.String(first) if first else sa.Text())
    if kind in _TEXT:
        return Mapped(sa.Text())
    if kind == T.DATE or kind == T.DATE32:
        return Mapped(sa.Date())
    if kind in _DATETIME or kind in _DATETIME_TZ:
        return Mapped(_datetime(kind in _DATETIME_TZ, _fraction(kind, first, dialect), target))
    if kind == T.TIME:
        return Mapped(_time(_fraction(kind, first, dialect), target))
    if kind == T.TIMETZ:
        return Mapped(sa.Time(timezone=True))
    if kind == T.INTERVAL:  # MySQL/MariaDB have none; TIME stops at 838 hours: text "[-]H:MM:SS.ffffff" holds any
        return Mapped(_concrete(sa.Interval(), {"mysql": sa.String(32)}, target), True,
                      "INTERVAL kept as text [-]H:MM:SS.ffffff on MySQL/MariaDB targets")
    if kind in _BINARY:
        return Mapped(sa.LargeBinary(first) if kind == T.VARBINARY and first else sa.LargeBinary())
    if kind in _JSON:
        return Mapped(sa.JSON())
    if kind == T.UUID:
        return Mapped(sa.Uuid())
    if kind in (T.ENUM, T.ENUM8, T.ENUM16, T.SET):
        return Mapped(
            sa.String(_enum_length(dt)), False, f"{kind.name} {text.strip()} kept as a string (values not enforced)"
        )
    if kind == T.BIT:
        return Mapped(sa.LargeBinary(), False, f"{text.strip()} kept as binary")
    if kind in _ADDRESS:
        return Mapped(sa.String(_ADDRESS[kind]), False, f"{text.strip()} kept as a string")
    if kind == T.ARRAY:
        return Mapped(sa.JSON(), False, f"array {text.strip()} kept as JSON")
    return Mapped(sa.Text(), False, f"{text.strip()} has no portable equivalent: kept as text")


def is_integer(text: str, dialect: str | None = None) -> bool:
    """Whether the type is an integer (candidate for an identity primary key).

    >>> is_integer("INTEGER", "sqlite"), is_integer("VARCHAR(3)", "sqlite")
    (True, False)
    """
    return isinstance(to_sqlalchemy(text, dialect).type, sa.Integer)
