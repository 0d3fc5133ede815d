"""Column types reduced to what comparisons need: a canonical spelling and a family.

Types arrive as the source dialect renders them (``INTEGER``, ``CHARACTER VARYING(20)``,
``LONGTEXT``); sqlglot parses them, so ``INTEGER`` on SQLite and ``INT`` on MariaDB compare equal
and a rule can ask "is this a large object?" without a per-dialect list of spellings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import ParseError

from workbench.db import sqlglot_dialect

_T = exp.DataType.Type

_SERIAL = {_T.SERIAL, _T.BIGSERIAL, _T.SMALLSERIAL}
_LOB = {
    _T.TEXT, _T.MEDIUMTEXT, _T.LONGTEXT, _T.BLOB, _T.MEDIUMBLOB, _T.LONGBLOB, _T.IMAGE, _T.XML,
}  # fmt: skip
_UNBOUNDED_LOB = {_T.VARBINARY, _T.BINARY}  # BYTEA and BLOB parse as VARBINARY without a length


@dataclass(frozen=True)
class ColumnType:
    """A parsed column type.

    Attributes
    ----------
    canonical : dialect-neutral spelling (``INT``, ``VARCHAR(40)``); the raw text upper-cased if unparseable.
    family : ``integer``, ``decimal``, ``float``, ``text``, ``binary``, ``temporal``, ``boolean``,
        ``uuid``, ``json`` or ``other``.
    lob : whether values are large objects (unbounded text or binary, XML).
    scale : the decimal scale, where given (``NUMERIC(10, 0)`` holds integers).
    """

    canonical: str
    family: str
    lob: bool = False
    scale: int | None = None


def _family(dt: exp.DataType) -> tuple[str, int | None]:
    kind = dt.this
    if kind in exp.DataType.INTEGER_TYPES or kind in _SERIAL:
        return "integer", None
    if kind in (_T.DECIMAL, _T.BIGDECIMAL, _T.MONEY, _T.SMALLMONEY):
        args = [e.sql() for e in dt.expressions]
        scale = int(args[1]) if len(args) > 1 and args[1].isdigit() else None
        return "decimal", scale
    if kind in exp.DataType.REAL_TYPES:
        return "float", None
    if kind in exp.DataType.TEXT_TYPES:
        return "text", None
    if kind in exp.DataType.BINARY_TYPES or kind == _T.IMAGE:
        return "binary", None
    if kind in exp.DataType.TEMPORAL_TYPES:
        return "temporal", None
    if kind in (_T.BOOLEAN, _T.BIT):
        return "boolean", None
    if kind == _T.UUID:
        return "uuid", None
    if kind in (_T.JSON, _T.JSONB):
        return "json", None
    return "other", None


@lru_cache(maxsize=4096)
def parse_type(text: str, dialect: str | None = None) -> ColumnType:
    """Parse a type as the source dialect spells it; unknown spellings become family ``other``.

    >>> parse_type("CHARACTER VARYING(20)", "postgresql")
    ColumnType(canonical='VARCHAR(20)', family='text', lob=False, scale=None)
    >>> parse_type("LONGTEXT", "mysql").lob, parse_type("INTEGER", "sqlite").canonical
    (True, 'INT')
    """
    try:
        dt = exp.DataType.build(text, dialect=sqlglot_dialect(dialect))
    except (ParseError, ValueError, TypeError):
        return ColumnType(canonical=" ".join(text.upper().split()), family="other")
    family, scale = _family(dt)
    lob = dt.this in _LOB or (dt.this in _UNBOUNDED_LOB and not dt.expressions)
    return ColumnType(canonical=dt.sql(), family=family, lob=lob, scale=scale)


def compatible(a: ColumnType, b: ColumnType) -> bool:
    """Whether a column of type ``a`` can hold the keys of a column of type ``b`` (and back).

    Integers of any width match each other and scale-0 decimals (Oracle-style ``NUMBER(10)``).

    >>> compatible(parse_type("INTEGER"), parse_type("BIGINT"))
    True
    >>> compatible(parse_type("INTEGER"), parse_type("VARCHAR(10)"))
    False
    """

    def whole(t: ColumnType) -> bool:
        return t.family == "integer" or (t.family == "decimal" and t.scale == 0)

    if whole(a) and whole(b):
        return True
    if a.family == "other" or b.family == "other":
        return a.canonical == b.canonical
    return a.family == b.family
