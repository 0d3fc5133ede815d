"""One canonical text per value, the same on every backend, so rows hash alike wherever they live.

Verification compares a SQLite legacy table with its PostgreSQL copy, so "the same row" must hash
the same although one side stores ``19.9`` as a REAL and ``'2011-01-04 15:21:53'`` as text and
the other as ``NUMERIC(12, 2)`` and ``TIMESTAMP``. Each column gets a *kind* from its design type
(:func:`kind_of`); a value's canonical text depends on that kind only:

========== ======================================================================
kind       canonical text
========== ======================================================================
int        decimal digits (``'42'``)
bool       ``'1'`` or ``'0'``
decimal    fixed point with the column's scale (``'19.90'``)
numeric    fixed point without trailing zeros (no declared scale)
float      Python's shortest round-trip ``repr`` (computed in Python everywhere)
date       ``YYYY-MM-DD``
datetime   ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC for time-zone aware columns)
time       ``HH:MM:SS.ffffff``
text/char  the text (CHAR: trailing blanks removed, as servers return them)
binary     lower-case hex
json       compact JSON with sorted keys (computed in Python everywhere)
uuid       lower-case, hyphenated
========== ======================================================================

A row's text joins its values with U+001F, NULL written as U+001E; its hash is the first 60 bits
of the MD5 of that text's UTF-8 bytes; a range's checksum is the count and the *sum* of its row
hashes (order-independent, and unlike XOR two equal rows do not cancel out). PostgreSQL and
MariaDB compute all of it in SQL (:func:`canon_sql`, :func:`row_hash_sql`); SQLite has no MD5, so
the same Python code runs inside SQLite as user functions (:func:`register_sqlite`). A kind a
server cannot canonicalise in SQL (floats, JSON, UUIDs on MariaDB) makes that side fall back to
hashing streamed rows in Python with :func:`canon` -- the reference implementation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects.postgresql import BIT

SEPARATOR = "\x1f"
NULL = "\x1e"
HASH_HEX = 15
"""Hex digits of the MD5 kept per row: 60 bits, so a sum fits any server's exact aggregate."""

MAX_SQLITE_ARGS = 120
"""SQLite's user functions take at most 127 arguments; wider rows are hashed in Python."""


@dataclass(frozen=True)
class Kind:
    """How a column's values are canonicalised: ``name`` from the table above, ``scale`` for decimals."""

    name: str
    scale: int | None = None

    @property
    def code(self) -> str:
        """Compact spelling used inside SQLite function calls: ``decimal:2``, ``int``."""
        return f"{self.name}:{self.scale}" if self.scale is not None else self.name

    @classmethod
    def parse(cls, code: str) -> Kind:
        name, _, scale = code.partition(":")
        return cls(name, int(scale) if scale else None)


def kind_of(type_: sa.types.TypeEngine[Any]) -> Kind:
    """The kind of a (generic) SQLAlchemy type, as :mod:`workbench.design.sqltypes` produces them.

    >>> kind_of(sa.Numeric(12, 2)), kind_of(sa.Boolean()).name, kind_of(sa.CHAR(2)).name
    (Kind(name='decimal', scale=2), 'bool', 'char')
    """
    if isinstance(type_, sa.Boolean):
        return Kind("bool")
    if isinstance(type_, sa.Interval):
        return Kind("interval")
    if isinstance(type_, sa.Integer):
        return Kind("int")
    if isinstance(type_, sa.Float):
        return Kind("float")
    if isinstance(type_, sa.Numeric):
        return Kind("decimal", type_.scale) if type_.scale is not None else Kind("numeric")
    if isinstance(type_, sa.DateTime):
        return Kind("datetime_tz" if type_.timezone else "datetime")
    if isinstance(type_, sa.Date):
        return Kind("date")
    if isinstance(type_, sa.Time):
        return Kind("time")
    if isinstance(type_, sa.CHAR):
        return Kind("char")
    if isinstance(type_, sa.String):
        return Kind("text")
    if isinstance(type_, sa.LargeBinary):
        return Kind("binary")
    if isinstance(type_, sa.JSON):
        return Kind("json")
    if isinstance(type_, sa.Uuid):
        return Kind("uuid")
    return Kind("other")


# -- the reference implementation (Python) -------------------------------------------------------------

def _decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, bool):
        return Decimal(int(value))
    return Decimal(str(value).strip())


def _fixed(value: Decimal) -> str:
    text = format(value, "f")
    return text[1:] if text.startswith("-") and value == 0 else text


