"""Checkpoints: how far a service's migration got, kept in the service's own namespace on the target.

Table :data:`TABLE` holds one row per committed chunk (``step`` = ``copy:<table>``, ``chunk`` =
1, 2, ...; ``last_key`` the key of the chunk's last row as JSON, ``row_count`` the table's rows so
far) and one row with ``chunk`` = 0 and ``done`` = 1 per finished step (``ddl``, ``copy:<table>``,
``fk``, ``identity``, ``alembic``). A chunk's rows and its checkpoint row are written in one
transaction, so after a crash or a kill the target holds exactly the rows of the committed chunks
and the rerun continues after the last one: no duplicate, no gap. The primary key (step, chunk)
also stops two concurrent runs from committing the same chunk twice.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

TABLE = "_workbench_migration"
"""Name of the checkpoint table in every service's namespace (ignored by drift and Alembic)."""


def table(schema: str | None) -> sa.Table:
    """The checkpoint table for one namespace."""
    return sa.Table(
        TABLE, sa.MetaData(),
        sa.Column("step", sa.String(200), primary_key=True),
        sa.Column("chunk", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_key", sa.Text),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("done", sa.SmallInteger, nullable=False),
        schema=schema,
        comment="workbench migrate: committed chunks and finished steps (safe to drop after the cut-over)",
    )  # fmt: skip


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, bytes | memoryview | bytearray):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    return str(value)


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "$decimal": Decimal, "$datetime": dt.datetime.fromisoformat, "$date": dt.date.fromisoformat,
    "$time": dt.time.fromisoformat, "$timedelta": lambda s: dt.timedelta(seconds=s), "$uuid": uuid.UUID,
    "$bytes": lambda s: base64.b64decode(s),
}  # fmt: skip


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, raw), = value.items()
        if tag in _DECODERS:
            return _DECODERS[tag](raw)
    return value


def encode_key(values: tuple[Any, ...] | list[Any]) -> str:
    """A key's values as JSON text that decodes to values of the same Python types.

    >>> decode_key(encode_key((7, "x", Decimal("1.50"), dt.date(2011, 1, 3))))
    (7, 'x', Decimal('1.50'), datetime.date(2011, 1, 3))
    """
    return json.dumps([_encode(v) for v in values], separators=(",", ":"))


def decode_key(text: str) -> tuple[Any, ...]:
    return tuple(_decode(v) for v in json.loads(text))


@dataclass
class StepState:
    """Where a step stands: finished or not, and for a copy the last chunk committed."""

    done: bool = False
    chunk: int = 0
    rows: int = 0
    last_key: tuple[Any, ...] | None = None


def read(conn: sa.Connection, schema: str | None) -> dict[str, StepState]:
    """Every step's state in a namespace (empty when nothing was checkpointed)."""
    t = table(schema)
    out: dict[str, StepState] = {}
    for step, chunk, last_key, rows, done in conn.execute(sa.select(t.c.step, t.c.chunk, t.c.last_key, t.c.row_count,
                                                                     t.c.done)):
        state = out.setdefault(step, StepState())
        if done:
            state.done, state.rows = True, int(rows)
        elif chunk > state.chunk:
            state.chunk, state.rows = int(chunk), int(rows)
            state.last_key = decode_key(last_key) if last_key else None
    return out


def record(conn: sa.Connection, schema: str | None, step: str, chunk: int, rows: int,
           last_key: tuple[Any, ...] | None = None) -> None:
    """Record a committed chunk (inside the transaction that wrote its rows)."""
    conn.execute(sa.insert(table(schema)).values(step=step, chunk=chunk, row_count=rows, done=0,
                                                 last_key=encode_key(last_key) if last_key is not None else None))


def finish(conn: sa.Connection, schema: str | None, step: str, rows: int = 0) -> None:
    """Mark a step finished."""
    conn.execute(sa.insert(table(schema)).values(step=step, chunk=0, row_count=rows, done=1, last_key=None))
