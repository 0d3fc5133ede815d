"""Values in and out of event payloads: plain JSON that any consumer can read, typed again on apply.

A payload is a JSON object, column name to value. Integers, floats, booleans, text and NULL stay
as they are; decimals travel as text (no binary rounding on the way), dates and times as ISO 8601
text, binary as base64 text, UUIDs as their hyphenated text. The consumer turns each value back
into what its column holds, from the column's canonical kind (:mod:`workbench.migrate.canon`), so
the same payload lands alike in SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from workbench.migrate.canon import Kind

MAX_AGGREGATE_ID = 255
"""The outbox's ``aggregateid`` column is VARCHAR(255): longer composite keys are hashed."""


def encode(value: Any) -> Any:
    """A JSON-safe form of one column value.

    >>> encode(Decimal("19.90")), encode(dt.date(2020, 1, 2)), encode(b"\\x00\\x01"), encode(7)
    ('19.90', '2020-01-02', 'AAE=', 7)
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # MySQL drivers return TIME as a duration
        seconds = round(value.total_seconds() * 1_000_000)
        whole, micro = divmod(seconds, 1_000_000)
        return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{micro:06d}"
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict | list):
        return value
    return str(value)


def aggregate_id(values: Sequence[Any]) -> str:
    """The ``aggregateid`` of a row from its key values: the value itself for a one-column key, a JSON
    array for a composite one (hashed when longer than the column allows).

    >>> aggregate_id([42]), aggregate_id(["EUR", "2020-01-02"])
    ('42', '["EUR", "2020-01-02"]')
    """
    encoded = [encode(v) for v in values]
    text = str(encoded[0]) if len(encoded) == 1 else json.dumps(encoded, ensure_ascii=False)
    if len(text) > MAX_AGGREGATE_ID:
        text = "sha1:" + hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()
    return text


def dumps(payload: Any) -> bytes:
    """A payload as the message body (compact UTF-8 JSON)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=encode).encode("utf-8")


def _int(v: Any) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    text = str(v).strip()
    return int(Decimal(text)) if "." in text and Decimal(text) == int(Decimal(text)) else int(text)


def _bool(v: Any) -> bool:
    if isinstance(v, str):
        text = v.strip().lower()
        if text in ("1", "t", "true", "y", "yes", "on"):
            return True
        if text in ("0", "f", "false", "n", "no", "off"):
            return False
        raise ValueError(f"not a boolean: {v!r}")
    return bool(v)


def _datetime(v: Any) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v
    return dt.datetime.fromisoformat(str(v).strip().replace("T", " ").replace("Z", "+00:00"))


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v).strip()[:10])


def _time(v: Any) -> dt.time:
    if isinstance(v, dt.time):
        return v
    return dt.time.fromisoformat(str(v).strip())


def _binary(v: Any) -> bytes:
    if isinstance(v, bytes):
        return v
    return base64.b64decode(str(v), validate=True)


def _text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v) if isinstance(v, dict | list) else str(v)


def _json(v: Any) -> Any:
    return json.loads(v) if isinstance(v, str) else v


def decoder(kind: Kind) -> Callable[[Any], Any]:
    """The function turning a payload value back into what a column of ``kind`` takes (None stays None);
    it raises ``ValueError`` for a value the column cannot hold.

    >>> decoder(Kind("decimal", 2))("19.90"), decoder(Kind("date"))("2020-01-02"), decoder(Kind("int"))("7")
    (Decimal('19.90'), datetime.date(2020, 1, 2), 7)
    """
    table: dict[str, Callable[[Any], Any]] = {
        "int": _int, "bool": _bool, "float": float, "decimal": lambda v: Decimal(str(v).strip()),
        "numeric": lambda v: Decimal(str(v).strip()), "date": _date, "datetime": _datetime,
        "datetime_tz": _datetime, "time": _time, "binary": _binary, "json": _json, "uuid": lambda v: uuid.UUID(str(v)),
        "text": _text, "char": _text,
    }  # fmt: skip
    fn = table.get(kind.name, lambda v: v)

    def decode(value: Any) -> Any:
        if value is None:
            return None
        try:
            return fn(value)
        except (ArithmeticError, TypeError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a {kind.name} value ({exc})") from None

    return decode