def _parse_datetime(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.strip().replace("T", " "))


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def _datetime(value: Any, utc: bool) -> str:
    if isinstance(value, str):
        try:
            value = _parse_datetime(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = _as_utc(value) if utc else value.replace(tzinfo=None)
    elif isinstance(value, dt.date):
        value = dt.datetime(value.year, value.month, value.day)
    else:
        return str(value)
    return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond:06d}"


def _time(value: Any) -> str:
    if isinstance(value, dt.timedelta):  # MySQL drivers return TIME as a duration
        micros = round(value.total_seconds() * 1_000_000)
        seconds, micro = divmod(micros, 1_000_000)
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}.{micro:06d}"
    if isinstance(value, str):
        try:
            value = dt.time.fromisoformat(value.strip())
        except ValueError:
            return value
    if isinstance(value, dt.time):
        return f"{value:%H:%M:%S}.{value.microsecond:06d}"
    return str(value)


_DURATION = re.compile(r"^\s*(-)?(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\s*$")


def _interval(value: Any) -> str:
    """A duration as its signed number of microseconds: the same for a ``timedelta`` (PostgreSQL
    INTERVAL, as psycopg reads it), its ``[-]H:MM:SS.ffffff`` text (the VARCHAR a MariaDB target
    holds, as PyMySQL writes a ``timedelta``) and Python's ``str(timedelta)`` (a SQLite target).

    >>> import datetime as dt
    >>> _interval(dt.timedelta(days=-3)), _interval("-72:00:00"), _interval("-3 days, 0:00:00")
    ('-259200000000', '-259200000000', '-259200000000')
    >>> _interval(dt.timedelta(hours=900, microseconds=5)), _interval("900:00:00.000005")
    ('3240000000005', '3240000000005')
    """
    if isinstance(value, dt.timedelta):
        return str((value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds)
    m = _DURATION.match(str(value))
    if m is None:
        return _text(value)
    sign, days, hours, minutes, seconds, fraction = m.groups()
    if days is not None and sign:  # Python's "-1 day, 23:00:00": only the days are negative
        micros = -int(days) * 86_400_000_000
        sign = None
    else:
        micros = int(days or 0) * 86_400_000_000
    micros += ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1_000_000 + int((fraction or "").ljust(6, "0"))
    return str(-micros if sign else micros)


def _bool(value: Any) -> str:
    if isinstance(value, str):
        return "1" if value.strip().lower() in ("1", "t", "true", "y", "yes", "on") else "0"
    return "1" if value else "0"


def _int(value: Any) -> str:
    if type(value) is int:
        return str(value)
    try:
        return str(int(value)) if isinstance(value, int) else str(int(_decimal(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def _decimal_at(scale: int) -> Callable[[Any], str]:
    quantum = Decimal(1).scaleb(-scale)

    def canon_decimal(value: Any) -> str:
        if type(value) is float or type(value) is int:
            text = repr(value)
            point = text.find(".")
            if "e" not in text and "n" not in text:  # plain digits: pad instead of rounding when exact
                decimals = len(text) - point - 1 if point >= 0 else 0
                if decimals <= scale and not (text.startswith("-") and value == 0):
                    if scale == 0:
                        return text[:point] if point >= 0 else text
                    return (text if point >= 0 else text + ".") + "0" * (scale - decimals)
        try:
            return _fixed(_decimal(value).quantize(quantum, rounding=ROUND_HALF_UP))
        except (InvalidOperation, ValueError):
            return str(value)

    return canon_decimal


def _numeric(value: Any) -> str:
    try:
        d = _decimal(value)
    except (InvalidOperation, ValueError):
        return str(value)
    return _fixed(d.normalize()) if d != 0 else "0"


def _float(value: Any) -> str:
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return str(value)


def _date(value: Any) -> str:
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    return str(value).strip()[:10]


def _naive_datetime(value: Any) -> str:
    if type(value) is str and len(value) == 19 and value[10] == " ":  # SQLite's usual spelling: no fraction
        return value + ".000000"
    return _datetime(value, utc=False)


def _char(value: Any) -> str:
    return (value.decode() if isinstance(value, bytes) else str(value)).rstrip(" ")


def _binary(value: Any) -> str:
    return (value if isinstance(value, bytes) else str(value).encode()).hex()


def _json(value: Any) -> str:
    try:
        data = json.loads(value) if isinstance(value, str | bytes) else value
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _uuid(value: Any) -> str:
    try:
        return str(uuid.UUID(bytes=value) if isinstance(value, bytes) and len(value) == 16 else uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


@lru_cache(maxsize=256)
def canonicalizer(kind: Kind) -> Callable[[Any], str | None]:
    """The function turning one raw value of ``kind`` into its canonical text (None stays None)."""
    name = kind.name
    fn: Callable[[Any], str] = {
        "int": _int, "bool": _bool, "numeric": _numeric, "float": _float, "date": _date,
        "datetime": _naive_datetime, "datetime_tz": lambda v: _datetime(v, utc=True), "time": _time,
        "char": _char, "binary": _binary, "json": _json, "uuid": _uuid, "interval": _interval,
    }.get(name, _text)  # fmt: skip
    if name == "decimal":
        fn = _decimal_at(kind.scale or 0)

    def canon_value(value: Any) -> str | None:
        if value is None:
            return None
        if type(value) is memoryview:
            value = value.tobytes()
        return fn(value)

    return canon_value


def canon(kind: Kind, value: Any) -> str | None:
    """The canonical text of ``value`` (None stays None): what every backend must produce too.

    >>> canon(Kind("decimal", 2), 19.9), canon(Kind("bool"), 1), canon(Kind("datetime"), "2011-01-04 15:21:53")
    ('19.90', '1', '2011-01-04 15:21:53.000000')
    """
    return canonicalizer(kind)(value)


def row_text(texts: Sequence[str | None]) -> str:
    """The canonical texts of one row joined (NULL as U+001E)."""
    return SEPARATOR.join([NULL if t is None else t for t in texts])


def text_hash(text: str) -> int:
    """The 60-bit row hash of a row's text.

    >>> text_hash("abc")
    648541476951500027
    """
    return int(hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:HASH_HEX], 16)


@lru_cache(maxsize=256)
def hasher(kinds: tuple[Kind, ...]) -> Callable[[Sequence[Any]], int]:
    """A function hashing rows of raw values of these kinds (canonicalised in Python)."""
    fns = [canonicalizer(k) for k in kinds]
    md5 = hashlib.md5

    def hash_row(values: Sequence[Any]) -> int:
        texts = [NULL if (t := f(v)) is None else t for f, v in zip(fns, values, strict=True)]
        return int(md5(SEPARATOR.join(texts).encode("utf-8"), usedforsecurity=False).hexdigest()[:HASH_HEX], 16)

    return hash_row


def row_hash(kinds: Sequence[Kind], values: Sequence[Any]) -> int:
    """The hash of a row of raw values, canonicalised in Python."""
    return hasher(tuple(kinds))(values)


# -- SQL: PostgreSQL and MariaDB compute the same texts ------------------------------------------------

Expr = sa.ColumnElement[Any]


def _pg(kind: Kind, col: Expr) -> Expr | None:
    text = sa.Text()
    name = kind.name
    if name == "int":
        return sa.cast(col, text)
    if name == "bool":
        return sa.case((col.is_(None), sa.null()), (sa.cast(col, sa.Boolean), "1"), else_="0")
    if name == "decimal":
        return sa.cast(sa.func.round(sa.cast(col, sa.Numeric()), kind.scale or 0), text)
    if name == "numeric":
        return sa.cast(sa.func.trim_scale(sa.cast(col, sa.Numeric())), text)
    if name == "date":
        return sa.func.to_char(col, "YYYY-MM-DD")
    if name == "datetime":
        return sa.func.to_char(col, "YYYY-MM-DD HH24:MI:SS.US")
    if name == "datetime_tz":
        return sa.func.to_char(sa.func.timezone("UTC", col), "YYYY-MM-DD HH24:MI:SS.US")
    if name == "time":
        return sa.func.to_char(col, "HH24:MI:SS.US")
    if name in ("text", "char", "uuid"):
        return sa.cast(col, text)
    if name == "binary":
        return sa.func.encode(col, "hex")
    return None


def _my(kind: Kind, col: Expr) -> Expr | None:
    name = kind.name
    if name == "int":
        return _my_cast(col, "CHAR")
    if name == "bool":
        return sa.case((col.is_(None), sa.null()), (col != 0, "1"), else_="0")
    if name == "decimal":
        return _my_cast(_my_cast(col, f"DECIMAL(65, {kind.scale or 0})"), "CHAR")
    if name == "date":
        return sa.func.date_format(col, "%Y-%m-%d")
    if name == "datetime":
        return sa.func.date_format(col, "%Y-%m-%d %H:%i:%s.%f")
    if name == "time":
        return sa.func.time_format(col, "%H:%i:%s.%f")
    if name in ("text", "char"):
        return _my_cast(col, "CHAR")
    if name == "binary":
        return sa.func.lower(sa.func.hex(col))
    return None


def _my_cast(expr: Expr, target: str) -> Expr:
    """``CAST(x AS CHAR | UNSIGNED | DECIMAL(65, s))`` as SQLAlchemy's MySQL compiler spells them."""
    if target == "CHAR":
        return sa.cast(expr, sa.Text())
    if target == "UNSIGNED":
        return sa.cast(expr, mysql.BIGINT(unsigned=True))
    scale = int(target.rsplit(",", 1)[1].rstrip(") "))
    return sa.cast(expr, sa.Numeric(65, scale))


def _sqlite(kind: Kind, col: Expr) -> Expr:
    return sa.func.wb_canon(kind.code, col, type_=sa.Text())


def canon_sql(dialect: str, kind: Kind, col: Expr) -> Expr | None:
    """The canonical text of ``col`` as a SQL expression on ``dialect``; None where only Python can."""
    if dialect == "postgresql":
        return _pg(kind, col)
    if dialect == "mysql":
        return _my(kind, col)
    if dialect == "sqlite":
        return _sqlite(kind, col)
    return None


def supports(dialect: str, kinds: Sequence[Kind]) -> bool:
    """Whether ``dialect`` can hash rows of these kinds in SQL."""
    if dialect == "sqlite":
        return len(kinds) <= MAX_SQLITE_ARGS
    probe: Expr = sa.literal_column("x")
    return dialect in ("postgresql", "mysql") and all(canon_sql(dialect, k, probe) is not None for k in kinds)


def row_hash_sql(dialect: str, kinds: Sequence[Kind], cols: Sequence[Expr]) -> Expr:
    """The 60-bit row hash in SQL (the caller checked :func:`supports`)."""
    if dialect == "sqlite":
        spec = ",".join(k.code for k in kinds)
        return sa.func.wb_rowhash(spec, *cols, type_=sa.BigInteger())
    if dialect == "postgresql":
        sep: Expr = sa.func.chr(31)
        null: Expr = sa.func.chr(30)
        parts: list[Expr] = []
        for i, (k, c) in enumerate(zip(kinds, cols, strict=True)):
            if i:
                parts.append(sep)
            parts.append(sa.func.coalesce(canon_sql(dialect, k, c), null))
        text = parts[0]
        for p in parts[1:]:
            text = text.op("||")(p)
        hexed = sa.literal_column("'x'").op("||")(sa.func.substr(sa.func.md5(text), 1, HASH_HEX))
        return sa.cast(sa.cast(hexed, BIT(HASH_HEX * 4)), sa.BigInteger())
    if dialect == "mysql":
        sep = sa.literal_column("CHAR(31 USING utf8mb4)")
        null = sa.literal_column("CHAR(30 USING utf8mb4)")
        pieces = [sa.func.coalesce(canon_sql(dialect, k, c), null) for k, c in zip(kinds, cols, strict=True)]
        text = sa.func.concat_ws(sep, *pieces)
        return _my_cast(sa.func.conv(sa.func.substring(sa.func.md5(text), 1, HASH_HEX), 16, 10), "UNSIGNED")
    raise ValueError(f"no row hash in SQL for {dialect}")


def sum_sql(dialect: str, hashes: Expr) -> Expr:
    """An exact sum of row hashes (SQLite's own SUM overflows 64 bits: a user aggregate)."""
    if dialect == "sqlite":
        return sa.func.wb_sum(hashes, type_=sa.Text())
    return sa.func.sum(hashes)


# -- SQLite user functions ---------------------------------------------------------------------------------

class _Sum:
    """SQLite aggregate: an exact sum of integers, returned as text."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, value: int | None) -> None:
        if value is not None:
            self.total += int(value)

    def finalize(self) -> str:
        return str(self.total)


@lru_cache(maxsize=1024)
def _spec(spec: str) -> tuple[Kind, ...]:
    return tuple(Kind.parse(code) for code in spec.split(","))


def _sqlite_rowhash(spec: str, *values: Any) -> int:
    return hasher(_spec(spec))(values)


def _sqlite_canon(code: str, value: Any) -> str | None:
    return canonicalizer(_spec(code)[0])(value)


def register_sqlite(dbapi_connection: Any) -> None:
    """Add ``wb_canon``, ``wb_rowhash`` and ``wb_sum`` to a sqlite3 connection (reading needs no write)."""
    dbapi_connection.create_function("wb_canon", 2, _sqlite_canon, deterministic=True)
    dbapi_connection.create_function("wb_rowhash", -1, _sqlite_rowhash, deterministic=True)
    dbapi_connection.create_aggregate("wb_sum", 1, _Sum)


def with_sqlite_functions(engine: sa.Engine) -> sa.Engine:
    """Register the user functions on every connection ``engine`` opens (no-op for other backends)."""
    if engine.dialect.name == "sqlite":
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            register_sqlite(dbapi_connection)

        sa.event.listen(engine, "connect", _on_connect)
    return engine

